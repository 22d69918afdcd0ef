package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/omnikpi/omnikpi/internal/demo"
	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// benchTimeZone is the demo workspace's time zone in the benchmark.
const benchTimeZone = "Europe/Amsterdam"

// benchFamily is a KPI family the benchmark times, as a request of the
// engine.
type benchFamily struct {
	name string
	run  func(ctx context.Context, e *kpi.Engine, r kpi.Request) error
}

// benchFamilies are the KPI families the benchmark times.
var benchFamilies = []benchFamily{
	{"message", kpis("messages_sent", "delivery_rate", "open_rate", "ctr", "response_rate", "opt_out_rate")},
	{"revenue", kpis("gross_revenue", "net_revenue", "aov", "rocs", "rpc", "cost_per_recipient")},
	{"conversation", kpis("conversations", "first_response_time", "first_response_time_median", "resolution_time", "csat", "nps")},
	{"funnel", kpis("impressions", "visits", "social_engagement_rate", "ecommerce_conversion_rate", "cart_abandonment_rate", "transactions_yoy")},
	{"attribution", func(ctx context.Context, e *kpi.Engine, r kpi.Request) error {
		_, err := e.Attribution(ctx, r, []string{"channel"})
		return err
	}},
	{"cohort", func(ctx context.Context, e *kpi.Engine, r kpi.Request) error {
		_, err := e.Cohorts(ctx, r, "week")
		return err
	}},
	{"a/b", func(ctx context.Context, e *kpi.Engine, r kpi.Request) error {
		_, err := e.ABTest(ctx, abRequest(r), "")
		return err
	}},
	{"every KPI", kpis()},
}

// abRequest is the request of the A/B family made from the 30 days' r:
// the demo's test campaign over the last season, which holds its sends,
// from local midnight.
func abRequest(r kpi.Request) kpi.Request {
	to, err := time.Parse(time.RFC3339, r.To)
	if loc, lerr := time.LoadLocation(benchTimeZone); err == nil && lerr == nil {
		r.From = to.In(loc).AddDate(0, 0, -demo.SeasonDays).Format(time.RFC3339)
	}
	r.Filters = map[string][]string{"campaign": {demo.ABCampaign}}
	return r
}

func kpis(ids ...string) func(ctx context.Context, e *kpi.Engine, r kpi.Request) error {
	return func(ctx context.Context, e *kpi.Engine, r kpi.Request) error {
		r.KPIs = ids
		_, err := e.Compute(ctx, r)
		return err
	}
}

func runBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench", "[--events N | --per-day N] [--days D] [--direct] [--clickhouse URL] [--postgres=false] [--runs N] [--http-seconds 10] [--clients N] [--overload 1m]")
	events := fs.Int("events", 10_000_000, "events to generate with the demo generator, in all (see --per-day)")
	days := fs.Int("days", demo.SeasonDays, "days of history the events span, ending today; the KPIs are asked for the last 30 of them. "+
		"The demo repeats a season of 120 days, so with --per-day a longer history keeps the same daily volume and the same last 30 days: "+
		"--per-day 250000 --days 60 against --per-day 250000 --days 395 shows what 13 months of history cost against 2")
	perDay := fs.Int("per-day", 0, "events per day of history instead of --events: the run generates per-day × days events")
	direct := fs.Bool("direct", false, "generate straight into each store, in batches of --batch events, with no events file in between (memory stays bounded whatever --events); the import rate is the events over the time spent in the store's Insert")
	batch := fs.Int("batch", 100_000, "events per batch of the bulk import")
	chURL := fs.String("clickhouse", os.Getenv("OMNIKPI_CLICKHOUSE"), "a ClickHouse server to measure too, as clickhouse://host:9000 (its database omnikpi_bench is dropped and made anew)")
	duck := fs.Bool("duckdb", true, "measure the DuckDB store (PostgreSQL is compared with it)")
	pg := fs.Bool("postgres", postgresInstalled(), "measure the same KPIs on PostgreSQL 15 too, started on loopback from "+pgBinDir+" (default: when installed)")
	runs := fs.Int("runs", 5, "warm runs of each KPI family; the median is shown")
	httpSeconds := new(time.Duration)
	*httpSeconds = 10 * time.Second
	fs.Var(durationValue{d: httpSeconds, bare: time.Second}, "http-seconds", "how long each HTTP ingestion load runs, in `seconds` (10) or as a duration (90s, 2m); 0: none")
	clients := fs.Int("clients", 64, "concurrent HTTP clients")
	overload := durationFlag(fs, "overload", time.Minute, "how long serve is offered twice the rate its store sustains, a `duration` such as 1m (0: no overload)")
	overloadJournal := fs.Int64("overload-journal-bytes", 64<<20, "the overloaded serve's bound on journal bytes not yet in the store (its default of 1 GiB takes minutes to fill)")
	dir := fs.String("dir", "", "working directory for the data files (default: a temporary one, removed after)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case set["per-day"] && set["events"]:
		fmt.Fprintln(e.stderr, "omnikpi bench: give --events (in all) or --per-day (a day), not both")
		return errUsage
	case *days < 30:
		fmt.Fprintln(e.stderr, "omnikpi bench: --days must be 30 or more: the KPIs are asked for the last 30 days")
		return errUsage
	case *batch <= 0 || *events <= 0 || (set["per-day"] && *perDay <= 0):
		fmt.Fprintln(e.stderr, "omnikpi bench: --events, --per-day and --batch must be positive")
		return errUsage
	}
	if set["per-day"] {
		*events = *perDay * *days
	}
	work := *dir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "omnikpi-bench"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	var rows [][]string
	add := func(cells ...string) {
		rows = append(rows, cells)
		fmt.Fprintln(e.stderr, strings.Join(cells, "  "))
	}
	gen := demo.Options{Seed: 7, Events: *events, Days: *days}
	generated := func(stats demo.Stats, took time.Duration, how string) {
		add("generate", how, rate(stats.Events, took), "", fmt.Sprintf("%d events, %d messages, %d orders, %d customers over %d days (about %s events a day)",
			stats.Events, stats.Messages, stats.Orders, stats.Customers, *days, count(int64(stats.Events / *days))))
	}

	path := filepath.Join(work, "events.jsonl")
	if !*direct {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		start := time.Now()
		stats, err := demo.Generate(ctx, f, gen)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		generated(stats, time.Since(start), "into "+path)
	}

	// Every store is asked for the same 30 days, those the engine
	// defaults to: up to the end of today in the demo's time zone.
	loc, err := time.LoadLocation(benchTimeZone)
	if err != nil {
		return err
	}
	now := time.Now().In(loc)
	to := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, loc)
	from := to.AddDate(0, 0, -30)
	// The A/B test is asked over the last season (abRequest); a history
	// too short to hold the demo's test has none to time.
	families := benchFamilies
	if !demo.HasABTest(*days) {
		families = slices.DeleteFunc(slices.Clone(families), func(f benchFamily) bool { return f.name == "a/b" })
		add("bench", "KPIs: a/b left out", "", "", fmt.Sprintf("%d days of history hold no A/B test: the demo sends it through the last %d days of its season", *days, demo.SeasonDays-demo.SeasonDays*6/7))
	}

	type target struct {
		name string
		open func() (store.Store, error)
	}
	var targets []target
	if *duck {
		targets = append(targets, target{"duckdb", func() (store.Store, error) { return duckdb.Open(ctx, filepath.Join(work, "bench.duckdb")) }})
	}
	if *chURL != "" {
		url := strings.TrimRight(*chURL, "/")
		if i := strings.Index(strings.TrimPrefix(url, "clickhouse://"), "/"); i >= 0 {
			url = url[:len("clickhouse://")+i]
		}
		url += "/omnikpi_bench"
		targets = append(targets, target{"clickhouse", func() (store.Store, error) { return freshClickHouse(ctx, url) }})
	}
	for i, t := range targets {
		s, err := t.open()
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		ws := store.NewWorkspace(demoWorkspace)
		ws.TimeZone = benchTimeZone
		if err := s.PutWorkspace(ctx, ws); err != nil {
			s.Close()
			return err
		}
		if *direct {
			d, err := generateInto(ctx, s, ws, gen, *batch)
			if err != nil {
				s.Close()
				return fmt.Errorf("%s import: %w", t.name, err)
			}
			if i == 0 {
				generated(d.stats, d.generating, "generated and decoded straight into each store (--direct), no file")
			}
			add(t.name, fmt.Sprintf("bulk import, generated in batches of %s", count(int64(*batch))), rate(d.accepted+d.duplicates, d.inserting), "",
				fmt.Sprintf("%s accepted, %s duplicates, %.1f s in the store's Insert (generating and decoding the batches took %.1f s more, outside the rate); peak memory so far %s",
					count(int64(d.accepted)), count(int64(d.duplicates)), d.inserting.Seconds(), d.generating.Seconds(), peakMemory()))
		} else {
			imp := &importer{store: s, ws: ws, batch: *batch}
			sum, err := imp.file(ctx, path)
			if err != nil {
				s.Close()
				return fmt.Errorf("%s import: %w", t.name, err)
			}
			add(t.name, "bulk import", rate(sum.accepted+sum.duplicates, sum.elapsed), "", "peak memory so far "+peakMemory())
		}
		engine, err := e.engine(s)
		if err != nil {
			s.Close()
			return err
		}
		req := kpi.Request{Workspace: demoWorkspace, From: from.Format(time.RFC3339), To: to.Format(time.RFC3339)}
		for _, fam := range families {
			cold, warm, err := timeRuns(ctx, engine, req, fam.run, *runs)
			if err != nil {
				s.Close()
				return fmt.Errorf("%s %s: %w", t.name, fam.name, err)
			}
			add(t.name, "KPIs: "+fam.name+", 30 days", "", fmt.Sprintf("%s cold, %s warm", ms(cold), ms(warm)), "")
		}
		if t.name == "duckdb" && *pg {
			if err := benchPostgres(ctx, s, engine, req, ws, families, *runs, add); err != nil {
				s.Close()
				return fmt.Errorf("postgresql: %w", err)
			}
		}
		s.Close()
	}

	// HTTP ingestion into a real serve process on the DuckDB file that
	// holds the imported events.
	if *httpSeconds > 0 && *duck {
		if err := benchIngestion(ctx, filepath.Join(work, "bench.duckdb"), *clients, *httpSeconds, *overload, *overloadJournal, add); err != nil {
			return fmt.Errorf("ingestion: %w", err)
		}
	}
	add("process", "peak memory", "", "", peakMemory())

	fmt.Fprintf(e.stdout, "omnikpi bench: %d events over %d days (about %s a day), %d cores, %s memory, %s\n",
		*events, *days, count(int64(*events / *days)), runtime.NumCPU(), totalMemory(), runtime.Version())
	fmt.Fprintf(e.stdout, "KPIs over 30 days: from %s to %s\n\n", from.Format(time.RFC3339), to.Format(time.RFC3339))
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STORE\tWHAT\tRATE\tLATENCY\tNOTE")
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// directImport is what generating straight into a store took.
type directImport struct {
	stats                demo.Stats
	accepted, duplicates int
	inserting            time.Duration // in the store's Insert
	generating           time.Duration // generating and decoding, outside Insert
}

// generateInto generates the demo data set straight into s, batch events
// at a time: the generator's lines are decoded as an import decodes them
// and handed to the store's Insert, one batch after the other, so memory
// holds one batch whatever the data set's size, and the time in Insert is
// the store's alone.
func generateInto(ctx context.Context, s store.Store, ws store.Workspace, opts demo.Options, batch int) (directImport, error) {
	b := &batchInserter{ctx: ctx, store: s, ws: ws, batch: batch}
	start := time.Now()
	stats, err := demo.Generate(ctx, b, opts)
	if err == nil {
		err = b.flush()
	}
	if err == nil && b.rejected > 0 {
		err = fmt.Errorf("%d generated events rejected, the first: %s", b.rejected, b.firstRejected)
	}
	return directImport{stats: stats, accepted: b.accepted, duplicates: b.duplicates,
		inserting: b.inserting, generating: time.Since(start) - b.inserting}, err
}

// batchInserter is the writer the generator writes its lines to: every
// batch lines it decodes them and inserts them into the store.
type batchInserter struct {
	ctx                  context.Context
	store                store.Store
	ws                   store.Workspace
	batch                int
	buf                  []byte // whole lines not yet inserted, and the start of the next
	lines                int    // whole lines in buf
	accepted, duplicates int
	rejected             int
	firstRejected        string
	inserting            time.Duration
}

func (b *batchInserter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			b.buf = append(b.buf, p...)
			break
		}
		b.buf = append(b.buf, p[:i+1]...)
		p = p[i+1:]
		if b.lines++; b.lines == b.batch {
			if err := b.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// flush inserts the whole lines held.
func (b *batchInserter) flush() error {
	if b.lines == 0 {
		return nil
	}
	events, rejected, err := decodeLines(b.buf, b.ws.Name)
	if err != nil {
		return err
	}
	b.buf, b.lines = b.buf[:0], 0
	if len(rejected) > 0 && b.rejected == 0 {
		b.firstRejected = rejected[0].Error()
	}
	b.rejected += len(rejected)
	if !b.ws.KeepPhoneNumbers {
		ingest.HashPhoneCustomers(events, b.ws.Name)
	}
	start := time.Now()
	outcomes, err := b.store.Insert(b.ctx, events)
	b.inserting += time.Since(start)
	if err != nil {
		return err
	}
	for _, o := range outcomes {
		if o == store.Accepted {
			b.accepted++
		} else {
			b.duplicates++
		}
	}
	return nil
}

// decodeLines decodes JSON Lines as an import does, in as many pieces at
// once as there are cores: decoding is most of the time a direct run
// spends outside the store.
func decodeLines(buf []byte, workspace string) ([]event.Event, []ingest.Rejected, error) {
	pieces := runtime.GOMAXPROCS(0)
	if pieces == 1 || len(buf) < 1<<20 {
		return ingest.DecodeBody(bytes.NewReader(buf), workspace)
	}
	type decoded struct {
		events   []event.Event
		rejected []ingest.Rejected
		err      error
	}
	out := make([]decoded, pieces)
	share := len(buf) / pieces
	var wg sync.WaitGroup
	for i := range pieces {
		// Each piece ends at the first line end from its share on.
		end := len(buf)
		if i < pieces-1 && share < len(buf) {
			end = share
			if j := bytes.IndexByte(buf[end:], '\n'); j >= 0 {
				end += j + 1
			} else {
				end = len(buf)
			}
		}
		piece := buf[:end]
		buf = buf[end:]
		if len(piece) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := &out[i]
			d.events, d.rejected, d.err = ingest.DecodeBody(bytes.NewReader(piece), workspace)
		}()
	}
	wg.Wait()
	n := 0
	for _, d := range out {
		if d.err != nil {
			return nil, nil, d.err
		}
		n += len(d.events)
	}
	events := make([]event.Event, 0, n)
	var rejected []ingest.Rejected
	for _, d := range out {
		events = append(events, d.events...)
		rejected = append(rejected, d.rejected...)
	}
	return events, rejected, nil
}

// freshClickHouse opens the ClickHouse database at url after dropping it,
// so a run never measures on top of an earlier run's events.
func freshClickHouse(ctx context.Context, url string) (store.Store, error) {
	s, err := clickhouse.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	_, err = s.DB().ExecContext(ctx, "DROP DATABASE IF EXISTS "+url[strings.LastIndex(url, "/")+1:])
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return clickhouse.Open(ctx, url)
}

// timeRuns times one cold run and the median of warm runs.
func timeRuns(ctx context.Context, e *kpi.Engine, r kpi.Request, run func(context.Context, *kpi.Engine, kpi.Request) error, runs int) (time.Duration, time.Duration, error) {
	var times []time.Duration
	for i := 0; i <= runs; i++ {
		start := time.Now()
		if err := run(ctx, e, r); err != nil {
			return 0, 0, err
		}
		times = append(times, time.Since(start))
	}
	cold, warm := times[0], times[1:]
	sort.Slice(warm, func(a, b int) bool { return warm[a] < warm[b] })
	return cold, warm[len(warm)/2], nil
}

func rate(n int, d time.Duration) string {
	return group3(strconv.FormatFloat(float64(n)/d.Seconds(), 'f', 0, 64)) + " events/s"
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
}

func group3(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// peakMemory is the process's peak resident memory (VmHWM).
func peakMemory() string { return procField("/proc/self/status", "VmHWM:") }

// totalMemory is the machine's memory (MemTotal).
func totalMemory() string { return procField("/proc/meminfo", "MemTotal:") }

func procField(path, name string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name); ok {
			if kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64); err == nil {
				return strconv.FormatFloat(kb/1024/1024, 'f', 2, 64) + " GiB"
			}
		}
	}
	return "?"
}
