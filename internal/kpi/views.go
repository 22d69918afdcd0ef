package kpi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/omnikpi/omnikpi/internal/store"
)

// The views of the engine, in the order the CLI and the OpenAPI document
// list them.

var kpisView = register(View{
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

var _ = register(View{
	Name: "unclosed", Path: "/v1/conversations/unclosed", Schema: "UnclosedReport", Request: true,
	Summary: "Conversations never resolved, or whose last message is the customer's, unanswered",
	Columns: unclosedColumns,
	Run:     func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) { return e.Unclosed(ctx, r) },
	New:     func(Params) Result { return &UnclosedReport{} },
})

var unclosedColumns = []Column{
	{Name: "conversation", Type: TypeString}, {Name: "customer", Type: TypeString}, {Name: "channel", Type: TypeString},
	{Name: "agent", Type: TypeString}, {Name: "started", Type: TypeTime}, {Name: "last_message_at", Type: TypeTime},
	{Name: "last_message_by", Type: TypeString, Doc: "customer or business"}, {Name: "reason", Type: TypeString},
}

// Table is a row per conversation.
func (rep UnclosedReport) Table() Table {
	t := Table{Title: fmt.Sprintf("Unclosed conversations of workspace %s, %s to %s (%s): %d", rep.Workspace, rep.From, rep.To, rep.TimeZone, len(rep.Conversations)),
		Columns: unclosedColumns}
	for _, u := range rep.Conversations {
		t.Rows = append(t.Rows, []any{u.Conversation, u.Customer, u.Channel, u.Agent, u.Started, u.LastMessageAt, u.LastMessageBy, u.Reason})
	}
	return t
}

var _ = register(View{
	Name: "keywords", Path: "/v1/keywords", Schema: "KeywordReport", Request: true,
	Summary: "Most used terms of inbound customer text",
	Params:  []Param{{Name: "limit", Type: "integer", Min: 1, Max: 1000, Default: "50", Doc: "At most this many terms (1–1000, default 50)"}},
	Columns: keywordColumns,
	Run: func(ctx context.Context, e *Engine, r Request, p Params) (Result, error) {
		return e.Keywords(ctx, r, p.Int("limit"))
	},
	New: func(Params) Result { return &KeywordReport{} },
})

var keywordColumns = []Column{{Name: "term", Type: TypeString}, {Name: "messages", Type: TypeInteger, Unit: Count, Doc: "inbound messages using the term"}}

// Table is a row per term, most used first.
func (rep KeywordReport) Table() Table {
	t := Table{Title: fmt.Sprintf("Top keywords of workspace %s, %s to %s (%s)", rep.Workspace, rep.From, rep.To, rep.TimeZone), Columns: keywordColumns}
	for _, k := range rep.Keywords {
		t.Rows = append(t.Rows, []any{k.Term, k.Messages})
	}
	return t
}

var _ = register(View{
	Name: "funnel", Path: "/v1/funnel", Schema: "StagesReport", Request: true,
	Summary: "Awareness → engagement → conversion → advocacy per channel; or, with steps, an ordered customer funnel",
	Params: []Param{
		{Name: "steps", Doc: "Event kinds in order; the answer is then a FunnelReport", Example: "message_read,button_clicked,order_placed"},
		{Name: "within", Doc: "Most time between steps, a duration such as 7d, 36h or 90m (default 7d)", Example: "7d",
			Check: func(v string) error { _, _, err := FunnelOptions(v, ""); return err }},
		{Name: "order", Doc: "strict or loose", Enum: []string{"strict", "loose"},
			Check: func(v string) error { _, _, err := FunnelOptions("", v); return err }},
	},
	Columns: append(append([]Column{}, stageColumns...), funnelColumns...),
	Run: func(ctx context.Context, e *Engine, r Request, p Params) (Result, error) {
		steps := p.List("steps")
		if len(steps) == 0 {
			return e.Stages(ctx, r)
		}
		within, strict, err := FunnelOptions(p["within"], p["order"])
		if err != nil {
			return nil, err
		}
		return e.OrderedFunnel(ctx, r, steps, within, strict)
	},
	New: func(p Params) Result {
		if len(p.List("steps")) == 0 {
			return &StagesReport{}
		}
		return &FunnelReport{}
	},
})

var stageColumns = []Column{
	{Name: "channel", Type: TypeString, Doc: "without steps: the channel, (total) for every channel together, (no channel) for events without one"},
	{Name: "awareness", Type: TypeNumber}, {Name: "engagement", Type: TypeNumber}, {Name: "conversion", Type: TypeNumber}, {Name: "advocacy", Type: TypeNumber},
	{Name: "engagement_rate", Type: TypeNumber, Unit: Percent}, {Name: "conversion_rate", Type: TypeNumber, Unit: Percent}, {Name: "advocacy_rate", Type: TypeNumber, Unit: Percent},
}

var funnelColumns = []Column{
	{Name: "step", Type: TypeString, Doc: "with steps: the event kind"}, {Name: "customers", Type: TypeInteger, Unit: Count},
	{Name: "from_previous", Type: TypeNumber, Unit: Percent}, {Name: "from_first", Type: TypeNumber, Unit: Percent},
}

// Table is a row per channel and one for the total.
func (rep StagesReport) Table() Table {
	t := Table{Title: fmt.Sprintf("Funnel of workspace %s, %s to %s (%s)", rep.Workspace, rep.From, rep.To, rep.TimeZone), Columns: stageColumns}
	for _, s := range rep.Stages {
		ch := "(no channel)"
		switch {
		case s.Total:
			ch = "(total)"
		case s.Channel != nil:
			ch = *s.Channel
		}
		t.Rows = append(t.Rows, []any{ch, s.Awareness, s.Engagement, s.Conversion, s.Advocacy, s.EngagementRate, s.ConversionRate, s.AdvocacyRate})
	}
	return t
}

// Table is a row per step.
func (rep FunnelReport) Table() Table {
	median := "—"
	if rep.MedianSeconds != nil {
		median = strconv.FormatFloat(*rep.MedianSeconds, 'f', 0, 64) + " s"
	}
	order := "loose"
	if rep.Strict {
		order = "strict"
	}
	t := Table{Title: fmt.Sprintf("Funnel of workspace %s, %s to %s (%s), %s order, at most %s between steps; median time to convert %s",
		rep.Workspace, rep.From, rep.To, rep.TimeZone, order, rep.Within, median), Columns: funnelColumns}
	for _, s := range rep.Steps {
		t.Rows = append(t.Rows, []any{s.Kind, s.Customers, s.FromPrev, s.FromFirst})
	}
	return t
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

var _ = register(View{
	Name: "recipients", Path: "/v1/campaigns/recipients", Schema: "RecipientReport", Request: true,
	Summary: "Drill-down: one row per recipient message of the filtered campaign or template, its furthest status and failure reason",
	Params:  []Param{{Name: "limit", Type: "integer", Min: 1, Max: 100_000, Default: "1000", Doc: "At most this many rows (1–100000, default 1000)"}},
	Columns: recipientColumns,
	Run: func(ctx context.Context, e *Engine, r Request, p Params) (Result, error) {
		return e.Recipients(ctx, r, p.Int("limit"))
	},
	New: func(Params) Result { return &RecipientReport{} },
})

var recipientColumns = []Column{
	{Name: "message", Type: TypeString}, {Name: "customer", Type: TypeString}, {Name: "channel", Type: TypeString},
	{Name: "campaign", Type: TypeString}, {Name: "template", Type: TypeString}, {Name: "variant", Type: TypeString},
	{Name: "status", Type: TypeString, Doc: "clicked, read, delivered, failed or sent"},
	{Name: "sent", Type: TypeTime}, {Name: "delivered", Type: TypeTime}, {Name: "read", Type: TypeTime}, {Name: "clicked", Type: TypeTime}, {Name: "failed", Type: TypeTime},
	{Name: "failure_code", Type: TypeString}, {Name: "failure_reason", Type: TypeString},
}

// Table is a row per recipient message, in send order.
func (rep RecipientReport) Table() Table {
	title := fmt.Sprintf("Recipients of workspace %s, %s to %s (%s): %d", rep.Workspace, rep.From, rep.To, rep.TimeZone, rep.Total)
	if rep.Truncated {
		title += fmt.Sprintf(", the first %d shown", len(rep.Recipients))
	}
	t := Table{Title: title, Columns: recipientColumns}
	for _, r := range rep.Recipients {
		t.Rows = append(t.Rows, []any{r.Message, r.Customer, r.Channel, r.Campaign, r.Template, r.Variant, r.Status,
			r.Sent, r.Delivered, r.Read, r.Clicked, r.Failed, r.FailureCode, r.FailureReason})
	}
	return t
}

var _ = register(View{
	Name: "failures", Path: "/v1/failures", Schema: "FailureReport", Request: true,
	Summary: "Failed messages counted by the channel's failure code and reason",
	Columns: failureColumns,
	Run:     func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) { return e.Failures(ctx, r) },
	New:     func(Params) Result { return &FailureReport{} },
})

var failureColumns = []Column{{Name: "code", Type: TypeString}, {Name: "reason", Type: TypeString}, {Name: "messages", Type: TypeInteger, Unit: Count}}

// Table is a row per failure reason, the most frequent first.
func (rep FailureReport) Table() Table {
	t := Table{Title: fmt.Sprintf("Failed messages of workspace %s, %s to %s (%s): %d of %d sent", rep.Workspace, rep.From, rep.To, rep.TimeZone, rep.Failed, rep.Sent),
		Columns: failureColumns}
	for _, r := range rep.Reasons {
		t.Rows = append(t.Rows, []any{r.Code, r.Reason, r.Messages})
	}
	return t
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

// AlertList is the workspace's alert rules with their state.
type AlertList struct {
	Alerts []store.AlertRule `json:"alerts"`
}

// settings reads a workspace's settings; one never written has the
// defaults.
func (e *Engine) settings(ctx context.Context, name string) (store.Workspace, error) {
	ws, err := e.store.Workspace(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.NewWorkspace(name), nil
	}
	return ws, err
}

var _ = register(View{
	Name: "alerts", Path: "/v1/alerts", List: "alerts", Item: "AlertRule",
	Summary: "The workspace's alert rules with their state",
	Columns: alertColumns,
	Run: func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) {
		ws, err := e.settings(ctx, r.Workspace)
		if err != nil {
			return nil, err
		}
		out := AlertList{Alerts: ws.Alerts}
		if out.Alerts == nil {
			out.Alerts = []store.AlertRule{}
		}
		return out, nil
	},
	New: func(Params) Result { return &AlertList{} },
})

var alertColumns = []Column{
	{Name: "id", Type: TypeString}, {Name: "name", Type: TypeString}, {Name: "kpi", Type: TypeString},
	{Name: "condition", Type: TypeString}, {Name: "value", Type: TypeNumber, Doc: "the bound of below and above, in the KPI's unit"},
	{Name: "window", Type: TypeString, Doc: "a duration such as 7d"}, {Name: "filters", Type: TypeString, Doc: "dimension=value, comma-separated"},
	{Name: "webhook", Type: TypeString}, {Name: "firing_since", Type: TypeTime}, {Name: "source", Type: TypeString},
}

// Table is a row per rule.
func (l AlertList) Table() Table {
	t := Table{Title: fmt.Sprintf("Alert rules: %d", len(l.Alerts)), Columns: alertColumns}
	for _, a := range l.Alerts {
		var filters []string
		for k, v := range a.Filters {
			filters = append(filters, k+"="+v)
		}
		sort.Strings(filters)
		var since any
		if a.Firing != nil {
			since = a.Firing.Started.Format(timeLayout)
		}
		var value any
		if a.Condition == "below" || a.Condition == "above" || strings.HasPrefix(a.Condition, "change_") {
			value = a.Value
		}
		t.Rows = append(t.Rows, []any{a.ID, a.Name, a.KPI, a.Condition, value, store.FormatDuration(time.Duration(a.Window)), strings.Join(filters, ","), a.Webhook, since, a.Source})
	}
	return t
}

// FiringList is the workspace's latest firings, newest first.
type FiringList struct {
	Firings []store.AlertFiring `json:"firings"`
}

var _ = register(View{
	Name: "firings", Path: "/v1/alerts/firings", List: "firings", Item: "AlertFiring",
	Summary: "The latest firings, newest first",
	Columns: firingColumns,
	Run: func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) {
		ws, err := e.settings(ctx, r.Workspace)
		if err != nil {
			return nil, err
		}
		out := FiringList{Firings: make([]store.AlertFiring, 0, len(ws.AlertHistory))}
		for i := len(ws.AlertHistory) - 1; i >= 0; i-- {
			out.Firings = append(out.Firings, ws.AlertHistory[i])
		}
		return out, nil
	},
	New: func(Params) Result { return &FiringList{} },
})

var firingColumns = []Column{
	{Name: "rule", Type: TypeString}, {Name: "kpi", Type: TypeString}, {Name: "value", Type: TypeNumber, Doc: "the KPI's value when the rule fired"},
	{Name: "started", Type: TypeTime}, {Name: "resolved", Type: TypeTime}, {Name: "notified", Type: TypeBoolean},
	{Name: "resolved_notified", Type: TypeBoolean}, {Name: "last_error", Type: TypeString},
}

// Table is a row per firing.
func (l FiringList) Table() Table {
	t := Table{Title: fmt.Sprintf("Alert firings: %d", len(l.Firings)), Columns: firingColumns}
	for _, f := range l.Firings {
		var resolved any
		if !f.Resolved.IsZero() {
			resolved = f.Resolved.Format(timeLayout)
		}
		t.Rows = append(t.Rows, []any{f.Rule, f.KPI, f.Value, f.Started.Format(timeLayout), resolved, f.Notified, f.Cleared, f.LastError})
	}
	return t
}

const timeLayout = "2006-01-02T15:04:05Z07:00"
