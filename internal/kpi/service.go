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
	sort.SliceStable(sessions, func(i, j int) bool { return sessions[i].Start < sessions[j].Start })
	for _, s := range sessions {
		reason := s.UnclosedReason()
		if reason == "" {
			continue
		}
		if g, _ := sessionGroup(res, map[string]*groupData{}, s, nil, nil, false); g == nil {
			continue // filtered out
		}
		u := Unclosed{Conversation: s.Conversation, Named: s.Named(), Customer: s.Dims["customer"], Channel: s.Dims["channel"],
			Agent: s.Dims["agent"], Started: time.UnixMilli(s.Start).In(res.Location).Format(time.RFC3339),
			LastMessageBy: "business", Resolved: s.Resolved != nil, Reason: reason}
		if s.LastIn {
			u.LastMessageBy = "customer"
		}
		if s.LastAt != 0 {
			u.LastMessageAt = time.UnixMilli(s.LastAt).In(res.Location).Format(time.RFC3339)
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
