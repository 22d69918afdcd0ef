package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/omnikpi/omnikpi/internal/demo"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// benchTimeZone is the demo workspace's time zone in the benchmark.
const benchTimeZone = "Europe/Amsterdam"

// benchFamilies are the KPI families the benchmark times, each as a
// request of the engine.
var benchFamilies = []struct {
	name string
	run  func(ctx context.Context, e *kpi.Engine, r kpi.Request) error
}{
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
		r.Filters = map[string][]string{"campaign": {"spring_sale"}}
		r.From = time.Now().AddDate(0, 0, -120).Format("2006-01-02") // the demo's whole span
		_, err := e.ABTest(ctx, r, "")
		return err
	}},
	{"every KPI", kpis()},
}

func kpis(ids ...string) func(ctx context.Context, e *kpi.Engine, r kpi.Request) error {
	return func(ctx context.Context, e *kpi.Engine, r kpi.Request) error {
		r.KPIs = ids
		_, err := e.Compute(ctx, r)
		return err
	}
}

func runBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench", "[--events N] [--clickhouse URL] [--postgres=false] [--runs N] [--http-seconds 10] [--clients N] [--overload 1m]")
	events := fs.Int("events", 10_000_000, "events to generate with the demo generator")
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

	path := filepath.Join(work, "events.jsonl")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	start := time.Now()
	stats, err := demo.Generate(ctx, f, demo.Options{Seed: 7, Events: *events})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	add("generate", "", rate(stats.Events, time.Since(start)), "", fmt.Sprintf("%d events, %d messages, %d orders", stats.Events, stats.Messages, stats.Orders))

	// Every store is asked for the same 30 days, those the engine
	// defaults to: up to the end of today in the demo's time zone.
	loc, err := time.LoadLocation(benchTimeZone)
	if err != nil {
		return err
	}
	now := time.Now().In(loc)
	to := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, loc)
	from := to.AddDate(0, 0, -30)

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
	for _, t := range targets {
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
		imp := &importer{store: s, ws: ws, batch: 100_000}
		sum, err := imp.file(ctx, path)
		if err != nil {
			s.Close()
			return fmt.Errorf("%s import: %w", t.name, err)
		}
		add(t.name, "bulk import", rate(sum.accepted+sum.duplicates, sum.elapsed), "", "peak memory so far "+peakMemory())
		engine, err := e.engine(s)
		if err != nil {
			s.Close()
			return err
		}
		req := kpi.Request{Workspace: demoWorkspace, From: from.Format(time.RFC3339), To: to.Format(time.RFC3339)}
		for _, fam := range benchFamilies {
			cold, warm, err := timeRuns(ctx, engine, req, fam.run, *runs)
			if err != nil {
				s.Close()
				return fmt.Errorf("%s %s: %w", t.name, fam.name, err)
			}
			add(t.name, "KPIs: "+fam.name+", 30 days", "", fmt.Sprintf("%s cold, %s warm", ms(cold), ms(warm)), "")
		}
		if t.name == "duckdb" && *pg {
			if err := benchPostgres(ctx, s, engine, req, ws, *runs, add); err != nil {
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

	fmt.Fprintf(e.stdout, "omnikpi bench: %d events, %d cores, %s memory, %s\n", *events, runtime.NumCPU(), totalMemory(), runtime.Version())
	fmt.Fprintf(e.stdout, "KPIs over 30 days: from %s to %s\n\n", from.Format(time.RFC3339), to.Format(time.RFC3339))
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STORE\tWHAT\tRATE\tLATENCY\tNOTE")
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
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
