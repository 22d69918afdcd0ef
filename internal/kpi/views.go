package kpi

import (
	"context"
	"fmt"
	"strconv"
)

// The views of unclosed conversations, the funnel and segments, computed
// in service.go, funnel.go and segments.go; each other view is registered
// in the file that computes it (report.go, keywords.go, sendtime.go…).

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
