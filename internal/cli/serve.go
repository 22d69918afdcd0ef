package cli

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/omnikpi/omnikpi/internal/alerts"
	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/config"
	"github.com/omnikpi/omnikpi/internal/journal"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/metrics"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "[--db F] [--addr HOST:PORT] [--config FILE] [--whatsapp-* …]")
	db := fs.String("db", DefaultDB, dbUsage)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	maxBody := fs.Int64("max-body", api.DefaultMaxBodyBytes, "largest accepted request body, in bytes")
	maxInFlight := fs.Int("max-inflight", 64, "ingestion requests served at once; more are answered 503 with Retry-After")
	configFile := fs.String("config", "", "JSON configuration file (see the README's WhatsApp section)")
	appSecret := fs.String("whatsapp-app-secret", "", "Meta app secret that signs WhatsApp webhooks (or $"+config.EnvWhatsAppAppSecret+")")
	verifyToken := fs.String("whatsapp-verify-token", "", "verify token of the WhatsApp webhook handshake (or $"+config.EnvWhatsAppVerifyToken+")")
	alertEvery := durationFlag(fs, "alert-interval", time.Minute, "how often alert rules are evaluated, a `duration` such as 30s or 5m; 0 turns evaluation off")
	var jopts journalFlags
	fs.StringVar(&jopts.dir, "journal", "", "directory of the ingestion journal (default: the DuckDB file's name with .journal; required with ClickHouse)")
	fs.Int64Var(&jopts.maxBytes, "journal-max-bytes", 1<<30, "journal bytes not yet in the store past which ingestion answers 503 with Retry-After")
	fs.Var(durationValue{d: &jopts.interval}, "apply-interval", "how long (a `duration`) journaled requests gather before they are written to the store (default: none for DuckDB, 1s for ClickHouse)")
	jopts.maxLag = time.Minute
	fs.Var(durationValue{d: &jopts.maxLag}, "max-lag", "/readyz reports not ready while the oldest journaled request not yet in the store is older than this `duration`")
	memoryLimit := fs.String("memory-limit", "512MB", "memory DuckDB may take for its buffers (cached blocks, indexes, queries); beyond it, it evicts and spills to disk")
	var certs tlsFiles
	fs.StringVar(&certs.cert, "tls-cert", "", "PEM certificate file: serve HTTPS (with --tls-key); session cookies are then Secure")
	fs.StringVar(&certs.key, "tls-key", "", "PEM private key file of --tls-cert")
	numbers, accounts := config.Mapping{}, config.Mapping{}
	fs.Var(numbers, "whatsapp-number", "PHONE_NUMBER_ID=WORKSPACE: a WhatsApp business number's events go to the workspace (repeatable)")
	fs.Var(accounts, "whatsapp-account", "WABA_ID=WORKSPACE: a WhatsApp Business Account's events go to the workspace (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*configFile)
	if err != nil {
		return err
	}
	cfg.ApplyEnv(os.Getenv)
	cfg.WhatsApp.AppSecret = cmp.Or(*appSecret, cfg.WhatsApp.AppSecret)
	cfg.WhatsApp.VerifyToken = cmp.Or(*verifyToken, cfg.WhatsApp.VerifyToken)
	cfg.WhatsApp.PhoneNumbers = merged(cfg.WhatsApp.PhoneNumbers, numbers)
	cfg.WhatsApp.BusinessAccounts = merged(cfg.WhatsApp.BusinessAccounts, accounts)
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := jopts.resolve(*db); err != nil {
		return err
	}
	if (certs.cert == "") != (certs.key == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together")
	}
	if certs.cert != "" {
		if _, err := tls.LoadX509KeyPair(certs.cert, certs.key); err != nil {
			return fmt.Errorf("--tls-cert %s, --tls-key %s: %w", certs.cert, certs.key, err)
		}
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	if d, ok := s.(*duckdb.Store); ok {
		if err := d.SetMemoryLimit(ctx, *memoryLimit); err != nil {
			return err
		}
	}
	if err := addConfigAlerts(ctx, s, cfg.Alerts); err != nil {
		return err
	}
	// The webhook's workspaces exist from the start, so that they can be
	// reported on and set up while serve runs.
	for _, mapping := range []map[string]string{cfg.WhatsApp.PhoneNumbers, cfg.WhatsApp.BusinessAccounts} {
		for _, name := range mapping {
			if _, err := api.EnsureWorkspace(ctx, s, name); err != nil {
				return err
			}
		}
	}
	// The other commands on a DuckDB file find this server and its admin
	// token (see served.go).
	served, err := announceServe(*db, certs)
	if err != nil {
		return err
	}
	defer served.close()
	opts := api.Options{MaxBodyBytes: *maxBody, WhatsApp: cfg.WhatsApp, MaxInFlight: *maxInFlight, MaxLag: jopts.maxLag}
	opts.AdminToken = served.token
	return serveHTTP(ctx, e, s, *addr, certs, opts, jopts, *alertEvery, func(base string) {
		served.listening(e, base) // before saying so: whoever waits for the line finds the server
		fmt.Fprintf(e.stdout, "omnikpi serving %s on %s\n", clickhouse.Redacted(*db), base)
	})
}

// serveHTTP serves the API on addr until ctx ends, then shuts down in
// order: stop taking requests, finish the writes in flight, close the store
// (by the caller). ready is called with the base URL once listening.
// tlsFiles are the certificate and key of an HTTPS server; none for HTTP.
type tlsFiles struct{ cert, key string }

func serveHTTP(ctx context.Context, e *env, s store.Store, addr string, certs tlsFiles, opts api.Options, jopts journalFlags, alertEvery time.Duration, ready func(baseURL string)) error {
	engine, err := kpi.New(s)
	if err != nil {
		return err
	}
	if alertEvery > 0 {
		ev := &alerts.Evaluator{Store: s, Engine: engine, Log: e.log.With("part", "alerts")}
		evalCtx, stop := context.WithCancel(ctx)
		defer stop()
		go ev.Run(evalCtx, alertEvery)
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New()
	}
	ingester, err := jopts.open(s, e.log, opts.Metrics)
	if err != nil {
		return err
	}
	// Runs after the HTTP server has stopped: what is journaled is applied
	// before the store closes, or on the next start if that takes long.
	defer ingester.Close(30 * time.Second)
	opts.Journal = ingester.Journal()
	// Parts of numbers the configuration now maps leave the quarantine.
	if err := api.StartWhatsApp(ctx, s, opts.WhatsApp, journaled(ingester), e.log); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           api.New(s, ingester, engine, e.log, opts),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	if certs.cert != "" {
		ready("https://" + ln.Addr().String())
		go func() { errc <- srv.ServeTLS(ln, certs.cert, certs.key) }()
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

// addConfigAlerts puts the configuration file's alert rules into their
// workspaces, marked as from the configuration, keeping each one's state.
func addConfigAlerts(ctx context.Context, s store.Store, rules map[string][]store.AlertRule) error {
	for name, list := range rules {
		ws, err := workspaceOrNew(ctx, s, name)
		if err != nil {
			return err
		}
		for _, rule := range list {
			if err := alerts.Validate(rule); err != nil {
				return fmt.Errorf("config: alert %q of workspace %s: %w", rule.ID, name, err)
			}
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

// journalFlags are serve's settings of the ingestion journal.
type journalFlags struct {
	dir      string
	maxBytes int64
	interval time.Duration
	maxLag   time.Duration
}

// resolve fills in the defaults that depend on the store.
func (j *journalFlags) resolve(db string) error {
	if clickhouse.IsURL(db) {
		if j.dir == "" {
			return fmt.Errorf("serve --db %s needs --journal DIR: a local directory where requests are journaled before ClickHouse has them", clickhouse.Redacted(db))
		}
		if j.interval == 0 {
			j.interval = time.Second // ClickHouse wants large, infrequent inserts
		}
	} else if j.dir == "" {
		j.dir = db + ".journal"
	}
	return nil
}

// open opens the journal and starts applying it to s, counting what is
// applied in reg.
func (j journalFlags) open(s store.Store, log *slog.Logger, reg *metrics.Registry) (*journal.Ingester, error) {
	return journal.OpenIngester(j.dir, s, log, journal.Options{MaxUnapplied: j.maxBytes},
		journal.ApplyOptions{Interval: j.interval, Applied: appliedMetrics(reg)})
}

// appliedMetrics counts the events the applier writes to the store.
func appliedMetrics(reg *metrics.Registry) func(int, []store.Outcome, time.Duration) {
	return func(n int, outcomes []store.Outcome, took time.Duration) {
		var accepted, duplicates int
		for _, o := range outcomes {
			if o == store.Accepted {
				accepted++
			} else {
				duplicates++
			}
		}
		for result, n := range map[string]int{"accepted": accepted, "duplicate": duplicates} {
			reg.Add("omnikpi_applied_events_total", "Journaled events written to the store, by result (accepted: new; duplicate: the store held them already).",
				[]string{"result"}, []string{result}, float64(n))
		}
		reg.Observe("omnikpi_apply_batch_duration_seconds", "Time the store takes to write one batch of journaled events.", nil, nil, took)
	}
}
