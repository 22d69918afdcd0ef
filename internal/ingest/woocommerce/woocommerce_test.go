package woocommerce

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

func fixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/order.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edit returns body with fields replaced (nil deletes one).
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

// headers are those WooCommerce sends with a delivery.
func headers(topic string) http.Header {
	h := http.Header{}
	h.Set(TopicHeader, topic)
	h.Set(SourceHeader, "https://kedai.example.com/")
	h.Set("X-WC-Webhook-Resource", "order")
	h.Set("X-WC-Webhook-Event", strings.TrimPrefix(topic, "order."))
	h.Set("X-WC-Webhook-ID", "7")
	h.Set("X-WC-Webhook-Delivery-ID", "36e520ebabc2fa725092ff4a47acedf2")
	return h
}

var settings = Settings{Secret: "wc-s3cret", Sites: map[string]string{"kedai.example.com": "shop"}}

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
	src := New(settings)
	body := fixture(t)
	h := headers("order.created")
	if err := src.Verify(h, body); err == nil || !strings.Contains(err.Error(), "missing "+SignatureHeader) {
		t.Errorf("unsigned: %v", err)
	}
	h.Set(SignatureHeader, shop.Sign(body, "other"))
	if err := src.Verify(h, body); err == nil {
		t.Error("signed with another secret verifies")
	}
	h.Set(SignatureHeader, shop.Sign(body, "wc-s3cret"))
	if err := src.Verify(h, body); err != nil {
		t.Errorf("signed: %v", err)
	}
	// The ping WooCommerce sends, unsigned, when a webhook is saved.
	ping := []byte("webhook_id=7")
	if err := src.Verify(http.Header{}, ping); err != nil {
		t.Errorf("ping: %v", err)
	}
	if b, err := src.ParseWebhook(http.Header{}, ping, noSettings); err != nil || len(b.Events)+len(b.Problems)+len(b.Unrouted) != 0 {
		t.Errorf("ping: %+v %v", b, err)
	}
	if err := src.Verify(headers("order.created"), ping); err == nil {
		t.Error("a ping's body with a topic passes unsigned")
	}
}

func TestSource_ParseOrder(t *testing.T) {
	b := parseOK(t, "order.created", fixture(t))
	if len(b.Events) != 1 || len(b.Problems) != 0 {
		t.Fatalf("events %+v problems %v", b.Events, b.Problems)
	}
	e := b.Events[0]
	if e.ID != "woocommerce:kedai.example.com:order:2207" || e.Kind != event.OrderPlaced || e.Order != "2207" || e.Workspace != "shop" {
		t.Errorf("order: %+v", e)
	}
	if !e.TS.Equal(time.Date(2026, 3, 3, 8, 12, 40, 0, time.UTC)) {
		t.Errorf("ts %v, want date_created_gmt", e.TS)
	}
	if e.Amount == nil || e.Amount.Minor != 13790 || e.Amount.Currency != "MYR" {
		t.Errorf("amount %+v", e.Amount)
	}
	// A Malaysian national number, as WhatsApp writes it.
	if e.Customer != "+60123456789" {
		t.Errorf("customer %q", e.Customer)
	}
	if e.Source != "tiktok" || e.Medium != "paid_social" || e.UTMCampaign != "raya-2026" || e.Prop("click_id") != "E.C.P.abc" ||
		e.Channel != "web" || e.Product != "314" || e.Prop("attribution_source_type") != "utm" {
		t.Errorf("visit: %+v", e)
	}
}

func TestSource_ParseStatuses(t *testing.T) {
	body := fixture(t)
	refunded := edit(t, body, map[string]any{"status": "refunded", "date_modified_gmt": "2026-03-06T02:00:00",
		"refunds": []any{map[string]any{"id": 2215, "reason": "wrong size", "total": "-137.90"}}})
	for _, tc := range []struct {
		name  string
		body  []byte
		kinds []event.Kind
	}{
		{"pending payment", edit(t, body, map[string]any{"status": "pending"}), nil},
		{"failed", edit(t, body, map[string]any{"status": "failed"}), nil},
		{"on hold", edit(t, body, map[string]any{"status": "on-hold"}), []event.Kind{event.OrderPlaced}},
		{"completed", edit(t, body, map[string]any{"status": "completed"}), []event.Kind{event.OrderPlaced}},
		{"refunded", refunded, []event.Kind{event.OrderPlaced, event.OrderRefunded}},
		{"cancelled", edit(t, body, map[string]any{"status": "cancelled"}), []event.Kind{event.OrderReturned}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := parseOK(t, "order.updated", tc.body)
			var kinds []event.Kind
			for _, e := range b.Events {
				kinds = append(kinds, e.Kind)
			}
			if strings.Join(kindNames(kinds), ",") != strings.Join(kindNames(tc.kinds), ",") || len(b.Problems) != 0 {
				t.Errorf("kinds %v, want %v; problems %v", kinds, tc.kinds, b.Problems)
			}
		})
	}
	b := parseOK(t, "order.updated", refunded)
	r := b.Events[1]
	if r.ID != "woocommerce:kedai.example.com:refund:2215" || r.Order != "2207" || r.Amount.Minor != 13790 || r.Amount.Currency != "MYR" ||
		!r.TS.Equal(time.Date(2026, 3, 6, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("refund %+v", r)
	}
	c := parseOK(t, "order.updated", edit(t, body, map[string]any{"status": "cancelled"})).Events[0]
	if c.ID != "woocommerce:kedai.example.com:cancel:2207" || c.Amount != nil || c.Order != "2207" {
		t.Errorf("cancellation %+v", c)
	}
	if b := parseOK(t, "order.deleted", body); len(b.Events) != 0 || len(b.Problems) != 1 {
		t.Errorf("another topic: %+v", b)
	}
}

func kindNames(ks []event.Kind) []string {
	var out []string
	for _, k := range ks {
		out = append(out, string(k))
	}
	return out
}

func TestSource_ParseCustomer(t *testing.T) {
	body := fixture(t)
	for _, tc := range []struct {
		name     string
		billing  map[string]any
		customer string
	}{
		{"an international number", map[string]any{"phone": "+60 12-345 6789", "country": "", "email": "a@example.com"}, "+60123456789"},
		{"e-mail alone", map[string]any{"phone": "", "country": "MY", "email": " Aisyah.Rahman@Example.com "}, "aisyah.rahman@example.com"},
		{"neither: the site's customer", map[string]any{"phone": "", "country": "MY", "email": ""}, "woocommerce:kedai.example.com:58"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := parseOK(t, "order.created", edit(t, body, map[string]any{"billing": tc.billing}))
			if len(b.Events) != 1 || b.Events[0].Customer != tc.customer {
				t.Errorf("%+v %v, want customer %q", b.Events, b.Problems, tc.customer)
			}
		})
	}
}

func TestSource_ParseErrors(t *testing.T) {
	body := fixture(t)
	for _, tc := range []struct {
		name   string
		header http.Header
		body   []byte
		want   string
	}{
		{"no topic", without(headers("order.created"), TopicHeader), body, TopicHeader},
		{"no source", without(headers("order.created"), SourceHeader), body, SourceHeader},
		{"not JSON", headers("order.created"), []byte(`{"id":`), "invalid JSON"},
		{"no id", headers("order.created"), edit(t, body, map[string]any{"id": nil}), `"id"`},
		{"no date", headers("order.created"), edit(t, body, map[string]any{"date_created_gmt": nil}), "date_created_gmt"},
		{"a bad total", headers("order.created"), edit(t, body, map[string]any{"total": "13.7.90"}), "amount"},
		{"an unknown currency", headers("order.created"), edit(t, body, map[string]any{"currency": "RM"}), "currency"},
		{"a wrong type", headers("order.created"), edit(t, body, map[string]any{"billing": "x"}), "billing"},
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
	h := headers("order.created")
	h.Set(SourceHeader, "https://other.example.com/")
	b, err := New(settings).ParseWebhook(h, fixture(t), noSettings)
	if err != nil || len(b.Unrouted) != 1 || len(b.Events) != 0 {
		t.Fatalf("%+v %v", b, err)
	}
	mapped := New(Settings{Secret: "x", Sites: map[string]string{"https://other.example.com": "other"}})
	ws, ok := mapped.Route(b.Unrouted[0].Keys)
	if !ok || ws != "other" {
		t.Fatalf("route %q %v", ws, ok)
	}
	events, err := mapped.ParsePart(b.Unrouted[0], ws, store.Workspace{})
	if err != nil || len(events) != 1 || events[0].ID != "woocommerce:other.example.com:order:2207" || events[0].Workspace != "other" {
		t.Errorf("%+v %v", events, err)
	}
}

func without(h http.Header, name string) http.Header {
	h.Del(name)
	return h
}
