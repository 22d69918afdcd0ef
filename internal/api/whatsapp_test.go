package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/config"
	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
	"github.com/omnikpi/omnikpi/internal/store/storetest"
)

const appSecret = "test-app-secret"

// Business phone numbers: numberA's events go to workspace a, numberB's
// to b; the campaign-day payload's number goes to a.
const (
	numberA   = "410000000000001"
	numberB   = "410000000000002"
	campaignA = "wamid.HBgNNjI4MTIzNDU2NzAwMRUCABEYEkFBMDAwMDAwMDAwMDAwMDAx"
)

func startWhatsApp(t *testing.T, open opener) *server {
	return startWith(t, open, api.Options{WhatsApp: config.WhatsApp{
		AppSecret: appSecret, VerifyToken: "verify-me",
		PhoneNumbers: map[string]string{numberA: "a", numberB: "b"},
	}})
}

// postWebhook posts body with the signature, as Meta does, waiting until
// its events are in the store (wait=applied) so the test can read them.
func postWebhook(t *testing.T, s *server, body []byte, signature string) (int, api.WebhookResult) {
	t.Helper()
	return postWebhookTo(t, s.url+"/webhooks/whatsapp?wait=applied", body, signature)
}

func postWebhookTo(t *testing.T, target string, body []byte, signature string) (int, api.WebhookResult) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set(whatsapp.SignatureHeader, signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res api.WebhookResult
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &res)
	return resp.StatusCode, res
}

func campaignDay(t *testing.T) []byte {
	b, err := os.ReadFile("../ingest/whatsapp/testdata/campaign_day.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// figures returns the named KPIs of workspace key for 2026, by group.
func figures(t *testing.T, s *server, key string, q url.Values) map[string]map[string]float64 {
	t.Helper()
	q.Set("from", "2026-01-01")
	q.Set("to", "2027-01-01")
	rep, err := applied(s.url, key).KPIs(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, row := range rep.Rows {
		names := make([]string, 0, len(row.Group))
		for k := range row.Group {
			names = append(names, k)
		}
		sort.Strings(names)
		var parts []string
		for _, k := range names {
			if v := row.Group[k]; v != nil {
				parts = append(parts, *v)
			} else {
				parts = append(parts, "null")
			}
		}
		group := strings.Join(parts, " ")
		out[group] = map[string]float64{}
		for _, v := range row.KPIs {
			if v.Value != nil {
				out[group][v.ID] = math.Round(*v.Value*1e9) / 1e9 // rates compared to 9 decimals
			}
		}
	}
	return out
}

func TestWhatsApp_Handshake(t *testing.T) {
	s := startWhatsApp(t, duckdbOnly)
	for _, tc := range []struct {
		query  string
		status int
		body   string
	}{
		{"hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444", 200, "1158201444"},
		{"hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444", 403, ""},
		{"hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1158201444", 403, ""},
		{"hub.challenge=1158201444", 403, ""},
	} {
		resp, err := http.Get(s.url + "/webhooks/whatsapp?" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || (tc.status == 200 && string(b) != tc.body) {
			t.Errorf("%s: %d %q, want %d %q", tc.query, resp.StatusCode, b, tc.status, tc.body)
		}
	}
}

func TestWhatsApp_Signature(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := startWhatsApp(t, open)
		body := campaignDay(t)
		altered := bytes.Replace(body, []byte("1767225605"), []byte("1767225606"), 1)
		for name, sig := range map[string]string{
			"missing":                  "",
			"wrong secret":             whatsapp.Sign(body, "another-secret"),
			"body altered by one byte": whatsapp.Sign(body, appSecret),
			"garbage":                  "sha256=zz",
		} {
			b := body
			if name == "body altered by one byte" {
				b = altered // signed as the original
			}
			if status, _ := postWebhook(t, s, b, sig); status != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401", name, status)
			}
		}
		if n := s.count(t, "1 = 1"); n != 0 {
			t.Fatalf("%d events stored from refused requests", n)
		}
		status, res := postWebhook(t, s, body, whatsapp.Sign(body, appSecret))
		if status != http.StatusOK || res.Accepted != 11 || len(res.Skipped) != 0 {
			t.Fatalf("signed: status %d, %+v", status, res)
		}
	})
}

func TestWhatsApp_CampaignDayCountsOnceInReport(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := startWhatsApp(t, open)
		body := campaignDay(t)
		want := map[string]float64{"messages_sent": 4, "messages_delivered": 3, "messages_read": 2, "messages_failed": 1,
			"messages_received": 2, "delivery_rate": 75, "open_rate": 50, "ctr": 25, "response_rate": 50}
		for try := 1; try <= 3; try++ { // Meta retries; nothing counts twice
			status, res := postWebhook(t, s, body, whatsapp.Sign(body, appSecret))
			if status != http.StatusOK {
				t.Fatalf("try %d: status %d", try, status)
			}
			if try > 1 && (res.Accepted != 0 || res.Duplicates != 11) {
				t.Errorf("try %d: %+v, want 11 duplicates", try, res)
			}
			got := figures(t, s, s.keyA, url.Values{"kpi": {strings.Join(keys(want), ",")}})[""]
			for id, v := range want {
				if got[id] != v {
					t.Errorf("try %d: %s = %v, want %v", try, id, got[id], v)
				}
			}
		}
		if n := s.count(t, "workspace = 'b'"); n != 0 {
			t.Errorf("%d events in workspace b", n)
		}
		if n := s.count(t, "kind = 'opted_out' AND customer LIKE 'ph_%'"); n != 1 {
			t.Errorf("the 停止 reply: %d opt-outs with a hashed customer, want 1", n)
		}
		if n := s.count(t, "customer = '6281234567001' OR props LIKE '%6281234567001%'"); n != 0 {
			t.Errorf("a phone number is stored in %d events", n)
		}
	})
}

func keys(m map[string]float64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// statusBody is a webhook for number with one status of wamid.
func statusBody(number, wamid, status string, ts int64) []byte {
	return []byte(fmt.Sprintf(`{"object": "whatsapp_business_account", "entry": [{"id": "310000000000009", "changes": [{"field": "messages",
		"value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "6221500100", "phone_number_id": %q},
		"statuses": [{"id": %q, "status": %q, "timestamp": "%d", "recipient_id": "6281234567%03d",
		"pricing": {"billable": true, "pricing_model": "PMP", "type": "regular", "category": "marketing"}}]}}]}]}`,
		number, wamid, status, ts, len(wamid)%1000))
}

// TestWhatsApp_StatusesInheritTheCampaign registers sends through the
// generic API and posts their statuses, in opposite orders in two
// workspaces, reads before sents included: the KPIs per campaign,
// template and variant come out the same.
func TestWhatsApp_StatusesInheritTheCampaign(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := startWhatsApp(t, open)
		ctx := context.Background()
		const base = 1767225600 // 2026-01-01 00:00 UTC
		type send struct{ wamid, variant string }
		var sends []send
		for i := 0; i < 6; i++ {
			sends = append(sends, send{fmt.Sprintf("wamid.TEST%02d", i), []string{"A", "B"}[i%2]})
		}
		registration := func(ws string) []byte {
			var lines []string
			for i, m := range sends {
				lines = append(lines, fmt.Sprintf(`{"id": "send-%s", "ts": %d, "kind": "message_sent", "channel": "whatsapp", "message": %q, "actor": "campaign", "campaign": "new-year", "template": "promo_v2", "variant": %q, "customer": "+62 812 3456 %04d"}`,
					m.wamid, base+int64(i), m.wamid, m.variant, i))
			}
			return []byte(strings.Join(lines, "\n"))
		}
		// Statuses: every message sent; 0–3 delivered; 0, 1 and 4 read (4 without a delivered).
		var statuses [][]byte
		for i, m := range sends {
			statuses = append(statuses, statusBody(numberA, m.wamid, "sent", base+int64(i)))
			if i < 4 {
				statuses = append(statuses, statusBody(numberA, m.wamid, "delivered", base+60+int64(i)))
			}
			if i < 2 || i == 4 {
				statuses = append(statuses, statusBody(numberA, m.wamid, "read", base+600+int64(i)))
			}
		}
		post := func(number string, b []byte) {
			b = bytes.ReplaceAll(b, []byte(numberA), []byte(number))
			if status, res := postWebhook(t, s, b, whatsapp.Sign(b, appSecret)); status != 200 || len(res.Skipped) > 0 {
				t.Fatalf("status %d %+v", status, res)
			}
		}
		register := func(key, ws string) {
			if _, status, err := applied(s.url, key).SendEvents(ctx, registration(ws), "application/x-ndjson"); err != nil || status != 200 {
				t.Fatalf("register: %d %v", status, err)
			}
		}
		// a: registration first, statuses in order.
		register(s.keyA, "a")
		for _, b := range statuses {
			post(numberA, b)
		}
		// b: statuses newest first (each read before its sent), then the registration.
		for i := len(statuses) - 1; i >= 0; i-- {
			post(numberB, statuses[i])
		}
		register(s.keyB, "b")

		q := url.Values{"group_by": {"campaign,template,variant"}, "kpi": {"messages_sent,messages_delivered,messages_read,delivery_rate,open_rate"}}
		a, b := figures(t, s, s.keyA, q), figures(t, s, s.keyB, q)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("the order of arrival changed the KPIs:\n a %v\n b %v", a, b)
		}
		wantA := map[string]float64{"messages_sent": 3, "messages_delivered": 3, "messages_read": 2, "delivery_rate": 100, "open_rate": 66.666666667}
		if got := a["new-year promo_v2 A"]; !reflect.DeepEqual(got, wantA) {
			t.Errorf("variant A: %v, want %v (all groups: %v)", got, wantA, a)
		}
		if len(a) != 2 {
			t.Errorf("groups %v: every status should inherit its campaign", a)
		}
	})
}

func TestWhatsApp_UnknownNumberIsAcknowledgedNotStored(t *testing.T) {
	s := startWhatsApp(t, duckdbOnly)
	b := statusBody("499999999999999", "wamid.X", "sent", 1767225600)
	status, res := postWebhook(t, s, b, whatsapp.Sign(b, appSecret))
	if status != http.StatusOK || res.Accepted != 0 || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, "499999999999999") {
		t.Errorf("status %d %+v", status, res)
	}
	if n := s.count(t, "1 = 1"); n != 0 {
		t.Errorf("%d events stored", n)
	}
	bad := []byte(`{"object": "whatsapp_business_account", "entry": [`)
	if status, _ := postWebhook(t, s, bad, whatsapp.Sign(bad, appSecret)); status != http.StatusBadRequest {
		t.Errorf("broken JSON: status %d, want 400", status)
	}
}

func TestWhatsApp_NotConfigured(t *testing.T) {
	s := start(t, duckdbOnly, 0)
	resp, err := http.Post(s.url+"/webhooks/whatsapp", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status %d, want 404", resp.StatusCode)
	}
}

// duckdbOnly opens a DuckDB store, for tests of the HTTP surface alone.
func duckdbOnly(t *testing.T) storetest.Store {
	s, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "api.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
