package cli

import (
	"strings"
	"testing"
)

// TestBench runs the benchmark small: every measurement gets a row.
func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("the benchmark takes a few seconds")
	}
	code, out, errOut := run(t, "bench", "--events", "20000", "--runs", "1", "--http-seconds", "1s", "--clients", "2", "--clickhouse", "")
	if code != 0 {
		t.Fatalf("bench: %s", errOut)
	}
	for _, want := range []string{"cores", "generate", "bulk import", "KPIs: message, 30 days", "KPIs: a/b, 30 days", "KPIs: every KPI",
		"HTTP ingestion, 2 clients, 1 event(s) per request", "HTTP ingestion, 2 clients, 100 event(s) per request", "peak memory"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}
