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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/store"
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
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, flags...)...)
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

// TestServe_KilledLosesNothingAcknowledged posts events from concurrent
// clients to a real server process and kills it with SIGKILL at random
// moments, several times. After each restart, and at the end, every event
// whose request was answered 200 is stored exactly once.
func TestServe_KilledLosesNothingAcknowledged(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		code, key, errOut := run(t, "keys", "create", "--db", db, "--workspace", "shop")
		if code != 0 {
			t.Fatalf("keys create: %s", errOut)
		}
		key = strings.TrimSpace(key)
		rng := rand.New(rand.NewPCG(11, 12))
		var mu sync.Mutex
		acked := map[string]bool{}
		next := 0
		for round := range 3 {
			cmd, base := startServer(t, db)
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
							ids[i] = fmt.Sprintf("r%d-w%d-e%d", round, w, first+i)
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
			mu.Lock()
			before := len(acked)
			mu.Unlock()
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				mu.Lock()
				n := len(acked)
				mu.Unlock()
				if n >= before+60 {
					break
				}
			}
			time.Sleep(time.Duration(100+rng.IntN(600)) * time.Millisecond)
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			stopClients()
			wg.Wait()
		}
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 100 {
			t.Fatalf("only %d events acknowledged: the test did not exercise the server", len(acked))
		}
		s, err := openStore(context.Background(), db)
		if err != nil {
			t.Fatalf("the store does not open after the kills: %v", err)
		}
		defer s.Close()
		stored := storedIDs(t, s)
		for id := range acked {
			if stored[id] != 1 {
				t.Errorf("acknowledged event %s is stored %d times", id, stored[id])
			}
		}
		t.Logf("%d events acknowledged across 3 kills, all stored once", len(acked))
	})
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
// directory, a directory, and a file another process holds each give an
// error naming the file, and the file is left as it was.
func TestOpen_BadStores(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.duckdb")
	junk := bytes.Repeat([]byte("not a database "), 5000)
	if err := os.WriteFile(garbage, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ db, want string }{
		{garbage, "not a valid DuckDB database file"},
		{filepath.Join(dir, "missing", "x.duckdb"), "No such file or directory"},
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
	if code != 1 || !strings.Contains(errOut, held) || !strings.Contains(strings.ToLower(errOut), "lock") {
		t.Errorf("a file held by serve: exit %d, %q", code, errOut)
	}
}
