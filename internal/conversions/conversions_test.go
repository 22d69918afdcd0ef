package conversions_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/conversions"
	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse/chtest"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// meta stands in for the Conversions API endpoint: it answers the first
// fail[id] requests of an event_id with a 500, then accepts it, and
// refuses the event ids in refuse with a 400.
type meta struct {
	mu       sync.Mutex
	fail     map[string]int
	refuse   map[string]bool
	requests map[string][]map[string]any // bodies by event_id
	tokens   []string
}

func (m *meta) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body struct {
		Data []map[string]any `json:"data"`
	}
	if r.Method != http.MethodPost || json.Unmarshal(b, &body) != nil || len(body.Data) != 1 {
		http.Error(w, `{"error":{"message":"bad request","code":100}}`, http.StatusBadRequest)
		return
	}
	id, _ := body.Data[0]["event_id"].(string)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[id] = append(m.requests[id], body.Data[0])
	m.tokens = append(m.tokens, r.URL.Query().Get("access_token"))
	w.Header().Set("Content-Type", "application/json")
	switch {
	case m.refuse[id]:
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":2804066,"fbtrace_id":"AbC"}}`)
	case len(m.requests[id]) <= m.fail[id]:
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","code":2,"is_transient":true,"fbtrace_id":"AbC"}}`)
	default:
		io.WriteString(w, `{"events_received":1,"messages":[],"fbtrace_id":"AbC"}`)
	}
}

func (m *meta) count(id string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.requests[id])
}

func TestSender_DuckDB(t *testing.T) {
	testSender(t, func(t *testing.T) store.Store {
		s, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "capi.duckdb"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestSender_ClickHouse(t *testing.T) {
	chtest.URL(t)
	testSender(t, func(t *testing.T) store.Store { return chtest.Open(t) })
}

// testSender: a chat from a click-to-WhatsApp ad (Meta's webhook body) and
// an order of the same customer the next day. The endpoint fails the
// purchase twice, then takes it; it refuses a second customer's lead for
// good. Each is accepted at most once, across a restart of the sender.
func testSender(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	if err := s.PutWorkspace(ctx, store.NewWorkspace("shop")); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	chat := now.Add(-48 * time.Hour)

	// A customer's first message from a click-to-WhatsApp ad, as Meta's
	// messages webhook reference shows it: the referral names the ad and
	// carries the click's id.
	body := []byte(`{"object": "whatsapp_business_account", "entry": [{"id": "1234567890987654321", "changes": [{"field": "messages", "value": {
		"messaging_product": "whatsapp",
		"metadata": {"display_phone_number": "6221500100", "phone_number_id": "106540352242922"},
		"contacts": [{"profile": {"name": "Siti"}, "wa_id": "972987654321"}],
		"messages": [{"from": "972987654321", "id": "wamid.HBgLOTcyOTg3NjU0MzIxFQIAEhgUM0EwQjRGQkY3QUI3RjY2QzAwRTcA", "timestamp": "` + strconv.FormatInt(chat.Unix(), 10) + `",
			"type": "text", "text": {"body": "Is the batik dress still available?"},
			"referral": {"source_url": "https://fb.me/3ABcdEfGh", "source_id": "120210000000001", "source_type": "ad",
				"headline": "Batik sale", "body": "30% off this week", "media_type": "image", "image_url": "https://scontent.example/ad.jpg",
				"ctwa_clid": "CTWA_CLID"}}]}}]}]}`)
	res, err := whatsapp.Parse(body, whatsapp.Options{Route: func(string, string) (string, bool) { return "shop", true }})
	if err != nil || len(res.Problems) > 0 {
		t.Fatalf("parse: %v %v", err, res.Problems)
	}
	events := res.Events
	var lead string
	for _, e := range events {
		if e.Kind == event.LeadCreated {
			lead = e.ID
		}
	}
	if lead == "" {
		t.Fatal("the referral made no lead")
	}
	more := []string{
		// The order the day after the chat, on the shop.
		`{"id":"o1","ts":"` + chat.Add(24*time.Hour).Format(time.RFC3339) + `","kind":"order_placed","channel":"web","order":"1001","customer":"972987654321","amount":"49.90","currency":"EUR"}`,
		// Another customer's chat from an ad, which Meta refuses.
		`{"id":"lead-2","ts":"` + chat.Format(time.RFC3339) + `","kind":"lead_created","channel":"whatsapp","customer":"c2","source":"ad","medium":"click_to_whatsapp","props":{"ad_id":"AD2","ctwa_clid":"CLID2"}}`,
		// A lead without an ad click id, and an order of no ad: nothing to send.
		`{"id":"lead-3","ts":"` + chat.Format(time.RFC3339) + `","kind":"lead_created","channel":"whatsapp","customer":"c3","source":"ad","medium":"click_to_whatsapp","props":{"ad_id":"AD3"}}`,
		`{"id":"o4","ts":"` + chat.Format(time.RFC3339) + `","kind":"order_placed","channel":"web","order":"1004","customer":"c4","amount":"10","currency":"EUR"}`,
		// An order of the ad's customer before the chat: no ad's.
		`{"id":"o5","ts":"` + chat.Add(-8*24*time.Hour).Format(time.RFC3339) + `","kind":"order_placed","channel":"web","order":"1005","customer":"972987654321","amount":"10","currency":"EUR"}`,
	}
	for _, line := range more {
		e, err := event.ParseJSON([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		e.Workspace = "shop"
		events = append(events, e)
	}
	if _, err := s.Insert(ctx, events); err != nil {
		t.Fatal(err)
	}
	engine, err := kpi.New(s)
	if err != nil {
		t.Fatal(err)
	}

	m := &meta{fail: map[string]int{"purchase:1001": 2}, refuse: map[string]bool{"lead:lead-2": true}, requests: map[string][]map[string]any{}}
	srv := httptest.NewServer(m)
	defer srv.Close()
	cfg := map[string]conversions.Settings{"shop": {Endpoint: srv.URL + "/v21.0/DATASET/events", AccessToken: "SECRET-TOKEN"}}
	clock := now
	newSender := func() *conversions.Sender {
		return &conversions.Sender{Store: s, Engine: engine, Workspace: cfg, Backoff: time.Minute, Now: func() time.Time { return clock }}
	}
	sender := newSender()
	purchase, leadID := "purchase:1001", "lead:"+lead
	round := func(after time.Duration, purchases, leads int) {
		t.Helper()
		clock = now.Add(after)
		if err := sender.Round(ctx); err != nil {
			t.Fatalf("round at +%s: %v", after, err)
		}
		if got := m.count(purchase); got != purchases {
			t.Errorf("at +%s the purchase was sent %d times, want %d", after, got, purchases)
		}
		if got := m.count(leadID); got != leads {
			t.Errorf("at +%s the lead was sent %d times, want %d", after, got, leads)
		}
	}
	round(0, 1, 1)                           // the purchase fails, the lead is taken
	round(30*time.Second, 1, 1)              // within the first backoff: nothing
	round(61*time.Second, 2, 1)              // the second attempt fails too; the next wait is 2 min
	round(2*time.Minute, 2, 1)               // not yet
	round(3*time.Minute+2*time.Second, 3, 1) // taken
	round(time.Hour, 3, 1)                   // never again
	sender = newSender()                     // a restart
	round(2*time.Hour, 3, 1)
	if n := m.count("lead:lead-2"); n != 1 {
		t.Errorf("the refused lead was sent %d times, want once", n)
	}
	for _, id := range []string{"lead:lead-3", "purchase:1004", "purchase:1005"} {
		if n := m.count(id); n != 0 {
			t.Errorf("%s was sent %d times, want none", id, n)
		}
	}

	// What Meta got: its event format for business messaging.
	got := m.requests[purchase][2]
	want := map[string]any{"event_name": "Purchase", "event_time": float64(chat.Add(24 * time.Hour).Unix()), "event_id": purchase,
		"action_source": "business_messaging", "messaging_channel": "whatsapp"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("purchase %s = %v, want %v", k, got[k], v)
		}
	}
	user, _ := got["user_data"].(map[string]any)
	if user["ctwa_clid"] != "CTWA_CLID" || user["whatsapp_business_account_id"] != "1234567890987654321" {
		t.Errorf("purchase user_data = %v", user)
	}
	custom, _ := got["custom_data"].(map[string]any)
	if custom["currency"] != "EUR" || custom["value"] != 49.9 {
		t.Errorf("purchase custom_data = %v", custom)
	}
	if l := m.requests[leadID][0]; l["event_name"] != "LeadSubmitted" || l["custom_data"] != nil {
		t.Errorf("lead = %v", l)
	}
	for _, tok := range m.tokens {
		if tok != "SECRET-TOKEN" {
			t.Errorf("access_token = %q", tok)
		}
	}

	// The log: every attempt with Meta's answer, never the token.
	entries, err := s.Audit(ctx, store.AuditQuery{Workspace: "shop", Action: "conversion", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	byAction := map[string][]store.AuditEntry{}
	for _, e := range entries {
		byAction[e.Action] = append(byAction[e.Action], e)
		if strings.Contains(e.Details, "SECRET-TOKEN") {
			t.Errorf("the log holds the access token: %s", e.Details)
		}
	}
	if len(byAction[conversions.ActionSent]) != 2 || len(byAction[conversions.ActionFailed]) != 2 || len(byAction[conversions.ActionRejected]) != 1 {
		t.Fatalf("log: %d sent, %d failed, %d rejected; want 2, 2, 1", len(byAction[conversions.ActionSent]),
			len(byAction[conversions.ActionFailed]), len(byAction[conversions.ActionRejected]))
	}
	for _, e := range byAction[conversions.ActionFailed] {
		var d struct {
			Status  int
			Answer  struct{ Error struct{ Code int } }
			RetryIn string `json:"retry_in"`
			Request struct{ Data []map[string]any }
		}
		if err := json.Unmarshal([]byte(e.Details), &d); err != nil || e.Target != purchase || d.Status != 500 ||
			d.Answer.Error.Code != 2 || d.RetryIn == "" || len(d.Request.Data) != 1 {
			t.Errorf("failed attempt logged as %s %s (%v)", e.Target, e.Details, err)
		}
	}
	for _, e := range byAction[conversions.ActionSent] {
		if !strings.Contains(e.Details, `"events_received":1`) || !strings.Contains(e.Details, `"status":200`) {
			t.Errorf("sent %s logged as %s", e.Target, e.Details)
		}
	}
}

func TestSettings_Check(t *testing.T) {
	for _, tc := range []struct {
		s    conversions.Settings
		want string
	}{
		{conversions.Settings{Endpoint: "https://graph.facebook.com/v21.0/1/events"}, ""},
		{conversions.Settings{}, "endpoint"},
		{conversions.Settings{Endpoint: "graph.facebook.com/v21.0/1/events"}, "endpoint"},
		{conversions.Settings{Endpoint: "https://graph.facebook.com/x", Events: []string{"purchase", "signup"}}, `events: unknown event "signup"`},
	} {
		err := tc.s.Check()
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.s, err, tc.want)
		}
	}
}
