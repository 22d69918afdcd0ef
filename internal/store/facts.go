package store

import "github.com/omnikpi/omnikpi/internal/event"

// The facts the KPIs read (KPIS.md §7): one row per message, per order and
// per conversation, each column a merge of the events naming the entity.
// Every rule is commutative and idempotent (a minimum, a maximum, a pick by
// smallest key, a sum over distinct events), so a row comes out the same
// whatever the arrival order and however the events were batched. Each
// backend renders these definitions in its own SQL, so both keep the same
// rules.

// FactRule says how a fact column merges the events that feed it.
type FactRule uint8

// Fact rules.
const (
	// Earliest is the earliest time of the events of Kinds (of any of the
	// table's kinds when Kinds is empty), in Unix ms; null when none.
	Earliest FactRule = iota + 1
	// Latest is the latest time of the table's events.
	Latest
	// FirstPlaced is the value of the event column Of on the earliest
	// order_placed, ties going to the smallest event id.
	FirstPlaced
	// SumAmount adds the amounts of the distinct events of Kinds.
	SumAmount
	// WithoutAmount is true when an event of Kinds has no amount.
	WithoutAmount
)

// FactColumn is one merged column of a fact table.
type FactColumn struct {
	Name  string
	Rule  FactRule
	Kinds []string // the event kinds the rule reads
	Of    string   // the event column FirstPlaced picks
}

// Type is the type of the column's values: a time or a sum in Int, a
// flag in Bool, a pick of the event column's type.
func (c FactColumn) Type() ColumnType {
	switch c.Rule {
	case FirstPlaced:
		return EventColumn(c.Of).Type
	case WithoutAmount:
		return Bool
	}
	return Int
}

// Nullable reports whether the column can be null: a time of some of the
// table's kinds, or a pick from an order_placed, that no event of the
// entity gave. A time of any of its kinds, a sum and a flag always have a
// value.
func (c FactColumn) Nullable() bool {
	switch c.Rule {
	case Earliest, Latest:
		return len(c.Kinds) > 0
	case FirstPlaced:
		return true
	}
	return false
}

// FactTable describes one fact table.
type FactTable struct {
	Name   string   // the table the KPI SQL reads
	Key    string   // the entity column in the fact table
	Source string   // the entity column in events
	Kinds  []string // the event kinds that feed the table
	// Primary are the kinds that create the entity: their dimensions win
	// over those of other events, whatever the times.
	Primary []string
	// Dims are dimensions copied from the events. Each comes from the
	// event with the smallest dimension key (DimKey), ties going to the
	// smallest value.
	Dims []string
	// PropDims are dimensions read from a top-level string of the events'
	// props, under the same rule. Their names must not occur as keys
	// inside nested props objects: ClickHouse 18.16 reads props by key
	// name without regard to nesting.
	PropDims []string
	Columns  []FactColumn
}

// AllDims lists Dims, then PropDims.
func (f FactTable) AllDims() []string { return append(append([]string{}, f.Dims...), f.PropDims...) }

// RankLater is added to the time of events that do not create the entity,
// so a dimension's key is rank·RankLater + time in ms.
const RankLater = 1_000_000_000_000_000

// OutboundKinds are the events that imply a message was sent.
var OutboundKinds = []string{"message_sent", "message_delivered", "message_read", "message_failed", "link_clicked", "button_clicked"}

// ClickKinds are the clicks on a message.
var ClickKinds = []string{"link_clicked", "button_clicked"}

// MessageFacts is one row per message.
var MessageFacts = FactTable{
	Name: "message_facts", Key: "message", Source: "message",
	Kinds:   append([]string{"message_received"}, OutboundKinds...),
	Primary: []string{"message_sent", "message_received"},
	Dims:    []string{"channel", "customer", "conversation", "campaign", "template", "variant", "actor", "agent", "team"},
	// What the channel bills the message as, when it is billable; its
	// pricing category and type, billable or free (WhatsApp's status
	// pricing); the recipient's country and the business phone number
	// that sent it: the keys of a messaging rate card. template_category
	// is the category the sender sent it as.
	PropDims: []string{"billable_category", "customer_country", "pricing_category", "pricing_type", "wa_phone_number_id", "template_category"},
	Columns: []FactColumn{
		{Name: "first_ms", Rule: Earliest}, // earliest event naming the message
		{Name: "sent_ms", Rule: Earliest, Kinds: []string{"message_sent"}},
		{Name: "outbound_ms", Rule: Earliest, Kinds: OutboundKinds}, // the message was sent
		{Name: "delivered_ms", Rule: Earliest, Kinds: append([]string{"message_delivered", "message_read"}, ClickKinds...)},
		{Name: "read_ms", Rule: Earliest, Kinds: append([]string{"message_read"}, ClickKinds...)},
		{Name: "clicked_ms", Rule: Earliest, Kinds: ClickKinds},
		{Name: "failed_ms", Rule: Earliest, Kinds: []string{"message_failed"}},
		{Name: "received_ms", Rule: Earliest, Kinds: []string{"message_received"}}, // an inbound message
	},
}

// OrderFacts is one row per order. The amount is the earliest
// order_placed's; refunds and returns add up over distinct events.
var OrderFacts = FactTable{
	Name: "order_facts", Key: "order_id", Source: "order_id",
	Kinds:   []string{"order_placed", "order_refunded", "order_returned"},
	Primary: []string{"order_placed"},
	Dims:    []string{"channel", "customer", "conversation", "campaign", "template", "variant", "agent", "team"},
	Columns: []FactColumn{
		{Name: "first_ms", Rule: Earliest},
		{Name: "placed_ms", Rule: Earliest, Kinds: []string{"order_placed"}},
		{Name: "placed_id", Rule: FirstPlaced, Of: "id"},
		{Name: "amount", Rule: FirstPlaced, Of: "amount"},
		{Name: "currency", Rule: FirstPlaced, Of: "currency"},
		{Name: "refunded", Rule: SumAmount, Kinds: []string{"order_refunded"}},
		{Name: "returned", Rule: SumAmount, Kinds: []string{"order_returned"}},
		// an order_returned without an amount undoes the whole order
		{Name: "returned_whole", Rule: WithoutAmount, Kinds: []string{"order_returned"}},
		{Name: "undone_ms", Rule: Earliest, Kinds: []string{"order_refunded", "order_returned"}},
	},
}

// ConversationFacts is one row per conversation id.
var ConversationFacts = FactTable{
	Name: "conversation_facts", Key: "conversation", Source: "conversation",
	Kinds: append(append([]string{"message_received"}, OutboundKinds...),
		"conversation_opened", "conversation_assigned", "conversation_resolved", "conversation_reopened", "goal_reached"),
	Primary: []string{"conversation_opened"},
	Dims:    []string{"channel", "customer", "campaign", "template", "variant", "agent", "team"},
	Columns: []FactColumn{
		{Name: "first_ms", Rule: Earliest},
		{Name: "last_ms", Rule: Latest},
	},
}

// KindList is the quoted IN list of the kinds c reads: its own, or all the
// table's when it names none.
func (f FactTable) KindList(c FactColumn) string {
	if len(c.Kinds) == 0 {
		return SQLList(f.Kinds)
	}
	return SQLList(c.Kinds)
}

// Facts lists every fact table.
var Facts = []FactTable{MessageFacts, OrderFacts, ConversationFacts}

// SQLList quotes kind names (fixed identifiers, never user input) for an
// IN list.
func SQLList(items []string) string {
	var b []byte
	for i, s := range items {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '\'')
		b = append(b, s...)
		b = append(b, '\'')
	}
	return string(b)
}

// Names reports whether any of the events at seqs feeds the table: one of
// its kinds, naming its entity.
func (f FactTable) Names(events []event.Event, seqs []int64) bool {
	for _, i := range seqs {
		e := &events[i]
		var entity string
		switch f.Source {
		case "message":
			entity = e.Message
		case "order_id":
			entity = e.Order
		case "conversation":
			entity = e.Conversation
		}
		if entity == "" {
			continue
		}
		for _, k := range f.Kinds {
			if string(e.Kind) == k {
				return true
			}
		}
	}
	return false
}
