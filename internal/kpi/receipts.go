package kpi

import (
	"fmt"
	"slices"
	"strings"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Receipts that name no message (KPIS.md §7, EVENTS.md): a channel such as
// Messenger reports deliveries and reads as a watermark, a time up to which
// every message of the conversation was delivered or read, and clicks
// (postbacks, quick replies) without the message they answer. Such an
// event names its customer and channel instead. The KPIs apply it when
// they read, to the customer's outbound messages on that channel:
//
//   - a delivery or read with props.watermark counts for every message
//     sent at or before the watermark, at the event's time;
//   - a click counts for the customer's latest message sent at or before
//     it (ties going to the greatest message id).
//
// Each such pair of a message and a receipt is a derived status event of
// the message, merged into its facts by the facts' own rules (the earliest
// time of the column's kinds). The result is a function of the set of
// stored events, whatever their order of arrival: a watermark that came
// before the echo of a message it covers counts for it all the same.

// receiptKinds are the kinds a receipt naming no message can have.
var receiptKinds = []string{string(event.MessageDelivered), string(event.MessageRead), string(event.LinkClicked), string(event.ButtonClicked)}

// clickKinds are those of them that are clicks; the others carry a
// watermark.
var clickKinds = []string{string(event.LinkClicked), string(event.ButtonClicked)}

// receiptColumns are the message facts' columns that derived statuses
// change: those that read only receipt kinds (delivered_ms, read_ms,
// clicked_ms), never when the message was sent or received.
func receiptColumns() []store.FactColumn {
	var out []store.FactColumn
	for _, c := range store.MessageFacts.Columns {
		if c.Rule != store.Earliest || len(c.Kinds) == 0 {
			continue
		}
		only := true
		for _, k := range c.Kinds {
			only = only && slices.Contains(receiptKinds, k)
		}
		if only {
			out = append(out, c)
		}
	}
	return out
}

// MessageFacts is the message facts under alias, as Facts gives them, with
// the receipts that name no message applied to delivered_ms, read_ms and
// clicked_ms. The queries that read those columns read the facts through
// it; the others read Facts. sentFrom, when not 0, is a bound the query
// puts on its messages' send time: the facts are read from it, and the
// receipts from it too, since a receipt is never earlier than the
// messages it counts for (event.Validate holds a watermark to its time).
//
// The SQL keeps to what ClickHouse 18.16 gets right (see sql/messages.sql):
// one JOIN per SELECT, aliases unique in the whole query (suffixed with
// the number of arguments bound so far, which grows with each use), the
// sides of a JOIN sharing no column name, and a LEFT JOIN only onto
// Nullable columns, which it leaves null where nothing matches.
func (c *sqlCtx) MessageFacts(alias string, sentFrom int64) string {
	c.factAliases[alias] = store.MessageFacts.Name
	n := len(*c.args)
	mf, mx := fmt.Sprintf("mf%d", n), fmt.Sprintf("mx%d", n)
	merged := receiptColumns()
	isMerged := func(name string) bool {
		return slices.ContainsFunc(merged, func(m store.FactColumn) bool { return m.Name == name })
	}

	var inner, outer []string // the columns of the facts' subquery, and of the result
	inner = append(inner, "workspace", "message")
	outer = append(outer, "workspace", "message")
	for _, col := range store.MessageFacts.Columns {
		if !isMerged(col.Name) {
			inner = append(inner, col.Name)
			outer = append(outer, col.Name)
			continue
		}
		stored, derived := mf+"_"+col.Name, mx+"_"+col.Name
		inner = append(inner, col.Name+" AS "+stored)
		outer = append(outer, fmt.Sprintf("CASE WHEN %[2]s IS NOT NULL AND (%[1]s IS NULL OR %[2]s < %[1]s) THEN %[2]s ELSE %[1]s END AS %[3]s",
			stored, derived, col.Name))
	}
	for _, d := range store.MessageFacts.AllDims() {
		inner = append(inner, d)
		outer = append(outer, d)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "(SELECT %s\nFROM (SELECT %s FROM %s WHERE workspace = %s%s) %s\nLEFT JOIN (\n    SELECT %s_message AS %s_message",
		strings.Join(outer, ", "), strings.Join(inner, ", "), c.dialect.Facts(store.MessageFacts.Name, ""), c.Arg(c.Workspace), c.sentFrom("", sentFrom), mf, c.rowsPrefix(n), mx)
	for _, col := range merged {
		fmt.Fprintf(&b, ",\n        min(CASE WHEN %[1]s_kind IN (%[2]s) THEN %[1]s_ts END) AS %[3]s_%[4]s", c.rowsPrefix(n), store.SQLList(col.Kinds), mx, col.Name)
	}
	fmt.Fprintf(&b, "\n    FROM (%s) %s\n    GROUP BY %[3]s_message\n) %[4]s ON %[4]s.%[4]s_message = %[5]s.message)",
		c.derivedStatuses(n, sentFrom), c.rowsPrefix(n)+"t", c.rowsPrefix(n), mx, mf)
	if alias != "" {
		b.WriteString(" " + alias)
	}
	return b.String()
}

// DerivedStatuses is a SELECT of the derived status events (see above) as
// columns PREFIX_message, PREFIX_kind and PREFIX_ts, to stand in a UNION
// ALL beside raw events naming their message.
func (c *sqlCtx) DerivedStatuses(prefix string) string {
	n := len(*c.args)
	p := c.rowsPrefix(n)
	return fmt.Sprintf("SELECT %[1]s_message AS %[2]s_message, %[1]s_kind AS %[2]s_kind, %[1]s_ts AS %[2]s_ts FROM (%[3]s) %[1]st",
		p, prefix, c.derivedStatuses(n, 0))
}

// rowsPrefix names the columns of the derived statuses of use n.
func (c *sqlCtx) rowsPrefix(n int) string { return fmt.Sprintf("rs%d", n) }

// sentFrom is the condition that a message (under alias, on unqualified
// columns when it is empty) was sent from sentFrom on; none for 0.
func (c *sqlCtx) sentFrom(alias string, sentFrom int64) string {
	if sentFrom == 0 {
		return ""
	}
	return fmt.Sprintf(" AND coalesce(%s, %s) >= %s", qualified(alias, "sent_ms"), qualified(alias, "first_ms"), c.Arg(sentFrom))
}

// derivedStatuses is the SELECT of one row per message and receipt that
// counts for it: (rsN_message, rsN_kind, rsN_ts). One JOIN of the
// customers' outbound messages with their receipts gives both: a
// watermark's group is a message and the receipt, kept when the message
// was sent at or before the watermark; a click's group is the receipt,
// whose latest message sent at or before it is picked.
func (c *sqlCtx) derivedStatuses(n int, sentFrom int64) string {
	p, g, r := c.rowsPrefix(n), fmt.Sprintf("rg%d", n), fmt.Sprintf("rr%d", n)
	return fmt.Sprintf(`SELECT %[4]s AS %[1]s_message, max(%[3]s.%[3]s_kind) AS %[1]s_kind, max(%[3]s.%[3]s_ts) AS %[1]s_ts
    FROM %[5]s
    JOIN %[6]s ON %[3]s.%[3]s_customer = %[2]s.%[2]s_customer AND %[3]s.%[3]s_channel = %[2]s.%[2]s_channel
    WHERE (%[3]s.%[3]s_click = 1 AND %[2]s.%[2]s_st <= %[3]s.%[3]s_ts) OR (%[3]s.%[3]s_click = 0 AND %[2]s.%[2]s_st <= %[3]s.%[3]s_mark)
    GROUP BY %[3]s.%[3]s_id, CASE WHEN %[3]s.%[3]s_click = 1 THEN '' ELSE %[2]s.%[2]s_message END`,
		p, g, r, c.Latest(g+"."+g+"_message", g+"."+g+"_st"), c.outboundMessages(g, sentFrom), c.receiptEvents(r, sentFrom))
}

// outboundMessages is the subquery (under alias a) of the workspace's
// outbound messages to a known customer on a known channel, with their
// send time: a_message, a_customer, a_channel, a_st.
func (c *sqlCtx) outboundMessages(a string, sentFrom int64) string {
	return fmt.Sprintf("(SELECT message AS %[1]s_message, customer AS %[1]s_customer, channel AS %[1]s_channel, coalesce(sent_ms, first_ms) AS %[1]s_st\n        FROM %[2]s\n        WHERE workspace = %[3]s AND outbound_ms IS NOT NULL AND customer IS NOT NULL AND channel IS NOT NULL%[4]s) %[1]s",
		a, c.dialect.Facts(store.MessageFacts.Name, ""), c.Arg(c.Workspace), c.sentFrom("", sentFrom))
}

// receiptEvents is the subquery (under alias a) of the workspace's
// receipts that name no message but a customer and channel, from sentFrom
// on: a_id, a_kind, a_ts, a_customer, a_channel, a_click (1 for a click,
// 0 for a watermark) and a_mark (the watermark).
//
// The events are read as stored, not through Events: a copy of a receipt
// that ClickHouse has not yet collapsed derives the same rows as the
// receipt, which the minimums and the pick of the latest message merge,
// and reading every status of the workspace with FINAL costs ten times
// more.
func (c *sqlCtx) receiptEvents(a string, sentFrom int64) string {
	ev := a + "e"
	workspace := c.Arg(c.Workspace) // bound before the time, as the text names them
	since := ""
	if sentFrom != 0 {
		since = fmt.Sprintf(" AND %s.ts >= %s", ev, c.Arg(sentFrom))
	}
	return fmt.Sprintf(`(SELECT %[1]s.id AS %[2]s_id, %[1]s.kind AS %[2]s_kind, %[1]s.ts AS %[2]s_ts, %[1]s.customer AS %[2]s_customer, %[1]s.channel AS %[2]s_channel,
            CASE WHEN %[1]s.kind IN (%[3]s) THEN 1 ELSE 0 END AS %[2]s_click, %[4]s AS %[2]s_mark
        FROM %[5]s
        WHERE %[1]s.workspace = %[6]s AND %[1]s.kind IN (%[7]s)%[8]s AND %[1]s.message IS NULL AND %[1]s.customer IS NOT NULL AND %[1]s.channel IS NOT NULL) %[2]s`,
		ev, a, store.SQLList(clickKinds), c.dialect.PropNumber(ev, event.WatermarkProp), "events AS "+ev, workspace, store.SQLList(receiptKinds), since)
}
