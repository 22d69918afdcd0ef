package shopify

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/ingest/shop"
	"github.com/omnikpi/omnikpi/internal/store"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edit returns the fixture with fields replaced (nil deletes one).
func edit(t *testing.T, body []byte, fields map[string]any) []byte {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(string(body)))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func headers(topic string) http.Header {
	h := http.Header{}
	h.Set(TopicHeader, topic)
	h.Set(ShopHeader, "batik-sari.myshopify.com")
	h.Set(WebhookIDHeader, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
	return h
}

var settings = Settings{Secret: "shpss_s3cret", Shops: map[string]string{"Batik-Sari.myshopify.com": "shop"}}

func noSettings(string) store.Workspace { return store.Workspace{} }

func parseOK(t *testing.T, topic string, body []byte) ingest.Batch {
	t.Helper()
	b, err := New(settings).ParseWebhook(headers(topic), body, noSettings)
	if err != nil {
		t.Fatalf("%s: %v", topic, err)
	}
	return b
}

func TestSource_Verify(t *testing.T) {
	src := New(Settings{Secret: "old", Secrets: []string{"shpss_s3cret"}, Shops: settings.Shops})
	body := fixture(t, "orders_create.json")
	for _, tc := range []struct {
		name, sig string
		ok        bool
	}{
		{"signed", shop.Sign(body, "shpss_s3cret"), true},
		{"the other secret", shop.Sign(body, "old"), true},
		{"another secret", shop.Sign(body, "other"), false},
		{"hex instead of base64", "0a1b", false},
		{"missing", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := headers("orders/create")
			if tc.sig != "" {
				h.Set(SignatureHeader, tc.sig)
			}
			err := src.Verify(h, body)
			if (err == nil) != tc.ok {
				t.Fatalf("Verify = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), SignatureHeader) {
				t.Errorf("error %q does not name the header", err)
			}
		})
	}
	if err := src.Verify(headers("orders/create"), append(body, ' ')); err == nil {
		t.Error("a body changed after signing verifies")
	}
}

func TestSource_ParseOrder(t *testing.T) {
	b := parseOK(t, "orders/create", fixture(t, "orders_create.json"))
	if len(b.Events) != 1 || len(b.Problems) != 0 {
		t.Fatalf("events %+v, problems %v", b.Events, b.Problems)
	}
	e := b.Events[0]
	if e.ID != "shopify:order:5731088765123" || e.Kind != event.OrderPlaced || e.Order != "5731088765123" || e.Workspace != "shop" {
		t.Errorf("order: %+v", e)
	}
	if !e.TS.Equal(mustTime(t, "2026-03-02T07:05:11Z")) {
		t.Errorf("ts %v, want created_at in UTC", e.TS)
	}
	// 459,000.00 rupiah are 45,900,000 hundredths of a rupiah.
	if e.Amount == nil || e.Amount.Minor != 45_900_000 || e.Amount.Currency != "IDR" {
		t.Errorf("amount %+v", e.Amount)
	}
	// The customer's number, as WhatsApp writes it, hashed by serve.
	if e.Customer != "+6281234567001" || ingest.CustomerID(e.Customer, "shop") != ingest.HashPhone("6281234567001", "shop") {
		t.Errorf("customer %q", e.Customer)
	}
	if e.Source != "instagram" || e.Medium != "paid_social" || e.UTMCampaign != "ramadan-sale" || e.UTMContent != "reel-2" ||
		e.Prop("click_id") != "IwAR2x9k" || e.Props["paid"] != true {
		t.Errorf("visit: source %q medium %q campaign %q content %q props %v", e.Source, e.Medium, e.UTMCampaign, e.UTMContent, e.Props)
	}
	if e.Channel != "web" || e.Product != "8123456789012" || e.Prop("shop") != "batik-sari.myshopify.com" || e.Prop("order_name") != "#1042" {
		t.Errorf("channel %q product %q props %v", e.Channel, e.Product, e.Props)
	}
	if strings.Contains(mustJSON(t, e), "example.com") {
		t.Errorf("an e-mail address is kept beside the phone number: %s", mustJSON(t, e))
	}

	// orders/paid carries the same order: the same event.
	paid := parseOK(t, "orders/paid", fixture(t, "orders_create.json"))
	if len(paid.Events) != 1 || paid.Events[0].ID != e.ID {
		t.Errorf("orders/paid: %+v", paid.Events)
	}
}

func TestSource_ParseCustomerAndVisit(t *testing.T) {
	body := fixture(t, "orders_create.json")
	for _, tc := range []struct {
		name             string
		fields           map[string]any
		customer, source string
		medium           string
	}{
		{"a national number of the billing address", map[string]any{"customer": nil}, "+6281234567001", "instagram", "paid_social"},
		{"e-mail without a phone", map[string]any{"customer": map[string]any{"id": 1, "email": "Ana@Example.com"}, "billing_address": nil, "shipping_address": nil},
			"ana@example.com", "instagram", "paid_social"},
		{"the referring site names the source", map[string]any{"landing_site": "/collections/all", "referring_site": "https://www.google.com/search?q=batik"}, "+6281234567001", "google.com", "referral"},
		{"a click id alone", map[string]any{"landing_site": "/?gclid=Cj0KCQ", "referring_site": "https://www.google.com/"}, "+6281234567001", "google", "cpc"},
		{"nothing", map[string]any{"landing_site": nil, "referring_site": nil}, "+6281234567001", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := parseOK(t, "orders/create", edit(t, body, tc.fields))
			if len(b.Events) != 1 {
				t.Fatalf("events %+v problems %v", b.Events, b.Problems)
			}
			e := b.Events[0]
			if e.Customer != tc.customer || e.Source != tc.source || e.Medium != tc.medium {
				t.Errorf("customer %q source %q medium %q, want %q %q %q", e.Customer, e.Source, e.Medium, tc.customer, tc.source, tc.medium)
			}
		})
	}
}

func TestSource_ParseRefundAndCancellation(t *testing.T) {
	refund := fixture(t, "refunds_create.json")
	b := parseOK(t, RefundTopic, refund)
	if len(b.Events) != 1 {
		t.Fatalf("refund: %+v %v", b.Events, b.Problems)
	}
	r := b.Events[0]
	if r.ID != "shopify:refund:932145678123" || r.Kind != event.OrderRefunded || r.Order != "5731088765123" ||
		r.Amount == nil || r.Amount.Minor != 15_000_000 || r.Amount.Currency != "IDR" {
		t.Errorf("refund: %+v %+v", r, r.Amount)
	}

	// An order cancelled with its refund: the refund is the same event,
	// the cancellation a return of the whole order.
	var rm any
	if err := json.Unmarshal(refund, &rm); err != nil {
		t.Fatal(err)
	}
	cancelled := edit(t, fixture(t, "orders_create.json"), map[string]any{
		"cancelled_at": "2026-03-05T10:21:00+07:00", "cancel_reason": "customer", "financial_status": "refunded", "refunds": []any{rm}})
	b = parseOK(t, "orders/cancelled", cancelled)
	if len(b.Events) != 3 || len(b.Problems) != 0 {
		t.Fatalf("cancelled: %+v %v", b.Events, b.Problems)
	}
	if b.Events[0].Kind != event.OrderPlaced || b.Events[1].ID != r.ID || b.Events[1].Amount.Minor != r.Amount.Minor {
		t.Errorf("cancelled: %+v", b.Events[:2])
	}
	if c := b.Events[2]; c.ID != "shopify:cancel:5731088765123" || c.Kind != event.OrderReturned || c.Amount != nil || c.Prop("cancel_reason") != "customer" {
		t.Errorf("cancellation: %+v", c)
	}

	// A refund that only restocks returns no money.
	none := edit(t, refund, map[string]any{"transactions": []any{}})
	if b := parseOK(t, RefundTopic, none); len(b.Events) != 0 || len(b.Problems) != 1 {
		t.Errorf("restock only: %+v", b)
	}
}

func TestSource_ParseMYRAndTestOrders(t *testing.T) {
	body := edit(t, fixture(t, "orders_create.json"), map[string]any{"currency": "MYR", "total_price": "129.90",
		"total_price_set": map[string]any{"presentment_money": map[string]any{"amount": "129.90", "currency_code": "MYR"}}})
	b := parseOK(t, "orders/create", body)
	if len(b.Events) != 1 || b.Events[0].Amount.Minor != 12990 || b.Events[0].Amount.Currency != "MYR" {
		t.Errorf("MYR: %+v", b.Events)
	}
	b = parseOK(t, "orders/create", edit(t, body, map[string]any{"test": true}))
	if len(b.Events) != 0 || len(b.Problems) != 1 || !strings.Contains(b.Problems[0].Reason, "test order") {
		t.Errorf("a test order: %+v", b)
	}
	b = parseOK(t, "products/update", body)
	if len(b.Events) != 0 || len(b.Problems) != 1 || !strings.Contains(b.Problems[0].Reason, "not read") {
		t.Errorf("another topic: %+v", b)
	}
}

func TestSource_ParseErrors(t *testing.T) {
	body := fixture(t, "orders_create.json")
	for _, tc := range []struct {
		name   string
		header http.Header
		body   []byte
		want   string
	}{
		{"no topic", http.Header{ShopHeader: {"batik-sari.myshopify.com"}}, body, TopicHeader},
		{"no shop", http.Header{TopicHeader: {"orders/create"}}, body, ShopHeader},
		{"not JSON", headers("orders/create"), []byte("{"), "invalid JSON"},
		{"an array", headers("orders/create"), []byte("[]"), "not a JSON object but array"},
		{"no id", headers("orders/create"), edit(t, body, map[string]any{"id": nil}), `"id"`},
		{"a bad total", headers("orders/create"), edit(t, body, map[string]any{"total_price_set": nil, "total_price": "4.5.9"}), "amount"},
		{"no created_at", headers("orders/create"), edit(t, body, map[string]any{"created_at": nil}), "created_at"},
		{"a wrong type", headers("orders/create"), edit(t, body, map[string]any{"line_items": "x"}), "line_items"},
		{"a refund without order", headers(RefundTopic), edit(t, fixture(t, "refunds_create.json"), map[string]any{"order_id": nil}), "order_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(settings).ParseWebhook(tc.header, tc.body, noSettings)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to name %s", err, tc.want)
			}
		})
	}
}

func TestSource_QuarantinedPartReadsBack(t *testing.T) {
	h := headers("orders/create")
	h.Set(ShopHeader, "other.myshopify.com")
	body := fixture(t, "orders_create.json")
	b, err := New(settings).ParseWebhook(h, body, noSettings)
	if err != nil || len(b.Events) != 0 || len(b.Unrouted) != 1 || len(b.Problems) != 1 {
		t.Fatalf("unmapped shop: %+v %v", b, err)
	}
	part := b.Unrouted[0]
	if part.Keys.Key != "other.myshopify.com" || !strings.HasPrefix(part.ID, "shq_") {
		t.Errorf("part %+v", part)
	}
	again, _ := New(settings).ParseWebhook(h, body, noSettings)
	if again.Unrouted[0].ID != part.ID {
		t.Error("a re-sent webhook is another part")
	}
	mapped := New(Settings{Secret: "x", Shops: map[string]string{"other.myshopify.com": "other"}})
	if ws, ok := mapped.Route(part.Keys); !ok || ws != "other" {
		t.Fatalf("route %q %v", ws, ok)
	}
	events, err := mapped.ParsePart(part, "other", store.Workspace{})
	if err != nil || len(events) != 1 || events[0].ID != "shopify:order:5731088765123" || events[0].Workspace != "other" || events[0].Prop("shop") != "other.myshopify.com" {
		t.Errorf("read back: %+v %v", events, err)
	}
}

func TestInternationalPhone(t *testing.T) {
	for _, tc := range []struct{ number, country, want string }{
		{"+62 812-3456-7001", "", "+6281234567001"},
		{"0812 3456 7001", "ID", "+6281234567001"},
		{"6281234567001", "ID", "+6281234567001"},
		{"012-345 6789", "MY", "+60123456789"},
		{"0060123456789", "", "+60123456789"},
		{"(415) 555-0132", "US", "+14155550132"},
		{"06 1234 5678", "IT", "+390612345678"},
		{"0812 3456 7001", "", ""},
		{"call me", "ID", ""},
	} {
		got, ok := shop.InternationalPhone(tc.number, tc.country)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("InternationalPhone(%q, %q) = %q %v, want %q", tc.number, tc.country, got, ok, tc.want)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
