package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/kpi"
)

// secretEvents are workspace b's: every name in them holds "secret", so a
// leak into any answer to workspace a shows.
const secretEvents = `{"id":"x1","ts":"2026-01-05T10:00:00Z","kind":"message_sent","channel":"whatsapp","message":"secret-m1","customer":"secret-k1","actor":"campaign","campaign":"secret-campaign","template":"secret-template","variant":"A"}
{"id":"x2","ts":"2026-01-05T10:05:00Z","kind":"message_read","channel":"whatsapp","message":"secret-m1","customer":"secret-k1"}
{"id":"x3","ts":"2026-01-05T11:00:00Z","kind":"message_received","channel":"whatsapp","conversation":"secret-conv","customer":"secret-k1","message":"secret-m2","text":"secretword secretword"}
{"id":"x4","ts":"2026-01-06T10:00:00Z","kind":"order_placed","order":"secret-o1","customer":"secret-k1","amount":"99","currency":"EUR","channel":"whatsapp"}
{"id":"x5","ts":"2026-01-05T09:00:00Z","kind":"site_session","channel":"web","customer":"secret-k1","duration_ms":1000,"source":"secret-source","utm_campaign":"secret-utm"}
{"id":"x6","ts":"2026-01-06T12:00:00Z","kind":"survey_answered","customer":"secret-k1","agent":"secret-agent","score":9,"props":{"survey":"nps"}}`

// TestIsolation_EveryRoute asks every route of workspace a, plainly and
// with SQL in each parameter, while workspace b holds data: no answer may
// carry any of b's names, and every answer is a 200 or a 400/403/404.
func TestIsolation_EveryRoute(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		if _, status, err := applied(s.url, s.keyB).SendEvents(context.Background(), []byte(secretEvents), "application/x-ndjson"); err != nil || status != 200 {
			t.Fatalf("events of b: %d %v", status, err)
		}
		if status, b := call(t, s, http.MethodPut, s.keyB, "/v1/alerts/secret-rule",
			`{"kpi":"ctr","condition":"above","value":1,"window":"24h","webhook":"https://secret.example.com/"}`); status != 200 {
			t.Fatalf("rule of b: %d %s", status, b)
		}

		period := "from=2026-01-01&to=2026-02-01"
		routes := []string{
			"/v1/kpis?" + period, "/v1/kpis?" + period + "&group_by=campaign,customer,source,utm_campaign,agent",
			"/v1/conversations/unclosed?" + period, "/v1/keywords?" + period,
			"/v1/funnel?" + period, "/v1/funnel?" + period + "&steps=message_read,order_placed",
			"/v1/attribution?" + period + "&by=channel,campaign,source", "/v1/abtest?" + period + "&campaign=secret-campaign",
			"/v1/segments?" + period, "/v1/cohorts?" + period, "/v1/sendtime?" + period,
			"/v1/alerts", "/v1/alerts/firings", "/v1/workspace", "/v1/catalogue",
			"/v1/campaigns/recipients?" + period, "/v1/failures?" + period,
			"/v1/kpis?" + period + "&group_by=campaign&format=csv", "/v1/campaigns/recipients?" + period + "&format=csv",
			"/v1/alerts?format=csv",
		}
		attacks := []string{`x' OR workspace = 'b`, `') OR 1=1 --`, `b' UNION ALL SELECT 1 --`, `secret-campaign`}
		params := append(append([]string{}, kpi.Dimensions...), "group_by", "bucket", "kpi", "tz", "from", "to", "segment", "steps", "by", "compare", "workspace")
		get := func(path string) (int, string) {
			status, b := call(t, s, http.MethodGet, s.keyA, path, "")
			return status, string(b)
		}
		checked := 0
		for _, route := range routes {
			variants := []string{route}
			for _, p := range params {
				for _, a := range attacks {
					sep := "?"
					if strings.Contains(route, "?") {
						sep = "&"
					}
					variants = append(variants, route+sep+p+"="+url.QueryEscape(a))
				}
			}
			for _, path := range variants {
				status, body := get(path)
				switch status {
				case 200, 400, 403, 404:
				default:
					t.Errorf("%s: status %d: %s", path, status, body)
				}
				if strings.Contains(body, "secret") && !strings.Contains(path, "secret") {
					t.Errorf("%s: workspace b's data in the answer: %s", path, body)
				}
				if status == 200 && strings.Contains(path, "secret") {
					// The name was echoed from the request; b's figures must not be.
					for _, leak := range []string{"secret-k1", "secret-m1", "secretword", "secret-rule", "secret-source"} {
						if strings.Contains(body, leak) {
							t.Errorf("%s: %s leaked", path, leak)
						}
					}
				}
				checked++
			}
		}
		if n := s.count(t, "workspace = 'b'"); n != 6 {
			t.Errorf("workspace b holds %d events after %d requests, want its 6", n, checked)
		}
		// Sanity: b's key does see its own data, so the checks above can fail.
		if _, b := call(t, s, http.MethodGet, s.keyB, "/v1/keywords?"+period, ""); !strings.Contains(string(b), "secretword") {
			t.Errorf("workspace b does not see its own keywords: %s", b)
		}
	})
}
