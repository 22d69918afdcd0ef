package cli

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/kpi"
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
	for _, fam := range []string{"message", "revenue", "conversation"} {
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
	if !strings.Contains(row("same figures as omnikpi"), "figures equal") {
		t.Errorf("no agreement in\n%s", out)
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
// from an empty database, so the second holds only its own events.
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
	for _, events := range []string{"20000", "5000"} {
		code, out, errOut := run(t, "bench", "--events", events, "--runs", "1", "--duckdb=false", "--http-seconds", "0", "--clickhouse", base)
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
