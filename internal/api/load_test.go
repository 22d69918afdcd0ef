package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/journal"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/storetest"
)

// slowStore holds every insert until release is closed, as a store at its
// limit would, and says on entered when an insert arrives.
type slowStore struct {
	storetest.Store
	entered chan struct{}
	release chan struct{}
}

func (s slowStore) Insert(ctx context.Context, events []event.Event) ([]store.Outcome, error) {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-s.release
	return s.Store.Insert(ctx, events)
}

// shedServer serves the API over a store that holds every insert until
// released, with a journal bounded at maxUnapplied bytes. It returns the
// store, the journal, the server's URL and a poster of one order.
func shedServer(t *testing.T, opts api.Options, maxUnapplied int64) (slowStore, *journal.Journal, string, func(id, query string) (*http.Response, error)) {
	t.Helper()
	base := duckdbOnly(t)
	s := slowStore{Store: base, entered: make(chan struct{}, 16), release: make(chan struct{})}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ingester, err := journal.OpenIngester(t.TempDir(), s, log, journal.Options{MaxUnapplied: maxUnapplied}, journal.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	engine, _ := kpi.New(s)
	opts.Journal = ingester.Journal()
	srv := httptest.NewServer(api.New(s, ingester, engine, log, opts))
	t.Cleanup(func() {
		srv.Close()
		ingester.Close(time.Minute)
	})
	plain, key := api.NewKey("a")
	if err := base.AddKey(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	post := func(id, query string) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/events"+query, strings.NewReader(order(id, id, "1")))
		req.Header.Set("Authorization", "Bearer "+plain)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}
	return s, ingester.Journal(), srv.URL, post
}

// TestPostEvents_ShedsLoad: with the one ingestion slot taken by a request
// waiting for the store (wait=applied), the next request is answered 503
// with Retry-After at once; once the store moves, the held request is
// acknowledged.
func TestPostEvents_ShedsLoad(t *testing.T) {
	s, _, _, post := shedServer(t, api.Options{MaxInFlight: 1}, 0)
	held := make(chan int, 1)
	go func() {
		resp, err := post("held", "?wait=applied")
		if err != nil {
			held <- 0
			return
		}
		held <- resp.StatusCode
	}()
	<-s.entered // the held request has its slot and waits on the store
	shed, err := post("extra", "")
	if err != nil || shed.StatusCode != http.StatusServiceUnavailable || shed.Header.Get("Retry-After") != "1" {
		t.Fatalf("a request beyond the limit: %v %+v", err, shed)
	}
	close(s.release)
	if status := <-held; status != http.StatusOK {
		t.Errorf("the held request answered %d, want 200 once the store moved", status)
	}
	if resp, err := post("after", ""); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("after the load: %v %+v", err, resp)
	}
}

// TestPostEvents_ShedsWhenTheJournalIsFull: requests are acknowledged once
// journaled although the store is stuck, until the bytes not yet applied
// pass the journal's bound; then ingestion answers 503 with Retry-After,
// and takes events again once the store has caught up. Every acknowledged
// event ends up in the store.
func TestPostEvents_ShedsWhenTheJournalIsFull(t *testing.T) {
	s, j, _, post := shedServer(t, api.Options{MaxInFlight: 64}, 2000)
	var acked []string
	var shed *http.Response
	for i := 0; i < 100 && shed == nil; i++ {
		id := fmt.Sprintf("o%d", i)
		resp, err := post(id, "")
		if err != nil {
			t.Fatal(err)
		}
		switch resp.StatusCode {
		case http.StatusOK:
			acked = append(acked, id)
		case http.StatusServiceUnavailable:
			shed = resp
		default:
			t.Fatalf("%s: status %d", id, resp.StatusCode)
		}
	}
	if shed == nil || shed.Header.Get("Retry-After") == "" {
		t.Fatalf("100 requests with the store stuck were all acknowledged: the journal's bound does not hold")
	}
	if len(acked) < 2 {
		t.Fatalf("only %d requests acknowledged before shedding: the store being slow should not stop acknowledgements", len(acked))
	}
	close(s.release)
	for deadline := time.Now().Add(30 * time.Second); j.Lag().Events > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the journal was not applied: %+v", j.Lag())
		}
	}
	if resp, err := post("after", ""); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after the store caught up: %v %+v", err, resp)
	}
	rows, err := s.Query(context.Background(), "SELECT count(DISTINCT id) FROM events WHERE workspace = 'a'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n int
	for rows.Next() {
		rows.Scan(&n)
	}
	if n < len(acked) {
		t.Errorf("%d events stored, %d acknowledged", n, len(acked))
	}
}

// TestReadyz_ReportsJournalLag: while the store is stuck, an acknowledged
// request waits in the journal; /metrics shows the lag in events and
// seconds, and /readyz answers 503 naming the lag once it is older than the
// bound, and 200 again once the store has caught up.
func TestReadyz_ReportsJournalLag(t *testing.T) {
	s, _, base, post := shedServer(t, api.Options{MaxLag: 200 * time.Millisecond}, 0)
	for _, id := range []string{"o1", "o2"} {
		resp, err := post(id, "")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("post with the store stuck: %v %+v", err, resp)
		}
	}
	<-s.entered
	time.Sleep(300 * time.Millisecond)
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "2 events") {
		t.Errorf("readyz with a lag of 300 ms over a bound of 200 ms: %d %s", code, body)
	}
	_, metrics := get("/metrics")
	if !strings.Contains(metrics, "omnikpi_journal_lag_events 2\n") || !strings.Contains(metrics, "omnikpi_journal_lag_seconds 0.") {
		t.Errorf("metrics do not show the lag of 2 events:\n%s", metrics)
	}
	close(s.release)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if code, _ := get("/readyz"); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("readyz stays 503 after the store caught up")
		}
	}
	if _, metrics := get("/metrics"); !strings.Contains(metrics, "omnikpi_journal_lag_events 0\n") {
		t.Errorf("lag after catching up:\n%s", metrics)
	}
}
