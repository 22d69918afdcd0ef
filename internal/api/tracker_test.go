package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/tracker"
)

const browserUA = "Mozilla/5.0 (Linux; Android 13; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"

// hit is one request of the script: its body from a client address (as a
// proxy on loopback names it in X-Forwarded-For) with a user agent, from
// a page of origin.
type hit struct {
	body, addr, ua, origin string
}

// track posts h to the tracker id's endpoint, waiting until its event is
// in the store, and returns the status, the headers and the decoded
// answer.
func track(t *testing.T, s *server, id string, h hit) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/track/"+id+"?wait=applied", strings.NewReader(h.body))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	if h.addr != "" {
		req.Header.Set("X-Forwarded-For", h.addr)
	}
	if h.ua != "" {
		req.Header.Set("User-Agent", h.ua)
	}
	if h.origin != "" {
		req.Header.Set("Origin", h.origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("answer %d is not JSON: %s", resp.StatusCode, b)
	}
	return resp.StatusCode, resp.Header, out
}

func pageView(id, page, referrer string) string {
	b, _ := json.Marshal(map[string]string{"kind": "page_view", "id": id, "url": page, "referrer": referrer})
	return string(b)
}

// trackerOf makes workspace a's tracker through the API.
func trackerOf(t *testing.T, s *server) client.TrackerInfo {
	t.Helper()
	info, err := client.New(s.url, s.keyA, nil).Tracker(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// TestTracker_RefusesBadHits: a hit that cannot be taken is a 400 naming
// its field, a kind other than page_view and identify is refused, an
// unknown tracker id is a 404, a page of another site than the tracker's
// origins a 403, and none of them stores anything.
func TestTracker_RefusesBadHits(t *testing.T) {
	s := startWith(t, duckdbStore, api.Options{AdminToken: adminToken})
	info := trackerOf(t, s)
	if !strings.HasPrefix(info.ID, "tk_") || info.Endpoint != s.url+"/track/"+info.ID || info.SessionGap != client.Duration(30*time.Minute) ||
		info.Snippet != `<script defer src="`+s.url+`/t.js" data-tracker="`+info.ID+`"></script>` {
		t.Fatalf("tracker = %+v", info)
	}
	if again := trackerOf(t, s); again.ID != info.ID {
		t.Fatalf("a second GET made another id: %s, then %s", info.ID, again.ID)
	}
	good := pageView("abcdefgh01", "https://shop.example/", "")
	for _, tc := range []struct {
		name, id, body, origin string
		status                 int
		code, field, want      string
	}{
		{"not JSON", info.ID, "page_view", "", 400, "invalid_hit", "", "one JSON object"},
		{"no kind", info.ID, `{"id":"abcdefgh01","url":"https://shop.example/"}`, "", 400, "invalid_hit", "kind", "required"},
		{"an order", info.ID, `{"kind":"order_placed","id":"abcdefgh01"}`, "", 400, "invalid_hit", "kind", "page_view and identify"},
		{"a message", info.ID, `{"kind":"message_received","id":"abcdefgh01"}`, "", 400, "invalid_hit", "kind", "page_view and identify"},
		{"a site session", info.ID, `{"kind":"site_session","id":"abcdefgh01"}`, "", 400, "invalid_hit", "kind", "made by the server"},
		{"no id", info.ID, `{"kind":"page_view","url":"https://shop.example/"}`, "", 400, "invalid_hit", "id", "required"},
		{"bad id", info.ID, pageView("x'; DROP", "https://shop.example/", ""), "", 400, "invalid_hit", "id", "8 to 64"},
		{"no url", info.ID, `{"kind":"page_view","id":"abcdefgh01"}`, "", 400, "invalid_hit", "url", "required"},
		{"bad url", info.ID, pageView("abcdefgh01", "ftp://shop.example/", ""), "", 400, "invalid_hit", "url", "http or https"},
		{"bad referrer", info.ID, pageView("abcdefgh01", "https://shop.example/", "instagram"), "", 400, "invalid_hit", "referrer", "absolute"},
		{"a field it does not know", info.ID, `{"kind":"page_view","id":"abcdefgh01","url":"https://shop.example/","ts":"2026-01-01T00:00:00Z"}`, "", 400, "invalid_hit", "ts", "not a field"},
		{"identify without customer", info.ID, `{"kind":"identify"}`, "", 400, "invalid_hit", "customer", "required"},
		{"too large", info.ID, `{"kind":"identify","customer":"` + strings.Repeat("x", tracker.MaxBodyBytes) + `"}`, "", 413, "body_too_large", "", "bytes"},
		{"unknown tracker", "tk_aaaaaaaaaaaaaaaa", good, "", 404, "unknown_tracker", "tracker", "tk_aaaaaaaaaaaaaaaa"},
		{"not a tracker id", "x", good, "", 404, "unknown_tracker", "tracker", `"x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, header, out := track(t, s, tc.id, hit{body: tc.body, addr: "203.0.113.9", ua: browserUA, origin: tc.origin})
			e, _ := out["error"].(map[string]any)
			if status != tc.status || e["code"] != tc.code || e["field"] != nilIfEmpty(tc.field) || !strings.Contains(e["message"].(string), tc.want) {
				t.Errorf("%d %v, want %d %s naming field %q with %q", status, out, tc.status, tc.code, tc.field, tc.want)
			}
			if header.Get("Access-Control-Allow-Origin") == "" {
				t.Errorf("no CORS header on the refusal: the page cannot read why")
			}
		})
	}
	// Origins: only the shop's pages may post.
	if status, b := call(t, s, http.MethodPut, s.keyA, "/v1/tracker", `{"origins":["https://Shop.example/"]}`); status != 200 || !strings.Contains(string(b), `"origins":["https://shop.example"]`) {
		t.Fatalf("PUT origins: %d %s", status, b)
	}
	if status, b := call(t, s, http.MethodPut, s.keyA, "/v1/tracker", `{"origins":["shop.example"]}`); status != 400 || !strings.Contains(string(b), `"field":"origins"`) {
		t.Errorf("PUT a bad origin: %d %s", status, b)
	}
	if status, b := call(t, s, http.MethodPut, s.keyA, "/v1/tracker", `{"session_gap":"0s"}`); status != 400 || !strings.Contains(string(b), `"field":"session_gap"`) {
		t.Errorf("PUT a gap of 0: %d %s", status, b)
	}
	status, header, out := track(t, s, info.ID, hit{body: good, addr: "203.0.113.9", ua: browserUA, origin: "https://evil.example"})
	if e, _ := out["error"].(map[string]any); status != 403 || e["field"] != "Origin" {
		t.Errorf("another site's page: %d %v", status, out)
	}
	if header.Get("Access-Control-Allow-Origin") != "https://evil.example" {
		t.Errorf("CORS: %q", header.Get("Access-Control-Allow-Origin"))
	}
	if status, header, out := track(t, s, info.ID, hit{body: good, addr: "203.0.113.9", ua: browserUA, origin: "https://shop.example"}); status != 200 ||
		header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Errorf("the shop's page: %d %v %v", status, out, header)
	}
	if n := s.count(t, "workspace = 'a'"); n != 1 {
		t.Errorf("%d events stored, want the one good page view", n)
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// TestTracker_RateLimit: past its burst, an address is answered 429 with
// Retry-After, while another address goes on.
func TestTracker_RateLimit(t *testing.T) {
	s := startWith(t, duckdbStore, api.Options{TrackerRateLimit: 1, TrackerRateBurst: 3})
	id := trackerOf(t, s).ID
	for i := range 3 {
		if status, _, out := track(t, s, id, hit{body: pageView("abcdefgh0"+strconv.Itoa(i), "https://shop.example/", ""), addr: "198.51.100.1", ua: browserUA}); status != 200 {
			t.Fatalf("hit %d: %d %v", i, status, out)
		}
	}
	status, header, out := track(t, s, id, hit{body: pageView("abcdefgh09", "https://shop.example/", ""), addr: "198.51.100.1", ua: browserUA})
	if e, _ := out["error"].(map[string]any); status != 429 || e["code"] != "rate_limited" {
		t.Fatalf("past the burst: %d %v", status, out)
	}
	if secs, err := strconv.Atoi(header.Get("Retry-After")); err != nil || secs < 1 {
		t.Errorf("Retry-After %q", header.Get("Retry-After"))
	}
	if header.Get("Access-Control-Expose-Headers") != "Retry-After" {
		t.Errorf("the page cannot read Retry-After: %v", header)
	}
	// Unknown ids count too: a flood of them does not reach the store.
	if status, _, _ := track(t, s, "tk_nothing", hit{body: "{}", addr: "198.51.100.1", ua: browserUA}); status != 429 {
		t.Errorf("an unknown id past the burst: %d", status)
	}
	if status, _, out := track(t, s, id, hit{body: pageView("abcdefgh09", "https://shop.example/", ""), addr: "198.51.100.2", ua: browserUA}); status != 200 {
		t.Errorf("another address: %d %v", status, out)
	}
}

// storeSubmit writes a closer's visits straight into the store.
type storeSubmit struct{ s store.Store }

func (w storeSubmit) Submit(ctx context.Context, events []event.Event, wait bool) ([]store.Outcome, error) {
	return w.s.Insert(ctx, events)
}

// TestTracker_PageViewsToVisits: two visitors browse, one re-sends a page
// view and then identifies as a customer by phone number; a robot is not
// counted. Once the visits have ended the closer writes one site_session
// per visit, with its landing page's source, duration and pages, the
// identified one under the customer (hashed like the chat's), so the order
// the customer places later is credited to the visit's source. Writing the
// visits again changes nothing.
func TestTracker_PageViewsToVisits(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := startWith(t, open, api.Options{AdminToken: adminToken})
		ctx := context.Background()
		id := trackerOf(t, s).ID
		ann := hit{addr: "203.0.113.10", ua: browserUA}
		bob := hit{addr: "203.0.113.11", ua: browserUA}
		bot := hit{addr: "66.249.66.1", ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
		for i, h := range []struct {
			who    hit
			body   string
			status int
		}{
			{ann, pageView("ann0000001", "https://shop.example/?utm_source=instagram&utm_medium=social&utm_campaign=spring", "https://l.instagram.com/"), 200},
			{ann, pageView("ann0000002", "https://shop.example/p/batik?utm_source=instagram&utm_medium=social&utm_campaign=spring", "https://shop.example/"), 200},
			{ann, pageView("ann0000002", "https://shop.example/p/batik?utm_source=instagram&utm_medium=social&utm_campaign=spring", "https://shop.example/"), 200}, // re-sent
			{ann, `{"kind":"identify","customer":"+62 812-3456-7890"}`, 200},
			{ann, `{"kind":"identify","customer":"+62 812-3456-7890"}`, 200}, // on the next page too
			{bob, pageView("bob0000001", "https://shop.example/?gclid=g1", "https://www.google.com/"), 200},
			{bot, pageView("bot0000001", "https://shop.example/", ""), 202},
		} {
			body := h.who
			body.body = h.body
			status, _, out := track(t, s, id, body)
			if status != h.status {
				t.Fatalf("hit %d: %d %v", i, status, out)
			}
		}
		if n := s.count(t, "kind = 'page_view'"); n != 3 {
			t.Errorf("%d page views stored, want 3 (a re-sent one once, the robot's none)", n)
		}
		if n := s.count(t, "kind = 'channel_event' AND customer IS NOT NULL AND customer NOT LIKE '%812%'"); n != 1 {
			t.Errorf("%d identify events with a hashed customer, want 1", n)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		closer := &tracker.Closer{Store: s.store, Submit: storeSubmit{s.store}, Log: log}
		// Not yet over: nothing is written.
		if _, err := closer.CloseOnce(ctx, time.Now().Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if n := s.count(t, "kind = 'site_session'"); n != 0 {
			t.Fatalf("%d visits written while they may go on", n)
		}
		later := time.Now().Add(time.Hour)
		for range 2 {
			if _, err := closer.CloseOnce(ctx, later); err != nil {
				t.Fatal(err)
			}
			again := &tracker.Closer{Store: s.store, Submit: storeSubmit{s.store}, Log: log} // another server, or a restart
			if _, err := again.CloseOnce(ctx, later); err != nil {
				t.Fatal(err)
			}
		}
		if n := s.count(t, "kind = 'site_session'"); n != 2 {
			t.Fatalf("%d visits stored, want 2", n)
		}
		// The customer orders on WhatsApp an hour later.
		order := `{"id":"o1","ts":"` + later.UTC().Format(time.RFC3339) + `","kind":"order_placed","order":"o1","amount":"250000","currency":"IDR","customer":"+6281234567890","channel":"whatsapp"}`
		if _, status, err := applied(s.url, s.keyA).SendEvents(ctx, []byte(order), "application/x-ndjson"); err != nil || status != 200 {
			t.Fatalf("order: %d %v", status, err)
		}

		today := time.Now().UTC()
		period := url.Values{"from": {today.AddDate(0, 0, -1).Format(time.DateOnly)}, "to": {today.AddDate(0, 0, 2).Format(time.DateOnly)}}
		q := url.Values{"kpi": {"visits,time_on_site,time_per_page"}, "group_by": {"source,medium,utm_campaign"}}
		for k, v := range period {
			q[k] = v
		}
		rep, err := applied(s.url, s.keyA).KPIs(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, row := range rep.Rows {
			key := deref(row.Group["source"]) + "/" + deref(row.Group["medium"]) + "/" + deref(row.Group["utm_campaign"])
			for _, v := range row.KPIs {
				got[key+" "+v.ID] = strconv.FormatFloat(v.Numerator, 'f', -1, 64)
			}
		}
		if got["instagram/social/spring visits"] != "1" || got["google/cpc/ visits"] != "1" || got["instagram/social/spring time_per_page"] == "" {
			t.Errorf("visits by source = %v", got)
		}
		// Ann's visit of two pages lasted from the first to the second.
		var visit struct {
			Customer string
			Duration int64
			Props    string
		}
		if err := s.store.DB().QueryRow("SELECT customer, duration_ms, props FROM events WHERE kind = 'site_session' AND source = 'instagram'").
			Scan(&visit.Customer, &visit.Duration, &visit.Props); err != nil {
			t.Fatal(err)
		}
		var props map[string]any
		json.Unmarshal([]byte(visit.Props), &props)
		if !strings.HasPrefix(visit.Customer, "ph_") || visit.Duration < 0 || props["pages"] != 2.0 ||
			props["landing_url"] != "https://shop.example/?utm_campaign=spring&utm_medium=social&utm_source=instagram" || props["referrer"] != "https://l.instagram.com/" {
			t.Errorf("Ann's visit = %+v %v", visit, props)
		}
		var attr struct {
			Rows []struct {
				Source  *string `json:"source"`
				Credits map[string]struct {
					Revenue float64 `json:"revenue"`
				} `json:"credits"`
			} `json:"rows"`
		}
		if status := getJSON(t, s, s.keyA, "/v1/attribution?by=source&"+period.Encode(), &attr); status != 200 {
			t.Fatalf("attribution: %d", status)
		}
		credited := map[string]float64{}
		for _, r := range attr.Rows {
			credited[deref(r.Source)] = r.Credits["first_touch"].Revenue
		}
		if credited["instagram"] != 250000 {
			t.Errorf("first-touch credit by source = %v, want the order on instagram's visit", credited)
		}
		// The day's salt is never shown.
		if status, b := call(t, s, http.MethodGet, s.keyA, "/v1/workspace", ""); status != 200 || strings.Contains(string(b), "salt") || !strings.Contains(string(b), id) {
			t.Errorf("GET /v1/workspace: %d %s", status, b)
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestTracker_Script: /t.js is the script, cached and revalidated; the
// endpoint answers a CORS preflight for any site.
func TestTracker_Script(t *testing.T) {
	s := startWith(t, duckdbStore, api.Options{})
	resp, err := http.Get(s.url + "/t.js")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(string(b), "dataset.tracker") {
		t.Fatalf("GET /t.js: %d %s", resp.StatusCode, resp.Header)
	}
	req, _ := http.NewRequest(http.MethodGet, s.url+"/t.js", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidated: %v %v", resp, err)
	}
	req, _ = http.NewRequest(http.MethodOptions, s.url+"/track/tk_any", nil)
	req.Header.Set("Origin", "https://shop.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" ||
		resp.Header.Get("Access-Control-Allow-Methods") != "POST" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}
