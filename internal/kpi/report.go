package kpi

import "time"

// Dimensions a request may filter and group by.
var Dimensions = append([]string{"channel", "campaign", "template", "variant", "agent", "team", "customer", "class"}, EventDimensions...)

// Classes of outbound messages (KPIS.md §1), the values of the class
// dimension: agent and bot replies and messages billed as service are
// conversation messages, every other outbound message a campaign message.
// Class is a dimension of messages only; inbound messages have none.
var Classes = []string{"campaign", "conversation"}

// EventDimensions are the dimensions of visits, clicks and social events,
// which messages, orders and conversations do not have: grouped by one of
// them, those KPIs fall into the group without a value.
var EventDimensions = []string{"source", "medium", "utm_campaign", "platform"}

// Buckets a request may split time into, in the workspace's time zone.
var Buckets = []string{"hour", "day", "week", "month"}

// Request asks for KPIs of one workspace over [From, To).
type Request struct {
	Workspace string
	// From and To are RFC 3339 times or dates (2026-01-31) in the report's
	// time zone; To is exclusive. Empty To is now; empty From is 30 days
	// before To.
	From, To string
	KPIs     []string            // catalogue ids; empty means every KPI
	GroupBy  []string            // from Dimensions
	Bucket   string              // "" or one of Buckets
	Filters  map[string][]string // dimension → accepted values
	TimeZone string              // overrides the workspace's zone when set
	// Hours counts response and resolution times in "wall" clock time (the
	// default) or in the workspace's "business" hours.
	Hours string
	// Lookback and HalfLife tune attribution: how far before a purchase a
	// touchpoint counts (default 30 days) and the time-decay half-life
	// (default 7 days).
	Lookback, HalfLife time.Duration
	// Compare adds to each figure the same figure of the "previous" period
	// (just before: as many local days for a period of whole days, as many
	// months for whole months, else as long) and of "last_year" (the same
	// local dates and times a year earlier), with the change.
	Compare []string
	// Segment narrows the request to a segment's customers, such as
	// rfm:champions (see SegmentFamilies).
	Segment string
	// Currencies keeps only the money figures (and attributed orders) in
	// these ISO 4217 currencies; all when empty.
	Currencies []string
}

// keepsCurrency tells whether a figure in currency c stays in the answer:
// figures without a currency always do.
func (r Request) keepsCurrency(c string) bool {
	return c == "" || len(r.Currencies) == 0 || contains(r.Currencies, c)
}

// Report is the answer, in the JSON shape the CLI and GET /v1/kpis share.
type Report struct {
	Workspace string `json:"workspace"`
	From      string `json:"from"` // RFC 3339 in the report's time zone
	To        string `json:"to"`
	TimeZone  string `json:"time_zone"`
	Rows      []Row  `json:"rows"`
}

// Row is one group: empty Group when the request is not grouped. A bucketed
// request has the bucket's start under Group["bucket"].
type Row struct {
	Group map[string]*string `json:"group"` // null where the events carry no value
	KPIs  []Value            `json:"kpis"`
}

// Value is one KPI's figure for a group. Money KPIs give one Value per
// currency, since currencies are never added together.
type Value struct {
	ID          string   `json:"id"`
	Value       *float64 `json:"value"` // nil when the denominator is zero or the channel does not report it
	Numerator   float64  `json:"numerator"`
	Denominator float64  `json:"denominator"`
	Unit        Unit     `json:"unit"`
	Currency    string   `json:"currency,omitempty"`
	// Label names one of several figures of a KPI: a response-time bucket,
	// a goal, a feedback tag, a keyword.
	Label  string `json:"label,omitempty"`
	Rating Rating `json:"rating,omitempty"`
	Band   *Band  `json:"band,omitempty"`
	Reason string `json:"reason,omitempty"` // why Value is null
	// With Request.Compare: the figure of the previous period and of the
	// same period last year, and the change to this one, in percent, or
	// in points for rates and scores such as NPS (ChangeUnit says which:
	// "percent" or "points").
	Previous       *float64 `json:"previous,omitempty"`
	Change         *float64 `json:"change,omitempty"`
	LastYear       *float64 `json:"last_year,omitempty"`
	ChangeLastYear *float64 `json:"change_last_year,omitempty"`
	ChangeUnit     string   `json:"change_unit,omitempty"`
}
