package kpi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/kpi"
)

// Five buyers over the year before July 2026, each worked by hand into
// quintiles (five distinct values: scores 1 to 5):
//
//	     last order  orders  spent  R F M  segment
//	c1   25 Jun      5       500    5 5 5  champions
//	c2   10 Jan      4       400    2 4 4  loyal
//	c3   20 Jun      1       100    4 1 1  new
//	c4   1 Sep 2025  3       300    1 3 3  at_risk
//	c5   1 Mar       2       200    3 2 2  promising
func TestSegments(t *testing.T) {
	var lines []string
	order := func(customer, day string, amount int) {
		lines = append(lines, fmt.Sprintf(`{"id":"%[1]s-%[2]s","ts":"%[2]sT12:00:00Z","kind":"order_placed","order":"%[1]s-%[2]s","customer":"%[1]s","amount":"%[3]d","currency":"EUR"}`, customer, day, amount))
	}
	for _, d := range []string{"2026-02-01", "2026-03-01", "2026-04-01", "2026-06-10", "2026-06-25"} {
		order("c1", d, 100)
	}
	for _, d := range []string{"2025-10-01", "2025-11-01", "2025-12-01", "2026-01-10"} {
		order("c2", d, 100)
	}
	order("c3", "2026-06-20", 100)
	for _, d := range []string{"2025-07-15", "2025-08-01", "2025-09-01"} {
		order("c4", d, 100)
	}
	order("c5", "2026-02-01", 100)
	order("c5", "2026-03-01", 100)
	lines = append(lines,
		`{"id":"n1","ts":"2026-06-11T10:00:00Z","kind":"survey_answered","customer":"c1","score":10,"props":{"survey":"nps"}}`,
		`{"id":"n2","ts":"2026-01-11T10:00:00Z","kind":"survey_answered","customer":"c2","score":8,"props":{"survey":"nps"}}`,
		`{"id":"n3","ts":"2026-05-11T10:00:00Z","kind":"survey_answered","customer":"c2","score":3,"props":{"survey":"nps"}}`,
		`{"id":"n4","ts":"2026-06-21T10:00:00Z","kind":"survey_answered","customer":"c3","score":5,"props":{"survey":"csat"}}`,
		`{"id":"m1","ts":"2026-06-10T10:00:00Z","kind":"message_received","channel":"whatsapp","conversation":"v1","customer":"c1","message":"m1"}`,
		`{"id":"m2","ts":"2026-06-10T10:00:03Z","kind":"message_sent","channel":"whatsapp","conversation":"v1","customer":"c1","message":"m2","actor":"agent","agent":"ana"}`,
		`{"id":"m3","ts":"2026-06-20T10:00:00Z","kind":"message_received","channel":"whatsapp","conversation":"v3","customer":"c3","message":"m3"}`,
		`{"id":"m4","ts":"2026-06-20T10:01:00Z","kind":"message_sent","channel":"whatsapp","conversation":"v3","customer":"c3","message":"m4","actor":"agent","agent":"ana"}`,
	)
	eachEngine(t, strings.Join(lines, "\n"), func(t *testing.T, e *kpi.Engine) {
		ctx := context.Background()
		june := kpi.Request{Workspace: "w", From: "2026-06-01", To: "2026-07-01", KPIs: []string{"transactions"}}
		want := map[string]map[string]int{
			"rfm":          {"rfm:champions": 1, "rfm:loyal": 1, "rfm:new": 1, "rfm:at_risk": 1, "rfm:promising": 1},
			"satisfaction": {"satisfaction:promoter": 1, "satisfaction:detractor": 1, "satisfaction:satisfied": 1},
			"response":     {"response:fast": 1, "response:slow": 1},
			// Revenue per conversation, c3 100 and c1 500: quintiles 1 and 3.
			"rpc": {"rpc:low": 1, "rpc:mid": 1},
		}
		transactions := map[string]float64{"rfm:champions": 2, "rfm:new": 1, "rfm:loyal": 0, "response:fast": 2, "satisfaction:detractor": 0}
		for family, sizes := range want {
			rep, err := e.Segments(ctx, june, family)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, s := range rep.Segments {
				got[s.Segment] = s.Customers
				if n, ok := transactions[s.Segment]; ok && *s.KPIs[0].Value != n {
					t.Errorf("%s: %v transactions in June, want %v", s.Segment, *s.KPIs[0].Value, n)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(sizes) {
				t.Errorf("%s: %v, want %v", family, got, sizes)
			}
		}
		// A segment filters any KPI; an empty one gives nothing.
		june.Segment = "rfm:new"
		if rep, err := e.Compute(ctx, june); err != nil || *rep.Rows[0].KPIs[0].Value != 1 {
			t.Errorf("filtered by rfm:new: %v %+v", err, rep)
		}
		june.Segment, june.KPIs = "rfm:at_risk", []string{"gross_revenue"}
		if rep, err := e.Compute(ctx, june); err != nil || rep.Rows[0].KPIs[0].Value != nil {
			t.Errorf("at_risk bought nothing in June: %v %+v", err, rep)
		}
		june.Segment = "mood:happy"
		if _, err := e.Compute(ctx, june); err == nil {
			t.Error("an unknown segment family is accepted")
		}
	})
}
