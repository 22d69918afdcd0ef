package kpi

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/omnikpi/omnikpi/internal/session"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Conversations and service quality (KPIS.md §3) are measured in Go from
// the session facts the stores keep on ingest (package session): a
// session's first response, each reply and the resolution are differences
// between times, in wall-clock or business time, and business hours apply
// at query time, so changing them changes history.

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
	// WaitingSince is the customer's last message when it is unanswered,
	// else the start: what the conversation has waited on since. Age is
	// the seconds from it to the report's at.
	WaitingSince string `json:"waiting_since"`
	Age          int64  `json:"age_seconds"`
}

// sessions returns the conversation sessions that start in the period.
func (e *Engine) sessions(ctx context.Context, res *resolved) ([]*session.Session, error) {
	rows, err := e.queryOver(ctx, res, "session-facts", span{res.from, res.to})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*session.Session
	for rows.Next() {
		s, err := store.ScanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The store returns them in no particular order.
	sort.Slice(out, func(i, j int) bool {
		if out[i].Start != out[j].Start {
			return out[i].Start < out[j].Start
		}
		return out[i].Conversation < out[j].Conversation
	})
	return out, nil
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
			if s.UnclosedReason() != "" {
				c.plain["unclosed"]++
			}
			if s.Resolved != nil {
				c.plain["resolved_n"]++
				c.samples["resolution"] = append(c.samples["resolution"], measure(s.Start, *s.Resolved))
			}
			for _, goal := range s.Goals {
				c.count("goals", goal, 1)
			}
			if len(s.Goals) > 0 {
				c.plain["goal_any"]++
			}
		}
		if r := s.FirstReply; r != nil {
			if g, err := sessionGroup(res, groups, s, r.Agent, r.Team, true); err != nil {
				return err
			} else if g != nil {
				d := measure(r.From, r.At)
				g.comps.samples["frt"] = append(g.comps.samples["frt"], d)
				g.comps.count("frt_dist", frtBucket(d), 1)
				if r.Bot {
					g.comps.plain["frt_bot"]++ // first responses by a bot: not a person's row
				}
			}
		}
		if r := s.FirstHuman; r != nil {
			if g, err := sessionGroup(res, groups, s, r.Agent, r.Team, true); err != nil {
				return err
			} else if g != nil {
				g.comps.samples["frt_human"] = append(g.comps.samples["frt_human"], measure(r.From, r.At))
			}
		}
		for _, r := range s.Replies {
			if g, err := sessionGroup(res, groups, s, r.Agent, r.Team, true); err != nil {
				return err
			} else if g != nil {
				g.comps.samples["response"] = append(g.comps.samples["response"], measure(r.From, r.At))
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
func sessionGroup(res *resolved, groups map[string]*groupData, s *session.Session, agent, team *string, credited bool) (*groupData, error) {
	return dimGroup(res, groups, s.Start, func(dim string) *string {
		if credited && dim == "agent" {
			return agent
		}
		if credited && dim == "team" {
			return team
		}
		return s.Dims[dim]
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

// UnclosedReport lists a period's unclosed conversations, a page of them
// when the request asks for one.
type UnclosedReport struct {
	Workspace string `json:"workspace"`
	From      string `json:"from"`
	To        string `json:"to"`
	TimeZone  string `json:"time_zone"`
	At        string `json:"at"`    // when ages are measured
	Total     int    `json:"total"` // unclosed conversations of the period, on every page
	Offset    int    `json:"offset"`
	// Conversations are the page, the longest waiting first.
	Conversations []Unclosed `json:"conversations"`
}

// Unclosed lists the conversations of the period that were never resolved
// or whose last message is the customer's and unanswered, the longest
// waiting first: limit of them (0: all) after offset, each with its age at
// at (a date or RFC 3339 time; "": now).
func (e *Engine) Unclosed(ctx context.Context, r Request, at string, limit, offset int) (UnclosedReport, error) {
	res, err := e.prepare(ctx, r)
	if err != nil {
		return UnclosedReport{}, err
	}
	when, err := parseBound(at, res.Location, e.now())
	if err != nil {
		return UnclosedReport{}, &RequestError{Field: "at", Reason: err.Error()}
	}
	sessions, err := e.sessions(ctx, res)
	if err != nil {
		return UnclosedReport{}, err
	}
	rep := UnclosedReport{Workspace: res.Workspace, From: res.fromText(), To: res.toText(), TimeZone: res.Location.String(),
		At: when.In(res.Location).Format(time.RFC3339), Offset: offset, Conversations: []Unclosed{}}
	local := func(ms int64) string { return time.UnixMilli(ms).In(res.Location).Format(time.RFC3339) }
	type open struct {
		u     Unclosed
		since int64
	}
	var all []open
	for _, s := range sessions {
		reason := s.UnclosedReason()
		if reason == "" {
			continue
		}
		if g, _ := sessionGroup(res, map[string]*groupData{}, s, nil, nil, false); g == nil {
			continue // filtered out
		}
		u := Unclosed{Conversation: s.Conversation, Named: s.Named(), Customer: s.Dims["customer"], Channel: s.Dims["channel"],
			Agent: s.Dims["agent"], Started: local(s.Start), LastMessageBy: "business", Resolved: s.Resolved != nil, Reason: reason}
		since := s.Start
		if s.LastIn {
			u.LastMessageBy, since = "customer", s.LastAt
		}
		if s.LastAt != 0 {
			u.LastMessageAt = local(s.LastAt)
		} else {
			u.LastMessageBy = ""
		}
		u.WaitingSince, u.Age = local(since), max(0, (when.UnixMilli()-since)/1000)
		all = append(all, open{u, since})
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].since != all[j].since {
			return all[i].since < all[j].since
		}
		return all[i].u.Conversation < all[j].u.Conversation
	})
	rep.Total = len(all)
	all = all[min(offset, len(all)):]
	if limit > 0 {
		all = all[:min(limit, len(all))]
	}
	for _, o := range all {
		rep.Conversations = append(rep.Conversations, o.u)
	}
	return rep, nil
}

// unclosedParams page the list and fix the moment ages are measured at.
var unclosedParams = []Param{
	{Name: "limit", Doc: "At most this many conversations (1–100000, default all)", Type: "integer", Min: 1, Max: 100_000},
	{Name: "offset", Doc: "Skip this many of the longest waiting first (default 0)", Type: "integer", Min: 0, Max: 1 << 30, Default: "0"},
	{Name: "at", Doc: "Measure ages at this date or RFC 3339 time (default now)", Example: "2026-02-01T09:00:00Z"},
}

var _ = register(View{
	Name: "unclosed", Path: "/v1/conversations/unclosed", Schema: "UnclosedReport", Request: true,
	Summary: "Conversations never resolved, or whose last message is the customer's, unanswered; the longest waiting first, with their age",
	Params:  unclosedParams,
	Columns: unclosedColumns,
	Run: func(ctx context.Context, e *Engine, r Request, p Params) (Result, error) {
		return e.Unclosed(ctx, r, p["at"], p.Int("limit"), p.Int("offset"))
	},
	New: func(Params) Result { return &UnclosedReport{} },
})

var unclosedColumns = []Column{
	{Name: "conversation", Type: TypeString}, {Name: "customer", Type: TypeString}, {Name: "channel", Type: TypeString},
	{Name: "agent", Type: TypeString}, {Name: "started", Type: TypeTime}, {Name: "last_message_at", Type: TypeTime},
	{Name: "last_message_by", Type: TypeString, Doc: "customer or business"}, {Name: "reason", Type: TypeString},
	{Name: "waiting_since", Type: TypeTime, Doc: "the customer's unanswered last message, else the start"},
	{Name: "age", Type: TypeInteger, Unit: Seconds, Doc: "from waiting_since to at"},
}

// Table is a row per conversation.
func (rep UnclosedReport) Table() Table {
	t := Table{Title: fmt.Sprintf("Unclosed conversations of workspace %s, %s to %s (%s), ages at %s: %d", rep.Workspace, rep.From, rep.To, rep.TimeZone, rep.At, rep.Total),
		Columns: unclosedColumns}
	for _, u := range rep.Conversations {
		t.Rows = append(t.Rows, []any{u.Conversation, u.Customer, u.Channel, u.Agent, u.Started, u.LastMessageAt, u.LastMessageBy, u.Reason, u.WaitingSince, u.Age})
	}
	return t
}
