package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
)

// Eraser removes personal data: a customer's on request, a whole
// workspace, or what a workspace's retention policy no longer keeps. Both
// stores implement it.
type Eraser interface {
	// Forget removes every event of the customers (as stored: a phone
	// number hashed), every event naming one of their messages, orders
	// or conversations, and those fact rows; merges anew the facts of
	// other entities the removed events fed; removes the quarantined
	// parts that quote any of phones (digits of numbers, which only the
	// caller knows); and records the customers and their entities as
	// forgotten, so that their later events are dropped.
	Forget(ctx context.Context, workspace string, customers, phones []string) (Erasure, error)
	// ForgetWorkspace removes the workspace: its events, facts, keys,
	// settings, forgotten list and the quarantined parts ingested into
	// it.
	ForgetWorkspace(ctx context.Context, workspace string) (Erasure, error)
	// ApplyRetention removes the workspace's raw events older than
	// cut.Events, clears the texts of events older than cut.Texts and
	// removes the fact rows whose entity began before cut.Facts (a zero
	// time keeps them). Events older than cut.Events that arrive later
	// are dropped as Expired.
	ApplyRetention(ctx context.Context, workspace string, cut Cutoffs) (RetentionRun, error)
	// Dropped says which events the store would drop rather than store:
	// Forgotten, Expired, or 0 for one it takes. Insert drops them
	// itself; ingestion asks first so as to answer with them.
	Dropped(ctx context.Context, events []event.Event) ([]Outcome, error)
}

// Outcomes of events that are dropped rather than stored.
const (
	// Forgotten: the event names a customer, message, order or
	// conversation that was erased.
	Forgotten Outcome = iota + 10
	// Expired: the event is older than what the workspace's retention
	// policy keeps, and its raw events of that time are gone.
	Expired
)

// Erasure reports what an erasure removed.
type Erasure struct {
	Workspace string `json:"workspace"`
	// Customers are the stored customer ids forgotten (phone numbers
	// hashed); empty for a whole workspace.
	Customers     []string `json:"customers,omitempty"`
	Events        int64    `json:"events"`        // raw events removed, texts with them
	Messages      int64    `json:"messages"`      // message facts removed
	Orders        int64    `json:"orders"`        // order facts removed
	Conversations int64    `json:"conversations"` // conversation facts removed
	// Recomputed are the fact rows of other entities that removed events
	// had fed, merged anew from the events left.
	Recomputed  int64 `json:"recomputed"`
	Quarantined int64 `json:"quarantined"` // quarantined webhook parts removed
	Keys        int64 `json:"keys,omitempty"`
}

// CountFacts records that n rows of the fact table were removed.
func (e *Erasure) CountFacts(table string, n int64) {
	switch table {
	case MessageFacts.Name:
		e.Messages = n
	case OrderFacts.Name:
		e.Orders = n
	case ConversationFacts.Name:
		e.Conversations = n
	}
}

// Retention is a workspace's retention policy, in whole months: what is
// older than the first day (UTC) of the month that many months before the
// current one is removed. Zero keeps forever.
type Retention struct {
	EventsMonths int `json:"events_months,omitempty"` // raw events, texts with them
	TextsMonths  int `json:"texts_months,omitempty"`  // texts of events, if shorter than the events
	FactsMonths  int `json:"facts_months,omitempty"`  // message, order and conversation facts
}

// Cutoffs are the times before which a retention run removes data; a zero
// time removes nothing.
type Cutoffs struct {
	Events time.Time `json:"events,omitzero"`
	Texts  time.Time `json:"texts,omitzero"`
	Facts  time.Time `json:"facts,omitzero"`
}

// Cutoffs gives the policy's cutoffs at now. Texts never outlive their
// events, and facts never end before the events that feed them.
func (r Retention) Cutoffs(now time.Time) Cutoffs {
	month := func(n int) time.Time {
		if n <= 0 {
			return time.Time{}
		}
		y, m, _ := now.UTC().Date()
		return time.Date(y, m-time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	}
	c := Cutoffs{Events: month(r.EventsMonths), Texts: month(r.TextsMonths), Facts: month(r.FactsMonths)}
	if c.Texts.IsZero() || (!c.Events.IsZero() && c.Events.After(c.Texts)) {
		c.Texts = c.Events
	}
	if !c.Facts.IsZero() && (c.Events.IsZero() || c.Facts.After(c.Events)) {
		c.Facts = c.Events
	}
	return c
}

// RetentionRun reports what a retention run removed.
type RetentionRun struct {
	Workspace string  `json:"workspace"`
	Cutoffs   Cutoffs `json:"cutoffs"`
	Events    int64   `json:"events"` // raw events removed
	Texts     int64   `json:"texts"`  // texts cleared from events kept
	Facts     int64   `json:"facts"`  // fact rows removed
	// Partitions are the ClickHouse partitions (months, as 202601)
	// dropped whole, holding this workspace's events alone.
	Partitions []string `json:"partitions,omitempty"`
}

// ForgottenHash is how a forgotten customer, message, order or
// conversation is kept in a workspace's forgotten list: the hex SHA-256
// of what ("customer", "message", "order" or "conversation"), a colon and
// the stored id.
func ForgottenHash(what, id string) string {
	sum := sha256.Sum256([]byte(what + ":" + id))
	return hex.EncodeToString(sum[:])
}

// ForgottenHashes lists the hashes under which e would be found in a
// forgotten list, the customer's first.
func ForgottenHashes(e *event.Event) []string {
	var out []string
	for _, p := range [...][2]string{{"customer", e.Customer}, {"message", e.Message}, {"order", e.Order}, {"conversation", e.Conversation}} {
		if p[1] != "" {
			out = append(out, ForgottenHash(p[0], p[1]))
		}
	}
	return out
}

// DropEvents marks the events to drop: Forgotten when one of their hashes
// is in forgotten (by workspace), Expired when older than expired (by
// workspace, in Unix ms). An event dropped for its customer makes its
// message, order and conversation forgotten too, for the events after it
// in the batch and, through the returned hashes (by workspace), for good.
func DropEvents(events []event.Event, forgotten func(workspace, hash string) bool, expired map[string]int64) ([]Outcome, map[string][]string) {
	out := make([]Outcome, len(events))
	added := map[string][]string{}
	local := map[[2]string]bool{}
	isForgotten := func(ws, h string) bool { return local[[2]string{ws, h}] || forgotten(ws, h) }
	for pass := 0; pass < 2; pass++ {
		for i := range events {
			e := &events[i]
			if out[i] != 0 {
				continue
			}
			hashes := ForgottenHashes(e)
			drop := false
			for _, h := range hashes {
				if isForgotten(e.Workspace, h) {
					drop = true
					break
				}
			}
			if drop {
				out[i] = Forgotten
				if e.Customer != "" && isForgotten(e.Workspace, ForgottenHash("customer", e.Customer)) {
					for _, h := range hashes[1:] {
						if !isForgotten(e.Workspace, h) {
							local[[2]string{e.Workspace, h}] = true
							added[e.Workspace] = append(added[e.Workspace], h)
						}
					}
				}
				continue
			}
			if pass == 1 {
				if before, ok := expired[e.Workspace]; ok && e.TSMillis() < before {
					out[i] = Expired
				}
			}
		}
	}
	return out, added
}

// Kept lists the events that drops (as DropEvents gives them) leaves to
// store: those whose outcome is still zero.
func Kept(events []event.Event, drops []Outcome) []event.Event {
	kept := make([]event.Event, 0, len(events))
	for i, d := range drops {
		if d == 0 {
			kept = append(kept, events[i])
		}
	}
	return kept
}

// WithDrops gives every event its outcome: its drop, or, in order, the
// outcome of inserting the kept ones.
func WithDrops(drops, kept []Outcome) []Outcome {
	j := 0
	for i := range drops {
		if drops[i] == 0 {
			drops[i] = kept[j]
			j++
		}
	}
	return drops
}
