package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// TestDashboards_OverviewComputedAhead: the server computes the
// overview's answers for the default 30 days in the workspace's zone
// before anyone asks, so the page's first requests are served from the
// cache; signing in does not drop them; new events are in them once
// applied and warmed again.
func TestDashboards_OverviewComputedAhead(t *testing.T) {
	defer api.SetWarmTimes(50*time.Millisecond, 100*time.Millisecond)()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "warm.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() }) // after the journal, which closes first
	// The warmer stops, and is waited for, before the store closes.
	var warming sync.WaitGroup
	defer warming.Wait()
	defer cancel()
	ws := store.NewWorkspace("a")
	ws.TimeZone = "Pacific/Kiritimati" // UTC+14: its today is often not UTC's
	if err := s.PutWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation(ws.TimeZone)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ingester := fastJournal(t, s)
	sent := func(ids ...string) {
		t.Helper()
		var events []event.Event
		for i, id := range ids {
			events = append(events, event.Event{ID: id, Workspace: "a", Kind: event.MessageSent, Channel: "whatsapp",
				Message: "m" + id, TS: time.Now().Add(-time.Duration(i+1) * time.Minute), Count: 1})
		}
		if _, err := ingester.Submit(ctx, events, true); err != nil {
			t.Fatal(err)
		}
	}
	sent("1")
	engine, _ := kpi.New(s)
	var queries atomic.Int64
	engine.Observe = func(string, time.Duration) { queries.Add(1) }
	srv := httptest.NewServer(api.New(s, ingester, engine, log, api.Options{Journal: ingester.Journal(), Background: ctx, BackgroundDone: &warming}))
	defer srv.Close()
	plain, key := api.NewKey("a")
	if err := s.AddKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	// The page's queries: its default period in the workspace's zone.
	today := time.Now().In(loc)
	to := time.Date(today.Year(), today.Month(), today.Day()+1, 0, 0, 0, 0, time.UTC)
	base := url.Values{"from": {to.AddDate(0, 0, -30).Format(time.DateOnly)}, "to": {to.Format(time.DateOnly)}, "kpi": {strings.Join(kpi.Headline, ",")}}
	overview := func(extra string) string {
		return "/v1/kpis?" + base.Encode() + "&" + extra
	}
	get := func(path string) (float64, string) {
		t.Helper()
		rep, cache := askReport(t, srv.URL, plain, path)
		var sum float64
		for _, row := range rep.Rows {
			for _, v := range row.KPIs {
				if v.ID == "messages_sent" && v.Value != nil {
					sum += *v.Value
				}
			}
		}
		return sum, cache
	}
	// Wait until the warmer has run its queries and gone quiet.
	waitQuiet := func() {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		last := int64(-1)
		for time.Now().Before(deadline) {
			n := queries.Load()
			if n > 0 && n == last {
				return
			}
			last = n
			time.Sleep(400 * time.Millisecond)
		}
		t.Fatal("the overview was not computed ahead within a minute")
	}
	waitQuiet()
	for _, q := range []string{"compare=previous", "bucket=day"} {
		if v, cache := get(overview(q)); cache != "hit" || v != 1 {
			t.Errorf("the overview's %s, first asked: %s with %v messages, want a hit with 1", q, cache, v)
		}
	}
	if _, cache := get(overview("compare=last_year")); cache != "miss" {
		t.Errorf("a query the page does not ask by default was %s", cache)
	}
	// A sign-in is no change of the data: the answers stay.
	res, err := http.Post(srv.URL+"/v1/session", "application/json", strings.NewReader(`{"key":"`+plain+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if _, cache := get(overview("compare=previous")); cache != "hit" {
		t.Errorf("after a sign-in the overview was %s", cache)
	}
	// New events: warmed again with them.
	sent("2", "3")
	time.Sleep(100 * time.Millisecond)
	waitQuiet()
	if v, cache := get(overview("compare=previous")); cache != "hit" || v != 3 {
		t.Errorf("after new events: %s with %v messages, want a hit with 3", cache, v)
	}
}
