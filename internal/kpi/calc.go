package kpi

import (
	"math"
	"sort"

	"github.com/omnikpi/omnikpi/internal/event"
)

// comps are one group's components, as the family queries return them:
// plain counts added over currencies, money in minor units per currency.
type comps struct {
	plain   map[string]float64
	money   map[string]map[string]float64 // currency → component → minor units (or a count, for *_cur)
	samples map[string][]float64          // durations in seconds, for means and quantiles
	labels  map[string]map[string]float64 // counts by label: a bucket, a goal, a tag, a keyword
}

func newComps() *comps {
	return &comps{plain: map[string]float64{}, money: map[string]map[string]float64{},
		samples: map[string][]float64{}, labels: map[string]map[string]float64{}}
}

// count adds n to the label's count of component name.
func (c *comps) count(name, label string, n float64) {
	m := c.labels[name]
	if m == nil {
		m = map[string]float64{}
		c.labels[name] = m
	}
	m[label] += n
}

func (c *comps) currencies() []string {
	out := make([]string, 0, len(c.money))
	for cur := range c.money {
		out = append(out, cur)
	}
	sort.Strings(out)
	return out
}

// major converts a money component to major units of its currency.
func (c *comps) major(cur, name string) float64 {
	return c.money[cur][name] / math.Pow10(event.MinorDigits(cur))
}

// figure is a computed numerator and denominator before shaping.
type figure struct {
	currency string
	label    string
	num, den float64
	value    *float64
	reason   string
}

type calcKind uint8

const (
	plainCalc    calcKind = iota + 1 // num ÷ den × scale, or num alone
	receiptCalc                      // as plain, null when the channel reports nothing
	moneyCalc                        // per currency: money num ÷ (plain or money) den
	roiCalc                          // per currency: (revenue − cost) ÷ cost × 100
	perRecipCalc                     // per currency: (revenue ÷ sent) ÷ (cost ÷ recipients)
	statCalc                         // a statistic of samples: mean, median or p90
	labelCalc                        // one figure per label: its count, or count ÷ den × scale
	npsCalc                          // (promoters − detractors) ÷ answers × 100
	diffCalc                         // num − den, a count
	changeCalc                       // (num − den) ÷ den × scale: a change against a base
)

// Statistics of samples.
const (
	statMean   = -1.0
	statMedian = 0.5
	statP90    = 0.9
)

// calc says how a KPI is computed from components.
type calc struct {
	kind     calcKind
	num, den string
	total    string // receiptCalc: the count over every channel
	scale    float64
	denMoney bool     // the denominator is money in the same currency
	denCount bool     // the denominator is a count per currency, like orders_cur
	stat     float64  // statCalc: statMean or a quantile
	order    []string // labelCalc: labels in this order (else by count, largest first)
	overall  string   // labelCalc: a plain component giving an unlabelled first figure
	top      int      // labelCalc: at most this many labels (0: all)
}

func stat(samples string, which float64) calc {
	return calc{kind: statCalc, num: samples, stat: which}
}

func labelled(num, den string, scale float64) calc {
	return calc{kind: labelCalc, num: num, den: den, scale: scale}
}

func plain(num, den string, scale float64) calc {
	return calc{kind: plainCalc, num: num, den: den, scale: scale}
}

func receipted(num, den, total string) calc {
	return calc{kind: receiptCalc, num: num, den: den, total: total, scale: 100}
}

func money(num, den string, denMoney bool) calc {
	return calc{kind: moneyCalc, num: num, den: den, denMoney: denMoney, scale: 1}
}

var (
	calcROI                = calc{kind: roiCalc, num: "campaign_revenue", den: "cost", scale: 100}
	calcReturnPerRecipient = calc{kind: perRecipCalc, num: "campaign_revenue", den: "cost_msg_sw", scale: 1}
)

// components lists what the calc reads, so the engine runs only the family
// queries a request needs.
func (k calc) components() []string {
	out := []string{k.num}
	for _, n := range []string{k.den, k.total} {
		if n != "" {
			out = append(out, n)
		}
	}
	switch k.kind {
	case perRecipCalc:
		out = append(out, "sent", "recipients")
	case npsCalc:
		out = append(out, "nps_promoters", "nps_detractors")
	}
	if k.overall != "" {
		out = append(out, k.overall)
	}
	return out
}

func ratio(num, den, scale float64) figure {
	fig := figure{num: num, den: den}
	if den == 0 {
		fig.reason = ReasonNoData
		return fig
	}
	v := num / den * scale
	fig.value = &v
	return fig
}

// figures computes the KPI for one group: one figure, or one per currency.
func (k calc) figures(c *comps) []figure {
	switch k.kind {
	case statCalc:
		return []figure{statistic(c.samples[k.num], k.stat)}
	case labelCalc:
		return k.labelFigures(c)
	case npsCalc:
		return []figure{ratio(c.plain["nps_promoters"]-c.plain["nps_detractors"], c.plain[k.num], 100)}
	case diffCalc:
		v := c.plain[k.num] - c.plain[k.den]
		return []figure{{num: c.plain[k.num], den: c.plain[k.den], value: &v}}
	case changeCalc:
		return []figure{ratio(c.plain[k.num]-c.plain[k.den], c.plain[k.den], k.scale)}
	case plainCalc, receiptCalc:
		if k.den == "" {
			v := c.plain[k.num]
			return []figure{{num: v, value: &v}}
		}
		fig := ratio(c.plain[k.num], c.plain[k.den], k.scale)
		if k.kind == receiptCalc && c.plain[k.den] == 0 && c.plain[k.total] > 0 {
			fig.reason = ReasonNotReported
		}
		return []figure{fig}
	}
	var out []figure
	for _, cur := range c.currencies() {
		// A currency appears where its numerator exists (no cost per lead
		// in a currency nobody spent in), or where a money denominator
		// does: spend without revenue is a return of 0, not no data.
		_, hasNum := c.money[cur][k.num]
		_, hasDen := c.money[cur][k.den]
		if !hasNum && !(hasDen && (k.denMoney || k.kind == roiCalc)) {
			continue
		}
		var fig figure
		switch k.kind {
		case moneyCalc:
			num := c.major(cur, k.num)
			switch {
			case k.den == "":
				fig = figure{num: num, value: &num}
			case k.denMoney:
				fig = ratio(num, c.major(cur, k.den), k.scale)
			case k.denCount:
				fig = ratio(num, c.money[cur][k.den], k.scale)
			default:
				fig = ratio(num, c.plain[k.den], k.scale)
			}
		case roiCalc:
			rev, cost := c.major(cur, k.num), c.major(cur, k.den)
			fig = ratio(rev-cost, cost, k.scale)
		case perRecipCalc:
			perRecipient := ratio(c.major(cur, k.num), c.plain["sent"], 1)
			costPer := ratio(c.major(cur, k.den), c.plain["recipients"], 1)
			if perRecipient.value == nil || costPer.value == nil {
				fig = figure{reason: ReasonNoData}
			} else {
				fig = ratio(*perRecipient.value, *costPer.value, 1)
			}
		}
		fig.currency = cur
		out = append(out, fig)
	}
	if len(out) == 0 {
		if k.den != "" && !k.denMoney && !k.denCount && c.plain[k.den] == 0 {
			return []figure{{reason: ReasonNoData}}
		}
		return []figure{{reason: ReasonNothing}}
	}
	return out
}

// rate places v against band in the KPI's better direction.
func rate(v float64, b *Band, dir Direction) Rating {
	if b == nil || dir == Neutral {
		return ""
	}
	better := func(a, than float64) bool { // a is better than `than`
		if dir == LowerIsBetter {
			return a < than
		}
		return a > than
	}
	lo, hi := b.Low, b.High
	if dir == LowerIsBetter {
		lo, hi = b.High, b.Low // the worse end comes first
	}
	switch {
	case b.Best != nil && (v == *b.Best || better(v, *b.Best)):
		return Best
	case lo != nil && better(*lo, v):
		return Worse
	case hi != nil && better(v, *hi):
		return Better
	}
	return Within
}

// statistic is the mean (num the sum, den the count) or a quantile (num the
// quantile, den the count) of samples. Quantiles interpolate between the
// two nearest ranks, as DuckDB's quantile_cont does.
func statistic(samples []float64, which float64) figure {
	n := float64(len(samples))
	if n == 0 {
		return figure{reason: ReasonNoData}
	}
	if which == statMean {
		sum := 0.0
		for _, v := range samples {
			sum += v
		}
		return ratio(sum, n, 1)
	}
	sorted := append([]float64(nil), samples...)
	sort.Float64s(sorted)
	pos := which * (n - 1)
	lo := int(math.Floor(pos))
	v := sorted[lo]
	if hi := lo + 1; hi < len(sorted) {
		v += (sorted[hi] - sorted[lo]) * (pos - float64(lo))
	}
	return figure{num: v, den: n, value: &v}
}

func (k calc) labelFigures(c *comps) []figure {
	var out []figure
	one := func(label string, n float64) figure {
		var fig figure
		if k.den == "" {
			fig = figure{num: n, value: &n}
		} else {
			fig = ratio(n, c.plain[k.den], k.scale)
		}
		fig.label = label
		return fig
	}
	if k.overall != "" {
		out = append(out, one("", c.plain[k.overall]))
	}
	counts := c.labels[k.num]
	labels := k.order
	if labels == nil {
		for l := range counts {
			labels = append(labels, l)
		}
		sort.Slice(labels, func(i, j int) bool {
			if counts[labels[i]] != counts[labels[j]] {
				return counts[labels[i]] > counts[labels[j]]
			}
			return labels[i] < labels[j]
		})
	}
	if k.top > 0 && len(labels) > k.top {
		labels = labels[:k.top]
	}
	for _, l := range labels {
		out = append(out, one(l, counts[l]))
	}
	if len(out) == 0 {
		if k.den != "" && !k.denMoney && !k.denCount && c.plain[k.den] == 0 {
			return []figure{{reason: ReasonNoData}}
		}
		return []figure{{reason: ReasonNothing}}
	}
	return out
}
