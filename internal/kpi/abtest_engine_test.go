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
