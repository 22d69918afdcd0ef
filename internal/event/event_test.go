package event

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseJSON_Rejects(t *testing.T) {
	const ts = `"ts":"2026-01-05T10:00:00Z"`
	for _, tc := range []struct {
		name, json, field string
	}{
		{"malformed", `{"id":"a",`, ""},
		{"not an object", `[1,2]`, ""},
		{"no id", `{` + ts + `,"kind":"lead_created"}`, "id"},
		{"id too long", `{"id":"` + strings.Repeat("x", 201) + `",` + ts + `,"kind":"lead_created"}`, "id"},
		{"id not a string", `{"id":5,` + ts + `,"kind":"lead_created"}`, "id"},
		{"no ts", `{"id":"a","kind":"lead_created"}`, "ts"},
		{"bad ts", `{"id":"a","ts":"yesterday","kind":"lead_created"}`, "ts"},
		{"ts in microseconds", `{"id":"a","ts":1767607200000000,"kind":"lead_created"}`, "ts"},
		{"no kind", `{"id":"a",` + ts + `}`, "kind"},
		{"unknown kind", `{"id":"a",` + ts + `,"kind":"teleported"}`, "kind"},
		{"message kind without channel", `{"id":"a",` + ts + `,"kind":"message_sent","message":"m"}`, "channel"},
		{"message kind without message", `{"id":"a",` + ts + `,"kind":"message_read","channel":"whatsapp"}`, "message"},
		{"send without message", `{"id":"a",` + ts + `,"kind":"message_sent","channel":"facebook","customer":"p"}`, "message"},
		{"watermark as text", `{"id":"a",` + ts + `,"kind":"message_read","channel":"facebook","customer":"p","props":{"watermark":"1767607200000"}}`, "props.watermark"},
		{"watermark in seconds", `{"id":"a",` + ts + `,"kind":"message_delivered","channel":"facebook","customer":"p","props":{"watermark":1767607200}}`, "props.watermark"},
		{"watermark after the receipt", `{"id":"a",` + ts + `,"kind":"message_read","channel":"facebook","customer":"p","props":{"watermark":1767607200001}}`, "props.watermark"},
		{"watermark without customer", `{"id":"a",` + ts + `,"kind":"message_read","channel":"facebook","props":{"watermark":1767607200000}}`, "customer"},
		{"click without message or customer", `{"id":"a",` + ts + `,"kind":"button_clicked","channel":"facebook"}`, "customer"},
		{"channel upper case", `{"id":"a",` + ts + `,"kind":"message_read","channel":"WhatsApp","message":"m"}`, "channel"},
		{"bad actor", `{"id":"a",` + ts + `,"kind":"message_sent","channel":"sms","message":"m","actor":"robot"}`, "actor"},
		{"inbound by an agent", `{"id":"a",` + ts + `,"kind":"message_received","channel":"sms","message":"m","actor":"agent"}`, "actor"},
		{"outbound by the customer", `{"id":"a",` + ts + `,"kind":"message_sent","channel":"sms","message":"m","actor":"customer"}`, "actor"},
		{"conversation kind without conversation", `{"id":"a",` + ts + `,"kind":"conversation_opened","channel":"web"}`, "conversation"},
		{"order without order", `{"id":"a",` + ts + `,"kind":"order_placed","amount":"1","currency":"EUR"}`, "order"},
		{"order without amount", `{"id":"a",` + ts + `,"kind":"order_placed","order":"o","currency":"EUR"}`, "amount"},
		{"amount without currency", `{"id":"a",` + ts + `,"kind":"order_placed","order":"o","amount":"1"}`, "currency"},
		{"unknown currency", `{"id":"a",` + ts + `,"kind":"order_placed","order":"o","amount":"1","currency":"EUX"}`, "currency"},
		{"too many decimals", `{"id":"a",` + ts + `,"kind":"order_placed","order":"o","amount":"1.005","currency":"EUR"}`, "amount"},
		{"amount not a number", `{"id":"a",` + ts + `,"kind":"order_placed","order":"o","amount":"ten","currency":"EUR"}`, "amount"},
		{"negative order", `{"id":"a",` + ts + `,"kind":"order_placed","order":"o","amount":"-1","currency":"EUR"}`, "amount"},
		{"cost without amount", `{"id":"a",` + ts + `,"kind":"campaign_cost","currency":"EUR"}`, "amount"},
		{"bad cost type", `{"id":"a",` + ts + `,"kind":"campaign_cost","amount":"1","currency":"EUR","props":{"cost_type":"lunch"}}`, "props.cost_type"},
		{"survey without score", `{"id":"a",` + ts + `,"kind":"survey_answered","props":{"survey":"nps"}}`, "score"},
		{"survey without type", `{"id":"a",` + ts + `,"kind":"survey_answered","score":9}`, "props.survey"},
		{"nps out of range", `{"id":"a",` + ts + `,"kind":"survey_answered","score":11,"props":{"survey":"nps"}}`, "score"},
		{"csat out of range", `{"id":"a",` + ts + `,"kind":"survey_answered","score":0,"props":{"survey":"csat"}}`, "score"},
		{"goal without name", `{"id":"a",` + ts + `,"kind":"goal_reached","channel":"web","conversation":"c"}`, "props.goal"},
		{"session without duration", `{"id":"a",` + ts + `,"kind":"site_session","channel":"web"}`, "duration_ms"},
		{"interaction without type", `{"id":"a",` + ts + `,"kind":"social_interaction","channel":"tiktok"}`, "props.type"},
		{"count not a number", `{"id":"a",` + ts + `,"kind":"impression","channel":"x","count":"many"}`, "count"},
		{"negative count", `{"id":"a",` + ts + `,"kind":"impression","channel":"x","count":-1}`, "count"},
		{"tags not an array", `{"id":"a",` + ts + `,"kind":"feedback","tags":"complaint"}`, "tags"},
		{"props not an object", `{"id":"a",` + ts + `,"kind":"feedback","props":[1]}`, "props"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJSON([]byte(tc.json))
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FieldError", err)
			}
			if fe.Field != tc.field {
				t.Errorf("field = %q (%v), want %q", fe.Field, err, tc.field)
			}
		})
	}
}

func TestParseJSON_Accepts(t *testing.T) {
	want := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, json string
		check      func(t *testing.T, e Event)
	}{
		{"RFC 3339 with offset", `{"id":"a","ts":"2026-01-05T11:00:00+01:00","kind":"lead_created"}`, func(t *testing.T, e Event) {
			if !e.TS.Equal(want) || e.TS.Location() != time.UTC {
				t.Errorf("ts = %v", e.TS)
			}
		}},
		{"Unix seconds", `{"id":"a","ts":1767607200,"kind":"lead_created"}`, func(t *testing.T, e Event) {
			if !e.TS.Equal(want) {
				t.Errorf("ts = %v", e.TS)
			}
		}},
		{"Unix milliseconds as text", `{"id":"a","ts":"1767607200250","kind":"lead_created"}`, func(t *testing.T, e Event) {
			if !e.TS.Equal(want.Add(250 * time.Millisecond)) {
				t.Errorf("ts = %v", e.TS)
			}
		}},
		{"amount as a number", `{"id":"a","ts":1767607200,"kind":"order_placed","order":"o","amount":12.5,"currency":"eur"}`, func(t *testing.T, e Event) {
			if *e.Amount != (Money{Minor: 1250, Currency: "EUR"}) {
				t.Errorf("amount = %+v", e.Amount)
			}
		}},
		{"rupiah", `{"id":"a","ts":1767607200,"kind":"order_placed","order":"o","amount":"150000","currency":"IDR"}`, func(t *testing.T, e Event) {
			if e.Amount.Minor != 15_000_000 {
				t.Errorf("amount = %+v", e.Amount)
			}
		}},
		{"yen has no minor unit", `{"id":"a","ts":1767607200,"kind":"order_placed","order":"o","amount":"100","currency":"JPY"}`, func(t *testing.T, e Event) {
			if e.Amount.Minor != 100 {
				t.Errorf("amount = %+v", e.Amount)
			}
		}},
		{"return without amount", `{"id":"a","ts":1767607200,"kind":"order_returned","order":"o"}`, func(t *testing.T, e Event) {
			if e.Amount != nil {
				t.Errorf("amount = %+v", e.Amount)
			}
		}},
		{"unknown fields go to props", `{"id":"a","ts":1767607200,"kind":"lead_created","utm_id":"x","props":{"k":1}}`, func(t *testing.T, e Event) {
			if e.Prop("utm_id") != "x" || e.Prop("k") != "1" {
				t.Errorf("props = %v", e.Props)
			}
		}},
		{"a read watermark names no message", `{"id":"a","ts":1767607200,"kind":"message_read","channel":"facebook","customer":"p","props":{"watermark":1767607200000}}`, func(t *testing.T, e Event) {
			if wm, ok := e.Watermark(); !ok || wm != 1767607200000 || e.Message != "" {
				t.Errorf("watermark %d %v, message %q", wm, ok, e.Message)
			}
		}},
		{"a click names its customer instead of a message", `{"id":"a","ts":1767607200,"kind":"button_clicked","channel":"facebook","customer":"p"}`, func(t *testing.T, e Event) {
			if e.Customer != "p" || e.Message != "" {
				t.Errorf("customer %q, message %q", e.Customer, e.Message)
			}
		}},
		{"inbound defaults to the customer", `{"id":"a","ts":1767607200,"kind":"message_received","channel":"sms","message":"m"}`, func(t *testing.T, e Event) {
			if e.Actor != ActorCustomer || e.Count != 1 {
				t.Errorf("actor = %q, count = %d", e.Actor, e.Count)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := ParseJSON([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, e)
		})
	}
}

func TestFromMap_CSVRecord(t *testing.T) {
	e, err := FromMap(map[string]any{"id": "a", "ts": "1767607200", "kind": "feedback", "tags": `["complaint","review"]`,
		"props": `{"stars":"2"}`, "shop": "berlin", "score": ""})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Tags) != 2 || e.Prop("stars") != "2" || e.Prop("shop") != "berlin" || e.Score != nil {
		t.Errorf("event = %+v", e)
	}
}

func TestFormatMinor(t *testing.T) {
	for _, tc := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{1234, "EUR", "12.34"}, {5, "EUR", "0.05"}, {-250, "USD", "-2.50"}, {100, "JPY", "100"}, {1234, "KWD", "1.234"},
	} {
		if got := FormatMinor(tc.minor, tc.currency); got != tc.want {
			t.Errorf("FormatMinor(%d, %s) = %s, want %s", tc.minor, tc.currency, got, tc.want)
		}
		if back, err := ParseAmount(tc.want, tc.currency); err != nil || back != tc.minor {
			t.Errorf("ParseAmount(%s) = %d, %v", tc.want, back, err)
		}
	}
}
