package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse/chtest"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// run runs omnikpi with args and returns its exit code and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// eachDB runs test once with a new DuckDB file and once with a new
// ClickHouse database as --db (skipped, saying how to run it, without a
// server).
func eachDB(t *testing.T, test func(t *testing.T, db string)) {
	t.Run("duckdb", func(t *testing.T) { test(t, filepath.Join(t.TempDir(), "omnikpi.duckdb")) })
	t.Run("clickhouse", func(t *testing.T) { test(t, chtest.Database(t)) })
}

func reportJSON(t *testing.T, db string, args ...string) kpi.Report {
	t.Helper()
	code, out, errOut := run(t, append([]string{"report", "--db", db, "--format", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("report exited %d: %s", code, errOut)
	}
	var rep kpi.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, out)
	}
	return rep
}

func kpiValue(t *testing.T, rep kpi.Report, id, currency string) kpi.Value {
	t.Helper()
	for _, row := range rep.Rows {
		for _, v := range row.KPIs {
			if v.ID == id && v.Currency == currency {
				return v
			}
		}
	}
	t.Fatalf("no %s %s in report", id, currency)
	return kpi.Value{}
}

func TestImportReport_WorkedExamples(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		code, out, errOut := run(t, "import", "--db", db, "--workspace", "shop", "testdata/ctr.jsonl", "testdata/aov.csv")
		if code != 0 {
			t.Fatalf("import exited %d: %s %s", code, out, errOut)
		}
		if !strings.Contains(out, "115 accepted") || !strings.Contains(out, "500 accepted") {
			t.Errorf("import summary = %q", out)
		}
		rep := reportJSON(t, db, "--workspace", "shop", "--from", "2026-01-01", "--to", "2026-02-01", "--kpi", "ctr,aov")
		if rep.Workspace != "shop" || len(rep.Rows) != 1 || len(rep.Rows[0].Group) != 0 {
			t.Fatalf("report shape: %+v", rep)
		}
		ctr := kpiValue(t, rep, "ctr", "")
		if ctr.Value == nil || *ctr.Value != 15 || ctr.Numerator != 15 || ctr.Denominator != 100 || ctr.Rating != kpi.Within {
			t.Errorf("ctr = %+v, want 15 %% = 15/100, within", ctr)
		}
		aov := kpiValue(t, rep, "aov", "EUR")
		if aov.Value == nil || *aov.Value != 20 || aov.Numerator != 10000 || aov.Denominator != 500 {
			t.Errorf("aov = %+v, want €20 = 10000/500", aov)
		}

		// The same files again: every event is a duplicate, nothing changes.
		code, out, _ = run(t, "import", "--db", db, "--workspace", "shop", "testdata/ctr.jsonl")
		if code != 0 || !strings.Contains(out, "0 accepted, 115 duplicates") {
			t.Errorf("re-import: exit %d, %q", code, out)
		}
		again := reportJSON(t, db, "--workspace", "shop", "--from", "2026-01-01", "--to", "2026-02-01", "--kpi", "ctr,aov")
		if got, want := mustJSON(t, again), mustJSON(t, rep); got != want {
			t.Errorf("report changed after re-import:\n%s\nwant\n%s", got, want)
		}

		// Table and CSV carry the same figures.
		code, table, _ := run(t, "report", "--db", db, "--workspace", "shop", "--from", "2026-01-01", "--to", "2026-02-01", "--kpi", "ctr")
		if code != 0 || !strings.Contains(table, "15.0 %") || !strings.Contains(table, "within") {
			t.Errorf("table = %q", table)
		}
		code, csvOut, _ := run(t, "report", "--db", db, "--workspace", "shop", "--from", "2026-01-01", "--to", "2026-02-01", "--kpi", "ctr", "--group-by", "campaign", "--format", "csv")
		if code != 0 || csvOut != "campaign,ctr (%)\nspring,15\n" {
			t.Errorf("csv = %q", csvOut)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const badFile = `{"id":"a","ts":"2026-01-05T10:00:00Z","kind":"order_placed","order":"o1","amount":"10","currency":"EUR"}
{"id":"b","ts":"2026-01-05T10:00:00Z","kind":"order_placed","order":"o2","amount":"1.005","currency":"EUR"}
{"id":"c","ts":"2026-01-05T10:00:00Z","kind":"order_placed","order":"o3","amount":"30","currency":"EUR"}
{"id":"d" "ts":
`

func TestImport_BadLines(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		path := writeFile(t, "bad.jsonl", badFile)
		code, out, _ := run(t, "import", "--db", db, "--workspace", "shop", path)
		if code != 1 {
			t.Errorf("exit = %d, want 1 when lines are rejected", code)
		}
		for _, want := range []string{"2 accepted", "2 rejected", "line 2: amount", "line 4:"} {
			if !strings.Contains(out, want) {
				t.Errorf("summary %q lacks %q", out, want)
			}
		}
		rep := reportJSON(t, db, "--workspace", "shop", "--from", "2026-01-01", "--to", "2026-02-01", "--kpi", "gross_revenue")
		if v := kpiValue(t, rep, "gross_revenue", "EUR"); v.Value == nil || *v.Value != 40 {
			t.Errorf("gross revenue = %+v, want the two good orders, 40 EUR", v)
		}
	})
}

func TestImport_StrictIsAllOrNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		path := writeFile(t, "bad.jsonl", badFile)
		code, out, _ := run(t, "import", "--db", db, "--workspace", "shop", "--strict", path)
		if code != 1 || !strings.Contains(out, "nothing imported") || !strings.Contains(out, "line 2: amount") {
			t.Errorf("strict import: exit %d, %q", code, out)
		}
		rep := reportJSON(t, db, "--workspace", "shop", "--from", "2026-01-01", "--to", "2026-02-01", "--kpi", "gross_revenue")
		if v := kpiValue(t, rep, "gross_revenue", ""); v.Value != nil {
			t.Errorf("strict import stored events: %+v", v)
		}
	})
}

func TestKeys_CreateAndList(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		var keys []string
		for range 2 {
			code, out, errOut := run(t, "keys", "create", "--db", db, "--workspace", "shop")
			if code != 0 || !strings.HasPrefix(out, api.KeyPrefix) {
				t.Fatalf("keys create: exit %d, %q %q", code, out, errOut)
			}
			keys = append(keys, strings.TrimSpace(out))
		}
		code, out, _ := run(t, "keys", "list", "--db", db, "--workspace", "shop")
		if code != 0 || strings.Count(out, "created ") != 2 {
			t.Fatalf("keys list: exit %d, %q", code, out)
		}
		for _, k := range keys {
			if strings.Contains(out, k) {
				t.Errorf("keys list shows a whole key: %q", out)
			}
		}
		if _, other, _ := run(t, "keys", "list", "--db", db, "--workspace", "other"); other != "" {
			t.Errorf("another workspace lists keys: %q", other)
		}
	})
}

func TestUsers_AddListRemove(t *testing.T) {
	db := filepath.Join(t.TempDir(), "omnikpi.duckdb")
	runIn := func(stdin string, args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := Run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	if code, _, errOut := runIn("", "users", "add", "--db", db, "--workspace", "shop", "--user", "alice"); code != 1 || !strings.Contains(errOut, "no password on standard input") {
		t.Fatalf("add without a password: %d %q", code, errOut)
	}
	if code, _, errOut := runIn("short\n", "users", "add", "--db", db, "--workspace", "shop", "--user", "alice"); code != 1 || !strings.Contains(errOut, "at least 8") {
		t.Fatalf("add with a short password: %d %q", code, errOut)
	}
	if code, _, errOut := runIn("correct horse\n", "users", "add", "--db", db, "--workspace", "shop", "--user", "alice"); code != 0 {
		t.Fatalf("add: %d %q", code, errOut)
	}
	s, err := duckdb.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := s.Workspace(context.Background(), "shop")
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := ws.User("alice"); !ok || !api.CheckPassword(u.PasswordHash, "correct horse") || strings.Contains(u.PasswordHash, "correct") {
		t.Fatalf("stored user: %+v", u)
	}
	if code, out, _ := run(t, "users", "list", "--db", db, "--workspace", "shop"); code != 0 || out != "alice\n" {
		t.Fatalf("list: %d %q", code, out)
	}
	if code, _, errOut := run(t, "users", "remove", "--db", db, "--workspace", "shop", "--user", "bob"); code != 1 || !strings.Contains(errOut, `no user "bob"`) {
		t.Fatalf("remove unknown: %d %q", code, errOut)
	}
	if code, _, _ := run(t, "users", "remove", "--db", db, "--workspace", "shop", "--user", "alice"); code != 0 {
		t.Fatal("remove")
	}
	if _, out, _ := run(t, "users", "list", "--db", db, "--workspace", "shop"); out != "" {
		t.Fatalf("after remove: %q", out)
	}
}
