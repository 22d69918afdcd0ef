// Package event is omnikpi's event model: the generic format of EVENTS.md,
// its decoding from JSON objects and CSV records, and its validation.
package event

import (
	"time"
)

// Event is one thing that happened, in the generic format. Empty strings
// stand for absent fields.
type Event struct {
	ID           string         `json:"id"`
	TS           time.Time      `json:"ts"` // when it happened, UTC, millisecond precision
	Kind         Kind           `json:"kind"`
	Workspace    string         `json:"workspace,omitempty"`
	Channel      string         `json:"channel,omitempty"`
	Customer     string         `json:"customer,omitempty"`
	Conversation string         `json:"conversation,omitempty"`
	Message      string         `json:"message,omitempty"`
	Campaign     string         `json:"campaign,omitempty"`
	Template     string         `json:"template,omitempty"`
	Variant      string         `json:"variant,omitempty"`
	Actor        Actor          `json:"actor,omitempty"`
	Agent        string         `json:"agent,omitempty"`
	Team         string         `json:"team,omitempty"`
	Order        string         `json:"order,omitempty"`
	Amount       *Money         `json:"amount,omitempty"`
	Score        *float64       `json:"score,omitempty"`
	Count        int64          `json:"count"`                 // for pre-aggregated kinds; 1 unless given
	DurationMS   *int64         `json:"duration_ms,omitempty"` // for site_session
	Text         string         `json:"text,omitempty"`
	Tags         []string       `json:"tags,omitempty"`
	Source       string         `json:"source,omitempty"`
	Medium       string         `json:"medium,omitempty"`
	UTMCampaign  string         `json:"utm_campaign,omitempty"`
	UTMContent   string         `json:"utm_content,omitempty"`
	UTMTerm      string         `json:"utm_term,omitempty"`
	Product      string         `json:"product,omitempty"`
	Platform     string         `json:"platform,omitempty"`
	Props        map[string]any `json:"props,omitempty"`

	pendingAmount string // amount text, converted once the currency is known
	amountGiven   bool   // the amount was converted from text: a zero is an amount, not its absence
}

// TSMillis is the event time in Unix milliseconds, the unit both stores keep.
func (e *Event) TSMillis() int64 { return e.TS.UnixMilli() }

// Prop returns props[key] as a string, or "" when it is absent.
func (e *Event) Prop(key string) string {
	switch v := e.Props[key].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return stringOf(v)
	}
}
