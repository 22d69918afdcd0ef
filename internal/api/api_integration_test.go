package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/journal"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse/chtest"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
	"github.com/omnikpi/omnikpi/internal/store/storetest"
)

type server struct {
	handler http.Handler
	url     string
	store   storetest.Store
	keyA    string // workspace "a"
	keyB    string // workspace "b"
}

// opener makes an empty store for one test.
type opener = storetest.Opener

// eachStore runs test once on a DuckDB file and once on a ClickHouse
// database (skipped, saying how to run it, without a server).
func eachStore(t *testing.T, test func(t *testing.T, open opener)) {
	t.Run("duckdb", func(t *testing.T) { test(t, duckdbStore) })
	t.Run("clickhouse", func(t *testing.T) {
		chtest.URL(t)
		test(t, func(t *testing.T) storetest.Store { return chtest.Open(t) })
	})
}

// duckdbStore opens an empty DuckDB file for one test.
func duckdbStore(t *testing.T) storetest.Store {
	s, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "api.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func start(t *testing.T, open opener, maxBody int64) *server {
	t.Helper()
	return startWith(t, open, api.Options{MaxBodyBytes: maxBody})
}

func startWith(t *testing.T, open opener, opts api.Options) *server {
	t.Helper()
	ctx := context.Background()
	s := open(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ingester, err := journal.OpenIngester(t.TempDir(), s, log, journal.Options{}, journal.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	engine, err := kpi.New(s)
	if err != nil {
		t.Fatal(err)
	}
	opts.Journal = ingester.Journal()
	handler := api.New(s, ingester, engine, log, opts)
	srv := httptest.NewServer(handler)
	t.Cleanup(func() {
		srv.Close()
		ingester.Close(time.Minute)
	})
	out := &server{url: srv.URL, store: s, handler: handler}
	for ws, dst := range map[string]*string{"a": &out.keyA, "b": &out.keyB} {
		plain, key := api.NewKey(ws)
		if err := s.AddKey(ctx, key); err != nil {
			t.Fatal(err)
		}
		if err := s.PutWorkspace(ctx, store.NewWorkspace(ws)); err != nil {
			t.Fatal(err)
		}
		*dst = plain
	}
	return out
}

func (s *server) count(t *testing.T, where string) int {
	t.Helper()
	var n int
	if err := s.store.DB().QueryRow("SELECT count(*) FROM events WHERE " + where).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func order(id, order string, amount string) string {
	return fmt.Sprintf(`{"id":%q,"ts":"2026-01-05T10:00:00Z","kind":"order_placed","order":%q,"amount":%q,"currency":"EUR","customer":"c1"}`, id, order, amount)
}

func TestPostEvents_ArrayAndNDJSONWithDuplicates(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		c := applied(s.url, s.keyA)
		ctx := context.Background()

		body := "[" + order("e1", "o1", "10") + "," + order("e2", "o2", "20") + "," + order("e1", "o1", "10") + "]"
		res, status, err := c.SendEvents(ctx, []byte(body), "application/json")
		if err != nil || status != http.StatusOK {
			t.Fatalf("array: status %d, err %v", status, err)
		}
		if res.Accepted != 2 || res.Duplicates != 1 || len(res.Rejected) != 0 {
			t.Errorf("array result = %+v", res)
		}
		if res.Results[2].ID != "e1" || res.Results[2].Status != "duplicate" {
			t.Errorf("results = %+v", res.Results)
		}

		nd := order("e2", "o2", "20") + "\n\n" + order("e3", "o3", "30") + "\n"
		res, status, err = c.SendEvents(ctx, []byte(nd), "application/x-ndjson")
		if err != nil || status != http.StatusOK || res.Accepted != 1 || res.Duplicates != 1 {
			t.Fatalf("ndjson: status %d, err %v, %+v", status, err, res)
		}
		if n := s.count(t, "workspace = 'a'"); n != 3 {
			t.Errorf("stored %d events, want 3", n)
		}
		rep, err := c.KPIs(ctx, url.Values{"from": {"2026-01-01"}, "to": {"2026-02-01"}, "kpi": {"gross_revenue,aov"}})
		if err != nil {
			t.Fatal(err)
		}
		if v := rep.Rows[0].KPIs[0]; v.ID != "gross_revenue" || v.Currency != "EUR" || v.Value == nil || *v.Value != 60 {
			t.Errorf("gross revenue = %+v, want 60 EUR", v)
		}
	})
}

func TestPostEvents_BadEvents(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		c := applied(s.url, s.keyA)
		ctx := context.Background()
		lines := []string{
			order("good1", "o1", "10"),
			`{"id":"bad-json", "ts": `,
			`{"id":"wrong-type","ts":"2026-01-05T10:00:00Z","kind":"impression","channel":"facebook","count":"many"}`,
			`{"id":"missing","ts":"2026-01-05T10:00:00Z","kind":"order_placed","amount":"5","currency":"EUR"}`,
			`{"id":"unknown","ts":"2026-01-05T10:00:00Z","kind":"teleported"}`,
			order("good2", "o2", "20"),
		}
		res, status, err := c.SendEvents(ctx, []byte(strings.Join(lines, "\n")), "application/x-ndjson")
		if err != nil || status != http.StatusOK {
			t.Fatalf("status %d, err %v", status, err)
		}
		if res.Accepted != 2 {
			t.Errorf("accepted %d, want the 2 good events", res.Accepted)
		}
		want := []ingest.Rejected{
			{Line: 2},
			{Line: 3, ID: "wrong-type", Field: "count"},
			{Line: 4, ID: "missing", Field: "order"},
			{Line: 5, ID: "unknown", Field: "kind"},
		}
		if len(res.Rejected) != len(want) {
			t.Fatalf("rejected = %+v", res.Rejected)
		}
		for i, w := range want {
			got := res.Rejected[i]
			if got.Line != w.Line || got.ID != w.ID || got.Field != w.Field || got.Reason == "" {
				t.Errorf("rejected[%d] = %+v, want line %d id %q field %q with a reason", i, got, w.Line, w.ID, w.Field)
			}
		}
		if n := s.count(t, "id IN ('good1', 'good2')"); n != 2 {
			t.Errorf("the good events around bad ones: %d stored, want 2", n)
		}

		// Every event bad: 400 with the same answer shape.
		res, status, err = c.SendEvents(ctx, []byte(lines[4]), "application/x-ndjson")
		if status != http.StatusBadRequest || err != nil || len(res.Rejected) != 1 {
			t.Errorf("all bad: status %d, err %v, %+v", status, err, res)
		}
		// Not JSON at all: 400 with an error.
		_, status, err = c.SendEvents(ctx, []byte("id,ts,kind\n1,2,3"), "text/csv")
		var apiErr *client.APIError
		if status != http.StatusBadRequest || !errors.As(err, &apiErr) || apiErr.Code != "invalid_body" {
			t.Errorf("not JSON: status %d, err %v", status, err)
		}
	})
}

func TestPostEvents_BodyTooLarge(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 4096)
		c := applied(s.url, s.keyA)
		var body bytes.Buffer
		for i := 0; body.Len() < 8192; i++ {
			body.WriteString(order(fmt.Sprintf("big%d", i), "o", "1") + "\n")
		}
		_, status, err := c.SendEvents(context.Background(), body.Bytes(), "application/x-ndjson")
		var apiErr *client.APIError
		if status != http.StatusRequestEntityTooLarge || !errors.As(err, &apiErr) || apiErr.Code != "body_too_large" {
			t.Errorf("status %d, err %v, want 413 body_too_large", status, err)
		}
		if n := s.count(t, "1 = 1"); n != 0 {
			t.Errorf("%d events stored from a rejected body", n)
		}
	})
}

func TestAuth(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		ctx := context.Background()
		for _, tc := range []struct {
			name, header string
			status       int
		}{
			{"no key", "", http.StatusUnauthorized},
			{"not bearer", "Basic abc", http.StatusUnauthorized},
			{"unknown key", "Bearer ok_nottherightkey", http.StatusUnauthorized},
			{"good key", "Bearer " + s.keyA, http.StatusOK},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/v1/workspace", nil)
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tc.status {
					t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
				}
				if tc.status != http.StatusOK && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
					t.Errorf("error is not JSON: %s", resp.Header.Get("Content-Type"))
				}
			})
		}
	})
}

func TestWorkspaceIsolation(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		ctx := context.Background()
		a := applied(s.url, s.keyA)
		b := applied(s.url, s.keyB)
		if _, _, err := b.SendEvents(ctx, []byte(order("b1", "ob", "99")), "application/json"); err != nil {
			t.Fatal(err)
		}
		// A tries to write into B.
		intoB := `{"id":"x","workspace":"b","ts":"2026-01-05T10:00:00Z","kind":"order_placed","order":"o","amount":"1","currency":"EUR"}`
		res, status, err := a.SendEvents(ctx, []byte(intoB), "application/x-ndjson")
		if status != http.StatusBadRequest || err != nil || len(res.Rejected) != 1 || res.Rejected[0].Field != "workspace" {
			t.Errorf("write into b: status %d, err %v, %+v", status, err, res)
		}
		if n := s.count(t, "id = 'x'"); n != 0 {
			t.Errorf("A's event stored: %d", n)
		}
		// A tries to read B.
		_, err = a.KPIs(ctx, url.Values{"workspace": {"b"}})
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden {
			t.Errorf("read b with a's key: %v, want 403", err)
		}
		// A's own report never shows B's order.
		rep, err := a.KPIs(ctx, url.Values{"from": {"2026-01-01"}, "to": {"2026-02-01"}, "kpi": {"gross_revenue"}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Workspace != "a" || rep.Rows[0].KPIs[0].Value != nil {
			t.Errorf("a's report shows data: %+v", rep.Rows[0].KPIs[0])
		}
	})
}

func TestPostEvents_ConcurrentClients(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		c := applied(s.url, s.keyA)
		const clients, requests, perRequest = 8, 20, 10
		var wg sync.WaitGroup
		for cl := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range requests {
					var body bytes.Buffer
					for i := range perRequest {
						body.WriteString(order(fmt.Sprintf("c%d-r%d-%d", cl, r, i), fmt.Sprintf("o%d-%d-%d", cl, r, i), "1") + "\n")
					}
					res, status, err := c.SendEvents(context.Background(), body.Bytes(), "application/x-ndjson")
					if err != nil || status != http.StatusOK || res.Accepted != perRequest {
						t.Errorf("status %d, err %v, %+v", status, err, res)
						return
					}
				}
			}()
		}
		wg.Wait()
		if n := s.count(t, "workspace = 'a'"); n != clients*requests*perRequest {
			t.Errorf("stored %d, want %d", n, clients*requests*perRequest)
		}
	})
}

func TestPostEvents_HashesPhoneNumbers(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		c := applied(s.url, s.keyA)
		body := `{"id":"p1","ts":"2026-01-05T10:00:00Z","kind":"message_received","channel":"whatsapp","message":"wamid.1","customer":"+62 812-3456-7890"}`
		if _, status, err := c.SendEvents(context.Background(), []byte(body), "application/json"); err != nil || status != 200 {
			t.Fatalf("status %d, err %v", status, err)
		}
		var customer string
		if err := s.store.DB().QueryRow("SELECT customer FROM events WHERE id = 'p1'").Scan(&customer); err != nil {
			t.Fatal(err)
		}
		if customer != ingest.HashPhone("6281234567890", "a") || strings.Contains(customer, "812") {
			t.Errorf("customer stored as %q", customer)
		}
	})
}

func TestGetKPIs_BadRequest(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		_, err := applied(s.url, s.keyA).KPIs(context.Background(), url.Values{"group_by": {"colour"}})
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Field != "group_by" {
			t.Errorf("err = %v, want 400 on field group_by", err)
		}
	})
}

// TestGetKPIs_InjectionStaysInWorkspace sends SQL in every parameter of
// GET /v1/kpis with workspace a's key: filter values are bound as values
// and match nothing, the other parameters are refused, and workspace b's
// order never shows.
func TestGetKPIs_InjectionStaysInWorkspace(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		ctx := context.Background()
		b := applied(s.url, s.keyB)
		if _, _, err := b.SendEvents(ctx, []byte(order("b1", "ob", "99")), "application/json"); err != nil {
			t.Fatal(err)
		}
		a := applied(s.url, s.keyA)
		attacks := []string{
			`x' OR workspace = 'b`,
			`') OR 1=1 --`,
			`x'); DROP TABLE events; --`,
			`b' UNION ALL SELECT 1 --`,
		}
		base := url.Values{"from": {"2026-01-01"}, "to": {"2026-02-01"}, "kpi": {"gross_revenue,aov"}}
		for _, attack := range attacks {
			for _, param := range append(append([]string{}, kpi.Dimensions...), "group_by", "bucket", "kpi", "tz", "from", "to") {
				q := url.Values{}
				for k, v := range base {
					q[k] = v
				}
				q.Set(param, attack)
				rep, err := a.KPIs(ctx, q)
				var apiErr *client.APIError
				switch {
				case errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest:
					continue // refused, naming the parameter
				case err != nil:
					t.Errorf("%s=%q: %v, want 200 or 400", param, attack, err)
					continue
				}
				if rep.Workspace != "a" {
					t.Errorf("%s=%q: report of workspace %q", param, attack, rep.Workspace)
				}
				for _, row := range rep.Rows {
					for _, v := range row.KPIs {
						if v.Value != nil {
							t.Errorf("%s=%q: %s = %v, want no data in workspace a", param, attack, v.ID, *v.Value)
						}
					}
				}
			}
		}
		if n := s.count(t, "workspace = 'b'"); n != 1 {
			t.Errorf("workspace b holds %d events after the attempts, want its 1", n)
		}
	})
}

// applied is a client whose event posts wait until the events are in the
// store, so a test can read them right after.
func applied(base, key string) *client.Client {
	c := client.New(base, key, nil)
	c.WaitApplied = true
	return c
}

// TestPostEvents_QueuedThenApplied: without wait=applied the answer comes
// once the events are journaled, each "queued"; the store has them soon
// after, and the same events sent again are counted once.
func TestPostEvents_QueuedThenApplied(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		ctx := context.Background()
		body := []byte(order("q1", "oq1", "10") + "\n" + order("q2", "oq2", "20"))
		res, status, err := client.New(s.url, s.keyA, nil).SendEvents(ctx, body, "application/x-ndjson")
		if err != nil || status != http.StatusOK || res.Queued != 2 || res.Accepted != 0 || res.Results[0].Status != "queued" {
			t.Fatalf("status %d, %+v, %v", status, res, err)
		}
		for deadline := time.Now().Add(30 * time.Second); s.count(t, "id IN ('q1', 'q2')") != 2; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("queued events did not reach the store within 30 s")
			}
		}
		res, _, err = applied(s.url, s.keyA).SendEvents(ctx, body, "application/x-ndjson")
		if err != nil || res.Duplicates != 2 || res.Queued != 0 {
			t.Fatalf("the same events again, waiting: %+v, %v", res, err)
		}
		if n := s.count(t, "id IN ('q1', 'q2')"); n != 2 {
			t.Errorf("%d rows stored for 2 events sent twice", n)
		}
	})
}
