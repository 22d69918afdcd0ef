package kpi_test

import (
	"context"
	"testing"

	"github.com/omnikpi/omnikpi/internal/kpi"
)

// An order that carries the source of the visit it was placed in (its
// landing page's UTM parameters, as the Shopify and WooCommerce webhooks
// give them) is a touch of its own: k1 wrote on WhatsApp a day before
// ordering from an Instagram ad, so the WhatsApp message is the first
// touch and the order's visit the last; k2's order names no source and has
// no touch.
const orderVisit = `
{"id":"i1","ts":"2026-01-05T10:00:00Z","kind":"message_received","channel":"whatsapp","message":"m1","customer":"k1"}
{"id":"o1","ts":"2026-01-06T10:00:00Z","kind":"order_placed","channel":"web","customer":"k1","order":"o1","amount":"100","currency":"EUR","props":{"landing_url":"/products/x?utm_source=instagram&utm_medium=paid_social"}}
{"id":"o2","ts":"2026-01-07T10:00:00Z","kind":"order_placed","channel":"web","customer":"k2","order":"o2","amount":"40","currency":"EUR"}
`

func TestAttribution_OrderVisit(t *testing.T) {
	eachEngine(t, orderVisit, func(t *testing.T, e *kpi.Engine) {
		rep, err := e.Attribution(context.Background(), kpi.Request{Workspace: "w", From: "2026-01-01", To: "2026-02-01"}, []string{"channel", "source"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][3]float64{ // first touch, last touch, linear
			"web/instagram": {0, 100, 50},
			"whatsapp/":     {100, 0, 50},
			"/":             {40, 40, 40},
		}
		if len(rep.Rows) != len(want) {
			t.Errorf("%d rows, want %d: %+v", len(rep.Rows), len(want), rep.Rows)
		}
		for _, row := range rep.Rows {
			key := deref(row.Channel) + "/" + deref(row.Source)
			w, ok := want[key]
			got := [3]float64{row.Credits["first_touch"].Revenue, row.Credits["last_touch"].Revenue, row.Credits["linear"].Revenue}
			if !ok || !near(got[0], w[0]) || !near(got[1], w[1]) || !near(got[2], w[2]) {
				t.Errorf("%s: first, last, linear %v, want %v", key, got, w)
			}
		}
	})
}
