package api_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/journal"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// fastJournal is an ingester that applies within milliseconds, closed
// with the test.
func fastJournal(t *testing.T, s store.Store) *journal.Ingester {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ingester, err := journal.OpenIngester(t.TempDir(), s, log, journal.Options{NoSync: true}, journal.ApplyOptions{Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ingester.Close(time.Minute) })
	return ingester
}

// askReport GETs a KPI route with a key: the report and whether it came
// from the answer cache (Omnikpi-Cache).
func askReport(t *testing.T, base, key, path string) (kpi.Report, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var rep kpi.Report
	if err := json.NewDecoder(res.Body).Decode(&rep); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
	}
	return rep, res.Header.Get("Omnikpi-Cache")
}

// TestViews_AnswersReusedUntilTheDataChanges: a view's answer is served
// again from memory for the same query, and computed anew once the journal
// applies new events (sent past the API) or the server takes a change.
func TestViews_AnswersReusedUntilTheDataChanges(t *testing.T) {
	ctx := context.Background()
	s, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "answers.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() }) // after the journal, which closes first
	if err := s.PutWorkspace(ctx, store.NewWorkspace("a")); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ingester := fastJournal(t, s)
	engine, _ := kpi.New(s)
	srv := httptest.NewServer(api.New(s, ingester, engine, log, api.Options{Journal: ingester.Journal()}))
	defer srv.Close()
	plain, key := api.NewKey("a")
	if err := s.AddKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	sent := func(n int) {
		t.Helper()
		var events []event.Event
		for i := range n {
			events = append(events, event.Event{ID: "s" + string(rune('a'+i)), Workspace: "a", Kind: event.MessageSent, Channel: "whatsapp",
				Message: "m" + string(rune('a'+i)), TS: time.Date(2026, 1, 5, 10, i, 0, 0, time.UTC), Count: 1})
		}
		if _, err := ingester.Submit(ctx, events, true); err != nil {
			t.Fatal(err)
		}
	}
	get := func(path string) (value float64, cache string) {
		t.Helper()
		rep, cache := askReport(t, srv.URL, plain, path)
		return *rep.Rows[0].KPIs[0].Value, cache
	}
	const q = "/v1/kpis?kpi=messages_sent&from=2026-01-01&to=2026-02-01"
	sent(1)
	for i, want := range []string{"miss", "hit"} {
		if v, cache := get(q); v != 1 || cache != want {
			t.Fatalf("request %d: %v messages (%s), want 1 (%s)", i+1, v, cache, want)
		}
	}
	if _, cache := get(q + "&channel=whatsapp"); cache != "miss" {
		t.Errorf("another query was answered from the cache (%s)", cache)
	}
	sent(2) // through the journal, past the API
	if v, cache := get(q); v != 2 || cache != "miss" {
		t.Fatalf("after new events: %v messages (%s), want 2 (miss)", v, cache)
	}
	// A change the server takes (an alert rule) drops the answers too.
	req, _ := http.NewRequest("PUT", srv.URL+"/v1/alerts/spike", strings.NewReader(`{"kpi":"opt_out_rate","condition":"above","value":1,"window":"1d"}`))
	req.Header.Set("Authorization", "Bearer "+plain)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode >= 300 {
		t.Fatalf("PUT alert: %d", res.StatusCode)
	}
	if _, cache := get(q); cache != "miss" {
		t.Errorf("after a change: %s, want miss", cache)
	}
}

// TestAnswers_Gzip: a client that accepts gzip gets the same answer
// compressed; one that does not gets it plain.
func TestAnswers_Gzip(t *testing.T) {
	ctx := context.Background()
	s, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "gzip.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	engine, _ := kpi.New(s)
	srv := httptest.NewServer(api.New(s, nil, engine, slog.New(slog.NewTextHandler(io.Discard, nil)), api.Options{}))
	defer srv.Close()
	plain, key := api.NewKey("a")
	if err := s.AddKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	body := func(path, encoding string) (string, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+plain)
		if encoding != "" {
			req.Header.Set("Accept-Encoding", encoding)
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var r io.Reader = res.Body
		if res.Header.Get("Content-Encoding") == "gzip" {
			if r, err = gzip.NewReader(res.Body); err != nil {
				t.Fatal(err)
			}
		}
		b, err := io.ReadAll(r)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
		}
		return string(b), res.Header.Get("Content-Encoding")
	}
	for _, path := range []string{"/v1/kpis?from=2026-01-01&to=2026-02-01", "/v1/catalogue", "/static/js/main.js"} {
		want, enc := body(path, "")
		if enc != "" {
			t.Errorf("%s: encoded %q without Accept-Encoding", path, enc)
		}
		got, enc := body(path, "br, gzip;q=0.8")
		if enc != "gzip" || got != want {
			t.Errorf("%s: encoding %q, same body %v", path, enc, got == want)
		}
	}
}
