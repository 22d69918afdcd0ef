package kpi

import (
	"context"
	"fmt"
	"time"
)

// Conversations by local hour of the day, for staffing: how many start in
// each hour, and how many on an average day. The average divides by the
// times the hour occurred in the period on the local clock, so the hour
// the clocks skip in spring is not counted as a quiet one, and the hour
// they repeat in autumn is not counted as a busy one.

// ConversationHour is one local hour of the day.
type ConversationHour struct {
	Hour          int      `json:"hour"` // 0–23, local
	Conversations int64    `json:"conversations"`
	Occurrences   int      `json:"occurrences"` // times the hour occurred in the period
	Average       *float64 `json:"average"`     // conversations ÷ occurrences; null when it never occurred
}

// ConversationHoursReport is when the period's conversations started.
type ConversationHoursReport struct {
	Workspace string             `json:"workspace"`
	From      string             `json:"from"`
	To        string             `json:"to"`
	TimeZone  string             `json:"time_zone"`
	Hours     []ConversationHour `json:"hours"` // 24, midnight first
}

// ConversationHours counts the period's conversations (sessions, as the
// conversations KPI counts them) by the local hour they started in.
func (e *Engine) ConversationHours(ctx context.Context, r Request) (ConversationHoursReport, error) {
	r.GroupBy, r.Bucket = nil, ""
	res, err := e.prepare(ctx, r)
	if err != nil {
		return ConversationHoursReport{}, err
	}
	sessions, err := e.sessions(ctx, res)
	if err != nil {
		return ConversationHoursReport{}, err
	}
	rep := ConversationHoursReport{Workspace: res.Workspace, From: res.fromText(), To: res.toText(), TimeZone: res.Location.String(),
		Hours: make([]ConversationHour, 24)}
	for h := range rep.Hours {
		rep.Hours[h].Hour = h
	}
	for _, s := range sessions {
		if g, _ := sessionGroup(res, map[string]*groupData{}, s, nil, nil, false); g == nil {
			continue // filtered out
		}
		rep.Hours[time.UnixMilli(s.Start).In(res.Location).Hour()].Conversations++
	}
	// Every zone's offsets are whole quarter hours: step by them.
	for t := res.from; t.Before(res.to); t = t.Add(15 * time.Minute) {
		if l := t.In(res.Location); l.Minute() < 15 {
			rep.Hours[l.Hour()].Occurrences++
		}
	}
	for h := range rep.Hours {
		if n := rep.Hours[h].Occurrences; n > 0 {
			avg := float64(rep.Hours[h].Conversations) / float64(n)
			rep.Hours[h].Average = &avg
		}
	}
	return rep, nil
}

var _ = register(View{
	Name: "conversation-hours", Path: "/v1/conversations/hours", Schema: "ConversationHoursReport", Request: true,
	Summary: "Conversations by the local hour of the day they started, in all and on an average day",
	Columns: conversationHourColumns,
	Run: func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) {
		return e.ConversationHours(ctx, r)
	},
	New: func(Params) Result { return &ConversationHoursReport{} },
})

var conversationHourColumns = []Column{
	{Name: "hour", Type: TypeInteger, Doc: "0–23, local", Text: func(v any) string { return fmt.Sprintf("%02d:00", v) }},
	{Name: "conversations", Type: TypeInteger, Unit: Count},
	{Name: "occurrences", Type: TypeInteger, Unit: Count, Doc: "times the hour occurred in the period"},
	{Name: "average", Type: TypeNumber, Digits: digits(2), Doc: "conversations on an average day"},
}

// Table is a row per hour of the day.
func (rep ConversationHoursReport) Table() Table {
	t := Table{Title: fmt.Sprintf("Conversations by hour of the day, workspace %s, %s to %s (%s)", rep.Workspace, rep.From, rep.To, rep.TimeZone),
		Columns: conversationHourColumns}
	for _, h := range rep.Hours {
		t.Rows = append(t.Rows, []any{h.Hour, h.Conversations, h.Occurrences, h.Average})
	}
	return t
}
