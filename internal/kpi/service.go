package kpi

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Conversations and service quality (KPIS.md §3) are measured in Go from
// the events around the period: a session's first response, each reply and
// the resolution are differences between event times, in wall-clock or
// business time, and business hours apply at query time, so changing them
// changes history. Sorting the events by (time, kind, id) first makes every
// figure independent of arrival order.

// convEvent is one row of the conversation-events query.
type convEvent struct {
	id, kind                                       string
	ts                                             int64
	conversation, actor, agent, team, channel      *string
	customer, message, campaign, template, variant *string
	goal                                           *string
}

// kindOrder breaks ties between events at the same millisecond: a session
// opens before its messages and resolves after them.
var kindOrder = map[string]int{"conversation_opened": 0, "conversation_reopened": 1, "message_received": 2,
	"conversation_assigned": 3, "message_sent": 4, "goal_reached": 5, "conversation_resolved": 6}

// session is one conversation from its opening (or reopening) to its
// resolution.
type session struct {
	conversation string // the conversation id, or customer/channel/start for one without
	named        bool   // the events named the conversation
	start        int64
	dims         map[string]*string // channel, customer, campaign, template, variant, agent, team
	firstIn      *int64             // the first customer message
	firstReply   *reply             // the first agent or bot reply after it
	firstHuman   *reply             // the first agent reply after it
	replies      []reply            // each customer message → the next business reply
	waiting      []int64            // customer messages not yet answered
	resolved     *int64
	resolver     *string
	lastIn       bool // the last message is the customer's
	lastAt       int64
	goals        map[string]bool
}

// fill sets a dimension from the first event that carries it.
func (s *session) fill(dim string, v *string) {
	if v != nil && s.dims[dim] == nil {
		s.dims[dim] = v
	}
}

// reply is a business answer: the customer message it answers, when, and
// by whom.
type reply struct {
	from, at    int64
	agent, team *string
	bot         bool // a bot's, not a person's
}

// Unclosed is a conversation the business never closed properly.
type Unclosed struct {
	Conversation  string  `json:"conversation"`
	Named         bool    `json:"named"` // false: split from a customer's messages by silence
	Customer      *string `json:"customer"`
	Channel       *string `json:"channel"`
	Agent         *string `json:"agent"`
	Started       string  `json:"started"`         // RFC 3339 in the report's time zone
	LastMessageAt string  `json:"last_message_at"` // "" when no message was written
	LastMessageBy string  `json:"last_message_by"` // customer or business
	Resolved      bool    `json:"resolved"`
	Reason        string  `json:"reason"`
}

// sessions reads the events around the period and returns the sessions
// that start in it.
func (e *Engine) sessions(ctx context.Context, res *resolved) ([]*session, error) {
	around := time.Duration(res.ws.Windows.Conversation)
	if gap := res.ws.Windows.SessionGap(); gap > around {
		around = gap
	}
	rows, err := e.queryOver(ctx, res, "conversation-events", span{res.from.Add(-around), res.to.Add(around)})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var events []*convEvent
	for rows.Next() {
		ev := &convEvent{}
		if err := rows.Scan(&ev.id, &ev.ts, &ev.kind, &ev.conversation, &ev.actor, &ev.agent, &ev.team, &ev.channel,
			&ev.customer, &ev.message, &ev.campaign, &ev.template, &ev.variant, &ev.goal); err != nil {
			return nil, fmt.Errorf("read conversation-events: %w", err)
		}
		events = append(events, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(events, func(i, j int) bool {
		a, b := events[i], events[j]
		if a.ts != b.ts {
			return a.ts < b.ts
		}
		if kindOrder[a.kind] != kindOrder[b.kind] {
			return kindOrder[a.kind] < kindOrder[b.kind]
		}
		return a.id < b.id
	})
	events = firstOfEachMessage(events)

	// Group the events by conversation; a customer's messages that name
	// none form conversations split by silence.
	gap := res.ws.Windows.SessionGap().Milliseconds()
	byConv := map[string][]*convEvent{}
	var order []string
	lastSeen := map[string]int64{}
	current := map[string]string{}
	for _, ev := range events {
		var key string
		switch {
		case ev.conversation != nil:
			key = "c\x00" + *ev.conversation
		case ev.customer != nil:
			person := deref(ev.customer) + "\x00" + deref(ev.channel)
			if last, ok := lastSeen[person]; !ok || ev.ts-last > gap {
				current[person] = "s\x00" + person + "\x00" + time.UnixMilli(ev.ts).UTC().Format(time.RFC3339)
			}
			lastSeen[person] = ev.ts
			key = current[person]
		default:
			continue
		}
		if _, ok := byConv[key]; !ok {
			order = append(order, key)
		}
		byConv[key] = append(byConv[key], ev)
	}
	var out []*session
	from, to := res.from.UnixMilli(), res.to.UnixMilli()
	for _, key := range order {
		for _, s := range splitSessions(key, byConv[key]) {
			// Without an id, only a customer's messages make a
			// conversation: a campaign nobody answered is none.
			if s.start >= from && s.start < to && (s.named || s.firstIn != nil) {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// firstOfEachMessage keeps one event per message and kind, the first in
// order, carrying the actor, agent and team of whichever event named them
// (a status of a reply may arrive before the reply's own event).
func firstOfEachMessage(events []*convEvent) []*convEvent {
	type key struct{ message, kind string }
	first := map[key]int{}
	out := make([]*convEvent, 0, len(events))
	for _, ev := range events {
		if ev.message == nil || (ev.kind != "message_sent" && ev.kind != "message_received") {
			out = append(out, ev)
			continue
		}
		k := key{*ev.message, ev.kind}
		i, seen := first[k]
		if !seen {
			first[k] = len(out)
			out = append(out, ev)
			continue
		}
		kept := out[i]
		for _, f := range []struct{ dst, src **string }{{&kept.actor, &ev.actor}, {&kept.agent, &ev.agent}, {&kept.team, &ev.team},
			{&kept.conversation, &ev.conversation}, {&kept.channel, &ev.channel}, {&kept.customer, &ev.customer}} {
			if *f.dst == nil {
				*f.dst = *f.src
			}
		}
	}
	return out
}

// splitSessions walks one conversation's events in order. A session
// starts at the first event, at a reopening, or at a customer message
// after a resolution; replies and resolution are measured within it.
func splitSessions(key string, events []*convEvent) []*session {
	named := strings.HasPrefix(key, "c\x00")
	name := strings.ReplaceAll(key[2:], "\x00", "/")
	var out []*session
	var s *session
	open := func(ts int64) {
		s = &session{conversation: name, named: named, start: ts, dims: map[string]*string{}, goals: map[string]bool{}}
		out = append(out, s)
	}
	for _, ev := range events {
		business := ev.kind == "message_sent" && ev.actor != nil && (*ev.actor == "agent" || *ev.actor == "bot")
		switch {
		case s == nil:
			open(ev.ts)
		case s.resolved != nil && (ev.kind == "conversation_reopened" || ev.kind == "conversation_opened" || ev.kind == "message_received"):
			open(ev.ts)
		}
		s.fill("channel", ev.channel)
		s.fill("customer", ev.customer)
		s.fill("campaign", ev.campaign)
		s.fill("template", ev.template)
		s.fill("variant", ev.variant)
		switch ev.kind {
		case "message_received":
			if s.firstIn == nil {
				t := ev.ts
				s.firstIn = &t
			}
			s.waiting = append(s.waiting, ev.ts)
			s.lastIn, s.lastAt = true, ev.ts
		case "message_sent":
			if !business {
				continue // campaign and system messages answer nobody
			}
			if s.firstIn != nil {
				r := reply{from: *s.firstIn, at: ev.ts, agent: ev.agent, team: ev.team, bot: *ev.actor == "bot"}
				if s.firstReply == nil {
					s.firstReply = &r
				}
				if s.firstHuman == nil && *ev.actor == "agent" {
					s.firstHuman = &r
				}
			}
			for _, w := range s.waiting {
				s.replies = append(s.replies, reply{from: w, at: ev.ts, agent: ev.agent, team: ev.team})
			}
			s.waiting = s.waiting[:0]
			if *ev.actor == "agent" && s.dims["agent"] == nil {
				s.dims["agent"], s.dims["team"] = ev.agent, ev.team
			}
			s.lastIn, s.lastAt = false, ev.ts
		case "conversation_assigned":
			if ev.agent != nil {
				s.dims["agent"], s.dims["team"] = ev.agent, ev.team
			}
		case "goal_reached":
			if ev.goal != nil && *ev.goal != "" {
				s.goals[*ev.goal] = true
			}
		case "conversation_resolved":
			if s.resolved == nil {
				t := ev.ts
				s.resolved, s.resolver = &t, ev.agent
				if s.dims["agent"] == nil && ev.agent != nil {
					s.dims["agent"], s.dims["team"] = ev.agent, ev.team
				}
			}
		}
	}
	return out
}

// frtBuckets are the catalogue's FRT distribution buckets, by upper bound
// in seconds.
var frtBuckets = []struct {
	label string
	below float64
}{
	{"< 30 s", 30}, {"30 s–2 min", 120}, {"2–5 min", 300}, {"5–10 min", 600}, {"10–30 min", 1800},
	{"30 min–1 h", 3600}, {"1–4 h", 4 * 3600}, {"4–24 h", 24 * 3600}, {"> 24 h", -1},
}

func frtBucket(seconds float64) string {
	for _, b := range frtBuckets {
		if b.below < 0 || seconds < b.below {
			return b.label
		}
	}
	return ""
}

// serviceComponents are what runService fills.
var serviceComponents = []string{"sessions", "frt", "frt_bot", "frt_human", "response", "resolution", "frt_dist", "unclosed", "resolved_n", "goals", "goal_any"}

// runService adds the period's sessions to the groups, each figure credited
// to the group of who earned it: a first response to the agent who sent it,
// a reply to its agent, a resolution and the conversation itself to the
// conversation's agent.
func (e *Engine) runService(ctx context.Context, res *resolved, groups map[string]*groupData) error {
	sessions, err := e.sessions(ctx, res)
	if err != nil {
		return err
	}
	measure, err := e.measure(res)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		g, err := sessionGroup(res, groups, s, nil, nil, false)
		if err != nil {
			return err
		}
		if g != nil {
			c := g.comps
			c.plain["sessions"]++
			if unclosedReason(s) != "" {
				c.plain["unclosed"]++
			}
			if s.resolved != nil {
				c.plain["resolved_n"]++
				c.samples["resolution"] = append(c.samples["resolution"], measure(s.start, *s.resolved))
			}
			for goal := range s.goals {
				c.count("goals", goal, 1)
			}
			if len(s.goals) > 0 {
				c.plain["goal_any"]++
			}
		}
		if r := s.firstReply; r != nil {
			if g, err := sessionGroup(res, groups, s, r.agent, r.team, true); err != nil {
				return err
			} else if g != nil {
				d := measure(r.from, r.at)
				g.comps.samples["frt"] = append(g.comps.samples["frt"], d)
				g.comps.count("frt_dist", frtBucket(d), 1)
				if r.bot {
					g.comps.plain["frt_bot"]++ // first responses by a bot: not a person's row
				}
			}
		}
		if r := s.firstHuman; r != nil {
			if g, err := sessionGroup(res, groups, s, r.agent, r.team, true); err != nil {
				return err
			} else if g != nil {
				g.comps.samples["frt_human"] = append(g.comps.samples["frt_human"], measure(r.from, r.at))
			}
		}
		for _, r := range s.replies {
			if g, err := sessionGroup(res, groups, s, r.agent, r.team, true); err != nil {
				return err
			} else if g != nil {
				g.comps.samples["response"] = append(g.comps.samples["response"], measure(r.from, r.at))
			}
		}
	}
	return nil
}

// measure returns how durations are counted: wall-clock seconds, or open
// seconds under the workspace's business hours.
func (e *Engine) measure(res *resolved) (func(from, to int64) float64, error) {
	if res.Hours != "business" {
		return func(from, to int64) float64 { return float64(to-from) / 1000 }, nil
	}
	if res.ws.BusinessHours == nil {
		return nil, &RequestError{Field: "hours", Reason: "the workspace has no business hours: set them with 'omnikpi workspace --business-hours'"}
	}
	sched, err := newSchedule(*res.ws.BusinessHours, res.Location)
	if err != nil {
		return nil, err
	}
	return func(from, to int64) float64 {
		return sched.between(time.UnixMilli(from), time.UnixMilli(to)).Seconds()
	}, nil
}

// sessionGroup finds the group of a session's figure, or nil when the
// request's filters leave it out. With credited, agent and team are those
// of who earned the figure, not the conversation's.
func sessionGroup(res *resolved, groups map[string]*groupData, s *session, agent, team *string, credited bool) (*groupData, error) {
	return dimGroup(res, groups, s.start, func(dim string) *string {
		if credited && dim == "agent" {
			return agent
		}
		if credited && dim == "team" {
			return team
		}
		return s.dims[dim]
	})
}

// bucketStart truncates a local time to its bucket, as the SQL fragment
// does: hours, days, ISO weeks from Monday, months.
func bucketStart(t time.Time, bucket string) time.Time {
	y, m, d := t.Date()
	switch bucket {
	case "hour":
		return time.Date(y, m, d, t.Hour(), 0, 0, 0, t.Location())
	case "week":
		back := (int(t.Weekday()) + 6) % 7
		return time.Date(y, m, d-back, 0, 0, 0, 0, t.Location())
	case "month":
		return time.Date(y, m, 1, 0, 0, 0, 0, t.Location())
	}
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// unclosedReason says why a session was not closed properly, or "". A
// conversation split by silence has no resolution to wait for: only an
// unanswered last message leaves it open.
func unclosedReason(s *session) string {
	switch {
	case !s.named && s.lastIn:
		return "the customer's last message is unanswered"
	case s.resolved == nil && s.lastIn:
		return "not resolved; the customer's last message is unanswered"
	case s.resolved == nil && s.named:
		return "not resolved"
	case s.resolved == nil:
		return ""
	case s.lastIn:
		return "resolved, but the customer's last message is unanswered"
	}
	return ""
}

// UnclosedReport lists a period's unclosed conversations.
type UnclosedReport struct {
	Workspace     string     `json:"workspace"`
	From          string     `json:"from"`
	To            string     `json:"to"`
	TimeZone      string     `json:"time_zone"`
	Conversations []Unclosed `json:"conversations"`
}

// Unclosed lists the conversations of the period that were never resolved
// or whose last message is the customer's and unanswered, oldest first.
func (e *Engine) Unclosed(ctx context.Context, r Request) (UnclosedReport, error) {
	res, err := e.prepare(ctx, r)
	if err != nil {
		return UnclosedReport{}, err
	}
	sessions, err := e.sessions(ctx, res)
	if err != nil {
		return UnclosedReport{}, err
	}
	rep := UnclosedReport{Workspace: res.Workspace, From: res.fromText(),
		To: res.toText(), TimeZone: res.Location.String(), Conversations: []Unclosed{}}
	sort.SliceStable(sessions, func(i, j int) bool { return sessions[i].start < sessions[j].start })
	for _, s := range sessions {
		reason := unclosedReason(s)
		if reason == "" {
			continue
		}
		if g, _ := sessionGroup(res, map[string]*groupData{}, s, nil, nil, false); g == nil {
			continue // filtered out
		}
		u := Unclosed{Conversation: s.conversation, Named: s.named, Customer: s.dims["customer"], Channel: s.dims["channel"],
			Agent: s.dims["agent"], Started: time.UnixMilli(s.start).In(res.Location).Format(time.RFC3339),
			LastMessageBy: "business", Resolved: s.resolved != nil, Reason: reason}
		if s.lastIn {
			u.LastMessageBy = "customer"
		}
		if s.lastAt != 0 {
			u.LastMessageAt = time.UnixMilli(s.lastAt).In(res.Location).Format(time.RFC3339)
		} else {
			u.LastMessageBy = ""
		}
		rep.Conversations = append(rep.Conversations, u)
	}
	return rep, nil
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
