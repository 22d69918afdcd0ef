package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/config"
	"github.com/omnikpi/omnikpi/internal/demo"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse"
)

// demoWorkspace is the workspace the demo data set is loaded into.
const demoWorkspace = "demo"

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo", "[--events N] [--no-serve]")
	db := fs.String("db", DefaultDB, "where to load the demo: "+dbUsage)
	events := fs.Int("events", 1_000_000, "about how many events to generate")
	seed := fs.Int64("seed", 1, "random seed; the same seed gives the same data")
	addr := fs.String("addr", "127.0.0.1:8080", "address to serve on")
	noServe := fs.Bool("no-serve", false, "load and report, then exit instead of serving")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()

	ws, found, err := store.SettingsOf(ctx, s.Workspace, demoWorkspace)
	switch {
	case err != nil:
		return err
	case !found:
		ws.TimeZone = "Europe/Amsterdam"
		ws.RateCard = demoRateCard()
		ws.Alerts = demoAlerts()
		// The demo shop answers on weekdays and Saturday mornings, so its
		// response times can be shown in business time too.
		ws.BusinessHours = &store.BusinessHours{Open: map[string][]string{
			"mon": {"09:00-18:00"}, "tue": {"09:00-18:00"}, "wed": {"09:00-18:00"}, "thu": {"09:00-18:00"},
			"fri": {"09:00-18:00"}, "sat": {"10:00-14:00"}}}
		if err := s.PutWorkspace(ctx, ws); err != nil {
			return err
		}
	}
	loaded, err := hasEvents(ctx, s, demoWorkspace)
	if err != nil {
		return err
	}
	if loaded {
		fmt.Fprintf(e.stdout, "The demo workspace in %s is already loaded; delete the file (or drop the ClickHouse database) to generate it anew.\n", clickhouse.Redacted(*db))
	} else if err := loadDemo(ctx, e, s, ws, *events, *seed); err != nil {
		return err
	}

	engine, err := e.engine(s)
	if err != nil {
		return err
	}
	start := time.Now()
	rep, err := engine.Compute(ctx, kpi.Request{Workspace: demoWorkspace})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nKPIs of the last 30 days (computed in %d ms):\n\n", time.Since(start).Milliseconds())
	if err := rep.WriteText(e.stdout); err != nil {
		return err
	}
	if *noServe {
		return nil
	}
	plain, key := api.NewKey(demoWorkspace)
	if err := s.AddKey(ctx, key); err != nil {
		return err
	}
	cfg := config.Default()
	cfg.DB, cfg.Addr = *db, *addr
	if clickhouse.IsURL(*db) {
		// One journal per database: a journal replays into the store it
		// was written for.
		cfg.Journal.Dir = filepath.Join(os.TempDir(), "omnikpi-demo-"+safeName(clickhouse.Redacted(*db))+".journal")
	}
	cfg.Resolve()
	return serveHTTP(ctx, e, s, cfg, api.Options{MaxLag: time.Duration(cfg.Journal.MaxLag)}, func(base string) {
		q := url.Values{"kpi": {"open_rate,ctr,rocs,aov"}, "group_by": {"campaign"}}
		fmt.Fprintf(e.stdout, "\nServing the demo on %s (Ctrl-C to stop). An API key for the demo workspace:\n  %s\nTry:\n  curl -H 'Authorization: Bearer %s' '%s/v1/kpis?%s'\n",
			base, plain, plain, base, q.Encode())
	})
}

func hasEvents(ctx context.Context, s store.Store, workspace string) (bool, error) {
	rows, err := s.Query(ctx, "SELECT count(*) FROM events WHERE workspace = ?", workspace)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	var n int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return false, err
		}
	}
	return n > 0, rows.Err()
}

// loadDemo generates the data set into a temporary JSON Lines file and
// imports it the way 'omnikpi import' does.
func loadDemo(ctx context.Context, e *env, s store.Store, ws store.Workspace, events int, seed int64) error {
	dir, err := os.MkdirTemp("", "omnikpi-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "demo.jsonl")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	start := time.Now()
	stats, err := demo.Generate(ctx, f, demo.Options{Seed: seed, Events: events})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("generate demo data: %w", err)
	}
	fmt.Fprintf(e.stdout, "Generated %d events (%d customers, %d messages, %d orders, %d conversations) in %.1f s\n",
		stats.Events, stats.Customers, stats.Messages, stats.Orders, stats.Conversations, time.Since(start).Seconds())
	imp := &importer{store: s, ws: ws, batch: 100_000, progress: progressTo(e.stderr)}
	sum, err := imp.file(ctx, path)
	if err != nil {
		return err
	}
	sum.path = "demo data"
	fmt.Fprintln(e.stdout, sum)
	return nil
}

// demoRateCard prices the demo's billable WhatsApp marketing messages, in
// the range of Meta's per-message prices.
func demoRateCard() *store.RateCard {
	return &store.RateCard{Currency: "EUR", Prices: []store.RatePrice{
		{Category: "marketing", Country: "ID", Price: "0.0380"},
		{Category: "marketing", Country: "NL", Price: "0.1320"},
		{Category: "marketing", Country: "DE", Price: "0.1230"},
		{Category: "marketing", Price: "0.0900"},
		{Category: "utility", Price: "0.0200"},
	}}
}

// demoAlerts are the rules a new workspace would want first: the opt-out
// rate of the last week against its band, failed deliveries of the last
// day against a bound.
func demoAlerts() []store.AlertRule {
	day := store.Duration(24 * time.Hour)
	return []store.AlertRule{
		{ID: "opt-out-spike", Name: "Opt-out rate worse than its band", KPI: "opt_out_rate", Condition: "worse_than_band", Window: 7 * day},
		{ID: "failed-deliveries", Name: "Over 200 failed deliveries in a day", KPI: "messages_failed", Condition: "above", Value: 200, Window: day},
	}
}

// safeName turns s into a file name: letters and digits kept, the rest _.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}
