package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/omnikpi/omnikpi/internal/alerts"
	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/config"
	"github.com/omnikpi/omnikpi/internal/conversions"
	"github.com/omnikpi/omnikpi/internal/journal"
	"github.com/omnikpi/omnikpi/internal/metrics"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
	"github.com/omnikpi/omnikpi/internal/tracker"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "[--config FILE] [--db F] [--addr HOST:PORT] [--whatsapp-* …]  (each also from the file and the environment: see the README's 'Configuring serve')")
	var given []config.Flag
	for _, s := range config.Settings() {
		if s.Flag == "" {
			continue
		}
		name, usage := s.Flag, s.Usage
		if d := s.Default(); d != "" && !s.IsBool {
			usage += " (default " + d + ")"
		}
		set := func(v string) error {
			if err := config.CheckFlag(name, v); err != nil {
				return err
			}
			given = append(given, config.Flag{Name: name, Value: v})
			return nil
		}
		if s.IsBool {
			fs.BoolFunc(name, usage, set)
		} else {
			fs.Func(name, usage, set)
		}
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Build(config.Sources{Environ: e.environ, Flags: given, CheckAlert: alerts.Validate})
	if err != nil {
		return err
	}
	e.log, e.dumpSQL = newLogger(e.stderr, cfg.Log), cfg.DumpSQL
	s, err := openStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer s.Close()
	if d, ok := s.(*duckdb.Store); ok {
		if err := d.SetMemoryLimit(ctx, cfg.MemoryLimit); err != nil {
			return err
		}
	}
	if err := addConfigAlerts(ctx, s, cfg.Alerts); err != nil {
		return err
	}
	// The webhooks' workspaces exist from the start, so that they can be
	// reported on and set up while serve runs.
	sources := cfg.Webhooks()
	for _, src := range sources {
		for _, m := range src.Mappings() {
			if _, err := api.EnsureWorkspace(ctx, s, m.Workspace); err != nil {
				return err
			}
		}
	}
	// The other commands on a DuckDB file find this server and its admin
	// token (see served.go).
	served, err := announceServe(cfg.DB, cfg.TLS.Cert)
	if err != nil {
		return err
	}
	defer served.close()
	opts := api.Options{MaxBodyBytes: cfg.MaxBody, Sources: sources, MaxInFlight: cfg.MaxInFlight, MaxLag: time.Duration(cfg.Journal.MaxLag),
		RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst}
	opts.AdminToken = served.token
	return serveHTTP(ctx, e, s, cfg, opts, func(base string) {
		served.listening(e, base) // before saying so: whoever waits for the line finds the server
		fmt.Fprintf(e.stdout, "omnikpi serving %s on %s\n", clickhouse.Redacted(cfg.DB), base)
	})
}

// serveHTTP serves the API on cfg's address, over HTTPS with its
// certificate, until ctx ends, then shuts down in order: stop taking
// requests, finish the writes in flight, close the store (by the caller).
// ready is called with the base URL once listening.
func serveHTTP(ctx context.Context, e *env, s store.Store, cfg config.Config, opts api.Options, ready func(baseURL string)) error {
	engine, err := e.engine(s)
	if err != nil {
		return err
	}
	if opts.Changes == nil {
		opts.Changes = &api.Changes{}
	}
	if every := time.Duration(cfg.AlertInterval); every > 0 {
		ev := &alerts.Evaluator{Store: s, Engine: engine, Log: e.log.With("part", "alerts")}
		evalCtx, stop := context.WithCancel(ctx)
		defer stop()
		go ev.Run(evalCtx, every)
	}
	if len(cfg.Conversions) > 0 {
		// Purchases and leads of click-to-WhatsApp chats go to Meta once a
		// minute; what was sent is in the audit trail (action conversion).
		sender := &conversions.Sender{Store: s, Engine: engine, Workspace: cfg.Conversions, Log: e.log.With("part", "conversions")}
		convCtx, stop := context.WithCancel(ctx)
		defer stop()
		go sender.Run(convCtx, time.Minute)
	}
	if every := time.Duration(cfg.RetentionInterval); every > 0 {
		retCtx, stop := context.WithCancel(ctx)
		defer stop()
		go api.RunRetention(retCtx, s, every, opts.Changes, e.log.With("part", "retention"))
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New()
	}
	ingester, err := openJournal(cfg.Journal, s, e.log, opts.Metrics)
	if err != nil {
		return err
	}
	// Runs after the HTTP server has stopped: what is journaled is applied
	// before the store closes, or on the next start if that takes long.
	defer ingester.Close(30 * time.Second)
	opts.Journal = ingester.Journal()
	// The site tracker's visits are written once they have ended, with
	// every page view that was received before within serve's max lag.
	closer := &tracker.Closer{Store: s, Submit: ingester, Log: e.log.With("part", "tracker"),
		Margin: max(time.Duration(cfg.Journal.MaxLag), 5*time.Second), Pending: func() time.Time { return ingester.Journal().Lag().Oldest }}
	closeCtx, stopClosing := context.WithCancel(ctx)
	defer stopClosing()
	go closer.Run(closeCtx)
	// Parts of numbers the configuration now maps leave the quarantine.
	if err := api.StartSources(ctx, s, opts.WebhookSources(), journaled(ingester), e.log); err != nil {
		return err
	}
	if opts.KeyUses == nil {
		opts.KeyUses = api.NewKeyUses(s, e.log)
	}
	// Runs after the HTTP server has stopped: the last uses of keys noted
	// since the last batch are written.
	defer func() {
		if err := opts.KeyUses.Flush(context.Background()); err != nil {
			e.log.Warn("record the last use of keys", "err", err)
		}
	}()
	// The background work stops, and is waited for, before the journal
	// and the store close.
	var warming sync.WaitGroup
	defer warming.Wait()
	warmCtx, stopWarming := context.WithCancel(ctx)
	defer stopWarming()
	opts.Background, opts.BackgroundDone = warmCtx, &warming
	srv := &http.Server{
		Handler:           api.New(s, ingester, engine, e.log, opts),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	if cfg.TLS.Cert != "" {
		ready("https://" + ln.Addr().String())
		go func() { errc <- srv.ServeTLS(ln, cfg.TLS.Cert, cfg.TLS.Key) }()
	} else {
		ready("http://" + ln.Addr().String())
		go func() { errc <- srv.Serve(ln) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// merged adds the flag mappings to the file's; flags win.
func merged(file map[string]string, flags config.Mapping) map[string]string {
	if len(flags) == 0 {
		return file
	}
	out := map[string]string{}
	for k, v := range file {
		out[k] = v
	}
	for k, v := range flags {
		out[k] = v
	}
	return out
}

// addConfigAlerts puts the configuration file's alert rules, checked by
// config.Build, into their workspaces, marked as from the configuration,
// keeping each one's state.
func addConfigAlerts(ctx context.Context, s store.Store, rules map[string][]store.AlertRule) error {
	for name, list := range rules {
		ws, err := workspaceOrNew(ctx, s, name)
		if err != nil {
			return err
		}
		for _, rule := range list {
			rule = alerts.Normalize(rule)
			rule.Source = "config"
			ws.PutAlert(rule)
		}
		if err := s.PutWorkspace(ctx, ws); err != nil {
			return err
		}
	}
	return nil
}

// openJournal opens the journal and starts applying it to s, counting
// what is applied in reg.
func openJournal(j config.Journal, s store.Store, log *slog.Logger, reg *metrics.Registry) (*journal.Ingester, error) {
	return journal.OpenIngester(j.Dir, s, log, journal.Options{MaxUnapplied: j.MaxBytes},
		journal.ApplyOptions{Interval: time.Duration(j.ApplyInterval), Applied: appliedMetrics(reg)})
}

// appliedMetrics counts the events the applier writes to the store.
func appliedMetrics(reg *metrics.Registry) func(int, []store.Outcome, time.Duration) {
	return func(n int, outcomes []store.Outcome, took time.Duration) {
		var accepted, duplicates, forgotten, expired int
		for _, o := range outcomes {
			switch o {
			case store.Accepted:
				accepted++
			case store.Forgotten:
				forgotten++
			case store.Expired:
				expired++
			default:
				duplicates++
			}
		}
		for result, n := range map[string]int{"accepted": accepted, "duplicate": duplicates, "forgotten": forgotten, "expired": expired} {
			reg.Add("omnikpi_applied_events_total", "Journaled events written to the store, by result (accepted: new; duplicate: the store held them already; forgotten or expired: dropped, naming an erased customer or older than retention keeps).",
				[]string{"result"}, []string{result}, float64(n))
		}
		reg.Observe("omnikpi_apply_batch_duration_seconds", "Time the store takes to write one batch of journaled events.", nil, nil, took)
	}
}
