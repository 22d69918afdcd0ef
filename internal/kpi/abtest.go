package kpi

import (
	"context"
	"fmt"
	"math"
	"sort"
)

// A/B tests (KPIS.md §5): each variant of a campaign or template against
// the control on open rate, CTR and conversion, with a two-proportion
// z-test, a 95 % interval for the difference, the chance to beat the
// control and a plain verdict. Testing several variants on several metrics
// inflates false positives, so significance is decided with the
// Holm–Bonferroni correction over every comparison of the test.

// Confidence is the test's confidence level, and alpha its complement.
const (
	Confidence = 0.95
	alpha      = 1 - Confidence
	power      = 0.80 // of the sample-size estimate
)

// z-quantiles of the two-sided 95 % level and of 80 % power.
var (
	zAlpha = normalQuantile(1 - alpha/2)
	zPower = normalQuantile(power)
)

// abMetrics are the rates compared: the KPI and its display name.
var abMetrics = []struct{ id, name string }{
	{"open_rate", "open rate"}, {"ctr", "CTR"}, {"campaign_conversion_rate", "conversion"},
}

// Comparison is one variant against the control on one metric.
type Comparison struct {
	Metric  string   `json:"metric"`
	Variant string   `json:"variant"`
	Control string   `json:"control"`
	Rate    *float64 `json:"rate"`         // the variant's, in %
	Base    *float64 `json:"control_rate"` // the control's, in %
	// Difference is variant − control in percentage points, with its 95 %
	// interval.
	Difference *float64   `json:"difference"`
	Interval   [2]float64 `json:"interval"`
	Z          *float64   `json:"z"`
	P          *float64   `json:"p_value"`
	// Significant is decided after the Holm–Bonferroni correction.
	Significant  bool     `json:"significant"`
	ChanceToBeat *float64 `json:"chance_to_beat_control"` // in %
	// MoreRecipients is about how many more recipients each arm needs to
	// detect the observed difference (95 % confidence, 80 % power).
	MoreRecipients *int64 `json:"more_recipients_per_variant,omitempty"`
	Verdict        string `json:"verdict"`
}

// ABVariant is one arm's figures.
type ABVariant struct {
	Variant string              `json:"variant"`
	Sent    float64             `json:"sent"`
	Rates   map[string]*float64 `json:"rates"` // by metric id, in %
	// Revenue is the revenue attributed to the arm's messages (as ROCS
	// counts it), and RevenuePerRecipient that ÷ its messages sent, per
	// currency; empty without orders.
	Revenue             map[string]float64  `json:"revenue"`
	RevenuePerRecipient map[string]*float64 `json:"revenue_per_recipient"`
}

// ABReport is an A/B test's result.
type ABReport struct {
	Workspace   string       `json:"workspace"`
	From        string       `json:"from"`
	To          string       `json:"to"`
	Control     string       `json:"control"`
	Variants    []ABVariant  `json:"variants"`
	Comparisons []Comparison `json:"comparisons"`
	Correction  string       `json:"correction"`
	Confidence  float64      `json:"confidence"` // of the verdicts, in %
}

// ABTest compares the variants of the campaign or template the request
// filters on. The control is the named one, else "A", else the first.
func (e *Engine) ABTest(ctx context.Context, r Request, control string) (ABReport, error) {
	if len(r.Filters["campaign"]) == 0 && len(r.Filters["template"]) == 0 {
		return ABReport{}, &RequestError{Field: "campaign", Reason: "name the campaign or template whose variants to compare"}
	}
	r.GroupBy, r.Bucket = []string{"variant"}, ""
	r.KPIs = []string{"messages_sent", "revenue_per_recipient"}
	for _, m := range abMetrics {
		r.KPIs = append(r.KPIs, m.id)
	}
	rep, err := e.Compute(ctx, r)
	if err != nil {
		return ABReport{}, err
	}
	type arm struct {
		name    string
		sent    float64
		x, n    map[string]float64 // successes and trials per metric
		rates   map[string]*float64
		revenue map[string]float64
		perRcpt map[string]*float64
	}
	var arms []*arm
	for _, row := range rep.Rows {
		v := row.Group["variant"]
		if v == nil {
			continue // messages without a variant are in no arm
		}
		a := &arm{name: *v, x: map[string]float64{}, n: map[string]float64{}, rates: map[string]*float64{},
			revenue: map[string]float64{}, perRcpt: map[string]*float64{}}
		for _, val := range row.KPIs {
			switch {
			case val.ID == "messages_sent":
				a.sent = val.Numerator
				continue
			case val.ID == "revenue_per_recipient":
				if val.Currency != "" && val.Label == "" {
					a.revenue[val.Currency], a.perRcpt[val.Currency] = val.Numerator, val.Value
				}
				continue
			}
			a.x[val.ID], a.n[val.ID], a.rates[val.ID] = val.Numerator, val.Denominator, val.Value
		}
		arms = append(arms, a)
	}
	if len(arms) < 2 {
		return ABReport{}, &RequestError{Field: "variant", Reason: fmt.Sprintf("an A/B test needs two variants; the period has %d", len(arms))}
	}
	sort.Slice(arms, func(i, j int) bool { return arms[i].name < arms[j].name })
	base := arms[0]
	for _, a := range arms {
		if a.name == control || (control == "" && a.name == "A") {
			base = a
		}
	}
	if control != "" && base.name != control {
		return ABReport{}, &RequestError{Field: "control", Reason: quote(control) + " is not a variant of the period"}
	}
	out := ABReport{Workspace: rep.Workspace, From: rep.From, To: rep.To, Control: base.name}
	for _, a := range arms {
		out.Variants = append(out.Variants, ABVariant{Variant: a.name, Sent: a.sent, Rates: a.rates, Revenue: a.revenue, RevenuePerRecipient: a.perRcpt})
		if a == base {
			continue
		}
		for _, m := range abMetrics {
			c := compare(base.x[m.id], base.n[m.id], a.x[m.id], a.n[m.id])
			c.Metric, c.Variant, c.Control = m.id, a.name, base.name
			out.Comparisons = append(out.Comparisons, c)
		}
	}
	holm(out.Comparisons)
	names := map[string]string{}
	for _, m := range abMetrics {
		names[m.id] = m.name
	}
	for i := range out.Comparisons {
		out.Comparisons[i].Verdict = verdict(out.Comparisons[i], names[out.Comparisons[i].Metric])
	}
	out.Correction = fmt.Sprintf("Holm–Bonferroni over %d comparisons at %.0f %% confidence", len(out.Comparisons), Confidence*100)
	out.Confidence = Confidence * 100
	return out, nil
}

// compare tests variant (x2 of n2) against control (x1 of n1).
func compare(x1, n1, x2, n2 float64) Comparison {
	var c Comparison
	if n1 == 0 || n2 == 0 {
		return c
	}
	p1, p2 := x1/n1, x2/n2
	c.Base, c.Rate = pctOf(p1), pctOf(p2)
	diff := p2 - p1
	c.Difference = pctOf(diff)
	se := math.Sqrt(p1*(1-p1)/n1 + p2*(1-p2)/n2)
	c.Interval = [2]float64{(diff - zAlpha*se) * 100, (diff + zAlpha*se) * 100}
	pooled := (x1 + x2) / (n1 + n2)
	if sePooled := math.Sqrt(pooled * (1 - pooled) * (1/n1 + 1/n2)); sePooled > 0 {
		z := diff / sePooled
		p := 2 * (1 - normalCDF(math.Abs(z)))
		c.Z, c.P = &z, &p
	}
	// Beta(1 + x, 1 + n − x) posteriors, compared exactly.
	chance := chanceToBeat(x1+1, n1-x1+1, x2+1, n2-x2+1) * 100
	c.ChanceToBeat = &chance
	if diff != 0 {
		need := sampleSize(p1, p2)
		if more := need - int64(math.Min(n1, n2)); more > 0 {
			c.MoreRecipients = &more
		}
	}
	return c
}

// chanceToBeat is P(q > p) for p ~ Beta(a1, b1) and q ~ Beta(a2, b2)
// with whole a2 and b2, exactly:
//
//	Σ_{i<a2} B(a1+i, b1+b2) / ((b2+i) · B(1+i, b2) · B(a1, b1))
//
// The sum runs over the smallest parameter: P(q > p) is 1 − P(p > q), and
// comparing the failure shares (Beta(b, a)) reverses the inequality.
func chanceToBeat(a1, b1, a2, b2 float64) float64 {
	smallest := math.Min(math.Min(a1, b1), math.Min(a2, b2))
	switch smallest {
	case a2:
		return betaSum(a1, b1, a2, b2)
	case b1: // q > p ⇔ 1−p > 1−q
		return betaSum(b2, a2, b1, a1)
	case a1:
		return 1 - betaSum(a2, b2, a1, b1)
	default: // b2
		return 1 - betaSum(b1, a1, b2, a2)
	}
}

// betaSum is the sum of chanceToBeat's formula over i < a2, in logs.
func betaSum(a1, b1, a2, b2 float64) float64 {
	lbeta := func(a, b float64) float64 {
		x, _ := math.Lgamma(a)
		y, _ := math.Lgamma(b)
		z, _ := math.Lgamma(a + b)
		return x + y - z
	}
	base := lbeta(a1, b1)
	sum := 0.0
	for i := 0.0; i < a2; i++ {
		sum += math.Exp(lbeta(a1+i, b1+b2) - math.Log(b2+i) - lbeta(1+i, b2) - base)
	}
	return math.Min(1, math.Max(0, sum))
}

// sampleSize is the recipients per arm a two-sided two-proportion test
// needs to detect p1 against p2 at 95 % confidence and 80 % power.
func sampleSize(p1, p2 float64) int64 {
	pbar := (p1 + p2) / 2
	num := zAlpha*math.Sqrt(2*pbar*(1-pbar)) + zPower*math.Sqrt(p1*(1-p1)+p2*(1-p2))
	return int64(math.Ceil(num * num / ((p1 - p2) * (p1 - p2))))
}

// holm marks the comparisons significant under the Holm–Bonferroni
// procedure: sorted by p-value, the i-th (from 0) of m passes while
// p ≤ alpha ÷ (m − i).
func holm(cs []Comparison) {
	idx := make([]int, 0, len(cs))
	for i, c := range cs {
		if c.P != nil {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return *cs[idx[a]].P < *cs[idx[b]].P })
	m := len(idx)
	for rank, i := range idx {
		if *cs[i].P > alpha/float64(m-rank) {
			return
		}
		cs[i].Significant = true
	}
}

// verdict says what a comparison shows, in a sentence.
func verdict(c Comparison, metric string) string {
	switch {
	case c.Rate == nil || c.Base == nil:
		return fmt.Sprintf("no data on %s yet", metric)
	case c.Significant && *c.Difference > 0:
		return fmt.Sprintf("%s beats %s on %s (%.0f %% confidence)", c.Variant, c.Control, metric, Confidence*100)
	case c.Significant:
		return fmt.Sprintf("%s loses to %s on %s (%.0f %% confidence)", c.Variant, c.Control, metric, Confidence*100)
	case *c.Difference == 0:
		return fmt.Sprintf("no difference between %s and %s on %s so far", c.Variant, c.Control, metric)
	case c.MoreRecipients != nil:
		return fmt.Sprintf("not enough data yet: about %s more recipients per variant to detect the observed difference on %s",
			groupThousands(*c.MoreRecipients), metric)
	}
	return fmt.Sprintf("no significant difference between %s and %s on %s", c.Variant, c.Control, metric)
}

func pctOf(p float64) *float64 {
	v := p * 100
	return &v
}

func groupThousands(n int64) string { return group(fmt.Sprint(n)) }

func normalCDF(x float64) float64 { return 0.5 * (1 + math.Erf(x/math.Sqrt2)) }

// normalQuantile inverts normalCDF by bisection; it runs at start-up only.
func normalQuantile(p float64) float64 {
	lo, hi := -10.0, 10.0
	for range 200 {
		mid := (lo + hi) / 2
		if normalCDF(mid) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

var _ = register(View{
	Name: "abtest", Path: "/v1/abtest", Schema: "ABReport", Request: true,
	Summary: "A/B verdicts of a campaign's or template's variants against the control",
	Params:  []Param{{Name: "control", Doc: "The control variant (default A)", Example: "A"}},
	Columns: abColumns,
	Run: func(ctx context.Context, e *Engine, r Request, p Params) (Result, error) {
		return e.ABTest(ctx, r, p["control"])
	},
	New: func(Params) Result { return &ABReport{} },
})

var abColumns = []Column{
	{Name: "metric", Type: TypeString}, {Name: "variant", Type: TypeString},
	{Name: "rate", Type: TypeNumber, Unit: Percent, Digits: digits(2)}, {Name: "control", Type: TypeString},
	{Name: "control_rate", Type: TypeNumber, Unit: Percent, Digits: digits(2)},
	{Name: "difference", Type: TypeNumber, Unit: "points", Digits: digits(2), Doc: "variant − control"},
	{Name: "interval_low", Type: TypeNumber, Unit: "points", Digits: digits(2), Doc: "of the difference's 95 % interval"},
	{Name: "interval_high", Type: TypeNumber, Unit: "points", Digits: digits(2)},
	{Name: "p_value", Type: TypeNumber, Digits: digits(4)}, {Name: "significant", Type: TypeBoolean},
	{Name: "chance_to_beat", Type: TypeNumber, Unit: Percent, Digits: digits(1)}, {Name: "verdict", Type: TypeString},
}

// Table is a row per variant and metric compared.
func (rep ABReport) Table() Table {
	t := Table{Title: fmt.Sprintf("A/B test of workspace %s, %s to %s; control %s; %s", rep.Workspace, rep.From, rep.To, rep.Control, rep.Correction), Columns: abColumns}
	for _, c := range rep.Comparisons {
		t.Rows = append(t.Rows, []any{c.Metric, c.Variant, c.Rate, c.Control, c.Base, c.Difference, c.Interval[0], c.Interval[1], c.P, c.Significant, c.ChanceToBeat, c.Verdict})
	}
	return t
}
