package metaanalytics

import (
	"strings"
	"testing"
	"time"
)

// pricing is a pricing_analytics answer as Meta's reference documents it
// (fields=currency,pricing_analytics…dimensions([PHONE,COUNTRY,PRICING_CATEGORY,PRICING_TYPE,TIER])),
// the costs as Meta writes them: decimals of the account's currency.
const pricing = `{
  "currency": "USD",
  "pricing_analytics": {
    "data": [
      {
        "data_points": [
          {
            "start": 1772409600,
            "end": 1772496000,
            "phone_number": "16505550111",
            "country": "IN",
            "pricing_type": "REGULAR",
            "pricing_category": "UTILITY",
            "tier": "0:100000",
            "volume": 120,
            "cost": 1.4e-1
          },
          {
            "start": 1772409600,
            "end": 1772496000,
            "country": "IN",
            "pricing_type": "FREE_ENTRY_POINT",
            "pricing_category": "MARKETING",
            "volume": 4,
            "cost": 0
          }
        ]
      }
    ]
  },
  "id": "104996122399160"
}`

func TestParse_Pricing(t *testing.T) {
	at := time.Date(2026, 3, 5, 6, 0, 0, 0, time.UTC)
	res, err := Parse([]byte(pricing), Options{Workspace: "w", FetchedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pricing != 2 || res.Template != 0 || len(res.Events) != 2 {
		t.Fatalf("%+v", res)
	}
	e := res.Events[0]
	if e.Kind != "channel_event" || e.Channel != "whatsapp" || e.Workspace != "w" || !e.TS.Equal(time.Unix(1772409600, 0)) ||
		e.Prop("type") != PricingType || e.Prop("pricing_category") != "utility" || e.Prop("pricing_type") != "regular" ||
		e.Prop("country") != "IN" || e.Prop("cost") != "0.14" || e.Prop("currency") != "USD" || e.Prop("volume") != "120" ||
		e.Prop("tier") != "0:100000" || e.Prop("waba") != "104996122399160" || e.Props["fetched_ms"] != at.UnixMilli() {
		t.Fatalf("%+v", e)
	}
	// The same answer again is the same events; revised figures are new
	// events of the same key.
	again, _ := Parse([]byte(pricing), Options{Workspace: "w", FetchedAt: at.Add(time.Hour)})
	revised, _ := Parse([]byte(strings.Replace(pricing, `"volume": 120`, `"volume": 121`, 1)), Options{Workspace: "w"})
	if again.Events[0].ID != e.ID || revised.Events[0].ID == e.ID || revised.Events[0].Prop("key") != e.Prop("key") ||
		revised.Events[1].ID != res.Events[1].ID {
		t.Fatalf("ids: %s %s %s", e.ID, again.Events[0].ID, revised.Events[0].ID)
	}
}

func TestParse_Errors(t *testing.T) {
	for _, c := range []struct{ name, file, currency, want string }{
		{"not JSON", "{\n  \"pricing_analytics\": {\n    \"data\": [,]\n  }\n}", "", "(line 3): not valid JSON"},
		{"cut short", "{\n  \"data\": [\n", "", "the JSON ends too early"},
		{"a list", `[]`, "", "the file must be a JSON object"},
		{"nothing of Meta's", `{"error": {"message": "Invalid OAuth access token"}}`, "", "no pricing_analytics, template_analytics or data in the file"},
		{"a volume in words", strings.Replace(pricing, `"volume": 120`, `"volume": "many"`, 1), "",
			"pricing_analytics.data[0].data_points[0].volume (line 15): must be a whole number ≥ 0, not many"},
		{"no volume", strings.Replace(pricing, `"volume": 4,`, ``, 1), "", "pricing_analytics.data[0].data_points[1] (line 18): has no volume"},
		{"a negative cost", strings.Replace(pricing, `"cost": 0`, `"cost": -1`, 1), "", "data_points[1].cost (line 25): must be a cost ≥ 0, not -1"},
		{"a monthly bucket", strings.Replace(pricing, `"end": 1772496000,
            "phone_number"`, `"end": 1775001600,
            "phone_number"`, 1), "", "data_points[0].end (line 9): the bucket 2026-03-02T00:00:00Z to 2026-04-01T00:00:00Z is not within one UTC day"},
		{"a country name", strings.Replace(pricing, `"country": "IN",
            "pricing_type": "REGULAR"`, `"country": "India",
            "pricing_type": "REGULAR"`, 1), "", `data_points[0].country (line 11): "India" is not a two-letter country code`},
		{"two currencies", pricing, "EUR", "currency (line 2): the account's currency is USD, but EUR was given"},
		{"no currency", strings.Replace(pricing, `"currency": "USD",`, ``, 1), "", "the account's currency, which the file does not carry"},
		{"clicks not a list", `{"data":[{"data_points":[{"template_id":"1","start":0,"end":86400,"clicked":"3x"}]}]}`, "USD",
			"data[0].data_points[0].clicked (line 1): must be a list of {type, button_content, count}, not a string"},
	} {
		_, err := Parse([]byte(c.file), Options{Currency: c.currency})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestTemplateNames(t *testing.T) {
	names, err := TemplateNames([]string{"1=promo,2=receipt", "1=promo"})
	if err != nil || names["1"] != "promo" || names["2"] != "receipt" {
		t.Fatalf("%v %v", names, err)
	}
	for _, bad := range []string{"1", "=promo", "1=a,1=b"} {
		if _, err := TemplateNames([]string{bad}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
