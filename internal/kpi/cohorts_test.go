package kpi_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/omnikpi/omnikpi/internal/kpi"
)

// Worked by hand, by month from January to March 2026:
//
//	January cohort, k1 and k2: k1 buys for 10 in January, writes in
//	February, buys for 20 in March; k2 is never seen again.
//	February cohort, k3: buys for 30 at once, writes in March.
//	k0 was first seen in December: in no cohort of the period.
func TestCohorts(t *testing.T) {
	lines := `{"id":"0a","ts":"2025-12-20T10:00:00Z","kind":"message_received","channel":"whatsapp","message":"x0","customer":"k0"}
{"id":"0b","ts":"2026-01-10T10:00:00Z","kind":"message_received","channel":"whatsapp","message":"x1","customer":"k0"}
{"id":"1a","ts":"2026-01-05T10:00:00Z","kind":"message_received","channel":"whatsapp","message":"a1","customer":"k1"}
{"id":"1b","ts":"2026-01-20T10:00:00Z","kind":"order_placed","order":"o1","customer":"k1","amount":"10","currency":"EUR"}
{"id":"1c","ts":"2026-02-10T10:00:00Z","kind":"message_received","channel":"whatsapp","message":"a2","customer":"k1"}
{"id":"1d","ts":"2026-03-05T10:00:00Z","kind":"order_placed","order":"o2","customer":"k1","amount":"20","currency":"EUR"}
{"id":"2a","ts":"2026-01-25T10:00:00Z","kind":"site_session","channel":"web","customer":"k2","duration_ms":1000}
{"id":"3a","ts":"2026-02-03T10:00:00Z","kind":"message_received","channel":"whatsapp","message":"c1","customer":"k3"}
{"id":"3b","ts":"2026-02-04T10:00:00Z","kind":"order_placed","order":"o3","customer":"k3","amount":"30","currency":"EUR"}
{"id":"3c","ts":"2026-03-01T10:00:00Z","kind":"message_received","channel":"whatsapp","message":"c2","customer":"k3"}`
	eachEngine(t, lines, func(t *testing.T, e *kpi.Engine) {
		rep, err := e.Cohorts(context.Background(), kpi.Request{Workspace: "w", From: "2026-01-01", To: "2026-04-01"}, "month")
		if err != nil {
			t.Fatal(err)
		}
		type cell struct {
			active, buyers     int
			retained, bought   float64
			revenuePerCustomer float64
		}
		got := map[string][]cell{}
		for _, c := range rep.Cohorts {
			for _, p := range c.Cells {
				got[c.Start] = append(got[c.Start], cell{p.Active, p.Buyers, p.Retained, p.Bought, p.Revenue["EUR"]})
			}
		}
		want := map[string][]cell{
			"2026-01-01T00:00:00Z": {{2, 1, 100, 50, 5}, {1, 0, 50, 0, 5}, {1, 1, 50, 50, 15}},
			"2026-02-01T00:00:00Z": {{1, 1, 100, 100, 30}, {1, 0, 100, 0, 30}},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("cohorts\n got %v\nwant %v", got, want)
		}
		if _, err := e.Cohorts(context.Background(), kpi.Request{Workspace: "w"}, "year"); err == nil {
			t.Error("cohorts by year are accepted")
		}
	})
}
