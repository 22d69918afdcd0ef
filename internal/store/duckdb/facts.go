package duckdb

import (
	"fmt"
	"strings"
)

// The fact upserts are generated from these lists so that every dimension
// follows the same merge rule; writing them out would be 60 near-identical
// lines per table.

// rankLater pushes events that do not create the entity behind the one that
// does in a dimension's key: key = rank·rankLater + time in ms.
const rankLater = 1_000_000_000_000_000

type factTable struct {
	name    string
	key     string   // entity column in the fact table
	source  string   // entity column in events
	kinds   []string // event kinds that feed this table
	primary []string // kinds ranked first for the dimensions
	dims    []string
	// aggregates: column → batch aggregate over the fresh events
	aggs []factAgg
}

type factAgg struct {
	column string
	batch  string // aggregate over the fresh rows of a batch
	merge  string // merge of the stored value (t.col) with the batch's (excluded.col)
}

func minOf(kinds ...string) string {
	return fmt.Sprintf("min(ts) FILTER (WHERE kind IN (%s))", quoteList(kinds))
}

func leastMerge(col string) string {
	return fmt.Sprintf("least(t.%[1]s, excluded.%[1]s)", col)
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = "'" + s + "'"
	}
	return strings.Join(q, ", ")
}

var outboundKinds = []string{"message_sent", "message_delivered", "message_read", "message_failed", "link_clicked", "button_clicked"}
var clickKinds = []string{"link_clicked", "button_clicked"}

var messageFacts = factTable{
	name: "message_facts", key: "message", source: "message",
	kinds:   append([]string{"message_received"}, outboundKinds...),
	primary: []string{"message_sent", "message_received"},
	dims:    []string{"channel", "customer", "conversation", "campaign", "template", "variant", "actor", "agent", "team"},
	aggs: []factAgg{
		{"first_ms", "min(ts)", leastMerge("first_ms")},
		{"sent_ms", minOf("message_sent"), leastMerge("sent_ms")},
		{"outbound_ms", minOf(outboundKinds...), leastMerge("outbound_ms")},
		{"delivered_ms", minOf(append([]string{"message_delivered", "message_read"}, clickKinds...)...), leastMerge("delivered_ms")},
		{"read_ms", minOf(append([]string{"message_read"}, clickKinds...)...), leastMerge("read_ms")},
		{"clicked_ms", minOf(clickKinds...), leastMerge("clicked_ms")},
		{"failed_ms", minOf("message_failed"), leastMerge("failed_ms")},
		{"received_ms", minOf("message_received"), leastMerge("received_ms")},
	},
}

// placedFirst is true when the batch's earliest order_placed (time, then
// event id) comes before the stored one: its amount and currency win.
const placedFirst = `(excluded.placed_ms IS NOT NULL AND (t.placed_ms IS NULL OR excluded.placed_ms < t.placed_ms
    OR (excluded.placed_ms = t.placed_ms AND excluded.placed_id < t.placed_id)))`

func placedArg(col string) string {
	return fmt.Sprintf("arg_min(%s, {'ts': ts, 'id': id}) FILTER (WHERE kind = 'order_placed')", col)
}

func placedMerge(col string) string {
	return fmt.Sprintf("CASE WHEN %s THEN excluded.%[2]s ELSE t.%[2]s END", placedFirst, col)
}

var orderFacts = factTable{
	name: "order_facts", key: "order_id", source: "order_id",
	kinds:   []string{"order_placed", "order_refunded", "order_returned"},
	primary: []string{"order_placed"},
	dims:    []string{"channel", "customer", "conversation", "campaign", "template", "variant", "agent", "team"},
	aggs: []factAgg{
		{"first_ms", "min(ts)", leastMerge("first_ms")},
		{"placed_ms", minOf("order_placed"), leastMerge("placed_ms")},
		{"placed_id", placedArg("id"), placedMerge("placed_id")},
		{"amount", placedArg("amount"), placedMerge("amount")},
		{"currency", placedArg("currency"), placedMerge("currency")},
		{"refunded", "coalesce(sum(amount) FILTER (WHERE kind = 'order_refunded'), 0)", "t.refunded + excluded.refunded"},
		{"returned", "coalesce(sum(amount) FILTER (WHERE kind = 'order_returned'), 0)", "t.returned + excluded.returned"},
		{"returned_whole", "coalesce(bool_or(kind = 'order_returned' AND amount IS NULL), false)", "t.returned_whole OR excluded.returned_whole"},
		{"undone_ms", minOf("order_refunded", "order_returned"), leastMerge("undone_ms")},
	},
}

var conversationFacts = factTable{
	name: "conversation_facts", key: "conversation", source: "conversation",
	kinds: append(append([]string{"message_received"}, outboundKinds...),
		"conversation_opened", "conversation_assigned", "conversation_resolved", "conversation_reopened", "goal_reached"),
	primary: []string{"conversation_opened"},
	dims:    []string{"channel", "customer", "campaign", "template", "variant", "agent", "team"},
	aggs: []factAgg{
		{"first_ms", "min(ts)", leastMerge("first_ms")},
		{"last_ms", "max(ts)", "greatest(t.last_ms, excluded.last_ms)"},
	},
}

// upsertSQL merges the fresh events of the staged batch into the fact table.
// The stored row and the batch's row are combined with the same rules the
// batch aggregate uses, so the result does not depend on how events were
// split into batches or ordered.
func (f factTable) upsertSQL() string {
	var cols, batch, sets []string
	cols = append(cols, "workspace", f.key)
	batch = append(batch, "workspace", f.source)
	for _, a := range f.aggs {
		cols = append(cols, a.column)
		batch = append(batch, a.batch)
		sets = append(sets, a.column+" = "+a.merge)
	}
	for _, d := range f.dims {
		cols = append(cols, d, d+"_k")
		batch = append(batch,
			fmt.Sprintf("arg_min(%[1]s, {'k': k, 'v': %[1]s}) FILTER (WHERE %[1]s IS NOT NULL)", d),
			fmt.Sprintf("min(k) FILTER (WHERE %s IS NOT NULL)", d))
		better := fmt.Sprintf("(t.%[1]s_k IS NULL OR excluded.%[1]s_k < t.%[1]s_k OR (excluded.%[1]s_k = t.%[1]s_k AND excluded.%[1]s < t.%[1]s))", d)
		sets = append(sets,
			fmt.Sprintf("%[1]s = CASE WHEN %[2]s THEN excluded.%[1]s ELSE t.%[1]s END", d, better),
			fmt.Sprintf("%[1]s_k = least(t.%[1]s_k, excluded.%[1]s_k)", d))
	}
	return fmt.Sprintf(`INSERT INTO %[1]s AS t (%[2]s)
SELECT %[3]s
FROM (
    SELECT s.*, ts + CASE WHEN kind IN (%[4]s) THEN 0 ELSE %[5]d END AS k
    FROM stage s JOIN fresh USING (seq)
    WHERE s.%[6]s IS NOT NULL AND s.kind IN (%[7]s)
)
GROUP BY workspace, %[6]s
ON CONFLICT (workspace, %[8]s) DO UPDATE SET
    %[9]s`,
		f.name, strings.Join(cols, ", "), strings.Join(batch, ",\n    "),
		quoteList(f.primary), rankLater, f.source, quoteList(f.kinds), f.key,
		strings.Join(sets, ",\n    "))
}
