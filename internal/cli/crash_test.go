package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse"
)

// runAsOmnikpi makes the test binary act as the omnikpi command, so a test
// can run a real server process and kill it.
const runAsOmnikpi = "OMNIKPI_TEST_RUN_AS_OMNIKPI"

func TestMain(m *testing.M) {
	if os.Getenv(runAsOmnikpi) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	// The benchmark's serve process is this test binary acting as omnikpi.
	serveCommand = func(args ...string) (*exec.Cmd, error) {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), runAsOmnikpi+"=1")
		return cmd, nil
	}
	os.Exit(m.Run())
}

// syncBuffer collects a process's output for a failing test's log.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer runs "omnikpi serve" in a process of its own and returns its
// base URL once it listens.
func startServer(t *testing.T, db string, flags ...string) (*exec.Cmd, string) {
	t.Helper()
	args := []string{"serve", "--db", db, "--addr", "127.0.0.1:0"}
	if clickhouse.IsURL(db) {
		args = append(args, "--journal", journalOf(t, db))
	}
	cmd := exec.Command(os.Args[0], append(args, flags...)...)
	cmd.Env = append(os.Environ(), runAsOmnikpi+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	cmd.Stderr = &logs
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			for _, scheme := range []string{" on http://", " on https://"} {
				if i := strings.Index(sc.Text(), scheme); i >= 0 {
					ready <- sc.Text()[i+len(" on "):]
				}
			}
		}
	}()
	select {
	case base := <-ready:
		return cmd, base
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("omnikpi serve did not start within 60 s")
		return nil, ""
	}
}

// journalOf is the journal directory of a ClickHouse database in this test:
// the same for every server the test starts on it, as an operator would
// configure it.
func journalOf(t *testing.T, db string) string {
	dir := filepath.Join(os.TempDir(), "omnikpi-test-journals", strings.NewReplacer("/", "_", ":", "_").Replace(db))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// TestServe_KilledLosesNothingAcknowledged posts events from concurrent
// clients to a real server process and kills it with SIGKILL, again and
// again: at a random moment while requests are journaled and applied; with
// the applier held back so the kill leaves a backlog, and a torn record
// (half a write) at the journal's end; right after a restart, while that
// backlog is being replayed; and once more at random. A last clean start
// applies what is left. Then every event whose request was answered 200 is
// stored exactly once.
func TestServe_KilledLosesNothingAcknowledged(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		code, key, errOut := run(t, "keys", "create", "--db", db, "--workspace", "shop")
		if code != 0 {
			t.Fatalf("keys create: %s", errOut)
		}
		key = strings.TrimSpace(key)
		journalDir := db + ".journal"
		if clickhouse.IsURL(db) {
			journalDir = journalOf(t, db)
		}
		rng := rand.New(rand.NewPCG(11, 12))
		var mu sync.Mutex
		acked := map[string]bool{}
		next := 0
		ackedNow := func() int {
			mu.Lock()
			defer mu.Unlock()
			return len(acked)
		}
		for _, round := range []struct {
			name      string
			flags     []string
			clients   bool
			kill      string // random, backlog (once events wait in the journal), replay (at once after start)
			tearAfter bool
		}{
			{"random", nil, true, "random", false},
			{"backlog", []string{"--apply-interval", "1h"}, true, "backlog", true},
			{"replay", nil, false, "replay", false},
			{"random again", nil, true, "random", false},
		} {
			cmd, base := startServer(t, db, round.flags...)
			if round.kill == "replay" {
				lag := journalLag(t, base)
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				cmd.Wait()
				if lag == 0 {
					t.Errorf("round %s: nothing was left to replay at the kill", round.name)
				}
				t.Logf("round %s: killed with %d events being replayed", round.name, lag)
				continue
			}
			c := client.New(base, key, nil)
			ctx, stopClients := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil {
						mu.Lock()
						first := next
						next += 20
						mu.Unlock()
						var body strings.Builder
						ids := make([]string, 20)
						for i := range ids {
							ids[i] = fmt.Sprintf("w%d-e%d", w, first+i)
							fmt.Fprintf(&body, `{"id":%q,"ts":"2026-01-05T10:00:00Z","kind":"order_placed","order":%q,"amount":"1","currency":"EUR","customer":"c%d"}`+"\n",
								ids[i], ids[i], i)
						}
						res, status, err := c.SendEvents(ctx, []byte(body.String()), "application/x-ndjson")
						if err != nil || status != http.StatusOK {
							continue // killed mid-request: not acknowledged
						}
						mu.Lock()
						for _, r := range res.Results {
							acked[r.ID] = true
						}
						mu.Unlock()
					}
				}()
			}
			// Kill once the round has had acknowledgements, at a random
			// moment after: a busy machine must not make the test vacuous.
			before := ackedNow()
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && ackedNow() < before+200; time.Sleep(20 * time.Millisecond) {
			}
			time.Sleep(time.Duration(100+rng.IntN(600)) * time.Millisecond)
			lag := 0
			if round.kill == "backlog" {
				lag = journalLag(t, base)
				if lag == 0 {
					t.Errorf("round %s: the applier held back, yet nothing waits in the journal", round.name)
				}
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			stopClients()
			wg.Wait()
			t.Logf("round %s: killed with %d acknowledged so far (%d waiting in the journal)", round.name, ackedNow(), lag)
			if round.tearAfter {
				tearJournal(t, journalDir)
			}
		}
		if ackedNow() < 400 {
			t.Fatalf("only %d events acknowledged: the test did not exercise the server", ackedNow())
		}
		// A clean start applies what the kills left in the journal.
		cmd, base := startServer(t, db)
		for deadline := time.Now().Add(60 * time.Second); journalLag(t, base) > 0; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the journal was not applied within 60 s of a clean start")
			}
		}
		cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("serve after SIGINT: %v", err)
		}
		s, err := openStore(context.Background(), db)
		if err != nil {
			t.Fatalf("the store does not open after the kills: %v", err)
		}
		defer s.Close()
		stored := storedIDs(t, s)
		mu.Lock()
		defer mu.Unlock()
		for id := range acked {
			if stored[id] != 1 {
				t.Errorf("acknowledged event %s is stored %d times", id, stored[id])
			}
		}
		for id, n := range stored {
			if n != 1 {
				t.Errorf("event %s is stored %d times", id, n)
			}
		}
		t.Logf("%d events acknowledged across 4 kills, all stored once", len(acked))
	})
}

// journalLag reads the events a server holds in its journal but not yet in
// its store, from /metrics.
func journalLag(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "omnikpi_journal_lag_events "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("lag %q: %v", v, err)
			}
			return n
		}
	}
	t.Fatal("/metrics has no omnikpi_journal_lag_events")
	return 0
}

// tearJournal appends the first half of a record to the journal's last
// segment, as a process killed in the middle of a write would leave it.
func tearJournal(t *testing.T, dir string) {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no journal segment in %s: %v", dir, err)
	}
	sort.Strings(segs)
	f, err := os.OpenFile(segs[len(segs)-1], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// A header announcing 200 bytes, and 30 of them.
	half := append([]byte{200, 0, 0, 0, 1, 2, 3, 4}, bytes.Repeat([]byte{'x'}, 30)...)
	if _, err := f.Write(half); err != nil {
		t.Fatal(err)
	}
}

// storedIDs counts the stored events of workspace shop by id.
func storedIDs(t *testing.T, s store.Store) map[string]int {
	t.Helper()
	rows, err := s.Query(context.Background(), "SELECT id, count(*) FROM events WHERE workspace = ? GROUP BY id", "shop")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = int(n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOpen_BadStores: a file that is not a database, a path in a missing
// directory and a directory each give an error naming the file, and the
// file is left as it was. A file omnikpi serve holds is reached through
// the server.
func TestOpen_BadStores(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.duckdb")
	junk := bytes.Repeat([]byte("not a database "), 5000)
	if err := os.WriteFile(garbage, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ db, want string }{
		{garbage, "not a valid DuckDB database file"},
		{filepath.Join(dir, "missing", "x.duckdb"), "there is no DuckDB file"},
		{dir, "Is a directory"},
	} {
		code, _, errOut := run(t, "report", "--db", tc.db, "--workspace", "w")
		if code != 1 || !strings.Contains(errOut, tc.db) || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, %q", tc.db, code, errOut)
		}
	}
	if b, _ := os.ReadFile(garbage); !bytes.Equal(b, junk) {
		t.Error("the file that is not a database was changed")
	}
	held := filepath.Join(dir, "held.duckdb")
	cmd, _ := startServer(t, held)
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	code, _, errOut := run(t, "report", "--db", held, "--workspace", "w")
	if code != 1 || !strings.Contains(errOut, held+" is served by omnikpi serve") || !strings.Contains(errOut, "no workspace w") {
		t.Errorf("report on a file held by serve, of a workspace it does not have: exit %d, %q", code, errOut)
	}
	if code, _, errOut := run(t, "workspace", "--db", held, "--workspace", "w"); code != 0 {
		t.Fatalf("workspace through the server: exit %d, %q", code, errOut)
	}
	code, out, errOut := run(t, "report", "--db", held, "--workspace", "w", "--kpi", "ctr")
	if code != 0 || !strings.Contains(out, "Workspace w") || !strings.Contains(errOut, "going through its API") {
		t.Errorf("report on a file held by serve: exit %d, %q, %q", code, out, errOut)
	}
}
