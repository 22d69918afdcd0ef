package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/store/clickhouse/chtest"
)

// TestDemo_DuckDBAndClickHouse loads the same small demo into a DuckDB file
// and a ClickHouse database; both print the KPI table and report the same
// figures.
func TestDemo_DuckDBAndClickHouse(t *testing.T) {
	chDB := chtest.Database(t)
	duckDB := filepath.Join(t.TempDir(), "demo.duckdb")
	for _, db := range []string{duckDB, chDB} {
		code, out, errOut := run(t, "demo", "--db", db, "--events", "20000", "--seed", "5", "--no-serve")
		if code != 0 {
			t.Fatalf("demo --db %s exited %d: %s", db, code, errOut)
		}
		for _, want := range []string{"Generated ", " accepted, ", "KPIs of the last 30 days", "Open rate", "Net revenue (EUR)"} {
			if !strings.Contains(out, want) {
				t.Errorf("demo --db %s printed no %q:\n%s", db, want, out)
			}
		}
	}
	args := []string{"--workspace", "demo", "--group-by", "campaign", "--bucket", "week"}
	want := mustJSON(t, reportJSON(t, duckDB, args...))
	if got := mustJSON(t, reportJSON(t, chDB, args...)); got != want {
		t.Errorf("the reports differ:\nClickHouse %.2000s…\nDuckDB     %.2000s…", got, want)
	}
	// The demo shop has opening hours: response times in business time
	// differ from wall-clock ones.
	wall := mustJSON(t, reportJSON(t, duckDB, "--workspace", "demo", "--kpi", "first_response_time"))
	business := mustJSON(t, reportJSON(t, duckDB, "--workspace", "demo", "--kpi", "first_response_time", "--hours", "business"))
	if wall == business {
		t.Errorf("business hours change nothing: %s", business)
	}
	if !strings.Contains(want, `"campaign":"daily_deals"`) {
		t.Errorf("the demo report of the last 30 days has no daily_deals campaign: %.400s…", want)
	}
}
