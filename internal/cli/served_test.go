package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/kpi"
)

// TestServed_CommandsGoThroughTheServer runs omnikpi serve on a DuckDB
// file in a process of its own, then the other commands on the same file
// in this one: each goes through the server's API with the admin token,
// and what it did is seen through the API. Once the server stops, the
// commands open the file again, and give the same answers.
func TestServed_CommandsGoThroughTheServer(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shop.duckdb")
	ctx := context.Background()
	cmd, base := startServer(t, db)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait()
		}
	}
	defer stop()

	token, err := os.ReadFile(db + ".admin-token")
	if err != nil {
		t.Fatal(err)
	}
	var info serveInfo
	b, err := os.ReadFile(db + ".serve")
	if err != nil || json.Unmarshal(b, &info) != nil || info.URL != base || info.PID != cmd.Process.Pid {
		t.Fatalf("%s.serve = %s (%v), want %s and pid %d", db, b, err, base, cmd.Process.Pid)
	}
	for _, f := range []string{db + ".admin-token", db + ".serve"} {
		if fi, err := os.Stat(f); err != nil {
			t.Error(err)
		} else if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", f, fi.Mode().Perm())
		}
	}

	// keys create: the new key works on the server at once.
	code, out, errOut := run(t, "keys", "create", "--db", db, "--workspace", "shop")
	if code != 0 || !strings.Contains(errOut, "omnikpi: "+db+" is served by omnikpi serve at "+base+"; going through its API") {
		t.Fatalf("keys create: exit %d, %q", code, errOut)
	}
	key := strings.TrimSpace(out)
	c := client.New(base, key, nil)
	if ws, err := c.Workspace(ctx); err != nil || ws.Name != "shop" {
		t.Fatalf("the new key: %+v, %v", ws, err)
	}
	code, out, errOut = run(t, "keys", "list", "--db", db, "--workspace", "shop")
	if code != 0 || !strings.HasPrefix(out, key[:10]+"…\tcreated ") {
		t.Errorf("keys list: exit %d, %q, %q", code, out, errOut)
	}

	// workspace: the change is what GET /v1/workspace says.
	code, out, errOut = run(t, "workspace", "--db", db, "--workspace", "shop", "--timezone", "Europe/Berlin", "--business-hours", "mon-fri 09:00-17:00")
	if code != 0 || !strings.Contains(out, `"time_zone": "Europe/Berlin"`) {
		t.Fatalf("workspace: exit %d, %q, %q", code, out, errOut)
	}
	if ws, err := c.Workspace(ctx); err != nil || ws.TimeZone != "Europe/Berlin" || ws.BusinessHours == nil || len(ws.BusinessHours.Open["fri"]) != 1 {
		t.Errorf("the workspace after the change: %+v, %v", ws, err)
	}
	if code, _, errOut = run(t, "workspace", "--db", db, "--workspace", "shop", "--timezone", "Mars/Olympus"); code != 1 || !strings.Contains(errOut, `--timezone: "Mars/Olympus" is not an IANA time zone`) {
		t.Errorf("a bad time zone through the server: exit %d, %q", code, errOut)
	}

	// users add reads the password from standard input.
	var stdout, stderr bytes.Buffer
	if code := Run(ctx, []string{"users", "add", "--db", db, "--workspace", "shop", "--user", "alice"}, strings.NewReader("s3cret pass\n"), &stdout, &stderr); code != 0 {
		t.Fatalf("users add: exit %d, %s", code, stderr.String())
	}
	if code, out, _ = run(t, "users", "list", "--db", db, "--workspace", "shop"); code != 0 || out != "alice\n" {
		t.Errorf("users list: exit %d, %q", code, out)
	}

	// import, then the KPIs through the API.
	code, out, errOut = run(t, "import", "--db", db, "--workspace", "shop", "testdata/ctr.jsonl")
	if code != 0 || !strings.Contains(out, "testdata/ctr.jsonl: ") || !strings.Contains(errOut, "going through its API") {
		t.Fatalf("import: exit %d, %q, %q", code, out, errOut)
	}
	if !strings.Contains(out, ": 115 accepted, 0 duplicates, 0 rejected") && !strings.Contains(out, ", 115 queued, 0 rejected") {
		t.Errorf("import summary = %q", out)
	}
	q := url.Values{"from": {"2026-01-01"}, "to": {"2026-02-01"}, "kpi": {"ctr"}}
	var ctr client.Value
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		rep, err := c.KPIs(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if ctr = rep.Rows[0].KPIs[0]; ctr.Denominator == 100 || time.Now().After(deadline) {
			break
		}
	}
	if ctr.Value == nil || *ctr.Value != 15 || ctr.Numerator != 15 || ctr.Denominator != 100 {
		t.Errorf("ctr through the API after the import = %+v, want 15 %% = 15/100", ctr)
	}
	// A second import of the file adds nothing.
	if code, out, _ = run(t, "import", "--db", db, "--workspace", "shop", "testdata/ctr.jsonl"); code != 0 || strings.Contains(out, " 115 accepted") {
		t.Errorf("import again: exit %d, %q", code, out)
	}

	// report through the server: each view as the file would give it.
	reports := [][]string{
		{"--from", "2026-01-01", "--to", "2026-02-01", "--kpi", "ctr,open_rate", "--format", "json"},
		{"--from", "2026-01-01", "--to", "2026-02-01", "--group-by", "campaign", "--format", "csv"},
		{"--from", "2026-01-01", "--to", "2026-02-01", "--kpi", "ctr", "--bucket", "week"},
		{"--from", "2026-01-01", "--to", "2026-02-01", "--view", "funnel"},
		{"--from", "2026-01-01", "--to", "2026-02-01", "--view", "sendtime", "--format", "csv"},
	}
	served := make([]string, len(reports))
	for i, args := range reports {
		code, out, errOut := run(t, append([]string{"report", "--db", db, "--workspace", "shop"}, args...)...)
		if code != 0 || !strings.Contains(errOut, "going through its API") || out == "" {
			t.Fatalf("report %v: exit %d, %q", args, code, errOut)
		}
		served[i] = out
	}
	var rep kpi.Report
	if err := json.Unmarshal([]byte(served[0]), &rep); err != nil || rep.Workspace != "shop" || rep.TimeZone != "Europe/Berlin" {
		t.Errorf("report JSON through the server: %v\n%s", err, served[0])
	}

	// keys revoke: the server refuses the key at once, though it has just
	// used it.
	code, _, errOut = run(t, "keys", "revoke", "--db", db, "--workspace", "shop", key[:10]+"…")
	if code != 0 || !strings.Contains(errOut, "Revoked key") {
		t.Fatalf("keys revoke: exit %d, %q", code, errOut)
	}
	var apiErr *client.APIError
	if _, err := c.Workspace(ctx); !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Errorf("the revoked key: %v, want a 401", err)
	}
	if code, out, _ = run(t, "keys", "list", "--db", db, "--workspace", "shop"); code != 0 || out != "" {
		t.Errorf("keys list after revoking: exit %d, %q", code, out)
	}

	// Stopped cleanly, the server removes F.serve and keeps the token; the
	// commands open the file again and agree with what the server said.
	stop()
	if _, err := os.Stat(db + ".serve"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s.serve after the server stopped: %v", db, err)
	}
	for i, args := range reports {
		code, out, errOut := run(t, append([]string{"report", "--db", db, "--workspace", "shop"}, args...)...)
		if code != 0 || strings.Contains(errOut, "going through") {
			t.Fatalf("report %v on the file: exit %d, %q", args, code, errOut)
		}
		if out != served[i] {
			t.Errorf("report %v: the server's answer printed\n%s\nthe file's\n%s", args, served[i], out)
		}
	}

	// A stale F.serve (no server answers there) is ignored.
	if err := os.WriteFile(db+".serve", []byte(`{"url":"http://127.0.0.1:1","pid":`+itoa(os.Getpid())+`}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut = run(t, "keys", "list", "--db", db, "--workspace", "shop"); code != 0 || errOut != "" {
		t.Errorf("keys list with a stale %s.serve: exit %d, %q", db, code, errOut)
	}

	// A restart keeps the admin token.
	cmd, _ = startServer(t, db)
	stopped = false
	if again, err := os.ReadFile(db + ".admin-token"); err != nil || !bytes.Equal(again, token) {
		t.Errorf("the admin token changed on restart: %v", err)
	}
}

// TestServed_AdminTokenFile: the token file is made private, reused, and
// refused when others may read it.
func TestServed_AdminTokenFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.duckdb")
	first, err := adminToken(db)
	if err != nil || len(first) < 64 {
		t.Fatalf("adminToken = %q, %v", first, err)
	}
	if again, err := adminToken(db); err != nil || again != first {
		t.Errorf("second adminToken = %q, %v; want the first", again, err)
	}
	if err := os.Chmod(db+".admin-token", 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := adminToken(db); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a token others may read: %v", err)
	}
	if got := loopback("http://[::]:8080"); got != "http://[::1]:8080" {
		t.Errorf("loopback([::]) = %s", got)
	}
	if got := loopback("https://0.0.0.0:443"); got != "https://127.0.0.1:443" {
		t.Errorf("loopback(0.0.0.0) = %s", got)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
