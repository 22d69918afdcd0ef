package kpi

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// Segments (KPIS.md §5) group customers four ways, each named
// "family:segment":
//
//	rfm           recency, frequency and monetary value of the year's
//	              orders, each scored in quintiles (5 best; money among
//	              customers of the same currency): champions (R, F and M
//	              ≥ 4), loyal (F ≥ 4), new (R ≥ 4, one order), at_risk
//	              (R ≤ 2, F ≥ 3), hibernating (R ≤ 2, F ≤ 2), promising
//	rpc           revenue per conversation over the year, in tertiles among
//	              customers of the same currency: low, mid, high
//	response      the median first response time of the customer's
//	              conversations in the period against the catalogue's
//	              6–15 s: fast, within, slow
//	satisfaction  the latest NPS answer (promoter, passive, detractor), or
//	              else the latest CSAT (satisfied 4–5, unsatisfied)
//
// A segment filters every KPI and view (segment=rfm:champions): it stands
// for its customers.

// SegmentFamilies are the ways customers are segmented.
var SegmentFamilies = []string{"rfm", "rpc", "response", "satisfaction"}

// SegmentNames are the segments of each family.
var SegmentNames = map[string][]string{
	"rfm":          {"champions", "loyal", "new", "at_risk", "hibernating", "promising"},
	"rpc":          {"low", "mid", "high"},
	"response":     {"fast", "within", "slow"},
	"satisfaction": {"promoter", "passive", "detractor", "satisfied", "unsatisfied"},
}

// checkSegment refuses a segment that no family has, naming the ones there
// are.
func checkSegment(segment string) error {
	family, name, ok := strings.Cut(segment, ":")
	if !ok || !contains(SegmentFamilies, family) || name == "" {
		return &RequestError{Field: "segment", Reason: quote(segment) + " must be family:segment, the family one of " + strings.Join(SegmentFamilies, ", ")}
	}
	if !contains(SegmentNames[family], name) {
		return &RequestError{Field: "segment", Reason: "unknown segment " + quote(segment) + ": the " + family + " segments are " + strings.Join(SegmentNames[family], ", ")}
	}
	return nil
}

// segmentYear is how far back the history of RFM, RPC and satisfaction
// reaches from the period's end.
const segmentYear = 365 * 24 * time.Hour

// segmentsOf returns each customer's segment in every family, from the
// memo of a Segments call when it holds them.
func (e *Engine) segmentsOf(ctx context.Context, res *resolved) (map[string]map[string]string, error) {
	memo, _ := ctx.Value(segmentMemoKey{}).(*segmentMemo)
	if memo == nil {
		return e.segment(ctx, res)
	}
	k := segmentKey{res.Workspace, res.from.UnixMilli(), res.to.UnixMilli()}
	memo.mu.Lock()
	defer memo.mu.Unlock()
	if segs, ok := memo.segs[k]; ok {
		return segs, nil
	}
	segs, err := e.segment(ctx, res)
	if err == nil {
		memo.segs[k] = segs
	}
	return segs, err
}

// segmentMemo keeps the segmentations made during one Segments call: each
// segment's report, and its comparisons, narrow to the customers of the
// same segmentation instead of segmenting every customer again. A
// segmentation reads the workspace's history up to the period's end and
// its conversations around the period, never the request's filters, so
// the workspace and the period are its key.
type segmentMemo struct {
	mu   sync.Mutex
	segs map[segmentKey]map[string]map[string]string
}

type segmentKey struct {
	workspace string
	from, to  int64 // Unix ms
}

type segmentMemoKey struct{}

// segment computes each customer's segment in every family.
func (e *Engine) segment(ctx context.Context, res *resolved) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	set := func(customer, family, seg string) {
		if out[customer] == nil {
			out[customer] = map[string]string{}
		}
		out[customer][family] = seg
	}
	year := span{res.to.Add(-segmentYear), res.to}
	type buyer struct {
		currency             string
		orders, last, amount float64
	}
	buyers := map[string]*buyer{}
	err := e.eachRow(ctx, res, "segment-orders", year, func(scan func(...any) error) error {
		var customer, currency string
		var orders, last, amount float64
		if err := scan(&customer, &currency, &orders, &last, &amount); err != nil {
			return err
		}
		// A customer's currency is the one of most orders.
		if b := buyers[customer]; b == nil || orders > b.orders || (orders == b.orders && currency < b.currency) {
			buyers[customer] = &buyer{currency, orders, last, amount}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var names []string
	for c := range buyers {
		names = append(names, c)
	}
	sort.Strings(names)
	r := quintiles(names, func(c string) float64 { return buyers[c].last }, nil)
	f := quintiles(names, func(c string) float64 { return buyers[c].orders }, nil)
	m := quintiles(names, func(c string) float64 { return buyers[c].amount }, func(c string) string { return buyers[c].currency })
	for _, c := range names {
		seg := "promising"
		switch {
		case r[c] >= 4 && f[c] >= 4 && m[c] >= 4:
			seg = "champions"
		case f[c] >= 4:
			seg = "loyal"
		case r[c] >= 4 && buyers[c].orders == 1:
			seg = "new"
		case r[c] <= 2 && f[c] >= 3:
			seg = "at_risk"
		case r[c] <= 2:
			seg = "hibernating"
		}
		set(c, "rfm", seg)
	}

	conversations := map[string]float64{}
	if err := e.eachRow(ctx, res, "segment-conversations", year, func(scan func(...any) error) error {
		var customer string
		var n float64
		if err := scan(&customer, &n); err != nil {
			return err
		}
		conversations[customer] = n
		return nil
	}); err != nil {
		return nil, err
	}
	var talkers []string
	for c := range conversations {
		talkers = append(talkers, c)
	}
	sort.Strings(talkers)
	rpc := func(c string) float64 {
		if b := buyers[c]; b != nil {
			return b.amount / conversations[c]
		}
		return 0
	}
	currency := func(c string) string {
		if b := buyers[c]; b != nil {
			return b.currency
		}
		return ""
	}
	for c, q := range quintiles(talkers, rpc, currency) {
		set(c, "rpc", []string{"", "low", "low", "mid", "high", "high"}[q])
	}

	latest := map[string]map[string]float64{}
	if err := e.eachRow(ctx, res, "segment-surveys", year, func(scan func(...any) error) error {
		var customer string
		var survey *string
		var score *float64
		if err := scan(&customer, &survey, &score); err != nil {
			return err
		}
		if survey != nil && score != nil {
			if latest[customer] == nil {
				latest[customer] = map[string]float64{}
			}
			latest[customer][*survey] = *score
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for c, answers := range latest {
		if seg := satisfaction(answers); seg != "" {
			set(c, "satisfaction", seg)
		}
	}

	sessions, err := e.sessions(ctx, res)
	if err != nil {
		return nil, err
	}
	frts := map[string][]float64{}
	for _, s := range sessions {
		if s.FirstReply != nil && s.Dims["customer"] != nil {
			c := *s.Dims["customer"]
			frts[c] = append(frts[c], float64(s.FirstReply.At-s.FirstReply.From)/1000)
		}
	}
	for c, samples := range frts {
		median := *statistic(samples, statMedian).value
		seg := "within"
		if median < *frtBand.Low {
			seg = "fast"
		} else if median > *frtBand.High {
			seg = "slow"
		}
		set(c, "response", seg)
	}
	return out, nil
}

// satisfaction names a customer's satisfaction from their latest answers.
func satisfaction(answers map[string]float64) string {
	if nps, ok := answers["nps"]; ok {
		switch {
		case nps >= 9:
			return "promoter"
		case nps >= 7:
			return "passive"
		}
		return "detractor"
	}
	if csat, ok := answers["csat"]; ok {
		if csat >= 4 {
			return "satisfied"
		}
		return "unsatisfied"
	}
	return ""
}

// quintiles scores each name 1–5 by value, higher values better; equal
// values share a score. With group, names are ranked within their group.
func quintiles(names []string, value func(string) float64, group func(string) string) map[string]int {
	groups := map[string][]string{}
	for _, n := range names {
		g := ""
		if group != nil {
			g = group(n)
		}
		groups[g] = append(groups[g], n)
	}
	out := map[string]int{}
	for _, list := range groups {
		sort.SliceStable(list, func(a, b int) bool { return value(list[a]) < value(list[b]) })
		first := 0
		for i, n := range list {
			if i > 0 && value(n) != value(list[i-1]) {
				first = i
			}
			out[n] = 1 + int(math.Floor(5*float64(first)/float64(len(list))))
		}
	}
	return out
}

// eachRow runs a query over sp and hands each row's Scan to fn.
func (e *Engine) eachRow(ctx context.Context, res *resolved, query string, sp span, fn func(scan func(...any) error) error) error {
	rows, err := e.queryOver(ctx, res, query, sp)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return fmt.Errorf("read %s: %w", query, err)
		}
	}
	return rows.Err()
}

// applySegment narrows res to the customers of its segment.
func (e *Engine) applySegment(ctx context.Context, res *resolved) error {
	if err := checkSegment(res.Segment); err != nil {
		return err
	}
	family, name, _ := strings.Cut(res.Segment, ":")
	// Segments are computed without the request's own filters.
	plain := *res
	plain.Filters = nil
	segs, err := e.segmentsOf(ctx, &plain)
	if err != nil {
		return err
	}
	var members []string
	for c, bySeg := range segs {
		if bySeg[family] == name && (len(res.Filters["customer"]) == 0 || contains(res.Filters["customer"], c)) {
			members = append(members, c)
		}
	}
	sort.Strings(members)
	if len(members) == 0 {
		members = []string{"\x00"} // no customer has this id: the segment is empty
	}
	filters := map[string][]string{}
	for k, v := range res.Filters {
		filters[k] = v
	}
	filters["customer"] = members
	res.Filters = filters
	return nil
}

// SegmentRow is one segment's size and KPIs.
type SegmentRow struct {
	Segment   string  `json:"segment"`
	Customers int     `json:"customers"`
	KPIs      []Value `json:"kpis"`
}

// SegmentReport is a family's segments side by side.
type SegmentReport struct {
	Workspace string       `json:"workspace"`
	From      string       `json:"from"`
	To        string       `json:"to"`
	Family    string       `json:"family"`
	Segments  []SegmentRow `json:"segments"`
}

// segmentKPIs are shown per segment when the request names none.
var segmentKPIs = []string{"transactions", "gross_revenue", "aov", "messages_sent", "open_rate", "ctr", "csat"}

// Segments computes the request's KPIs for each segment of a family.
func (e *Engine) Segments(ctx context.Context, r Request, family string) (SegmentReport, error) {
	if family == "" {
		family = "rfm"
	}
	if !contains(SegmentFamilies, family) {
		return SegmentReport{}, &RequestError{Field: "family", Reason: quote(family) + " must be one of " + strings.Join(SegmentFamilies, ", ")}
	}
	if len(r.KPIs) == 0 {
		r.KPIs = segmentKPIs
	}
	r.GroupBy, r.Bucket, r.Segment = nil, "", ""
	ctx = context.WithValue(ctx, segmentMemoKey{}, &segmentMemo{segs: map[segmentKey]map[string]map[string]string{}})
	res, err := e.prepare(ctx, r)
	if err != nil {
		return SegmentReport{}, err
	}
	segs, err := e.segmentsOf(ctx, res)
	if err != nil {
		return SegmentReport{}, err
	}
	sizes := map[string]int{}
	for _, bySeg := range segs {
		if s, ok := bySeg[family]; ok {
			sizes[s]++
		}
	}
	var names []string
	for s := range sizes {
		names = append(names, s)
	}
	sort.Strings(names)
	rep := SegmentReport{Workspace: res.Workspace, From: res.fromText(),
		To: res.toText(), Family: family, Segments: []SegmentRow{}}
	for _, s := range names {
		r.Segment = family + ":" + s
		one, err := e.Compute(ctx, r)
		if err != nil {
			return SegmentReport{}, err
		}
		row := SegmentRow{Segment: r.Segment, Customers: sizes[s]}
		if len(one.Rows) > 0 {
			row.KPIs = one.Rows[0].KPIs
		}
		rep.Segments = append(rep.Segments, row)
	}
	return rep, nil
}

var _ = register(View{
	Name: "segments", Path: "/v1/segments", Schema: "SegmentReport", Request: true,
	Summary: "KPIs per customer segment",
	Params:  []Param{{Name: "family", Doc: "rfm, rpc, response or satisfaction", Enum: SegmentFamilies}},
	Columns: []Column{
		{Name: "segment", Type: TypeString, Doc: "family:segment"}, {Name: "customers", Type: TypeInteger, Unit: Count},
		{Name: "<kpi>*", Type: TypeNumber, Doc: "a column per figure, as in /v1/kpis"},
	},
	Run: func(ctx context.Context, e *Engine, r Request, p Params) (Result, error) {
		return e.Segments(ctx, r, p["family"])
	},
	New: func(Params) Result { return &SegmentReport{} },
})

// Table is a row per segment, a column per figure.
func (rep SegmentReport) Table() Table {
	var figs [][]Value
	for _, s := range rep.Segments {
		figs = append(figs, s.KPIs)
	}
	cols, fill := figureTable(figs)
	t := Table{Title: fmt.Sprintf("Segments by %s, workspace %s, %s to %s", rep.Family, rep.Workspace, rep.From, rep.To),
		Columns: append([]Column{{Name: "segment", Type: TypeString}, {Name: "customers", Type: TypeInteger, Unit: Count}}, cols...)}
	for _, s := range rep.Segments {
		t.Rows = append(t.Rows, append([]any{s.Segment, s.Customers}, fill(s.KPIs)...))
	}
	return t
}
