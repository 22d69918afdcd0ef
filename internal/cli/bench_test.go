package cli

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/demo"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse/chtest"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// TestBench runs the benchmark small: every measurement gets a row.
func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("the benchmark takes a few seconds")
	}
	code, out, errOut := run(t, "bench", "--events", "20000", "--runs", "1", "--http-seconds", "1s", "--clients", "2", "--clickhouse", "", "--postgres=false",
		"--overload", "2s")
	if code != 0 {
		t.Fatalf("bench: %s", errOut)
	}
	for _, want := range []string{"cores", "generate", "bulk import", "KPIs: message, 30 days", "KPIs: a/b, 30 days", "KPIs: every KPI",
		"HTTP ingestion, 2 clients, 1 event per request", "WhatsApp webhook, 2 clients, 1 signed status per request",
		"HTTP ingestion, 2 clients, 100 events per request", "journal applied to the store", "overload for 2s", "shed with 503", "serve's peak memory"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "postgresql") {
		t.Errorf("--postgres=false, yet PostgreSQL rows in\n%s", out)
	}
}

// TestBench_Postgres runs the benchmark with its PostgreSQL leg: the table
// has PostgreSQL's load, timings and ratios, and PostgreSQL's figures are
// those omnikpi's engine gives over the DuckDB file the benchmark kept.
func TestBench_Postgres(t *testing.T) {
	if testing.Short() {
		t.Skip("the benchmark takes a few seconds")
	}
	if !postgresInstalled() {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL 15 is not installed at %s (scripts/test installs it)", pgBinDir)
		}
		t.Skipf("PostgreSQL 15 is not installed at %s: apt-get install postgresql-15, or run scripts/test", pgBinDir)
	}
	dir := t.TempDir()
	code, out, errOut := run(t, "bench", "--events", "20000", "--runs", "2", "--http-seconds", "0",
		"--clickhouse", "", "--postgres", "--dir", dir)
	if code != 0 {
		t.Fatalf("bench: %s", errOut)
	}
	row := func(what string) string {
		t.Helper()
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "postgresql") && strings.Contains(line, what) {
				return line
			}
		}
		t.Fatalf("no PostgreSQL row %q in\n%s", what, out)
		return ""
	}
	number := func(line, pattern string) float64 {
		t.Helper()
		m := regexp.MustCompile(pattern).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("no %s in %q", pattern, line)
		}
		v, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	if r := number(row("COPY load"), `([\d,]+) events/s`); r <= 0 {
		t.Errorf("COPY load rate %v", r)
	}
	if n := number(row("COPY load"), `([\d,]+) rows read`); n < 19000 {
		t.Errorf("%v rows loaded into PostgreSQL, want the ~20,000 generated", n)
	}
	for _, fam := range []string{"message", "revenue", "conversation", "funnel", "attribution", "cohort", "a/b"} {
		line := row("KPIs: " + fam + ", 30 days")
		cold, warm := number(line, `([\d.]+) ms cold`), number(line, `([\d.]+) ms warm`)
		if cold <= 0 || warm <= 0 {
			t.Errorf("%s: cold %v ms, warm %v ms", fam, cold, warm)
		}
		// The ratio row divides this warm time by DuckDB's warm time.
		ratioRow := row(fam + ": ")
		pg, duck := number(ratioRow, `PostgreSQL ([\d.]+) ms ÷`), number(ratioRow, `DuckDB ([\d.]+) ms`)
		if pg != warm {
			t.Errorf("%s: ratio row names %v ms, the timing row %v ms", fam, pg, warm)
		}
		ratio, want := number(ratioRow, `is ([\d.]+)× faster`), pg/duck
		if strings.Contains(ratioRow, "PostgreSQL is") {
			want = duck / pg
		}
		// The row shows the times to 0.1 ms and the ratio to 0.1 (to 1 from
		// 10 on): allow what that rounding can move it.
		slack := 0.05*want*(1/pg+1/duck) + 0.05
		if want >= 9.5 {
			slack += 0.5
		}
		if math.Abs(ratio-want) > 0.051*math.Max(1, want)+slack {
			t.Errorf("%s: %q, want %.2f×", fam, ratioRow, want)
		}
	}
	same := row("same figures as omnikpi")
	if !strings.Contains(same, "figures equal") {
		t.Errorf("no agreement in\n%s", out)
	}
	for _, fam := range []string{"message", "revenue", "conversation", "funnel", "attribution", "cohort", "a/b"} {
		if n := number(same, regexp.QuoteMeta(fam)+` (\d+)`); n == 0 {
			t.Errorf("no %s figure compared: %q", fam, same)
		}
	}

	// The engine over the kept DuckDB file, for the window the header names.
	window := regexp.MustCompile(`from (\S+) to (\S+)`).FindStringSubmatch(out)
	if window == nil {
		t.Fatalf("no window in\n%s", out)
	}
	s, err := duckdb.Open(context.Background(), filepath.Join(dir, "bench.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	engine, err := kpi.New(s)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := engine.Compute(context.Background(), kpi.Request{Workspace: demoWorkspace, From: window[1], To: window[2],
		KPIs: []string{"messages_sent", "messages_delivered", "gross_revenue", "aov"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, v := range rep.Rows[0].KPIs {
		got[v.ID+" "+v.Currency] = v.Numerator
		if v.ID == "aov" {
			got["orders "+v.Currency] = v.Denominator
		}
	}
	message, revenue := row("KPIs: message, 30 days"), row("KPIs: revenue, 30 days")
	for _, c := range []struct {
		name       string
		postgresql float64
		omnikpi    float64
	}{
		{"sent messages", number(message, `([\d,]+) sent`), got["messages_sent "]},
		{"delivered messages", number(message, `([\d,]+) delivered`), got["messages_delivered "]},
		{"EUR orders", number(revenue, `EUR: ([\d,]+) orders`), got["orders EUR"]},
		{"EUR gross revenue", number(revenue, `EUR: [\d,]+ orders, gross ([\d.]+)`), got["gross_revenue EUR"]},
	} {
		if c.omnikpi <= 0 || math.Abs(c.postgresql-c.omnikpi) > 0.001 {
			t.Errorf("%s: PostgreSQL %v, omnikpi %v", c.name, c.postgresql, c.omnikpi)
		}
	}
}

// TestBench_ClickHouseOnly measures ClickHouse alone, twice: each run starts
// from an empty database, so the second, generated straight into the
// store, holds only its own events.
func TestBench_ClickHouseOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("the benchmark takes a few seconds")
	}
	base := chtest.URL(t)
	cfg, err := clickhouse.ParseURL(base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chtest.Drop(t, cfg, "omnikpi_bench") })
	var generated int
	for i, events := range []string{"20000", "5000"} {
		args := []string{"bench", "--events", events, "--runs", "1", "--duckdb=false", "--http-seconds", "0", "--clickhouse", base}
		if i == 1 {
			args = append(args, "--direct", "--batch", "2000")
		}
		code, out, errOut := run(t, args...)
		if code != 0 {
			t.Fatalf("bench: %s", errOut)
		}
		for _, want := range []string{"clickhouse  bulk import", "clickhouse  KPIs: message, 30 days", "clickhouse  KPIs: every KPI"} {
			if !strings.Contains(out, want) {
				t.Errorf("no %q in\n%s", want, out)
			}
		}
		for _, unwanted := range []string{"duckdb", "postgresql", "HTTP ingestion"} {
			if strings.Contains(out, unwanted) {
				t.Errorf("%q in\n%s", unwanted, out)
			}
		}
		m := regexp.MustCompile(`(\d+) events, \d+ messages`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no generated count in\n%s", out)
		}
		generated, _ = strconv.Atoi(m[1])
	}
	cfg.Database = "omnikpi_bench"
	s, err := clickhouse.OpenConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.DB().QueryRow("SELECT count() FROM events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 || n > generated {
		t.Errorf("%d events in omnikpi_bench after a run that generated %d", n, generated)
	}
}

// TestBench_Direct generates straight into the store: the store holds the
// events the generator made, the import row counts them, and the history
// is as long as --days says.
func TestBench_Direct(t *testing.T) {
	if testing.Short() {
		t.Skip("the benchmark takes a few seconds")
	}
	dir := t.TempDir()
	code, out, errOut := run(t, "bench", "--direct", "--batch", "3000", "--per-day", "100", "--days", "200", "--runs", "1",
		"--http-seconds", "0", "--clickhouse", "", "--postgres=false", "--dir", dir)
	if code != 0 {
		t.Fatalf("bench: %s", errOut)
	}
	for _, want := range []string{"20000 events over 200 days (about 100 a day)", "straight into each store (--direct), no file",
		"bulk import, generated in batches of 3,000", "KPIs: a/b, 30 days", "KPIs: every KPI"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "events.jsonl")); !os.IsNotExist(err) {
		t.Errorf("--direct wrote an events file: %v", err)
	}
	m := regexp.MustCompile(`(\d+) events, \d+ messages, \d+ orders, \d+ customers over 200 days`).FindStringSubmatch(out)
	imported := regexp.MustCompile(`([\d,]+) accepted, ([\d,]+) duplicates`).FindStringSubmatch(out)
	if m == nil || imported == nil {
		t.Fatalf("no generated or imported counts in\n%s", out)
	}
	generated, _ := strconv.Atoi(m[1])
	accepted, _ := strconv.Atoi(strings.ReplaceAll(imported[1], ",", ""))
	duplicates, _ := strconv.Atoi(strings.ReplaceAll(imported[2], ",", ""))
	if generated < 20000 || accepted+duplicates != generated || duplicates == 0 {
		t.Errorf("generated %d, imported %d accepted and %d duplicates", generated, accepted, duplicates)
	}

	s, err := duckdb.Open(context.Background(), filepath.Join(dir, "bench.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.Query(context.Background(), "SELECT count(*), min(ts), max(ts) FROM events WHERE workspace = ?", demoWorkspace)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n int
	var first, last int64
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	if err := rows.Scan(&n, &first, &last); err != nil {
		t.Fatal(err)
	}
	if n != accepted {
		t.Errorf("%d events stored, %d accepted", n, accepted)
	}
	if span := time.UnixMilli(last).Sub(time.UnixMilli(first)); span < 199*24*time.Hour || span > 230*24*time.Hour {
		t.Errorf("the events span %s, want about 200 days", span)
	}
}

// TestBench_Usage rejects --events with --per-day, and a history shorter
// than the 30 days the KPIs are asked for.
func TestBench_Usage(t *testing.T) {
	for _, args := range [][]string{{"--events", "1000", "--per-day", "10"}, {"--days", "20"}, {"--batch", "0"}} {
		if code, _, errOut := run(t, append([]string{"bench"}, args...)...); code == 0 || !strings.Contains(errOut, "omnikpi bench:") {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
	}
}

// TestBench_PostgresAgrees loads generated events into PostgreSQL and
// checks that every family's figures there are the engine's, for the
// benchmark's last 30 days and for 30 days elsewhere in the history: the
// first, when every customer is new (cohorts), and the sales peak of the
// last season.
func TestBench_PostgresAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("PostgreSQL takes a few seconds")
	}
	if !postgresInstalled() {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL 15 is not installed at %s (scripts/test installs it)", pgBinDir)
		}
		t.Skipf("PostgreSQL 15 is not installed at %s: apt-get install postgresql-15, or run scripts/test", pgBinDir)
	}
	ctx := context.Background()
	s, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "bench.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ws := store.NewWorkspace(demoWorkspace)
	ws.TimeZone = benchTimeZone
	if err := s.PutWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	// Over 13 months, so the last 30 days have a year before them.
	const days = 395
	end := time.Now().UTC().Truncate(24 * time.Hour)
	if _, err := generateInto(ctx, s, ws, demo.Options{Seed: 7, Events: 40_000, Days: days, End: end}, 10_000); err != nil {
		t.Fatal(err)
	}
	// Visits with an order in them, rare in the demo: one a minute into
	// it, and two at the visit's very millisecond, which count only after
	// the visit by id (edge-p2 sorts before edge-s2, edge-t3 after edge-s3).
	// An inbound message that arrived under two event ids, the second
	// naming only the message, is one touch of its customer's order; an
	// order without a customer has no touch. A conversation opened six
	// weeks before the last 30 days and answered in them is none of
	// theirs; one of the peak's 30 days resolved three weeks after them is
	// resolved.
	at := func(days, minutes int) string {
		return end.AddDate(0, 0, -days).Add(time.Duration(10*60+minutes) * time.Minute).Format(time.RFC3339)
	}
	edges := []string{
		`{"id":"edge-s1","ts":"` + at(3, 0) + `","kind":"site_session","channel":"web","customer":"cus_edge1","duration_ms":600000,"source":"google","medium":"cpc"}`,
		`{"id":"edge-o1","ts":"` + at(3, 1) + `","kind":"order_placed","order":"ord_edge1","customer":"cus_edge1","amount":"10.00","currency":"EUR","channel":"web"}`,
		`{"id":"edge-s2","ts":"` + at(5, 0) + `","kind":"site_session","channel":"web","customer":"cus_edge2","duration_ms":0}`,
		`{"id":"edge-p2","ts":"` + at(5, 0) + `","kind":"order_placed","order":"ord_edge2","customer":"cus_edge2","amount":"20.00","currency":"EUR"}`,
		`{"id":"edge-s3","ts":"` + at(6, 0) + `","kind":"site_session","channel":"web","customer":"cus_edge3","duration_ms":0,"utm_campaign":"spring_sale"}`,
		`{"id":"edge-t3","ts":"` + at(6, 0) + `","kind":"order_placed","order":"ord_edge3","customer":"cus_edge3","amount":"30.00","currency":"EUR"}`,
		`{"id":"edge-i4","ts":"` + at(4, 0) + `","kind":"message_received","channel":"whatsapp","customer":"cus_edge4","message":"wamid.edge4","text":"hi"}`,
		`{"id":"edge-j4","ts":"` + at(4, 2) + `","kind":"message_received","channel":"whatsapp","message":"wamid.edge4","text":"hi"}`,
		`{"id":"edge-o4","ts":"` + at(4, 30) + `","kind":"order_placed","order":"ord_edge4","customer":"cus_edge4","amount":"40.00","currency":"EUR"}`,
		`{"id":"edge-o5","ts":"` + at(4, 40) + `","kind":"order_placed","order":"ord_edge5","amount":"50.00","currency":"EUR"}`,
		`{"id":"edge-c6","ts":"` + at(72, 0) + `","kind":"conversation_opened","channel":"whatsapp","conversation":"conv_edge6","customer":"cus_edge6"}`,
		`{"id":"edge-m6","ts":"` + at(72, 1) + `","kind":"message_received","channel":"whatsapp","conversation":"conv_edge6","customer":"cus_edge6","message":"wamid.edge6","text":"hello?"}`,
		`{"id":"edge-r6","ts":"` + at(10, 0) + `","kind":"message_sent","channel":"whatsapp","conversation":"conv_edge6","customer":"cus_edge6","message":"wamid.edge6r","actor":"agent","agent":"ana"}`,
		`{"id":"edge-c7","ts":"` + at(60, 0) + `","kind":"conversation_opened","channel":"whatsapp","conversation":"conv_edge7","customer":"cus_edge7"}`,
		`{"id":"edge-m7","ts":"` + at(60, 1) + `","kind":"message_received","channel":"whatsapp","conversation":"conv_edge7","customer":"cus_edge7","message":"wamid.edge7","text":"hello?"}`,
		`{"id":"edge-r7","ts":"` + at(60, 5) + `","kind":"message_sent","channel":"whatsapp","conversation":"conv_edge7","customer":"cus_edge7","message":"wamid.edge7r","actor":"agent","agent":"ana"}`,
		`{"id":"edge-z7","ts":"` + at(60-21, 0) + `","kind":"conversation_resolved","channel":"whatsapp","conversation":"conv_edge7","agent":"ana"}`,
	}
	extra, rejected, err := ingest.DecodeBody(strings.NewReader(strings.Join(edges, "\n")), demoWorkspace)
	if err != nil || len(rejected) > 0 {
		t.Fatal(err, rejected)
	}
	if _, err := s.Insert(ctx, extra); err != nil {
		t.Fatal(err)
	}
	engine, err := kpi.New(s)
	if err != nil {
		t.Fatal(err)
	}
	p, err := startPostgres(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	if _, err := p.load(ctx, s, demoWorkspace); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation(benchTimeZone)
	now := time.Now().In(loc)
	last := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, loc)
	start := end.AddDate(0, 0, -days).In(loc)
	first := time.Date(start.Year(), start.Month(), start.Day()+1, 0, 0, 0, 0, loc).AddDate(0, 0, 30)
	peak := last.AddDate(0, 0, -demo.SeasonDays*4/10)
	for _, c := range []struct {
		name string
		to   time.Time
		ab   bool // the season up to the window's end holds the A/B test, sent in its last days
	}{{"last 30 days", last, true}, {"first 30 days", first, false}, {"the last season's peak", peak, false}} {
		t.Run(c.name, func(t *testing.T) {
			req := kpi.Request{Workspace: demoWorkspace, From: c.to.AddDate(0, 0, -30).Format(time.RFC3339), To: c.to.Format(time.RFC3339)}
			w, err := newPGWindow(req, ws)
			if err != nil {
				t.Fatal(err)
			}
			families := slices.DeleteFunc(slices.Clone(pgFamilies), func(f pgFamily) bool { return f.name == "a/b" && !c.ab })
			var f pgFigures
			for _, fam := range families {
				if err := fam.run(ctx, p.conn, w, &f); err != nil {
					t.Fatalf("%s: %v", fam.name, err)
				}
			}
			same, err := compareWithEngine(ctx, engine, req, families, &f)
			if err != nil {
				t.Fatal(err)
			}
			t.Log(same)
			if f.sessions == 0 || f.frtN == 0 || f.attributed == 0 || f.visits == 0 || f.csatAnswers == 0 {
				t.Errorf("too little to compare: %d sessions, %d first responses, %d orders attributed, %d visits, %d CSAT answers",
					f.sessions, f.frtN, f.attributed, f.visits, f.csatAnswers)
			}
			if c.ab && len(f.arms) != 2 {
				t.Errorf("%d variants in the A/B test", len(f.arms))
			}
			switch c.name {
			case "first 30 days":
				if len(f.cohorts) < 4 {
					t.Errorf("%d cohorts in the first 30 days, when every customer is new", len(f.cohorts))
				}
			case "last 30 days":
				if f.ly == 0 || f.purchasing < 2 || len(f.cohorts) == 0 {
					t.Errorf("%d orders a year before, %d visits with an order (2 made for the test), %d cohorts", f.ly, f.purchasing, len(f.cohorts))
				}
			}
		})
	}
}

// TestDecodeLines decodes in pieces what one decoder gives, in order.
func TestDecodeLines(t *testing.T) {
	var buf bytes.Buffer
	if _, err := demo.Generate(context.Background(), &buf, demo.Options{Seed: 7, Events: 20_000}); err != nil {
		t.Fatal(err)
	}
	want, _, err := ingest.DecodeBody(bytes.NewReader(buf.Bytes()), demoWorkspace)
	if err != nil {
		t.Fatal(err)
	}
	for _, procs := range []int{1, 2, 3, 8} {
		old := runtime.GOMAXPROCS(procs)
		got, rejected, err := decodeLines(buf.Bytes(), demoWorkspace)
		runtime.GOMAXPROCS(old)
		if err != nil || len(rejected) > 0 {
			t.Fatal(err, rejected)
		}
		if len(got) != len(want) {
			t.Fatalf("%d cores: %d events, want %d", procs, len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i].ID || !got[i].TS.Equal(want[i].TS) {
				t.Fatalf("%d cores: event %d is %s, want %s", procs, i, got[i].ID, want[i].ID)
			}
		}
	}
}
