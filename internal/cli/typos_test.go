package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse/chtest"
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
	// bench --http-seconds takes a plain number of seconds, as its name says
	// (the bad --events stops it before it does anything).
	code, _, errOut := run(t, "bench", "--http-seconds", "5", "--events", "x")
	if code != 2 || strings.Contains(errOut, "flag -http-seconds") {
		t.Errorf("bench --http-seconds 5: %d %s", code, errOut)
	}
}

// TestReadingCommands_RefuseUnknownNames: report, keys list and users list
// on a workspace that does not exist, or a DuckDB file that does not, fail
// naming it, and create nothing; the commands that create still do.
func TestReadingCommands_RefuseUnknownNames(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		if code, _, errOut := run(t, "import", "--db", db, "--workspace", "shop", "testdata/ctr.jsonl"); code != 0 {
			t.Fatalf("import: %s", errOut)
		}
		for _, args := range [][]string{
			{"report", "--workspace", "shpo", "--db", db},
			{"report", "--workspace", "shpo", "--db", db, "--view", "funnel"},
			{"keys", "list", "--workspace", "shpo", "--db", db},
			{"keys", "revoke", "--workspace", "shpo", "--db", db, "okey_1234"},
			{"users", "list", "--workspace", "shpo", "--db", db},
			{"users", "remove", "--workspace", "shpo", "--db", db, "--user", "alice"},
		} {
			code, out, errOut := run(t, args...)
			if code != 1 || out != "" || !strings.Contains(errOut, `there is no workspace "shpo"`) || !strings.Contains(errOut, "(it has shop)") {
				t.Errorf("%v: exit %d, %q, %q; want an error naming shpo and shop", args, code, out, errOut)
			}
		}
		// report still refuses it after the failed commands: none made it.
		if code, _, _ := run(t, "report", "--db", db, "--workspace", "shpo"); code != 1 {
			t.Errorf("report --workspace shpo exited %d after the refused commands", code)
		}
		if code, _, errOut := run(t, "keys", "create", "--db", db, "--workspace", "new"); code != 0 {
			t.Fatalf("keys create on a new workspace: %s", errOut)
		}
		if code, _, errOut := run(t, "report", "--db", db, "--workspace", "new"); code != 0 {
			t.Errorf("report on the workspace keys create made: %s", errOut)
		}
	})

	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "such.duckdb")
	other := filepath.Join(dir, "typo.duckdb")
	for _, args := range [][]string{
		{"report", "--workspace", "shop", "--db", other},
		{"keys", "list", "--workspace", "shop", "--db", other},
		{"users", "list", "--workspace", "shop", "--db", other},
		{"report", "--workspace", "shop", "--db", missing},
	} {
		file := args[len(args)-1]
		code, out, errOut := run(t, args...)
		if code != 1 || out != "" || !strings.Contains(errOut, "there is no DuckDB file "+file) {
			t.Errorf("%v: exit %d, %q, %q; want an error naming the file", args, code, out, errOut)
		}
		if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v made %s", args, file)
		}
	}
	if code, _, errOut := run(t, "workspace", "--db", other, "--workspace", "shop"); code != 0 {
		t.Errorf("workspace on a new file: %s", errOut)
	}
	if code, _, errOut := run(t, "report", "--db", other, "--workspace", "shop"); code != 0 {
		t.Errorf("report on the file workspace made: %s", errOut)
	}
}

// TestReadingCommands_RefuseUnknownClickHouseDatabase: report on a
// ClickHouse database that does not exist fails naming it, and does not
// make it.
func TestReadingCommands_RefuseUnknownClickHouseDatabase(t *testing.T) {
	db := chtest.Database(t)
	code, out, errOut := run(t, "report", "--db", db, "--workspace", "shop")
	if code != 1 || out != "" || !strings.Contains(errOut, "there is no database "+clickhouse.Redacted(db)) {
		t.Errorf("report on a new database: exit %d, %q, %q", code, out, errOut)
	}
	if ok, err := clickhouse.DatabaseExists(context.Background(), db); err != nil || ok {
		t.Errorf("the database exists after report: %v %v", ok, err)
	}
	if code, _, errOut := run(t, "workspace", "--db", db, "--workspace", "shop"); code != 0 {
		t.Fatalf("workspace: %s", errOut)
	}
	if code, _, errOut := run(t, "report", "--db", db, "--workspace", "shop"); code != 0 {
		t.Errorf("report after workspace made the database: %s", errOut)
	}
}

// TestServed_ReadingCommandsRefuseUnknownWorkspaces: through a running
// server, the same commands fail the same way.
func TestServed_ReadingCommandsRefuseUnknownWorkspaces(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shop.duckdb")
	if code, _, errOut := run(t, "import", "--db", db, "--workspace", "shop", "testdata/ctr.jsonl"); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	cmd, _ := startServer(t, db)
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	for _, args := range [][]string{
		{"report", "--workspace", "shpo"},
		{"keys", "list", "--workspace", "shpo"},
		{"users", "list", "--workspace", "shpo"},
	} {
		code, out, errOut := run(t, append(args, "--db", db)...)
		if code != 1 || out != "" || !strings.Contains(errOut, "going through its API") || !strings.Contains(errOut, "no workspace shpo") {
			t.Errorf("%v: exit %d, %q, %q; want the server's 404 naming shpo", args, code, out, errOut)
		}
	}
	if code, _, errOut := run(t, "report", "--db", db, "--workspace", "shop"); code != 0 {
		t.Errorf("report on shop through the server: %s", errOut)
	}
}
