package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/kpi"
)

// call sends an authorised request and returns the status and body.
func call(t *testing.T, s *server, method, key, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// getJSON GETs path with key and decodes the answer into v.
func getJSON(t *testing.T, s *server, key, path string, v any) int {
	t.Helper()
	status, b := call(t, s, http.MethodGet, key, path, "")
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v in %s", path, err, b)
	}
	return status
}

func TestServiceLists(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		events := `{"id":"1","ts":"2026-01-05T10:00:00Z","kind":"message_received","channel":"whatsapp","conversation":"c1","customer":"k1","message":"m1","text":"Where is my parcel?"}
{"id":"2","ts":"2026-01-05T10:00:30Z","kind":"message_sent","channel":"whatsapp","conversation":"c1","customer":"k1","message":"m2","actor":"agent","agent":"ana"}
{"id":"3","ts":"2026-01-06T10:00:00Z","kind":"message_received","channel":"instagram","conversation":"c2","customer":"k2","message":"m3","text":"parcel not arrived"}`
		if _, status, err := applied(s.url, s.keyA).SendEvents(context.Background(), []byte(events), "application/x-ndjson"); err != nil || status != 200 {
			t.Fatalf("events: %d %v", status, err)
		}
		var unclosed kpi.UnclosedReport
		if status := getJSON(t, s, s.keyA, "/v1/conversations/unclosed?from=2026-01-01&to=2026-02-01", &unclosed); status != 200 {
			t.Fatalf("status %d", status)
		}
		// c1 was answered but never resolved; c2 was not answered.
		if len(unclosed.Conversations) != 2 || unclosed.Conversations[0].Conversation != "c1" || unclosed.Conversations[0].LastMessageBy != "business" ||
			unclosed.Conversations[1].LastMessageBy != "customer" || *unclosed.Conversations[1].Channel != "instagram" {
			t.Errorf("unclosed %+v", unclosed)
		}
		if getJSON(t, s, s.keyA, "/v1/conversations/unclosed?from=2026-01-01&to=2026-02-01&channel=instagram", &unclosed); len(unclosed.Conversations) != 1 {
			t.Errorf("filtered by channel: %+v", unclosed.Conversations)
		}
		var kw kpi.KeywordReport
		if status := getJSON(t, s, s.keyA, "/v1/keywords?from=2026-01-01&to=2026-02-01&limit=1", &kw); status != 200 || len(kw.Keywords) != 1 || kw.Keywords[0].Term != "parcel" || kw.Keywords[0].Messages != 2 {
			t.Errorf("keywords: %d %+v", status, kw)
		}
		// Another workspace's key sees nothing of these.
		if getJSON(t, s, s.keyB, "/v1/keywords?from=2026-01-01&to=2026-02-01", &kw); len(kw.Keywords) != 0 {
			t.Errorf("workspace b sees a's keywords: %+v", kw)
		}
		var apiErr struct {
			Error struct{ Code, Message, Field string }
		}
		for path, field := range map[string]string{"/v1/keywords?limit=0": "limit", "/v1/kpis?hours=night": "hours", "/v1/conversations/unclosed?bucket=year": "bucket"} {
			if status := getJSON(t, s, s.keyA, path, &apiErr); status != 400 || apiErr.Error.Field != field || !strings.Contains(apiErr.Error.Message, field) {
				t.Errorf("%s: %d %+v", path, status, apiErr)
			}
		}
	})
}

func TestFunnelAndAttribution(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		events := `{"id":"v","ts":"2026-01-05T10:00:00Z","kind":"site_session","channel":"web","customer":"k1","duration_ms":60000,"url":"https://shop.example.com/?utm_source=instagram&utm_campaign=reels"}
{"id":"m","ts":"2026-01-06T10:00:00Z","kind":"message_received","channel":"whatsapp","customer":"k1","message":"m1"}
{"id":"c","ts":"2026-01-06T11:00:00Z","kind":"checkout_started","channel":"whatsapp","customer":"k1"}
{"id":"o","ts":"2026-01-06T12:00:00Z","kind":"order_placed","channel":"whatsapp","customer":"k1","order":"o1","amount":"10.01","currency":"EUR"}`
		if _, status, err := applied(s.url, s.keyA).SendEvents(context.Background(), []byte(events), "application/x-ndjson"); err != nil || status != 200 {
			t.Fatalf("events: %d %v", status, err)
		}
		var att kpi.AttributionReport
		if status := getJSON(t, s, s.keyA, "/v1/attribution?from=2026-01-01&to=2026-02-01&by=channel,source", &att); status != 200 || att.Orders != 1 || len(att.Rows) != 2 {
			t.Fatalf("attribution: %d %+v", status, att)
		}
		sum := 0.0
		for _, r := range att.Rows {
			sum += r.Credits["linear"].Revenue
			if *r.Channel == "web" && (r.Credits["first_touch"].Revenue != 10.01 || *r.Source != "instagram" || r.Credits["linear"].Revenue != 5.01) {
				t.Errorf("web row %+v", r)
			}
		}
		if !near(sum, 10.01) {
			t.Errorf("linear credits add up to %v", sum)
		}
		var funnel kpi.FunnelReport
		if status := getJSON(t, s, s.keyA, "/v1/funnel?from=2026-01-01&to=2026-02-01&steps=site_session,message_received,checkout_started,order_placed&within=2d&order=strict", &funnel); status != 200 ||
			len(funnel.Steps) != 4 || funnel.Steps[3].Customers != 1 || !funnel.Strict {
			t.Errorf("funnel: %d %+v", status, funnel)
		}
		var stages kpi.StagesReport
		if status := getJSON(t, s, s.keyA, "/v1/funnel?from=2026-01-01&to=2026-02-01", &stages); status != 200 || len(stages.Stages) == 0 {
			t.Errorf("stages: %d %+v", status, stages)
		}
		var apiErr struct {
			Error struct{ Code, Message, Field string }
		}
		for path, field := range map[string]string{
			"/v1/funnel?steps=message_read": "steps", "/v1/funnel?steps=a,b": "steps", "/v1/funnel?steps=message_read,order_placed&order=random": "order",
			"/v1/funnel?steps=message_read,order_placed&within=soon": "within", "/v1/attribution?by=agent": "by", "/v1/attribution?lookback=-3d": "lookback",
		} {
			if status := getJSON(t, s, s.keyA, path, &apiErr); status != 400 || apiErr.Error.Field != field {
				t.Errorf("%s: %d %+v", path, status, apiErr)
			}
		}
	})
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestAlertRules(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		put := func(key, id, body string) (int, string) {
			status, b := call(t, s, http.MethodPut, key, "/v1/alerts/"+id, body)
			return status, string(b)
		}
		if status, body := put(s.keyA, "optout", `{"kpi":"opt_out_rate","condition":"above","value":0.6,"window":"24h","filters":{"channel":"whatsapp"},"webhook":"https://hooks.example.com/omnikpi"}`); status != 200 {
			t.Fatalf("put: %d %s", status, body)
		}
		for body, field := range map[string]string{
			`{"kpi":"nope","condition":"above","window":"24h"}`:                    "kpi",
			`{"kpi":"ctr","condition":"sideways","window":"24h"}`:                  "condition",
			`{"kpi":"ctr","condition":"above"}`:                                    "window",
			`{"kpi":"ctr","condition":"above","window":"1h","webhook":"mailto:x"}`: "webhook",
		} {
			if status, answer := put(s.keyA, "bad", body); status != 400 || !strings.Contains(answer, `"field":"`+field+`"`) {
				t.Errorf("%s: %d %s", body, status, answer)
			}
		}
		var list struct{ Alerts []struct{ ID, KPI string } }
		if getJSON(t, s, s.keyA, "/v1/alerts", &list); len(list.Alerts) != 1 || list.Alerts[0].ID != "optout" {
			t.Errorf("rules of a: %+v", list)
		}
		if getJSON(t, s, s.keyB, "/v1/alerts", &list); len(list.Alerts) != 0 {
			t.Errorf("rules of b: %+v", list)
		}
		var firings struct{ Firings []any }
		if status := getJSON(t, s, s.keyA, "/v1/alerts/firings", &firings); status != 200 || firings.Firings == nil {
			t.Errorf("firings: %d %+v", status, firings)
		}
		req, _ := http.NewRequest(http.MethodDelete, s.url+"/v1/alerts/optout", nil)
		req.Header.Set("Authorization", "Bearer "+s.keyA)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 204 {
			t.Fatalf("delete: %v %v", resp, err)
		}
		if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 404 {
			t.Errorf("delete again: %d", resp.StatusCode)
		}
	})
}
