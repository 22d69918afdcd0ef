package kpi

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

// EventStepKinds is the quoted list of the ordered funnel's kinds that are
// read as events (checked against the known kinds before they get here).
func (c *sqlCtx) EventStepKinds() string { return store.SQLList(stepKinds(c.req.steps, false)) }

// MessageStepKinds is the quoted list of the ordered funnel's message
// kinds, which are read per message.
func (c *sqlCtx) MessageStepKinds() string { return store.SQLList(stepKinds(c.req.steps, true)) }

// stepKinds are the distinct kinds of steps that are message kinds (a
// status, a click, an inbound message), or those that are not.
func stepKinds(steps []string, messages bool) []string {
	var out []string
	for _, k := range steps {
		if contains(store.MessageFacts.Kinds, k) == messages && !contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// FunnelStep is one step of an ordered funnel.
type FunnelStep struct {
	Kind      string   `json:"kind"`
	Customers int      `json:"customers"`          // customers who reached it in order
	FromPrev  *float64 `json:"rate_from_previous"` // % of the previous step's customers
	FromFirst *float64 `json:"rate_from_first"`    // % of the first step's customers
}

// FunnelReport is an ordered customer funnel over event kinds.
type FunnelReport struct {
	Workspace string       `json:"workspace"`
	From      string       `json:"from"`
	To        string       `json:"to"`
	TimeZone  string       `json:"time_zone"`
	Within    string       `json:"within"` // the longest time between two steps
	Strict    bool         `json:"strict"` // no other step's event between two steps
	Steps     []FunnelStep `json:"steps"`
	// MedianSeconds is the median time from the first step to the last of
	// the customers who reached it; null when none did.
	MedianSeconds *float64 `json:"median_seconds_to_convert"`
}

type stepEvent struct {
	id, kind string
	ts       int64
}

// OrderedFunnel counts the customers who went through steps in order: a
// customer enters with the first step's event in the period and reaches
// each next step with its first event after the previous step, within
// within of it. Strict, no event of another step may come between two
// steps. Of a customer's entries, the one that gets furthest counts.
//
// A message step (a status, a click, an inbound message) is counted by
// message, never by event (KPIS.md §7): each message reaches it once, at
// its earliest event of the kind, for the customer of the message, since
// statuses often name only their message. Events at the same time are
// taken in the order of the steps.
func (e *Engine) OrderedFunnel(ctx context.Context, r Request, steps []string, within time.Duration, strict bool) (FunnelReport, error) {
	if len(steps) < 2 {
		return FunnelReport{}, &RequestError{Field: "steps", Reason: "name at least two event kinds, such as message_read,order_placed"}
	}
	for _, k := range steps {
		if !event.Kind(k).Known() {
			return FunnelReport{}, &RequestError{Field: "steps", Reason: quote(k) + " is not an event kind"}
		}
	}
	if within <= 0 {
		within = 7 * 24 * time.Hour
	}
	r.GroupBy, r.Bucket = nil, ""
	res, err := e.prepare(ctx, r)
	if err != nil {
		return FunnelReport{}, err
	}
	res.steps = steps
	sp := span{res.from, res.to.Add(within * time.Duration(len(steps)-1))}
	byCustomer := map[string][]stepEvent{}
	for _, q := range []struct {
		name     string
		messages bool
	}{{"funnel-steps", false}, {"funnel-message-steps", true}} {
		if len(stepKinds(steps, q.messages)) == 0 {
			continue
		}
		if err := e.readSteps(ctx, res, q.name, sp, byCustomer); err != nil {
			return FunnelReport{}, err
		}
	}
	position := map[string]int{}
	for i := len(steps) - 1; i >= 0; i-- {
		position[steps[i]] = i
	}
	reached := make([]int, len(steps))
	var durations []float64
	from, to := res.from.UnixMilli(), res.to.UnixMilli()
	for _, list := range byCustomer {
		sort.Slice(list, func(a, b int) bool {
			x, y := list[a], list[b]
			if x.ts != y.ts {
				return x.ts < y.ts
			}
			if position[x.kind] != position[y.kind] {
				return position[x.kind] < position[y.kind]
			}
			return x.id < y.id
		})
		best, bestTime := 0, 0.0
		for i, ev := range list {
			if ev.kind != steps[0] || ev.ts < from || ev.ts >= to {
				continue
			}
			depth, end := walk(list[i:], steps, within.Milliseconds(), strict)
			if depth > best {
				best, bestTime = depth, float64(end-ev.ts)/1000
			}
		}
		for k := 0; k < best; k++ {
			reached[k]++
		}
		if best == len(steps) {
			durations = append(durations, bestTime)
		}
	}
	rep := FunnelReport{Workspace: res.Workspace, From: res.fromText(),
		To: res.toText(), TimeZone: res.Location.String(), Within: store.FormatDuration(within), Strict: strict}
	for k, kind := range steps {
		s := FunnelStep{Kind: kind, Customers: reached[k]}
		if k > 0 {
			s.FromPrev = ratio(float64(reached[k]), float64(reached[k-1]), 100).value
			s.FromFirst = ratio(float64(reached[k]), float64(reached[0]), 100).value
		}
		rep.Steps = append(rep.Steps, s)
	}
	rep.MedianSeconds = statistic(durations, statMedian).value
	return rep, nil
}

// readSteps adds the rows of the named funnel query to byCustomer.
func (e *Engine) readSteps(ctx context.Context, res *resolved, name string, sp span, byCustomer map[string][]stepEvent) error {
	rows, err := e.queryOver(ctx, res, name, sp)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var ev stepEvent
		var customer string
		if err := rows.Scan(&ev.id, &customer, &ev.ts, &ev.kind); err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		byCustomer[customer] = append(byCustomer[customer], ev)
	}
	return rows.Err()
}

// walk follows steps through a customer's events starting at an entry
// (list[0]) and returns how many steps were reached and when the last was.
func walk(list []stepEvent, steps []string, within int64, strict bool) (int, int64) {
	depth, at := 1, list[0].ts
	for _, ev := range list[1:] {
		if depth == len(steps) || ev.ts-at > within {
			break
		}
		switch {
		case ev.kind == steps[depth]:
			depth, at = depth+1, ev.ts
		case strict && ev.kind != steps[depth-1]:
			return depth, at // another step came in between
		}
	}
	return depth, at
}

// Stage is one channel's awareness → engagement → conversion → advocacy.
type Stage struct {
	Total          bool     `json:"total"`   // the row of every channel together
	Channel        *string  `json:"channel"` // null for the total, and for events without a channel
	Awareness      float64  `json:"awareness"`
	Engagement     float64  `json:"engagement"`
	Conversion     float64  `json:"conversion"`
	Advocacy       float64  `json:"advocacy"`
	EngagementRate *float64 `json:"engagement_rate"` // engagement ÷ awareness × 100
	ConversionRate *float64 `json:"conversion_rate"` // conversion ÷ engagement × 100
	AdvocacyRate   *float64 `json:"advocacy_rate"`   // advocacy ÷ conversion × 100
}

// StagesReport is the funnel of a period, per channel and in total.
type StagesReport struct {
	Workspace string  `json:"workspace"`
	From      string  `json:"from"`
	To        string  `json:"to"`
	TimeZone  string  `json:"time_zone"`
	Stages    []Stage `json:"stages"`
}

// stageKPIs say what each stage adds up: awareness is impressions;
// engagement social interactions, site visits and inbound messages;
// conversion orders; advocacy referrals, promoters and UGC shared.
var stageKPIs = map[string][]string{
	"awareness":  {"impressions"},
	"engagement": {"social_interactions", "visits", "messages_received"},
	"conversion": {"transactions"},
	"advocacy":   {"referrals", "promoters", "ugc_shared"},
}

// Stages computes the four stages per channel and in total.
func (e *Engine) Stages(ctx context.Context, r Request) (StagesReport, error) {
	var ids []string
	for _, stage := range []string{"awareness", "engagement", "conversion", "advocacy"} {
		ids = append(ids, stageKPIs[stage]...)
	}
	r.KPIs, r.Bucket = ids, ""
	r.GroupBy = nil
	total, err := e.Compute(ctx, r)
	if err != nil {
		return StagesReport{}, err
	}
	r.GroupBy = []string{"channel"}
	perChannel, err := e.Compute(ctx, r)
	if err != nil {
		return StagesReport{}, err
	}
	rep := StagesReport{Workspace: total.Workspace, From: total.From, To: total.To, TimeZone: total.TimeZone}
	for i, row := range append(perChannel.Rows, total.Rows...) {
		sum := func(stage string) float64 {
			n := 0.0
			for _, v := range row.KPIs {
				if contains(stageKPIs[stage], v.ID) && v.Value != nil {
					n += *v.Value
				}
			}
			return n
		}
		st := Stage{Total: i >= len(perChannel.Rows), Channel: row.Group["channel"], Awareness: sum("awareness"), Engagement: sum("engagement"),
			Conversion: sum("conversion"), Advocacy: sum("advocacy")}
		if st.Awareness+st.Engagement+st.Conversion+st.Advocacy == 0 && !st.Total {
			continue
		}
		st.EngagementRate = ratio(st.Engagement, st.Awareness, 100).value
		st.ConversionRate = ratio(st.Conversion, st.Engagement, 100).value
		st.AdvocacyRate = ratio(st.Advocacy, st.Conversion, 100).value
		rep.Stages = append(rep.Stages, st)
	}
	return rep, nil
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
