package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// serveCommand makes the command that runs "omnikpi serve" for the
// benchmark: this same binary.
var serveCommand = func(args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return exec.Command(exe, args...), nil
}

// The WhatsApp settings of the benchmark's server.
const (
	benchAppSecret = "bench-secret"
	benchNumber    = "100000000000001"
)

// benchServer is an "omnikpi serve" process on the benchmark's DuckDB file.
type benchServer struct {
	cmd  *exec.Cmd
	base string
	key  string
}

// startBenchServer creates an API key for the demo workspace in the DuckDB
// file at db and starts serve on it, its journal bounded at maxJournal
// bytes.
func startBenchServer(ctx context.Context, db string, maxJournal int64, clients int) (*benchServer, error) {
	s, err := duckdb.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	plain, key := api.NewKey(demoWorkspace)
	err = s.AddKey(ctx, key)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	cmd, err := serveCommand("serve", "--db", db, "--addr", "127.0.0.1:0", "--alert-interval", "0",
		"--journal-max-bytes", strconv.FormatInt(maxJournal, 10), "--max-inflight", strconv.Itoa(4*clients),
		"--whatsapp-app-secret", benchAppSecret, "--whatsapp-verify-token", "bench", "--whatsapp-number", benchNumber+"="+demoWorkspace)
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var logs strings.Builder
	cmd.Stderr = &limitedWriter{w: &logs, n: 64 << 10}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if i := strings.Index(sc.Text(), " on http://"); i >= 0 {
				ready <- sc.Text()[i+len(" on "):]
			}
		}
	}()
	select {
	case base := <-ready:
		return &benchServer{cmd: cmd, base: base, key: plain}, nil
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("omnikpi serve did not start within 2 minutes: %s", logs.String())
	}
}

// stop asks the server to stop, which applies what its journal holds.
func (b *benchServer) stop() error {
	b.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(3 * time.Minute):
		b.cmd.Process.Kill()
		return errors.New("omnikpi serve did not stop within 3 minutes")
	}
}

// peakMemory is the server process's peak resident memory.
func (b *benchServer) peakMemory() string {
	return procField(fmt.Sprintf("/proc/%d/status", b.cmd.Process.Pid), "VmHWM:")
}

// cpu is the CPU time the server process has used so far.
func (b *benchServer) cpu() time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", b.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses; utime
	// and stime are the 14th and 15th fields, in clock ticks of 1/100 s.
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	user, _ := strconv.ParseInt(fields[11], 10, 64)
	system, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(user+system) * 10 * time.Millisecond
}

// metric sums the series of a metric (a counter or gauge, or a
// histogram's _sum) on the server's /metrics.
func (b *benchServer) metric(ctx context.Context, name string) (float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sum, found := 0.0, false
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name); ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "{")) {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err != nil {
				return 0, fmt.Errorf("/metrics: %q: %w", line, err)
			}
			sum, found = sum+v, true
		}
	}
	if !found {
		return 0, fmt.Errorf("/metrics shows no %s", name)
	}
	return sum, sc.Err()
}

// lag reads the events the server holds in its journal but not yet in
// its store.
func (b *benchServer) lag(ctx context.Context) (int64, error) {
	n, err := b.metric(ctx, "omnikpi_journal_lag_events")
	return int64(n), err
}

// drain waits until the store has every journaled event and says how long
// that took.
func (b *benchServer) drain(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	for {
		n, err := b.lag(ctx)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// loadResult is what one ingestion load measured.
type loadResult struct {
	acked, shed, failed int64 // events acknowledged; requests shed with 503 and Retry-After; other failures
	took                time.Duration
	p50, p99            time.Duration
}

// bodyFunc makes the body of a client's i-th request and its headers.
type bodyFunc func(client, i int) (path string, body []byte, header http.Header, events int)

// load posts from clients for d. With rate > 0 the clients together offer
// about rate events per second; otherwise each sends as fast as it is
// answered.
func (b *benchServer) load(ctx context.Context, clients int, d time.Duration, rate float64, body bodyFunc) loadResult {
	var acked, shed, failed atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			sent := 0
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				path, payload, header, events := body(c, i)
				if rate > 0 {
					// Open loop: this client's share of the offered rate.
					due := start.Add(time.Duration(float64(sent) / (rate / float64(clients)) * float64(time.Second)))
					if wait := time.Until(due); wait > 0 {
						time.Sleep(wait)
					}
				}
				sent += events
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.base+path, strings.NewReader(string(payload)))
				req.Header = header
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch {
				case resp.StatusCode == http.StatusOK:
					acked.Add(int64(events))
					mine = append(mine, time.Since(t0))
				case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
					shed.Add(1)
				default:
					failed.Add(1)
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	hc.CloseIdleConnections()
	r := loadResult{acked: acked.Load(), shed: shed.Load(), failed: failed.Load(), took: time.Since(start)}
	if len(latencies) > 0 {
		sort.Slice(latencies, func(a, b int) bool { return latencies[a] < latencies[b] })
		r.p50, r.p99 = latencies[len(latencies)/2], latencies[len(latencies)*99/100]
	}
	return r
}

// eventBodies are generic events, batch per request, new ids each run.
func (b *benchServer) eventBodies(batch int) bodyFunc {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	header := http.Header{"Authorization": {"Bearer " + b.key}, "Content-Type": {"application/x-ndjson"}}
	ts := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	return func(client, i int) (string, []byte, http.Header, int) {
		var body strings.Builder
		for j := range batch {
			id := run + "-" + strconv.Itoa(client) + "-" + strconv.Itoa(i) + "-" + strconv.Itoa(j)
			fmt.Fprintf(&body, `{"id":"s%s","ts":%q,"kind":"message_read","channel":"whatsapp","message":"m%s"}`+"\n", id, ts, id)
		}
		return "/v1/events", []byte(body.String()), header.Clone(), batch
	}
}

// whatsAppBodies are signed WhatsApp webhooks of one status each, as Meta
// sends a broadcast's receipts.
func whatsAppBodies() bodyFunc {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	statuses := []string{"sent", "delivered", "read"}
	ts := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	return func(client, i int) (string, []byte, http.Header, int) {
		msg := "wamid.bench" + run + "x" + strconv.Itoa(client) + "x" + strconv.Itoa(i/3)
		body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"310000000000009","changes":[{"field":"messages","value":{` +
			`"messaging_product":"whatsapp","metadata":{"display_phone_number":"6221500100","phone_number_id":"` + benchNumber + `"},` +
			`"statuses":[{"id":"` + msg + `","status":"` + statuses[i%3] + `","timestamp":"` + ts + `","recipient_id":"628123` + strconv.Itoa(100000+client) + `",` +
			`"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}}]}}]}]}`)
		header := http.Header{"Content-Type": {"application/json"}, whatsapp.SignatureHeader: {whatsapp.Sign(body, benchAppSecret)}}
		return "/webhooks/whatsapp", body, header, 1
	}
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	mu sync.Mutex
	w  io.Writer
	n  int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// benchIngestion measures HTTP ingestion into a serve process on the
// DuckDB file at db, which holds the imported events: single events,
// signed WhatsApp statuses and batches of 100, each acknowledged once
// journaled, and how fast the journal is applied; then, on a serve whose
// journal is bounded at overloadJournal bytes, an overload at twice that
// rate.
func benchIngestion(ctx context.Context, db string, clients int, d, overload time.Duration, overloadJournal int64, add func(...string)) error {
	srv, err := startBenchServer(ctx, db, 1<<30, clients) // serve's default bound
	if err != nil {
		return err
	}
	defer srv.cmd.Process.Kill()
	where := fmt.Sprintf("%d clients", clients)
	for _, leg := range []struct {
		what string
		body bodyFunc
	}{
		{"HTTP ingestion, " + where + ", 1 event per request", srv.eventBodies(1)},
		{"WhatsApp webhook, " + where + ", 1 signed status per request", whatsAppBodies()},
		{"HTTP ingestion, " + where + ", 100 events per request", srv.eventBodies(100)},
	} {
		cpu := srv.cpu()
		r := srv.load(ctx, clients, d, 0, leg.body)
		cpu = srv.cpu() - cpu
		if r.acked == 0 {
			return fmt.Errorf("%s: no request was acknowledged (%d failed)", leg.what, r.failed)
		}
		add("serve", leg.what, rate(int(r.acked), r.took), fmt.Sprintf("p50 %s, p99 %s", ms(r.p50), ms(r.p99)),
			fmt.Sprintf("%d shed, %d failed; serve used %.0f%% of a core (journal applier included)", r.shed, r.failed, 100*cpu.Seconds()/r.took.Seconds()))
		if _, err := srv.drain(ctx); err != nil {
			return err
		}
	}
	// What the store sustains: the events applied over the time the
	// applier spent writing them.
	applied, err := srv.metric(ctx, "omnikpi_applied_events_total")
	if err != nil {
		return err
	}
	applying, err := srv.metric(ctx, "omnikpi_apply_batch_duration_seconds_sum")
	if err != nil {
		return err
	}
	add("serve", "journal applied to the store (the three loads)", rate(int(applied), time.Duration(applying*float64(time.Second))), "",
		"the rate the store sustains, in batches of up to 50,000 events; serve's peak memory "+srv.peakMemory())
	if err := srv.stop(); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if overload <= 0 {
		return nil
	}
	// The overload: a bound that twice the sustainable rate fills within
	// the run, so the shedding shows.
	srv, err = startBenchServer(ctx, db, overloadJournal, clients)
	if err != nil {
		return err
	}
	defer srv.cmd.Process.Kill()
	sustainable := applied / applying
	r := srv.load(ctx, clients, overload, 2*sustainable, srv.eventBodies(100))
	add("serve", fmt.Sprintf("overload for %s, offered %s, journal bound %d MiB", store.FormatDuration(overload), rate(int(2*sustainable), time.Second), overloadJournal>>20),
		rate(int(r.acked), r.took), fmt.Sprintf("p50 %s, p99 %s", ms(r.p50), ms(r.p99)),
		fmt.Sprintf("%d requests shed with 503 and Retry-After, %d failed; serve's peak memory %s", r.shed, r.failed, srv.peakMemory()))
	if err := srv.stop(); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
