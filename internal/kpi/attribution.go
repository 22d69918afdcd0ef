package kpi

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Models are the attribution models, in the order reports show them.
var Models = []string{"first_touch", "last_touch", "linear", "time_decay", "position_based"}

// weights are each model's shares of one purchase among its touchpoints
// (in time order, ages in ms before the purchase).
func weights(model string, ages []int64, halfLife time.Duration) []float64 {
	n := len(ages)
	w := make([]float64, n)
	switch model {
	case "first_touch":
		w[0] = 1
	case "last_touch":
		w[n-1] = 1
	case "linear":
		for i := range w {
			w[i] = 1
		}
	case "time_decay":
		for i, age := range ages {
			w[i] = math.Exp2(-float64(age) / float64(halfLife.Milliseconds()))
		}
	case "position_based": // 40 % first, 40 % last, 20 % spread over the middle
		switch n {
		case 1:
			w[0] = 1
		case 2:
			w[0], w[1] = 0.5, 0.5
		default:
			w[0], w[n-1] = 0.4, 0.4
			for i := 1; i < n-1; i++ {
				w[i] = 0.2 / float64(n-2)
			}
		}
	}
	return w
}

// split divides amount minor units by weights exactly: each share is
// rounded down and the units left go to the largest remainders (ties to
// the earlier touch), so the shares add up to the amount.
func split(amount int64, w []float64) []int64 {
	total := 0.0
	for _, x := range w {
		total += x
	}
	if total == 0 { // every weight underflowed: share alike
		for i := range w {
			w[i] = 1
		}
		total = float64(len(w))
	}
	shares := make([]int64, len(w))
	rest := make([]float64, len(w))
	var given int64
	for i, x := range w {
		exact := float64(amount) * x / total
		shares[i] = int64(math.Floor(exact))
		rest[i] = exact - float64(shares[i])
		given += shares[i]
	}
	order := make([]int, len(w))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rest[order[a]] > rest[order[b]] })
	for k := 0; given < amount; k = (k + 1) % len(order) {
		shares[order[k]]++
		given++
	}
	return shares
}

// Credit is what one model gives a row: revenue in major units and a
// share of conversions.
type Credit struct {
	Revenue     float64 `json:"revenue"`
	Conversions float64 `json:"conversions"`
	revenue     int64   // minor units, exact
}

// AttributionRow is one touch dimension's credit under every model.
type AttributionRow struct {
	Channel  *string           `json:"channel,omitempty"`
	Campaign *string           `json:"campaign,omitempty"`
	Source   *string           `json:"source,omitempty"`
	Currency string            `json:"currency"`
	Credits  map[string]Credit `json:"credits"` // by model
}

// AttributionReport credits the period's orders to their touchpoints.
type AttributionReport struct {
	Workspace string           `json:"workspace"`
	From      string           `json:"from"`
	To        string           `json:"to"`
	TimeZone  string           `json:"time_zone"`
	By        []string         `json:"by"`
	Lookback  string           `json:"lookback"`
	HalfLife  string           `json:"half_life"`
	Models    []string         `json:"models"`
	Orders    int              `json:"orders"`
	Rows      []AttributionRow `json:"rows"`
}

// AttributionDims are the touch dimensions credit can be split by.
var AttributionDims = []string{"channel", "campaign", "source"}

// Attribution credits each order of the period to the customer's
// touchpoints in the lookback window before it, under every model, by the
// touch dimensions by (default channel). An order without a touchpoint
// (one that names no customer has none) is credited to a row without
// values, so each model's rows add up to the period's revenue.
func (e *Engine) Attribution(ctx context.Context, r Request, by []string) (AttributionReport, error) {
	if len(by) == 0 {
		by = []string{"channel"}
	}
	for _, d := range by {
		if !contains(AttributionDims, d) {
			return AttributionReport{}, &RequestError{Field: "by", Reason: quote(d) + " must be one of " + strings.Join(AttributionDims, ", ")}
		}
	}
	r.GroupBy, r.Bucket = nil, ""
	res, err := e.prepare(ctx, r)
	if err != nil {
		return AttributionReport{}, err
	}
	j, err := e.readJourneys(ctx, res)
	if err != nil {
		return AttributionReport{}, err
	}
	rep := AttributionReport{Workspace: res.Workspace, From: res.fromText(),
		To: res.toText(), TimeZone: res.Location.String(), By: by,
		Lookback: store.FormatDuration(res.lookback()), HalfLife: store.FormatDuration(res.halfLife()), Models: Models, Rows: []AttributionRow{}}
	rows := map[string]*AttributionRow{}
	row := func(t *touch, currency string) *AttributionRow {
		var key strings.Builder
		ar := AttributionRow{Currency: currency, Credits: map[string]Credit{}}
		for _, d := range by {
			var v *string
			if t != nil {
				switch d {
				case "channel":
					v, ar.Channel = t.channel, t.channel
				case "campaign":
					v, ar.Campaign = t.campaign, t.campaign
				case "source":
					v, ar.Source = t.source, t.source
				}
			}
			key.WriteString(deref(v) + "\x00")
		}
		key.WriteString(currency)
		if rows[key.String()] == nil {
			rows[key.String()] = &ar
		}
		return rows[key.String()]
	}
	for _, o := range j.orders {
		rep.Orders++
		touches := j.touchesBefore(o.customer, o.ts, res.lookback())
		if len(touches) == 0 {
			r := row(nil, o.currency)
			for _, m := range Models {
				c := r.Credits[m]
				c.revenue += o.amount
				c.Conversions++
				r.Credits[m] = c
			}
			continue
		}
		ages := make([]int64, len(touches))
		for i, t := range touches {
			ages[i] = o.ts - t.ts
		}
		for _, m := range Models {
			w := weights(m, ages, res.halfLife())
			total := 0.0
			for _, x := range w {
				total += x
			}
			for i, share := range split(o.amount, w) {
				if w[i] == 0 {
					continue
				}
				r := row(touches[i], o.currency)
				c := r.Credits[m]
				c.revenue += share
				c.Conversions += w[i] / total
				r.Credits[m] = c
			}
		}
	}
	for _, r := range rows {
		if !res.keepsCurrency(r.Currency) {
			continue
		}
		for m, c := range r.Credits {
			c.Revenue = float64(c.revenue) / math.Pow10(event.MinorDigits(r.Currency))
			r.Credits[m] = c
		}
		rep.Rows = append(rep.Rows, *r)
	}
	sort.Slice(rep.Rows, func(a, b int) bool {
		x, y := rep.Rows[a], rep.Rows[b]
		if x.Currency != y.Currency {
			return x.Currency < y.Currency
		}
		if x.Credits["linear"].revenue != y.Credits["linear"].revenue {
			return x.Credits["linear"].revenue > y.Credits["linear"].revenue
		}
		return deref(x.Channel)+deref(x.Campaign)+deref(x.Source) < deref(y.Channel)+deref(y.Campaign)+deref(y.Source)
	})
	return rep, nil
}

var _ = register(View{
	Name: "attribution", Path: "/v1/attribution", Schema: "AttributionReport", Request: true,
	Summary: "Revenue and conversions credited under first, last, linear, time-decay and position-based models",
	Params: []Param{
		{Name: "by", Doc: "Touch dimensions", Example: "channel,campaign"},
		{Name: "lookback", InRequest: true, Doc: "Lookback window, a duration such as 30d or 12h (default 30d)", Example: "30d"},
		{Name: "half_life", InRequest: true, Doc: "Time-decay half-life, a duration such as 7d or 36h (default 7d)", Example: "7d"},
	},
	Columns: []Column{
		{Name: "<dimension>*", Type: TypeString, Doc: "a column per touch dimension of by"},
		{Name: "currency", Type: TypeString},
		{Name: "<model>_revenue*", Type: TypeNumber, Unit: Money, Doc: "per model, in the row's currency"},
		{Name: "<model>_conversions*", Type: TypeNumber, Doc: "per model, a share of orders"},
	},
	Run: func(ctx context.Context, e *Engine, r Request, p Params) (Result, error) {
		return e.Attribution(ctx, r, p.List("by"))
	},
	New: func(Params) Result { return &AttributionReport{} },
})

// Table is a row per touch dimension value and currency, the models side
// by side.
func (rep AttributionReport) Table() Table {
	t := Table{Title: fmt.Sprintf("Attribution of workspace %s, %s to %s (%s): %d orders, lookback %s, half-life %s",
		rep.Workspace, rep.From, rep.To, rep.TimeZone, rep.Orders, rep.Lookback, rep.HalfLife)}
	for _, d := range rep.By {
		t.Columns = append(t.Columns, Column{Name: d, Type: TypeString})
	}
	t.Columns = append(t.Columns, Column{Name: "currency", Type: TypeString})
	for _, m := range rep.Models {
		t.Columns = append(t.Columns, Column{Name: m + "_revenue", Type: TypeNumber, Unit: Money}, Column{Name: m + "_conversions", Type: TypeNumber, Digits: digits(2)})
	}
	for _, r := range rep.Rows {
		var cells []any
		for _, d := range rep.By {
			cells = append(cells, map[string]*string{"channel": r.Channel, "campaign": r.Campaign, "source": r.Source}[d])
		}
		cells = append(cells, r.Currency)
		for _, m := range rep.Models {
			c := r.Credits[m]
			cells = append(cells, c.Revenue, c.Conversions)
		}
		t.Rows = append(t.Rows, cells)
	}
	return t
}
