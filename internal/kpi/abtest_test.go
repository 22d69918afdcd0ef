package kpi

import (
	"math"
	"testing"
)

func close(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// Worked by hand: A 100 of 1,000 (10 %), B 150 of 1,000 (15 %). Pooled
// p = 0.125, se = √(0.125 · 0.875 · 2/1000) = 0.014790, z = 0.05 / se =
// 3.3806, two-sided p = 0.000723; unpooled se = √(0.09/1000 + 0.1275/1000)
// = 0.014748, 95 % interval 5 ± 1.96 · 1.4748 = [2.109, 7.891] points.
func TestCompare_WorkedExample(t *testing.T) {
	c := compare(100, 1000, 150, 1000)
	if !close(*c.Z, 3.380617, 1e-5) || !close(*c.P, 0.000723233, 1e-8) {
		t.Errorf("z %v, p %v", *c.Z, *c.P)
	}
	if !close(*c.Difference, 5, 1e-9) || !close(c.Interval[0], 2.109468, 1e-5) || !close(c.Interval[1], 7.890532, 1e-5) {
		t.Errorf("difference %v, interval %v", *c.Difference, c.Interval)
	}
	if *c.ChanceToBeat < 99.9 {
		t.Errorf("chance to beat %v", *c.ChanceToBeat)
	}
	if c.MoreRecipients != nil {
		t.Errorf("more recipients %v for a difference already detected", *c.MoreRecipients)
	}
}

func TestCompare_Tie(t *testing.T) {
	c := compare(100, 1000, 100, 1000)
	c.Metric, c.Variant, c.Control = "ctr", "B", "A"
	if *c.Z != 0 || *c.P != 1 || !close(*c.ChanceToBeat, 50, 1e-9) || c.MoreRecipients != nil {
		t.Errorf("tie: %+v", c)
	}
	if v := verdict(c, "CTR"); v != "no difference between B and A on CTR so far" {
		t.Errorf("verdict %q", v)
	}
}

func TestCompare_TinySamples(t *testing.T) {
	c := compare(1, 3, 2, 3)
	c.Variant, c.Control = "B", "A"
	holm([]Comparison{c})
	if c.Significant || c.MoreRecipients == nil || *c.MoreRecipients < 20 {
		t.Errorf("tiny samples: %+v", c)
	}
	if v := verdict(c, "CTR"); v[:20] != "not enough data yet:" {
		t.Errorf("verdict %q", v)
	}
	if c := compare(0, 0, 5, 10); c.Rate != nil || verdict(c, "CTR") != "no data on CTR yet" {
		t.Errorf("no control data: %+v", c)
	}
}

// Detecting 10 % against 11 % at 95 % confidence and 80 % power takes
// (1.95996·√(2·0.105·0.895) + 0.84162·√(0.09 + 0.0979))² ÷ 0.01² = 14,750.8
// recipients per arm.
func TestSampleSize(t *testing.T) {
	if n := sampleSize(0.10, 0.11); n != 14751 {
		t.Errorf("sample size %d, want 14751", n)
	}
	c := compare(100, 1000, 110, 1000)
	if c.MoreRecipients == nil || *c.MoreRecipients != 14751-1000 {
		t.Errorf("more recipients %v, want 13751", c.MoreRecipients)
	}
}

// Three p-values that each pass 0.05 alone: Holm passes 0.01 (≤ 0.05/3)
// and stops at 0.03 (> 0.05/2).
func TestHolm(t *testing.T) {
	p := func(v float64) *float64 { return &v }
	cs := []Comparison{{P: p(0.04)}, {P: p(0.01)}, {P: p(0.03)}, {}}
	holm(cs)
	if cs[0].Significant || !cs[1].Significant || cs[2].Significant || cs[3].Significant {
		t.Errorf("%+v", cs)
	}
}

// The chance to beat the control is exact: worked by hand, B ~ Beta(2, 1)
// beats A ~ Beta(1, 2) with ∫ 2x·(2x − x²) dx = 5/6 and a uniform A with
// ∫ 2x·x dx = 2/3; 1 of 3 against 2 of 3 is 53/70, and the other
// references are a 30-digit quadrature of ∫ f_B(y)·F_A(y) dy (mpmath).
func TestChanceToBeat_Exact(t *testing.T) {
	if got := chanceToBeat(1, 2, 2, 1); !close(got, 5.0/6, 1e-12) {
		t.Errorf("Beta(2,1) over Beta(1,2) = %v, want 5/6", got)
	}
	if got := chanceToBeat(1, 1, 2, 1); !close(got, 2.0/3, 1e-12) {
		t.Errorf("Beta(2,1) over Beta(1,1) = %v, want 2/3", got)
	}
	for _, tc := range []struct{ x1, n1, x2, n2, want float64 }{
		{1, 3, 2, 3, 53.0 / 70},
		{0, 5, 2, 5, 0.90909090909090909091},
		{3, 40, 9, 38, 0.97359911460985513355},
		{120, 1000, 150, 1000, 0.97506783681214412258},
		{990, 1000, 999, 1000, 0.99689819264370668704},
	} {
		c := compare(tc.x1, tc.n1, tc.x2, tc.n2)
		if !close(*c.ChanceToBeat/100, tc.want, 1e-12) {
			t.Errorf("%v: chance to beat %v %%", tc, *c.ChanceToBeat)
		}
		// And the other way round: the two add up to one.
		if back := compare(tc.x2, tc.n2, tc.x1, tc.n1); !close(*back.ChanceToBeat+*c.ChanceToBeat, 100, 1e-9) {
			t.Errorf("%v: %v + %v ≠ 100", tc, *back.ChanceToBeat, *c.ChanceToBeat)
		}
	}
}
