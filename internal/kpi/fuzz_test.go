package kpi

import (
	"net/url"
	"testing"
)

// FuzzFromValues reads arbitrary query strings as the API does: it must
// never panic, and a request it accepts names only known KPIs and
// dimensions.
func FuzzFromValues(f *testing.F) {
	for _, seed := range []string{
		"from=2026-01-01&to=2026-02-01&kpi=ctr,aov&group_by=campaign&bucket=day&channel=whatsapp",
		"kpi=nope&group_by=mood", "compare=previous,last_year&segment=rfm:champions&hours=business",
		"lookback=30d&half_life=12h&tz=Europe/Berlin", "campaign=x'%20OR%201=1--", "%zz",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		r, err := FromValues("w", q)
		if err != nil {
			return
		}
		for _, id := range r.KPIs {
			if _, ok := byID[id]; !ok {
				t.Fatalf("accepted unknown KPI %q", id)
			}
		}
		for _, d := range r.GroupBy {
			if !isDimension(d) {
				t.Fatalf("accepted unknown dimension %q", d)
			}
		}
		for d := range r.Filters {
			if !isDimension(d) {
				t.Fatalf("accepted a filter on %q", d)
			}
		}
	})
}
