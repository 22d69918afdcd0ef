package kpi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/kpi"
)

// TestABTest_Engine runs an A/B test of a template on both stores: A and B
// each sent to 1,000, B clicked 150 times against A's 100, both read alike.
func TestABTest_Engine(t *testing.T) {
	var lines []string
	for _, arm := range []struct {
		variant string
		clicks  int
	}{{"A", 100}, {"B", 150}} {
		for i := range 1000 {
			id := fmt.Sprintf("%s%d", arm.variant, i)
			lines = append(lines, fmt.Sprintf(`{"id":"s%[1]s","ts":"2026-01-05T10:00:00Z","kind":"message_sent","channel":"whatsapp","message":"%[1]s","customer":"c%[1]s","actor":"campaign","campaign":"spring","template":"promo","variant":"%[2]s"}`, id, arm.variant))
			if i < 800 {
				lines = append(lines, fmt.Sprintf(`{"id":"r%[1]s","ts":"2026-01-05T10:05:00Z","kind":"message_read","channel":"whatsapp","message":"%[1]s"}`, id))
			}
			if i < arm.clicks {
				lines = append(lines, fmt.Sprintf(`{"id":"c%[1]s","ts":"2026-01-05T10:06:00Z","kind":"button_clicked","channel":"whatsapp","message":"%[1]s"}`, id))
			}
		}
	}
	eachEngine(t, strings.Join(lines, "\n"), func(t *testing.T, e *kpi.Engine) {
		req := kpi.Request{Workspace: "w", From: "2026-01-01", To: "2026-02-01", Filters: map[string][]string{"template": {"promo"}}}
		rep, err := e.ABTest(context.Background(), req, "")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Control != "A" || len(rep.Variants) != 2 || len(rep.Comparisons) != 3 || !strings.Contains(rep.Correction, "Holm") {
			t.Fatalf("%+v", rep)
		}
		for _, c := range rep.Comparisons {
			switch c.Metric {
			case "ctr":
				if !c.Significant || c.Verdict != "B beats A on CTR (95 % confidence)" || *c.P > 0.001 {
					t.Errorf("ctr: %+v", c)
				}
			case "open_rate":
				if c.Significant || c.Verdict != "no difference between B and A on open rate so far" {
					t.Errorf("open rate: %+v", c)
				}
			}
		}
		if _, err := e.ABTest(context.Background(), kpi.Request{Workspace: "w"}, ""); err == nil {
			t.Error("a test without a campaign or template")
		}
		if _, err := e.ABTest(context.Background(), req, "Z"); err == nil {
			t.Error("an unknown control")
		}
	})
}

// TestABTest_Revenue credits each variant with the revenue of the orders
// its messages brought, per currency, on both stores: k1 (A) buys for 100
// EUR and k2 (B) for 50 EUR and 200,000 IDR within the window; k3's order
// (A) comes eight days later and counts for no one.
func TestABTest_Revenue(t *testing.T) {
	lines := `{"id":"s1","ts":"2026-01-05T10:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m1","customer":"k1","actor":"campaign","campaign":"spring","variant":"A"}
{"id":"s2","ts":"2026-01-05T10:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m2","customer":"k2","actor":"campaign","campaign":"spring","variant":"B"}
{"id":"s3","ts":"2026-01-05T10:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m3","customer":"k3","actor":"campaign","campaign":"spring","variant":"A"}
{"id":"o1","ts":"2026-01-06T10:00:00Z","kind":"order_placed","order":"o1","amount":"100","currency":"EUR","customer":"k1"}
{"id":"o2","ts":"2026-01-06T11:00:00Z","kind":"order_placed","order":"o2","amount":"50","currency":"EUR","customer":"k2"}
{"id":"o3","ts":"2026-01-07T11:00:00Z","kind":"order_placed","order":"o3","amount":"200000","currency":"IDR","customer":"k2"}
{"id":"o4","ts":"2026-01-13T11:00:00Z","kind":"order_placed","order":"o4","amount":"70","currency":"EUR","customer":"k3"}`
	eachEngine(t, lines, func(t *testing.T, e *kpi.Engine) {
		req := kpi.Request{Workspace: "w", From: "2026-01-01", To: "2026-02-01", Filters: map[string][]string{"campaign": {"spring"}}}
		rep, err := e.ABTest(context.Background(), req, "")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, v := range rep.Variants {
			per := v.RevenuePerRecipient["EUR"]
			if per == nil {
				t.Fatalf("variant %s has no revenue per message in EUR", v.Variant)
			}
			got[v.Variant] = fmt.Sprint(v.Revenue, " per message ", *per)
		}
		want := map[string]string{"A": "map[EUR:100] per message 50", "B": "map[EUR:50 IDR:200000] per message 50"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("revenue %v, want %v", got, want)
		}
	})
}
