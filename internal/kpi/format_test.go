package kpi

import "testing"

// A band of times writes both ends in one unit, the high end's, whichever
// the low end alone would take.
func TestFormatBand_OneUnit(t *testing.T) {
	for _, tc := range []struct {
		band Band
		u    Unit
		want string
	}{
		{Band{Low: f(60), High: f(300)}, Seconds, "1.0–5.0 min"},
		{Band{Low: f(6), High: f(15)}, Seconds, "6.0–15.0 s"},
		{Band{Low: f(30), High: f(7200)}, Seconds, "30.0 s – 2.0 h"},
		{Band{Low: f(85), High: f(90), Best: f(95)}, Percent, "85.0–90.0 %, best ≥ 95.0 %"},
		{Band{Low: f(0.3), High: f(0.6), Best: f(0.2)}, Percent, "0.30–0.60 %, best ≤ 0.20 %"},
	} {
		dir := HigherIsBetter
		if tc.band.Best != nil && *tc.band.Best < *tc.band.Low || tc.u == Seconds {
			dir = LowerIsBetter
		}
		if got := FormatBand(&tc.band, tc.u, dir); got != tc.want {
			t.Errorf("FormatBand(%v %v) = %q, want %q", tc.band, tc.u, got, tc.want)
		}
	}
}
