package kpi

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Dimensions a request may filter and group by.
var Dimensions = append([]string{"channel", "campaign", "template", "variant", "agent", "team", "customer", "class"}, EventDimensions...)

// Classes of outbound messages (KPIS.md §1), the values of the class
// dimension: agent and bot replies and messages billed as service are
// conversation messages, every other outbound message a campaign message.
// Class is a dimension of messages only; inbound messages have none.
var Classes = []string{"campaign", "conversation"}

// EventDimensions are the dimensions of visits, clicks and social events,
// which messages, orders and conversations do not have: grouped by one of
// them, those KPIs fall into the group without a value.
var EventDimensions = []string{"source", "medium", "utm_campaign", "platform"}

// Buckets a request may split time into, in the workspace's time zone.
var Buckets = []string{"hour", "day", "week", "month"}

// Request asks for KPIs of one workspace over [From, To).
type Request struct {
	Workspace string
	// From and To are RFC 3339 times or dates (2026-01-31) in the report's
	// time zone; To is exclusive. Empty To is now; empty From is 30 days
	// before To.
	From, To string
	KPIs     []string            // catalogue ids; empty means every KPI
	GroupBy  []string            // from Dimensions
	Bucket   string              // "" or one of Buckets
	Filters  map[string][]string // dimension → accepted values
	TimeZone string              // overrides the workspace's zone when set
	// Hours counts response and resolution times in "wall" clock time (the
	// default) or in the workspace's "business" hours.
	Hours string
	// Lookback and HalfLife tune attribution: how far before a purchase a
	// touchpoint counts (default 30 days) and the time-decay half-life
	// (default 7 days).
	Lookback, HalfLife time.Duration
	// Compare adds to each figure the same figure of the "previous" period
	// (just before: as many local days for a period of whole days, as many
	// months for whole months, else as long) and of "last_year" (the same
	// local dates and times a year earlier), with the change.
	Compare []string
	// Segment narrows the request to a segment's customers, such as
	// rfm:champions (see SegmentFamilies).
	Segment string
	// Currencies keeps only the money figures (and attributed orders) in
	// these ISO 4217 currencies; all when empty.
	Currencies []string
}

// keepsCurrency tells whether a figure in currency c stays in the answer:
// figures without a currency always do.
func (r Request) keepsCurrency(c string) bool {
	return c == "" || len(r.Currencies) == 0 || contains(r.Currencies, c)
}

// Report is the answer, in the JSON shape the CLI and GET /v1/kpis share.
type Report struct {
	Workspace string `json:"workspace"`
	From      string `json:"from"` // RFC 3339 in the report's time zone
	To        string `json:"to"`
	TimeZone  string `json:"time_zone"`
	Rows      []Row  `json:"rows"`
}

// Row is one group: empty Group when the request is not grouped. A bucketed
// request has the bucket's start under Group["bucket"].
type Row struct {
	Group map[string]*string `json:"group"` // null where the events carry no value
	KPIs  []Value            `json:"kpis"`
}

// Value is one KPI's figure for a group. Money KPIs give one Value per
// currency, since currencies are never added together.
type Value struct {
	ID          string   `json:"id"`
	Value       *float64 `json:"value"` // nil when the denominator is zero or the channel does not report it
	Numerator   float64  `json:"numerator"`
	Denominator float64  `json:"denominator"`
	Unit        Unit     `json:"unit"`
	Currency    string   `json:"currency,omitempty"`
	// Label names one of several figures of a KPI: a response-time bucket,
	// a goal, a feedback tag, a keyword.
	Label  string `json:"label,omitempty"`
	Rating Rating `json:"rating,omitempty"`
	Band   *Band  `json:"band,omitempty"`
	Reason string `json:"reason,omitempty"` // why Value is null
	// With Request.Compare: the figure of the previous period and of the
	// same period last year, and the change to this one, in percent, or
	// in points for rates and scores such as NPS (ChangeUnit says which:
	// "percent" or "points").
	Previous       *float64 `json:"previous,omitempty"`
	Change         *float64 `json:"change,omitempty"`
	LastYear       *float64 `json:"last_year,omitempty"`
	ChangeLastYear *float64 `json:"change_last_year,omitempty"`
	ChangeUnit     string   `json:"change_unit,omitempty"`
}

var _ = register(View{
	Name: "kpis", Path: "/v1/kpis", Schema: "Report", Request: true,
	Summary: "KPIs of the catalogue for a period, grouped and bucketed",
	Params: []Param{
		{Name: "kpi", InRequest: true, Doc: "KPI ids, comma-separated; default all", Example: "open_rate,ctr"},
		{Name: "group_by", InRequest: true, Doc: "Dimensions to group by", Example: "campaign,template"},
		{Name: "bucket", InRequest: true, Doc: "Time buckets", Enum: Buckets},
		{Name: "compare", InRequest: true, Doc: "Compare with previous and/or last_year (comma-separated), or both. The previous period of whole local days is as many days before, of whole months as many months; any other is as long, just before. Last year is the same local dates and times a year earlier", Example: "previous"},
	},
	Columns: []Column{
		{Name: "<dimension>*", Type: TypeString, Doc: "a column per dimension grouped by, and bucket (the bucket's start) when bucketed"},
		{Name: "<kpi>*", Type: TypeNumber, Doc: "a column per figure: the KPI id, with :label for one of several figures (a response-time bucket, a tag), its unit or currency in the header; with compare, <kpi> previous, <kpi> change, <kpi> last_year and <kpi> change_last_year beside it"},
	},
	Run: func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) { return e.Compute(ctx, r) },
	New: func(Params) Result { return &Report{} },
})

// figureColumn is a report figure's column: its KPI id, with its label.
type figureColumn struct {
	id, label, currency string
	unit                Unit
	changeUnit          string
}

func (c figureColumn) name() string {
	if c.label != "" {
		return c.id + ":" + c.label
	}
	return c.id
}

// figureColumns lists the figures of rows, in the order they first
// appear, and whether any is compared.
func figureColumns(rows [][]Value) ([]figureColumn, map[figureColumn]int) {
	var out []figureColumn
	at := map[figureColumn]int{}
	for _, kpis := range rows {
		for _, v := range kpis {
			c := figureColumn{id: v.ID, label: v.Label, currency: v.Currency, unit: v.Unit}
			if _, ok := at[c]; !ok {
				at[c] = len(out)
				out = append(out, c)
			}
			if v.ChangeUnit != "" {
				out[at[c]].changeUnit = v.ChangeUnit
			}
		}
	}
	for i, c := range out {
		at[figureColumn{id: c.id, label: c.label, currency: c.currency, unit: c.unit}] = i
	}
	return out, at
}

// figureTable makes the columns of figures and fills a row's cells.
func figureTable(rows [][]Value) ([]Column, func(kpis []Value) []any) {
	figs, at := figureColumns(rows)
	compared := slices.ContainsFunc(figs, func(c figureColumn) bool { return c.changeUnit != "" })
	width := 1
	if compared {
		width = 5
	}
	var cols []Column
	for _, f := range figs {
		col := Column{Name: f.name(), Type: TypeNumber, Unit: f.unit, Currency: f.currency}
		if f.unit == Count {
			col.Unit = ""
		}
		cols = append(cols, col)
		if compared {
			change := Column{Name: f.name() + " change", Type: TypeNumber, Unit: Percent}
			if f.changeUnit == "points" {
				change.Unit = "points"
			}
			prev, last := col, col
			prev.Name, last.Name = f.name()+" previous", f.name()+" last_year"
			changeLast := change
			changeLast.Name = f.name() + " change_last_year"
			cols = append(cols, prev, change, last, changeLast)
		}
	}
	fill := func(kpis []Value) []any {
		cells := make([]any, len(figs)*width)
		for _, v := range kpis {
			i := at[figureColumn{id: v.ID, label: v.Label, currency: v.Currency, unit: v.Unit}] * width
			cells[i] = v.Value
			if compared {
				cells[i+1], cells[i+2], cells[i+3], cells[i+4] = v.Previous, v.Change, v.LastYear, v.ChangeLastYear
			}
		}
		return cells
	}
	return cols, fill
}

// Table is the report with a row per group (a campaign, a template, a
// day…) and a column per figure.
func (rep Report) Table() Table {
	var dims []string
	var figs [][]Value
	for _, row := range rep.Rows {
		for d := range row.Group {
			if !slices.Contains(dims, d) {
				dims = append(dims, d)
			}
		}
		figs = append(figs, row.KPIs)
	}
	sort.Strings(dims)
	t := Table{Title: fmt.Sprintf("Workspace %s, %s to %s (%s)", rep.Workspace, rep.From, rep.To, rep.TimeZone)}
	for _, d := range dims {
		typ := TypeString
		if d == "bucket" {
			typ = TypeTime
		}
		t.Columns = append(t.Columns, Column{Name: d, Type: typ})
	}
	cols, fill := figureTable(figs)
	t.Columns = append(t.Columns, cols...)
	for _, row := range rep.Rows {
		cells := make([]any, 0, len(t.Columns))
		for _, d := range dims {
			cells = append(cells, row.Group[d])
		}
		t.Rows = append(t.Rows, append(cells, fill(row.KPIs)...))
	}
	return t
}

// WriteText writes one block per group: each KPI with its value, band and
// rating.
func (rep Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "Workspace %s, %s to %s (%s)\n", rep.Workspace, rep.From, rep.To, rep.TimeZone)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, row := range rep.Rows {
		if label := groupLabel(row.Group); label != "" {
			fmt.Fprintf(tw, "\n%s\n", label)
		}
		compared := len(row.KPIs) > 0 && row.KPIs[0].ChangeUnit != ""
		if compared {
			fmt.Fprintln(tw, "KPI\tVALUE\tBAND\tRATING\tPREVIOUS\tCHANGE\tLAST YEAR\tCHANGE")
		} else {
			fmt.Fprintln(tw, "KPI\tVALUE\tBAND\tRATING")
		}
		for _, v := range row.KPIs {
			def, _ := DefinitionOf(v.ID)
			name := def.Name
			if v.Currency != "" {
				name += " (" + v.Currency + ")"
			}
			if v.Label != "" {
				name += ": " + v.Label
			}
			rating := FormatRating(v.Rating)
			if v.Value == nil && v.Reason == ReasonNotReported {
				rating = v.Reason
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s", name, FormatValue(v), FormatBand(v.Band, v.Unit, def.Direction), rating)
			if compared {
				then := func(x *float64) string {
					return FormatValue(Value{Value: x, Unit: v.Unit, Currency: v.Currency})
				}
				fmt.Fprintf(tw, "\t%s\t%s\t%s\t%s", then(v.Previous), FormatChange(v.Change, v.ChangeUnit), then(v.LastYear), FormatChange(v.ChangeLastYear, v.ChangeUnit))
			}
			fmt.Fprintln(tw)
		}
	}
	return tw.Flush()
}

func groupLabel(g map[string]*string) string {
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := "(none)"
		if g[k] != nil {
			v = *g[k]
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ", ")
}

// FormatChange writes a change as "+2.5 pts" or "-12.0 %", in the unit
// the report gives it: points for rates and scores, else percent.
func FormatChange(c *float64, unit string) string {
	if c == nil {
		return ""
	}
	suffix := " %"
	if unit == "points" {
		suffix = " pts"
	}
	sign := ""
	if *c > 0 {
		sign = "+"
	}
	return sign + strconv.FormatFloat(*c, 'f', 1, 64) + suffix
}
