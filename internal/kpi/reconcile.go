package kpi

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

// ReconciliationRow is one figure of one UTC day as omnikpi counts it
// and as Meta's answers report it: the delivered messages or their cost
// of a pricing category (type, country), or a template's sent, delivered,
// read, clicked or cost.
type ReconciliationRow struct {
	Day         string   `json:"day"`          // UTC, as 2026-01-05: Meta's buckets
	Template    *string  `json:"template"`     // a template row's template, as the messages name it
	TemplateID  *string  `json:"template_id"`  // Meta's id of it
	Category    *string  `json:"category"`     // a pricing row's category; none when Meta's answer has no such breakdown
	PricingType *string  `json:"pricing_type"` // likewise
	Country     *string  `json:"country"`      // likewise
	Measure     string   `json:"measure"`      // sent, delivered, read, clicked or cost
	Omnikpi     *float64 `json:"omnikpi"`      // none when omnikpi cannot say (a cost no rate card prices)
	Meta        *float64 `json:"meta"`         // none when Meta's answer does not have it
	Difference  *float64 `json:"difference"`   // omnikpi − Meta
	Currency    *string  `json:"currency"`     // of a cost
	Note        string   `json:"note,omitempty"`
}

// ReconciliationReport sets omnikpi's figures beside Meta's.
type ReconciliationReport struct {
	Workspace string              `json:"workspace"`
	From      string              `json:"from"`
	To        string              `json:"to"`
	Rows      []ReconciliationRow `json:"rows"`
}

// Notes of rows that are not a plain comparison.
const (
	noteNotInMeta = "not in Meta's answer"
	noteNoPrice   = "no rate card price"
)

// metaPoint is one data point of Meta's answers, the latest fetched of its
// bucket and breakdown.
type metaPoint struct {
	id, template string
	day          int64 // UTC days since 1970
	props        struct {
		Type        string      `json:"type"`
		Key         string      `json:"key"`
		Fetched     int64       `json:"fetched_ms"`
		Category    string      `json:"pricing_category"`
		PricingType string      `json:"pricing_type"`
		Country     string      `json:"country"`
		TemplateID  string      `json:"template_id"`
		Volume      *int64      `json:"volume"`
		Sent        *int64      `json:"sent"`
		Delivered   *int64      `json:"delivered"`
		Read        *int64      `json:"read"`
		Clicked     *int64      `json:"clicked"`
		Cost        json.Number `json:"cost"`
		Currency    string      `json:"currency"`
	}
}

// Reconcile sets, per UTC day, omnikpi's delivered messages and their cost
// by pricing category, type and country, and each template's sent,
// delivered, read and clicked messages and cost, beside Meta's figures
// imported from its pricing_analytics and template_analytics answers
// (internal/ingest/metaanalytics), with the difference. A Meta row without
// a breakdown (no country, say) is compared with omnikpi's sum over it.
// omnikpi's figures of the days Meta's answers cover that Meta does not
// report are listed too, Meta's side empty. Days are UTC, as Meta's
// buckets; the request takes a period and no filters, which Meta's side
// could not follow.
func (e *Engine) Reconcile(ctx context.Context, r Request) (ReconciliationReport, error) {
	if len(r.Filters) > 0 || len(r.GroupBy) > 0 || r.Bucket != "" || r.Segment != "" {
		return ReconciliationReport{}, &RequestError{Field: "group_by", Reason: "the reconciliation takes a period only: Meta's figures cannot be filtered, grouped or segmented as omnikpi's"}
	}
	if r.TimeZone != "" && r.TimeZone != "UTC" {
		return ReconciliationReport{}, &RequestError{Field: "tz", Reason: "the reconciliation is by UTC day, as Meta's buckets: leave tz out"}
	}
	r.TimeZone = "UTC"
	res, err := e.prepare(ctx, r)
	if err != nil {
		return ReconciliationReport{}, err
	}
	rep := ReconciliationReport{Workspace: res.Workspace, From: res.fromText(), To: res.toText(), Rows: []ReconciliationRow{}}
	points, err := e.metaPoints(ctx, res)
	if err != nil || len(points) == 0 {
		return rep, err
	}
	pricing, templates, err := e.ownFigures(ctx, res)
	if err != nil {
		return rep, err
	}
	rep.Rows = append(reconcilePricing(points, pricing), reconcileTemplates(points, templates, pricing)...)
	measureOrder := map[string]int{"sent": 0, "delivered": 1, "read": 2, "clicked": 3, "cost": 4}
	slices.SortStableFunc(rep.Rows, func(a, b ReconciliationRow) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(deref(a.Template), deref(b.Template)),
			cmp.Compare(deref(a.Category), deref(b.Category)), cmp.Compare(deref(a.PricingType), deref(b.PricingType)),
			cmp.Compare(deref(a.Country), deref(b.Country)), cmp.Compare(measureOrder[a.Measure], measureOrder[b.Measure]))
	})
	return rep, nil
}

// metaPoints reads Meta's data points of the period, keeping the latest
// fetched of each bucket and breakdown (ties to the larger id, so arrival
// order does not matter).
func (e *Engine) metaPoints(ctx context.Context, res *resolved) ([]*metaPoint, error) {
	rows, err := e.query(ctx, res, "meta-analytics")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	latest := map[string]*metaPoint{}
	for rows.Next() {
		p := &metaPoint{}
		var ts int64
		var template, props *string
		if err := rows.Scan(&p.id, &ts, &template, &props); err != nil {
			return nil, fmt.Errorf("read meta-analytics: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(deref(props)))
		dec.UseNumber()
		if err := dec.Decode(&p.props); err != nil {
			return nil, fmt.Errorf("read meta-analytics: event %s: %w", p.id, err)
		}
		p.template, p.day = deref(template), ts/86_400_000
		old := latest[p.props.Key]
		if old == nil || cmp.Or(cmp.Compare(p.props.Fetched, old.props.Fetched), cmp.Compare(p.id, old.id)) > 0 {
			latest[p.props.Key] = p
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]*metaPoint, 0, len(latest))
	for _, p := range latest {
		out = append(out, p)
	}
	return out, nil
}

// ownGroup is omnikpi's delivered messages of a day and pricing key, with
// their cost per currency.
type ownGroup struct {
	day                    int64
	category, typ, country string
	template               string
	delivered              int64
	unpriced               int64
	cost                   map[string]*big.Rat
}

func (g *ownGroup) add(n int64, c store.Charge) {
	g.delivered += n
	if c.Minor == nil || c.Currency == "" {
		if !c.Free {
			g.unpriced += n
		}
		return
	}
	if g.cost == nil {
		g.cost = map[string]*big.Rat{}
	}
	sum := g.cost[c.Currency]
	if sum == nil {
		sum = new(big.Rat)
		g.cost[c.Currency] = sum
	}
	sum.Add(sum, new(big.Rat).Mul(c.Minor, new(big.Rat).SetInt64(n)))
}

// templateDay is omnikpi's counts of a template on a day.
type templateDay struct{ sent, delivered, read, clicked int64 }

// ownFigures prices the period's delivered messages (by day, category,
// type, country and template) and counts its template messages by day.
func (e *Engine) ownFigures(ctx context.Context, res *resolved) ([]*ownGroup, map[[2]string]*templateDay, error) {
	r := *res
	r.GroupBy, r.Bucket = nil, ""
	type key struct {
		day                              int64
		category, typ, country, template string
	}
	groups := map[key]*ownGroup{}
	err := e.priceDelivered(ctx, &r, func(p pricedRow, c store.Charge) {
		k := key{p.msg.At.UnixMilli() / 86_400_000, p.msg.Category, cmp.Or(p.msg.Type, store.Regular), p.msg.Country, deref(p.template)}
		g := groups[k]
		if g == nil {
			g = &ownGroup{day: k.day, category: k.category, typ: k.typ, country: k.country, template: k.template}
			groups[k] = g
		}
		g.add(p.n, c)
	})
	if err != nil {
		return nil, nil, err
	}
	var pricing []*ownGroup
	for _, g := range groups {
		pricing = append(pricing, g)
	}
	rows, err := e.query(ctx, &r, "template-days")
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	from, to := res.from.UnixMilli()/86_400_000, (res.to.UnixMilli()-1)/86_400_000
	templates := map[[2]string]*templateDay{}
	for rows.Next() {
		var template string
		var sent, delivered, read, clicked *float64
		var n float64
		if err := rows.Scan(&template, &sent, &delivered, &read, &clicked, &n); err != nil {
			return nil, nil, fmt.Errorf("read template-days: %w", err)
		}
		for _, f := range []struct {
			day   *float64
			field func(*templateDay) *int64
		}{
			{sent, func(t *templateDay) *int64 { return &t.sent }},
			{delivered, func(t *templateDay) *int64 { return &t.delivered }},
			{read, func(t *templateDay) *int64 { return &t.read }},
			{clicked, func(t *templateDay) *int64 { return &t.clicked }},
		} {
			if f.day == nil || int64(*f.day) < from || int64(*f.day) > to {
				continue
			}
			k := [2]string{dayText(int64(*f.day)), template}
			if templates[k] == nil {
				templates[k] = &templateDay{}
			}
			*f.field(templates[k]) += int64(n)
		}
	}
	return pricing, templates, rows.Err()
}

func dayText(day int64) string { return time.UnixMilli(day * 86_400_000).UTC().Format(time.DateOnly) }

// costCell is omnikpi's cost of some groups in currency: none, with a
// note, when some of their charged messages have no price or a price in
// another currency.
func costCell(groups []*ownGroup, currency string) (*big.Rat, string) {
	sum := new(big.Rat)
	for _, g := range groups {
		if g.unpriced > 0 {
			return nil, noteNoPrice
		}
		for cur, c := range g.cost {
			if cur != currency {
				return nil, "rate card in " + cur + ", Meta in " + currency
			}
			sum.Add(sum, c)
		}
	}
	return sum, ""
}

// reconRow makes the row of one measure.
func reconRow(base ReconciliationRow, measure string, own, meta *big.Rat, currency, note string) ReconciliationRow {
	row := base
	row.Measure, row.Note = measure, note
	if currency != "" {
		row.Currency = &currency
	}
	if own != nil {
		v := ratValue(own, currency)
		row.Omnikpi = &v
	}
	if meta != nil {
		v, _ := meta.Float64()
		row.Meta = &v
	}
	if own != nil && meta != nil {
		minor := new(big.Rat).Set(meta)
		if currency != "" {
			minor.Mul(minor, event.MinorScale(currency))
		}
		d := ratValue(new(big.Rat).Sub(own, minor), currency)
		row.Difference = &d
	}
	return row
}

// ratValue is a count, or minor units of currency in major units.
func ratValue(r *big.Rat, currency string) float64 {
	if currency == "" {
		f, _ := r.Float64()
		return f
	}
	return majorUnits(r, currency)
}

func countRat(n *int64) *big.Rat {
	if n == nil {
		return nil
	}
	return new(big.Rat).SetInt64(*n)
}

func metaCost(p *metaPoint) *big.Rat {
	if p.props.Cost == "" {
		return nil
	}
	r, _ := new(big.Rat).SetString(string(p.props.Cost))
	return r
}

// covered lists the UTC days from the earliest to the latest bucket of
// Meta's points of a type: the days its answer speaks of.
func covered(points []*metaPoint, typ string) (int64, int64, bool) {
	first, last, found := int64(0), int64(0), false
	for _, p := range points {
		if p.props.Type != typ {
			continue
		}
		if !found || p.day < first {
			first = p.day
		}
		if !found || p.day > last {
			last = p.day
		}
		found = true
	}
	return first, last, found
}

func reconcilePricing(points []*metaPoint, own []*ownGroup) []ReconciliationRow {
	type mkey struct {
		day                    int64
		category, typ, country string
	}
	type sums struct {
		volume   int64
		cost     *big.Rat
		noCost   bool
		currency string
	}
	meta := map[mkey]*sums{}
	var keys []mkey
	for _, p := range points {
		if p.props.Type != "meta_pricing_analytics" {
			continue
		}
		// Phone numbers and tiers break the same messages down: added up.
		k := mkey{p.day, p.props.Category, p.props.PricingType, p.props.Country}
		s := meta[k]
		if s == nil {
			s = &sums{cost: new(big.Rat), currency: p.props.Currency}
			meta[k] = s
			keys = append(keys, k)
		}
		s.volume += deref64(p.props.Volume)
		if c := metaCost(p); c != nil {
			s.cost.Add(s.cost, c)
		} else {
			s.noCost = true
		}
	}
	matches := func(k mkey, g *ownGroup) bool {
		return g.day == k.day && (k.category == "" || k.category == g.category) && (k.typ == "" || k.typ == g.typ) &&
			(k.country == "" || k.country == g.country)
	}
	var out []ReconciliationRow
	matched := map[*ownGroup]bool{}
	for _, k := range keys {
		s := meta[k]
		var mine []*ownGroup
		var delivered int64
		for _, g := range own {
			if matches(k, g) {
				mine = append(mine, g)
				delivered += g.delivered
				matched[g] = true
			}
		}
		base := ReconciliationRow{Day: dayText(k.day), Category: nonEmpty(k.category), PricingType: nonEmpty(k.typ), Country: nonEmpty(k.country)}
		out = append(out, reconRow(base, "delivered", new(big.Rat).SetInt64(delivered), new(big.Rat).SetInt64(s.volume), "", ""))
		if s.noCost {
			continue
		}
		cost, note := costCell(mine, s.currency)
		out = append(out, reconRow(base, "cost", cost, s.cost, s.currency, note))
	}
	// What omnikpi counts on the days Meta's answer covers and Meta does
	// not report.
	first, last, _ := covered(points, "meta_pricing_analytics")
	type okey struct {
		day                    int64
		category, typ, country string
	}
	extra := map[okey][]*ownGroup{}
	for _, g := range own {
		if !matched[g] && g.day >= first && g.day <= last {
			k := okey{g.day, g.category, g.typ, g.country}
			extra[k] = append(extra[k], g)
		}
	}
	for k, gs := range extra {
		var delivered int64
		for _, g := range gs {
			delivered += g.delivered
		}
		base := ReconciliationRow{Day: dayText(k.day), Category: nonEmpty(k.category), PricingType: nonEmpty(k.typ), Country: nonEmpty(k.country)}
		out = append(out, reconRow(base, "delivered", new(big.Rat).SetInt64(delivered), nil, "", noteNotInMeta))
	}
	return out
}

func reconcileTemplates(points []*metaPoint, own map[[2]string]*templateDay, pricing []*ownGroup) []ReconciliationRow {
	var out []ReconciliationRow
	seen := map[[2]string]bool{}
	for _, p := range points {
		if p.props.Type != "meta_template_analytics" {
			continue
		}
		k := [2]string{dayText(p.day), p.template}
		seen[k] = true
		mine := own[k]
		if mine == nil {
			mine = &templateDay{}
		}
		base := ReconciliationRow{Day: k[0], Template: nonEmpty(p.template), TemplateID: nonEmpty(p.props.TemplateID)}
		for _, m := range []struct {
			name string
			own  int64
			meta *int64
		}{{"sent", mine.sent, p.props.Sent}, {"delivered", mine.delivered, p.props.Delivered},
			{"read", mine.read, p.props.Read}, {"clicked", mine.clicked, p.props.Clicked}} {
			if m.meta != nil {
				out = append(out, reconRow(base, m.name, new(big.Rat).SetInt64(m.own), countRat(m.meta), "", ""))
			}
		}
		if c := metaCost(p); c != nil {
			var groups []*ownGroup
			for _, g := range pricing {
				if g.template == p.template && dayText(g.day) == k[0] {
					groups = append(groups, g)
				}
			}
			cost, note := costCell(groups, p.props.Currency)
			out = append(out, reconRow(base, "cost", cost, c, p.props.Currency, note))
		}
	}
	first, last, _ := covered(points, "meta_template_analytics")
	for k, mine := range own {
		day, _ := time.Parse(time.DateOnly, k[0])
		d := day.UnixMilli() / 86_400_000
		if seen[k] || d < first || d > last {
			continue
		}
		base := ReconciliationRow{Day: k[0], Template: nonEmpty(k[1])}
		for _, m := range []struct {
			name string
			n    int64
		}{{"sent", mine.sent}, {"delivered", mine.delivered}, {"read", mine.read}, {"clicked", mine.clicked}} {
			if m.n > 0 {
				out = append(out, reconRow(base, m.name, new(big.Rat).SetInt64(m.n), nil, "", noteNotInMeta))
			}
		}
	}
	return out
}

var _ = register(View{
	Name: "reconciliation", Path: "/v1/costs/reconciliation", Schema: "ReconciliationReport", Request: true,
	Summary: "omnikpi's delivered messages and cost by UTC day, pricing category, type and country, and each template's sent, delivered, read, clicked and cost, beside Meta's pricing and template analytics, with the difference",
	Columns: reconciliationColumns,
	Run: func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) {
		return e.Reconcile(ctx, r)
	},
	New: func(Params) Result { return &ReconciliationReport{} },
})

var reconciliationColumns = []Column{
	{Name: "day", Type: TypeString, Doc: "UTC, as Meta's buckets"},
	{Name: "template", Type: TypeString}, {Name: "template_id", Type: TypeString, Doc: "Meta's"},
	{Name: "category", Type: TypeString, Doc: "pricing category; empty when Meta's answer has no such breakdown"},
	{Name: "pricing_type", Type: TypeString}, {Name: "country", Type: TypeString},
	{Name: "measure", Type: TypeString, Doc: "sent, delivered, read, clicked or cost"},
	{Name: "omnikpi", Type: TypeNumber}, {Name: "meta", Type: TypeNumber},
	{Name: "difference", Type: TypeNumber, Doc: "omnikpi − Meta"},
	{Name: "currency", Type: TypeString, Doc: "of a cost"},
	{Name: "note", Type: TypeString},
}

// Table is a row per day, pricing key or template, and measure.
func (rep ReconciliationReport) Table() Table {
	t := Table{Title: fmt.Sprintf("omnikpi beside Meta, %s to %s (UTC days), workspace %s", rep.From, rep.To, rep.Workspace),
		Columns: reconciliationColumns}
	for _, r := range rep.Rows {
		t.Rows = append(t.Rows, []any{r.Day, r.Template, r.TemplateID, r.Category, r.PricingType, r.Country, r.Measure,
			r.Omnikpi, r.Meta, r.Difference, r.Currency, r.Note})
	}
	return t
}
