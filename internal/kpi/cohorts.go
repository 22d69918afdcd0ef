package kpi

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
)

// CohortCell is what a cohort did in one period after its first: k = 0 is
// the first period itself.
type CohortCell struct {
	Period   int     `json:"period"`
	Active   int     `json:"active"`   // customers with any event in the period
	Buyers   int     `json:"buyers"`   // customers who placed an order in it
	Retained float64 `json:"retained"` // active ÷ cohort size × 100
	Bought   float64 `json:"bought"`   // buyers ÷ cohort size × 100
	// Revenue is the cumulative revenue per customer of the cohort up to
	// this period, per currency, in major units.
	Revenue map[string]float64 `json:"revenue_per_customer"`
}

// Cohort is the customers whose first event fell in one period.
type Cohort struct {
	Start     string       `json:"start"` // the period's local start, RFC 3339
	Customers int          `json:"customers"`
	Cells     []CohortCell `json:"periods"`
}

// CohortReport is the retention and revenue matrix.
type CohortReport struct {
	Workspace string   `json:"workspace"`
	From      string   `json:"from"`
	To        string   `json:"to"`
	TimeZone  string   `json:"time_zone"`
	Period    string   `json:"period"` // week or month
	Cohorts   []Cohort `json:"cohorts"`
}

// Cohorts groups the customers whose first event ever falls in the period
// by its week or month, and follows each cohort through the later periods
// up to the report's end.
func (e *Engine) Cohorts(ctx context.Context, r Request, period string) (CohortReport, error) {
	if period == "" {
		period = "month"
	}
	if period != "week" && period != "month" {
		return CohortReport{}, &RequestError{Field: "period", Reason: quote(period) + " must be week or month"}
	}
	r.GroupBy, r.Bucket = nil, period
	res, err := e.prepare(ctx, r)
	if err != nil {
		return CohortReport{}, err
	}
	first := map[string]time.Time{}
	rows, err := e.query(ctx, res, "cohort-first")
	if err != nil {
		return CohortReport{}, err
	}
	for rows.Next() {
		var customer string
		var ms int64
		if err := rows.Scan(&customer, &ms); err != nil {
			rows.Close()
			return CohortReport{}, fmt.Errorf("read cohort-first: %w", err)
		}
		first[customer] = bucketStart(time.UnixMilli(ms).In(res.Location), period)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return CohortReport{}, err
	}
	type cell struct {
		active, buyers int
		revenue        map[string]int64
	}
	cohorts := map[time.Time]map[int]*cell{}
	sizes := map[time.Time]int{}
	for _, start := range first {
		sizes[start]++
		if cohorts[start] == nil {
			cohorts[start] = map[int]*cell{}
		}
	}
	at := func(start time.Time, k int) *cell {
		if cohorts[start][k] == nil {
			cohorts[start][k] = &cell{revenue: map[string]int64{}}
		}
		return cohorts[start][k]
	}
	index := func(start time.Time, bucket string) (int, bool) {
		t, err := time.ParseInLocation("2006-01-02 15:04:05", bucket, res.Location)
		if err != nil || t.Before(start) {
			return 0, false
		}
		if period == "month" {
			return (t.Year()-start.Year())*12 + int(t.Month()-start.Month()), true
		}
		return int(math.Round(t.Sub(start).Hours() / (7 * 24))), true
	}
	if rows, err = e.query(ctx, res, "cohort-activity"); err != nil {
		return CohortReport{}, err
	}
	for rows.Next() {
		var customer, bucket string
		var orders float64
		if err := rows.Scan(&customer, &bucket, &orders); err != nil {
			rows.Close()
			return CohortReport{}, fmt.Errorf("read cohort-activity: %w", err)
		}
		start, ok := first[customer]
		if !ok {
			continue
		}
		if k, ok := index(start, bucket); ok {
			c := at(start, k)
			c.active++
			if orders > 0 {
				c.buyers++
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return CohortReport{}, err
	}
	if rows, err = e.query(ctx, res, "cohort-revenue"); err != nil {
		return CohortReport{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var customer, bucket, currency string
		var amount float64
		if err := rows.Scan(&customer, &bucket, &currency, &amount); err != nil {
			return CohortReport{}, fmt.Errorf("read cohort-revenue: %w", err)
		}
		start, ok := first[customer]
		if !ok {
			continue
		}
		if k, ok := index(start, bucket); ok {
			at(start, k).revenue[currency] += int64(amount)
		}
	}
	if err := rows.Err(); err != nil {
		return CohortReport{}, err
	}
	rep := CohortReport{Workspace: res.Workspace, From: res.fromText(),
		To: res.toText(), TimeZone: res.Location.String(), Period: period, Cohorts: []Cohort{}}
	var starts []time.Time
	for s := range cohorts {
		starts = append(starts, s)
	}
	sort.Slice(starts, func(a, b int) bool { return starts[a].Before(starts[b]) })
	for _, start := range starts {
		n := sizes[start]
		co := Cohort{Start: start.Format(time.RFC3339), Customers: n}
		periods := 0
		for t := start; t.Before(res.to); periods++ {
			if period == "month" {
				t = start.AddDate(0, periods+1, 0)
			} else {
				t = start.AddDate(0, 0, 7*(periods+1))
			}
		}
		total := map[string]int64{}
		for k := 0; k < periods; k++ {
			c := cohorts[start][k]
			if c == nil {
				c = &cell{revenue: map[string]int64{}}
			}
			for cur, v := range c.revenue {
				total[cur] += v
			}
			cc := CohortCell{Period: k, Active: c.active, Buyers: c.buyers,
				Retained: float64(c.active) / float64(n) * 100, Bought: float64(c.buyers) / float64(n) * 100, Revenue: map[string]float64{}}
			for cur, v := range total {
				if res.keepsCurrency(cur) {
					cc.Revenue[cur] = float64(v) / math.Pow10(event.MinorDigits(cur)) / float64(n)
				}
			}
			co.Cells = append(co.Cells, cc)
		}
		rep.Cohorts = append(rep.Cohorts, co)
	}
	return rep, nil
}

var _ = register(View{
	Name: "cohorts", Path: "/v1/cohorts", Schema: "CohortReport", Request: true,
	Summary: "Retention, repeat purchase and revenue per customer by cohort",
	Params:  []Param{{Name: "period", Doc: "week or month", Enum: []string{"week", "month"}}},
	Columns: append(append([]Column{}, cohortColumns...), Column{Name: "revenue_per_customer*", Type: TypeNumber, Unit: Money,
		Doc: "cumulative up to the period, a column per currency"}),
	Run: func(ctx context.Context, e *Engine, r Request, p Params) (Result, error) {
		return e.Cohorts(ctx, r, p["period"])
	},
	New: func(Params) Result { return &CohortReport{} },
})

var cohortColumns = []Column{
	{Name: "cohort", Type: TypeTime, Doc: "the start of the cohort's first week or month"}, {Name: "customers", Type: TypeInteger, Unit: Count},
	{Name: "period", Type: TypeInteger, Doc: "weeks or months after the first, 0 the first"},
	{Name: "active", Type: TypeInteger, Unit: Count}, {Name: "buyers", Type: TypeInteger, Unit: Count},
	{Name: "retained", Type: TypeNumber, Unit: Percent, Digits: digits(1)}, {Name: "bought", Type: TypeNumber, Unit: Percent, Digits: digits(1)},
}

// Table is a row per cohort and later period, revenue a column per
// currency.
func (rep CohortReport) Table() Table {
	var currencies []string
	for _, c := range rep.Cohorts {
		for _, p := range c.Cells {
			for cur := range p.Revenue {
				if !slices.Contains(currencies, cur) {
					currencies = append(currencies, cur)
				}
			}
		}
	}
	sort.Strings(currencies)
	t := Table{Title: fmt.Sprintf("Cohorts by %s of first event, workspace %s, %s to %s (%s)", rep.Period, rep.Workspace, rep.From, rep.To, rep.TimeZone),
		Columns: slices.Clone(cohortColumns)}
	for _, cur := range currencies {
		t.Columns = append(t.Columns, Column{Name: "revenue_per_customer", Type: TypeNumber, Unit: Money, Currency: cur, Digits: digits(2)})
	}
	for _, c := range rep.Cohorts {
		for _, p := range c.Cells {
			row := []any{c.Start, c.Customers, p.Period, p.Active, p.Buyers, p.Retained, p.Bought}
			for _, cur := range currencies {
				if v, ok := p.Revenue[cur]; ok {
					row = append(row, v)
				} else {
					row = append(row, nil)
				}
			}
			t.Rows = append(t.Rows, row)
		}
	}
	return t
}
