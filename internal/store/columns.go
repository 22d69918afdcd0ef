package store

import (
	"encoding/json"
	"strings"

	"github.com/omnikpi/omnikpi/internal/event"
)

// ColumnType is the type of a stored column; each store writes it in its
// own SQL.
type ColumnType uint8

// Column types.
const (
	Text     ColumnType = iota + 1
	Int                 // a 64-bit integer: times in Unix ms, money in minor units, counts
	Float               // a 64-bit float
	Bool                // true or false
	TextList            // a list of texts
)

// Column is a column of a stored table.
type Column struct {
	Name     string
	Type     ColumnType
	Nullable bool
}

// EventColumns are the columns of the events table, in the order of the
// table and of EventRow. Both stores create the table from them and insert
// EventRow; a store's own columns come after these.
var EventColumns = []Column{
	{"workspace", Text, false},
	{"id", Text, false},
	{"ts", Int, false}, // Unix ms
	{"kind", Text, false},
	{"channel", Text, true},
	{"customer", Text, true},
	{"conversation", Text, true},
	{"message", Text, true},
	{"campaign", Text, true},
	{"template", Text, true},
	{"variant", Text, true},
	{"actor", Text, true},
	{"agent", Text, true},
	{"team", Text, true},
	{"order_id", Text, true},
	{"amount", Int, true}, // minor units of currency
	{"currency", Text, true},
	{"score", Float, true},
	{"count", Int, false},
	{"duration_ms", Int, true},
	{"text", Text, true},
	{"tags", TextList, true},
	{"source", Text, true},
	{"medium", Text, true},
	{"utm_campaign", Text, true},
	{"utm_content", Text, true},
	{"utm_term", Text, true},
	{"product", Text, true},
	{"platform", Text, true},
	{"props", Text, true},    // JSON
	{"received", Int, false}, // when the store took the event, Unix ms
}

// EventColumnNames lists EventColumns' names for an INSERT, which
// ClickHouse 18.16 needs on every one.
func EventColumnNames() string {
	names := make([]string, len(EventColumns))
	for i, c := range EventColumns {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// EventColumn is the events table's column called name.
func EventColumn(name string) Column {
	for _, c := range EventColumns {
		if c.Name == name {
			return c
		}
	}
	panic("no event column " + name)
}

// EventRow lays e out in EventColumns order, received being when the store
// took it (Unix ms). An absent value is nil, text as string, Int as int64,
// Float as float64, a TextList as []string (nil when none).
func EventRow(e *event.Event, received int64) []any {
	var amount, currency, score, duration, props any
	if e.Amount != nil {
		amount, currency = e.Amount.Minor, e.Amount.Currency
	}
	if e.Score != nil {
		score = *e.Score
	}
	if e.DurationMS != nil {
		duration = *e.DurationMS
	}
	if len(e.Props) > 0 {
		b, _ := json.Marshal(e.Props) // validated as encodable
		props = string(b)
	}
	return []any{
		e.Workspace, e.ID, e.TSMillis(), string(e.Kind), nullable(e.Channel), nullable(e.Customer),
		nullable(e.Conversation), nullable(e.Message), nullable(e.Campaign), nullable(e.Template),
		nullable(e.Variant), nullable(string(e.Actor)), nullable(e.Agent), nullable(e.Team),
		nullable(e.Order), amount, currency, score, e.Count, duration, nullable(e.Text), e.Tags,
		nullable(e.Source), nullable(e.Medium), nullable(e.UTMCampaign), nullable(e.UTMContent),
		nullable(e.UTMTerm), nullable(e.Product), nullable(e.Platform), props, received,
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
