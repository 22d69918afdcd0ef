package cli

import (
	"encoding/json"
	"flag"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/kpi"
)

// TestDurations_TakeDays: every duration flag reads 7d, 24h and 90m, and
// what the commands print writes durations the same way.
func TestDurations_TakeDays(t *testing.T) {
	db := filepath.Join(t.TempDir(), "omnikpi.duckdb")
	code, out, errOut := run(t, "workspace", "--db", db, "--workspace", "shop", "--session-gap", "1d")
	if code != 0 {
		t.Fatalf("workspace --session-gap 1d: %d %s", code, errOut)
	}
	if !strings.Contains(out, `"session": "1d"`) || !strings.Contains(out, `"conversion": "7d"`) {
		t.Errorf("workspace printed %s, want the session gap as 1d and the windows in days", out)
	}
	if code, _, _ := run(t, "workspace", "--db", db, "--workspace", "shop", "--session-gap", "1 week"); code != 2 {
		t.Errorf("--session-gap '1 week' exited %d, want the usage error", code)
	}
	events := `{"id":"m","ts":"2026-01-06T10:00:00Z","kind":"message_received","channel":"whatsapp","customer":"k1","message":"m1"}
{"id":"o","ts":"2026-01-06T12:00:00Z","kind":"order_placed","channel":"whatsapp","customer":"k1","order":"o1","amount":"30","currency":"EUR"}
`
	if code, _, errOut := run(t, "import", "--db", db, "--workspace", "shop", writeFile(t, "j.jsonl", events)); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	period := []string{"report", "--db", db, "--workspace", "shop", "--from", "2026-01-01", "--to", "2026-02-01", "--format", "json"}
	code, out, errOut = run(t, append(period, "--view", "funnel", "--steps", "message_received,order_placed", "--within", "36h")...)
	var funnel kpi.FunnelReport
	if code != 0 || json.Unmarshal([]byte(out), &funnel) != nil || funnel.Within != "36h" {
		t.Errorf("funnel --within 36h: %d %s %s", code, out, errOut)
	}
	code, out, errOut = run(t, append(period, "--view", "attribution", "--lookback", "90m", "--half-life", "1d")...)
	var attr kpi.AttributionReport
	if code != 0 || json.Unmarshal([]byte(out), &attr) != nil || attr.Lookback != "90m" || attr.HalfLife != "1d" {
		t.Errorf("attribution --lookback 90m --half-life 1d: %d %s %s", code, out, errOut)
	}
}

func TestDurationFlags(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	gap := durationFlag(fs, "gap", time.Minute, "")
	secs := new(time.Duration)
	fs.Var(durationValue{d: secs, bare: time.Second}, "secs", "")
	if err := fs.Parse([]string{"--gap", "7d", "--secs", "5"}); err != nil || *gap != 7*24*time.Hour || *secs != 5*time.Second {
		t.Fatalf("--gap 7d --secs 5: %v %v %v", err, *gap, *secs)
	}
	if err := fs.Parse([]string{"--secs", "2m"}); err != nil || *secs != 2*time.Minute {
		t.Errorf("--secs 2m: %v %v", err, *secs)
	}
	if err := fs.Parse([]string{"--gap", "5"}); err == nil {
		t.Error("--gap 5 accepted without a unit")
	}
	if got := fs.Lookup("gap").DefValue; got != "1m" {
		t.Errorf("default shown as %q, want 1m", got)
	}
}
