// Package session splits a conversation's events into sessions (KPIS.md
// §3): from an opening, a reopening or a customer message after a
// resolution to the resolution, or, for a customer's messages that name no
// conversation, until a silence longer than the workspace's session gap.
// A session's first response, replies and resolution are kept as times, so
// business hours can be applied when a report asks.
//
// The stores keep one row per session on ingest, recomputed for the keys a
// batch touches from the key's stored events. Every function here is a
// pure function of the set of events, sorted by (time, kind, id) first, so
// a session is the same whatever the arrival order, the batching and the
// period that asks for it.
package session

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
)

// Kinds are the event kinds sessions are made of.
var Kinds = []string{"message_received", "message_sent", "conversation_opened", "conversation_assigned",
	"conversation_resolved", "conversation_reopened", "goal_reached"}

// kindOrder breaks ties between events at the same millisecond: a session
// opens before its messages and resolves after them.
var kindOrder = map[string]int{"conversation_opened": 0, "conversation_reopened": 1, "message_received": 2,
	"conversation_assigned": 3, "message_sent": 4, "goal_reached": 5, "conversation_resolved": 6}

// Event is one event of a conversation, with the fields sessions read.
type Event struct {
	ID, Kind                                       string
	TS                                             int64
	Conversation, Actor, Agent, Team, Channel      *string
	Customer, Message, Campaign, Template, Variant *string
	Goal                                           *string
}

// Counts reports whether the event takes part in sessions: a message
// received, an agent's or bot's reply (campaign sends and their statuses
// neither reply nor start a conversation), or a conversation event that
// names its conversation.
func (ev *Event) Counts() bool {
	switch ev.Kind {
	case "message_received":
		return true
	case "message_sent":
		return ev.Actor != nil && (*ev.Actor == "agent" || *ev.Actor == "bot")
	case "conversation_opened", "conversation_assigned", "conversation_resolved", "conversation_reopened", "goal_reached":
		return ev.Conversation != nil
	}
	return false
}

// FromEvent takes the fields sessions read from an event.
func FromEvent(e *event.Event) *Event {
	return &Event{ID: e.ID, Kind: string(e.Kind), TS: e.TSMillis(),
		Conversation: opt(e.Conversation), Actor: opt(string(e.Actor)), Agent: opt(e.Agent), Team: opt(e.Team),
		Channel: opt(string(e.Channel)), Customer: opt(e.Customer), Message: opt(e.Message),
		Campaign: opt(e.Campaign), Template: opt(e.Template), Variant: opt(e.Variant), Goal: opt(e.Prop("goal"))}
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Key names the events a sequence of sessions is made of: those of a
// conversation id, or those of a customer on a channel that name none.
type Key struct {
	Conversation string // the conversation id, "" for a customer's messages
	Customer     string
	Channel      string
}

// Named reports whether the key is a conversation id.
func (k Key) Named() bool { return k.Conversation != "" }

// KeyOf is the key an event belongs to, and false for one that belongs to
// none (no conversation and no customer).
func KeyOf(ev *Event) (Key, bool) {
	switch {
	case ev.Conversation != nil:
		return Key{Conversation: *ev.Conversation}, true
	case ev.Customer != nil:
		return Key{Customer: *ev.Customer, Channel: deref(ev.Channel)}, true
	}
	return Key{}, false
}

// Sort orders events by time, then kind, then id.
func Sort(events []*Event) {
	sort.Slice(events, func(i, j int) bool {
		a, b := events[i], events[j]
		if a.TS != b.TS {
			return a.TS < b.TS
		}
		if kindOrder[a.Kind] != kindOrder[b.Kind] {
			return kindOrder[a.Kind] < kindOrder[b.Kind]
		}
		return a.ID < b.ID
	})
}

// FirstOfEachMessage keeps, of sorted events, one per message and kind,
// the first, carrying the actor, agent, team, conversation, channel and
// customer of whichever copy named them (a copy may arrive without them).
// Events of the same id are kept once.
func FirstOfEachMessage(events []*Event) []*Event {
	type key struct{ message, kind string }
	first := map[key]int{}
	ids := map[string]bool{}
	out := make([]*Event, 0, len(events))
	for _, ev := range events {
		if ids[ev.ID] {
			continue
		}
		ids[ev.ID] = true
		if ev.Message == nil || (ev.Kind != "message_sent" && ev.Kind != "message_received") {
			out = append(out, ev)
			continue
		}
		k := key{*ev.Message, ev.Kind}
		i, seen := first[k]
		if !seen {
			first[k] = len(out)
			c := *ev
			out = append(out, &c)
			continue
		}
		kept := out[i]
		for _, f := range []struct{ dst, src **string }{{&kept.Actor, &ev.Actor}, {&kept.Agent, &ev.Agent}, {&kept.Team, &ev.Team},
			{&kept.Conversation, &ev.Conversation}, {&kept.Channel, &ev.Channel}, {&kept.Customer, &ev.Customer}} {
			if *f.dst == nil {
				*f.dst = *f.src
			}
		}
	}
	return out
}

// Reply is a business answer: the customer message it answers, when, and
// by whom.
type Reply struct {
	From, At    int64
	Agent, Team *string
	Bot         bool // a bot's, not a person's
}

// Session is one conversation from its opening (or reopening) to its
// resolution.
type Session struct {
	Key          Key
	Conversation string // the conversation id, or customer/channel/start for one without
	Start        int64
	Dims         map[string]*string // channel, customer, campaign, template, variant, agent, team
	FirstIn      *int64             // the first customer message
	FirstReply   *Reply             // the first agent or bot reply after it
	FirstHuman   *Reply             // the first agent reply after it
	Replies      []Reply            // each customer message → the next business reply
	waiting      []int64            // customer messages not yet answered
	Resolved     *int64
	Resolver     *string
	LastIn       bool  // the last message is the customer's
	LastAt       int64 // 0 when no message was written
	Goals        []string
}

// Named reports whether the session's events named their conversation.
func (s *Session) Named() bool { return s.Key.Named() }

// Counted reports whether the session is a conversation of the reports:
// without an id, only a customer's messages make one, and a campaign
// nobody answered is none.
func (s *Session) Counted() bool { return s.Named() || s.FirstIn != nil }

// DimNames are the dimensions a session carries.
var DimNames = []string{"channel", "customer", "campaign", "template", "variant", "agent", "team"}

// fill sets a dimension from the first event that carries it.
func (s *Session) fill(dim string, v *string) {
	if v != nil && s.Dims[dim] == nil {
		s.Dims[dim] = v
	}
}

// Split walks one key's events, sorted and with one event per message
// (FirstOfEachMessage), into sessions. A session starts at the first
// event, at a reopening, at a customer message after a resolution, and,
// for a key without a conversation id, after a silence longer than gap.
func Split(key Key, events []*Event, gap time.Duration) []*Session {
	var out []*Session
	var s *Session
	var last int64
	open := func(ts int64) {
		s = &Session{Key: key, Conversation: key.Conversation, Start: ts, Dims: map[string]*string{}}
		if !key.Named() {
			s.Conversation = key.Customer + "/" + key.Channel + "/" + time.UnixMilli(ts).UTC().Format(time.RFC3339)
		}
		out = append(out, s)
	}
	for _, ev := range events {
		business := ev.Kind == "message_sent" && ev.Actor != nil && (*ev.Actor == "agent" || *ev.Actor == "bot")
		switch {
		case s == nil:
			open(ev.TS)
		case !key.Named() && ev.TS-last > gap.Milliseconds():
			open(ev.TS)
		case s.Resolved != nil && (ev.Kind == "conversation_reopened" || ev.Kind == "conversation_opened" || ev.Kind == "message_received"):
			open(ev.TS)
		}
		last = ev.TS
		s.fill("channel", ev.Channel)
		s.fill("customer", ev.Customer)
		s.fill("campaign", ev.Campaign)
		s.fill("template", ev.Template)
		s.fill("variant", ev.Variant)
		switch ev.Kind {
		case "message_received":
			if s.FirstIn == nil {
				t := ev.TS
				s.FirstIn = &t
			}
			s.waiting = append(s.waiting, ev.TS)
			s.LastIn, s.LastAt = true, ev.TS
		case "message_sent":
			if !business {
				continue // campaign and system messages answer nobody
			}
			if s.FirstIn != nil {
				r := Reply{From: *s.FirstIn, At: ev.TS, Agent: ev.Agent, Team: ev.Team, Bot: *ev.Actor == "bot"}
				if s.FirstReply == nil {
					s.FirstReply = &r
				}
				if s.FirstHuman == nil && *ev.Actor == "agent" {
					h := r
					s.FirstHuman = &h
				}
			}
			for _, w := range s.waiting {
				s.Replies = append(s.Replies, Reply{From: w, At: ev.TS, Agent: ev.Agent, Team: ev.Team})
			}
			s.waiting = s.waiting[:0]
			if *ev.Actor == "agent" && s.Dims["agent"] == nil {
				s.Dims["agent"], s.Dims["team"] = ev.Agent, ev.Team
			}
			s.LastIn, s.LastAt = false, ev.TS
		case "conversation_assigned":
			if ev.Agent != nil {
				s.Dims["agent"], s.Dims["team"] = ev.Agent, ev.Team
			}
		case "goal_reached":
			if ev.Goal != nil && *ev.Goal != "" && !slices.Contains(s.Goals, *ev.Goal) {
				s.Goals = append(s.Goals, *ev.Goal)
				sort.Strings(s.Goals)
			}
		case "conversation_resolved":
			if s.Resolved == nil {
				t := ev.TS
				s.Resolved, s.Resolver = &t, ev.Agent
				if s.Dims["agent"] == nil && ev.Agent != nil {
					s.Dims["agent"], s.Dims["team"] = ev.Agent, ev.Team
				}
			}
		}
	}
	return out
}

// UnclosedReason says why a session was not closed properly, or "". A
// conversation split by silence has no resolution to wait for: only an
// unanswered last message leaves it open.
func (s *Session) UnclosedReason() string {
	switch {
	case !s.Named() && s.LastIn:
		return "the customer's last message is unanswered"
	case s.Resolved == nil && s.LastIn:
		return "not resolved; the customer's last message is unanswered"
	case s.Resolved == nil && s.Named():
		return "not resolved"
	case s.Resolved == nil:
		return ""
	case s.LastIn:
		return "resolved, but the customer's last message is unanswered"
	}
	return ""
}

// Group sorts events, keeps one per message (FirstOfEachMessage) and
// groups those that count by key, each key's in order.
func Group(events []*Event) map[Key][]*Event {
	Sort(events)
	byKey := map[Key][]*Event{}
	for _, ev := range FirstOfEachMessage(events) {
		if !ev.Counts() {
			continue
		}
		if k, ok := KeyOf(ev); ok {
			byKey[k] = append(byKey[k], ev)
		}
	}
	return byKey
}

// Affected returns the keys whose sessions the events of a batch may
// change, each with the earliest time a change can start from: the keys
// the events name on their own, and the key their message ends up in once
// its copies (the batch's and the stored siblings) are merged, since a
// copy that names a conversation moves the message out of its customer's
// sessions.
func Affected(batch, siblings []*Event) map[Key]int64 {
	out := map[Key]int64{}
	note := func(ev *Event) {
		if !ev.Counts() {
			return
		}
		if k, ok := KeyOf(ev); ok {
			if t, seen := out[k]; !seen || ev.TS < t {
				out[k] = ev.TS
			}
		}
	}
	all := append(append([]*Event{}, batch...), siblings...)
	for _, ev := range all {
		note(ev)
	}
	Sort(all)
	for _, ev := range FirstOfEachMessage(all) {
		note(ev)
	}
	return out
}

// Messages lists the message ids of events that count for sessions, once
// each.
func Messages(events []*Event) []string {
	seen := map[string]bool{}
	var out []string
	for _, ev := range events {
		if ev.Message != nil && (ev.Kind == "message_received" || ev.Kind == "message_sent") && !seen[*ev.Message] {
			seen[*ev.Message] = true
			out = append(out, *ev.Message)
		}
	}
	sort.Strings(out)
	return out
}

// RecomputeFrom is the time a key's sessions are recomputed from when a
// change starts at changed: the start of the latest stored session that
// began strictly before it, whose first event and the silence before it
// no change can touch. When none did, the key has no stored event before
// the change (every counting event lies in a stored session), and the
// change's own time will do.
func RecomputeFrom(changed int64, starts []int64) int64 {
	from, found := changed, false
	for _, s := range starts {
		if s < changed && (!found || s > from) {
			from, found = s, true
		}
	}
	return from
}

// Recompute splits the stored events of keys into sessions, each key's
// from its time in from on. events hold every counting event of the keys
// at or after those times and every copy of their messages, whatever its
// time; copies earlier than a key's time settle which copy comes first
// and are then left out.
func Recompute(events []*Event, from map[Key]int64, gap time.Duration) map[Key][]*Session {
	out := map[Key][]*Session{}
	for k, evs := range Group(events) {
		start, ok := from[k]
		if !ok {
			continue
		}
		i := sort.Search(len(evs), func(i int) bool { return evs[i].TS >= start })
		if i < len(evs) {
			out[k] = Split(k, evs[i:], gap)
		}
	}
	return out
}

// Name is a readable form of a key for error messages.
func (k Key) Name() string {
	if k.Named() {
		return "conversation " + k.Conversation
	}
	return strings.TrimSuffix("customer "+k.Customer+" on "+k.Channel, " on ")
}
