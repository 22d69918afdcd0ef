package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// metaPricing is a pricing_analytics answer of the Graph API (GET
// /WABA_ID?fields=currency,pricing_analytics.start(…).end(…).granularity(DAILY)
// .dimensions([COUNTRY,PRICING_CATEGORY,PRICING_TYPE])), as Meta's
// reference documents it: 5 January 2026, UTC.
const metaPricing = `{
  "currency": "EUR",
  "pricing_analytics": {
    "data": [
      {
        "data_points": [
          {"start": 1767571200, "end": 1767657600, "country": "DE", "pricing_type": "REGULAR", "pricing_category": "MARKETING", "volume": 2, "cost": 0.2286}
        ]
      }
    ]
  },
  "id": "104996122399160"
}`

// TestMetaAnalytics_UploadAndReconcile: an uploaded Meta answer is stored
// once however often it is sent, and the reconciliation sets it beside
// omnikpi's messages; a wrong answer is refused naming the place.
func TestMetaAnalytics_UploadAndReconcile(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		events := `[{"id":"s1","ts":"2026-01-05T10:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m1","customer":"c1","template":"promo"},
			{"id":"d1","ts":"2026-01-05T10:00:02Z","kind":"message_delivered","channel":"whatsapp","message":"m1","customer":"c1","props":{"pricing_category":"marketing","pricing_type":"regular","customer_country":"DE"}}]`
		if status, b := call(t, s, http.MethodPost, s.keyA, "/v1/events?wait=applied", events); status != 200 {
			t.Fatalf("events: %d %s", status, b)
		}
		for i, want := range []string{`"accepted":1,"duplicates":0`, `"accepted":0,"duplicates":1`} {
			status, b := call(t, s, http.MethodPost, s.keyA, "/v1/meta/analytics?wait=applied", metaPricing)
			if status != 200 || !strings.Contains(string(b), `"pricing_points":1`) || !strings.Contains(string(b), want) {
				t.Fatalf("upload %d: %d %s, want %s", i+1, status, b, want)
			}
		}
		status, b := call(t, s, http.MethodGet, s.keyA, "/v1/costs/reconciliation?from=2026-01-01&to=2026-02-01", "")
		if status != 200 {
			t.Fatalf("reconciliation: %d %s", status, b)
		}
		var rep struct {
			Rows []struct {
				Day, Measure              string
				Category                  *string
				Omnikpi, Meta, Difference *float64
				Currency                  *string
				Note                      string
			}
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		// No rate card: the delivered counts compare, the cost is Meta's alone.
		if len(rep.Rows) != 2 || rep.Rows[0].Measure != "delivered" || *rep.Rows[0].Omnikpi != 1 || *rep.Rows[0].Meta != 2 || *rep.Rows[0].Difference != -1 ||
			rep.Rows[1].Measure != "cost" || rep.Rows[1].Omnikpi != nil || *rep.Rows[1].Meta != 0.2286 || *rep.Rows[1].Currency != "EUR" || rep.Rows[1].Note != "no rate card price" {
			t.Fatalf("reconciliation: %s", b)
		}
		// The other workspace sees none of it.
		if _, b := call(t, s, http.MethodGet, s.keyB, "/v1/costs/reconciliation?from=2026-01-01&to=2026-02-01", ""); !strings.Contains(string(b), `"rows":[]`) {
			t.Fatalf("workspace b: %s", b)
		}

		bad := strings.Replace(metaPricing, `"volume": 2`, `"volume": "two"`, 1)
		status, b = call(t, s, http.MethodPost, s.keyA, "/v1/meta/analytics", bad)
		if status != 400 || !strings.Contains(string(b), "pricing_analytics.data[0].data_points[0].volume (line 7)") {
			t.Fatalf("a bad volume: %d %s", status, b)
		}
		status, b = call(t, s, http.MethodPost, s.keyA, "/v1/meta/analytics", strings.Replace(metaPricing, `"currency": "EUR",`, "", 1))
		if status != 400 || !strings.Contains(string(b), "currency") {
			t.Fatalf("no currency: %d %s", status, b)
		}
		if status, b := call(t, s, http.MethodPost, s.keyA, "/v1/meta/analytics?currency=EUR&cur=1", metaPricing); status != 400 || !strings.Contains(string(b), `"cur"`) {
			t.Fatalf("an unknown parameter: %d %s", status, b)
		}
	})
}
