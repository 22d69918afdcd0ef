package kpi

import (
	"fmt"
	"strings"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

// sqlCtx is what the SQL templates see. Arg and the fragments append their
// parameters in the order the template renders them, which is the order of
// the ? placeholders in the text.
type sqlCtx struct {
	args    *[]any
	dialect store.Dialect
	req     *resolved

	Workspace    string
	FromMS, ToMS int64
	// SpanFromMS and SpanToMS widen the period for queries that must see
	// around it (sessions that began before it, replies after it).
	SpanFromMS, SpanToMS int64
	// MonthFromMS is the first of the month (UTC) of the period's start:
	// a rate card's volume tiers and free allowances count from there.
	MonthFromMS int64
	// OrdinalCategories are the pricing categories a rate card prices by
	// a message's number in its month (store.RateCard.NeedsOrdinals).
	OrdinalCategories []string
	// LastYearFromMS and LastYearToMS are the period a year earlier.
	LastYearFromMS, LastYearToMS int64
	Win                          windowsMS
	Window                       int64  // the window of the enclosing fragment
	Extra                        string // a fixed condition for the enclosing fragment
	Filtered                     bool   // the enclosing fragment applies the request's filters
	// eventAliases are the aliases that name raw events (found by a first
	// rendering): only they carry the visit dimensions (EventDimensions).
	eventAliases map[string]bool
	// factAliases name the fact table under each alias (found the same
	// way): only message facts carry the class dimension.
	factAliases map[string]string
}

type windowsMS struct {
	Reply, Conversion, OptOut, Conversation int64
}

// Arg binds v as the next parameter.
func (c *sqlCtx) Arg(v any) string {
	*c.args = append(*c.args, v)
	return "?"
}

// List binds each of vals, separated by commas, for an IN list; an empty
// list stands for none (a value no column holds).
func (c *sqlCtx) List(vals []string) string {
	if len(vals) == 0 {
		return c.Arg("\x00")
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = c.Arg(v)
	}
	return strings.Join(out, ", ")
}

// With returns the context for a fragment with its own window and a fixed
// extra condition (template text, never user input).
func (c *sqlCtx) With(window int64, extra string) *sqlCtx {
	d := *c
	d.Window, d.Extra = window, extra
	return &d
}

// InPeriod returns the context for a fragment that keeps the period's rows
// only, filtered by the request, with a fixed extra condition. A query that
// joins such a fragment needs no WHERE on it: on ClickHouse 18.16 a WHERE
// after a JOIN that names only the left side can fail ("Size of filter
// doesn't match size of column").
func (c *sqlCtx) InPeriod(extra string) *sqlCtx {
	d := c.With(0, extra)
	d.Filtered = true
	return d
}

// Group renders the grouping columns for the select list, each followed by
// a comma, using alias's dimensions and bucketing timeExpr.
func (c *sqlCtx) Group(alias, timeExpr string) string {
	var b strings.Builder
	for _, d := range c.req.GroupBy {
		if c.lacks(alias, d) {
			fmt.Fprintf(&b, "NULL AS g_%s, ", d)
			continue
		}
		fmt.Fprintf(&b, "%s AS g_%s, ", c.column(alias, d), d)
	}
	if c.req.Bucket != "" {
		b.WriteString(c.bucket(timeExpr))
		b.WriteString(" AS g_bucket, ")
	}
	return b.String()
}

// GroupBy renders the GROUP BY clause for Group's columns and extra ones.
func (c *sqlCtx) GroupBy(extra ...string) string {
	cols := make([]string, 0, len(c.req.GroupBy)+1+len(extra))
	for _, d := range c.req.GroupBy {
		cols = append(cols, "g_"+d)
	}
	if c.req.Bucket != "" {
		cols = append(cols, "g_bucket")
	}
	cols = append(cols, extra...)
	if len(cols) == 0 {
		return ""
	}
	return "GROUP BY " + strings.Join(cols, ", ")
}

// Filter renders the request's dimension filters on alias (on unqualified
// columns when alias is empty).
func (c *sqlCtx) Filter(alias string) string {
	var b strings.Builder
	for _, d := range Dimensions { // a fixed order keeps the SQL text stable
		vals := c.req.Filters[d]
		if len(vals) == 0 {
			continue
		}
		if c.lacks(alias, d) {
			b.WriteString(" AND 1 = 0") // no row of this table has the value
			continue
		}
		fmt.Fprintf(&b, " AND %s IN (", c.column(alias, d))
		for i, v := range vals {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.Arg(v))
		}
		b.WriteString(")")
	}
	return b.String()
}

// lacks reports whether the rows under alias have no dimension d: facts
// carry the message dimensions, not the visit ones, and only messages
// have a class.
func (c *sqlCtx) lacks(alias, d string) bool {
	if d == "class" {
		return c.factAliases[alias] != store.MessageFacts.Name
	}
	return contains(EventDimensions, d) && !c.eventAliases[alias]
}

// column is dimension d of the rows under alias (unqualified when alias is
// empty).
func (c *sqlCtx) column(alias, d string) string {
	if d == "class" {
		return c.class(alias)
	}
	return qualified(alias, d)
}

func qualified(alias, col string) string {
	if alias == "" {
		return col
	}
	return alias + "." + col
}

// class is the class of a message (KPIS.md §1): none for an inbound
// message; conversation for an agent's or bot's reply or a message billed
// as service; campaign for every other outbound message.
func (c *sqlCtx) class(alias string) string {
	return fmt.Sprintf("CASE WHEN %s IS NULL THEN NULL WHEN %s IN ('agent', 'bot') OR %s = 'service' THEN 'conversation' ELSE 'campaign' END",
		qualified(alias, "outbound_ms"), qualified(alias, "actor"), qualified(alias, "billable_category"))
}

// Engaged is true for the messages the engagement rates count (KPIS.md
// §1): campaign messages, unless the request filters or groups by class,
// when each class has its own rates.
func (c *sqlCtx) Engaged(alias string) string {
	if len(c.req.Filters["class"]) > 0 || contains(c.req.GroupBy, "class") {
		return "1 = 1"
	}
	return c.CampaignClass(alias)
}

// CampaignClass is true for campaign messages.
func (c *sqlCtx) CampaignClass(alias string) string { return c.class(alias) + " = 'campaign'" }

// OutboundClass keeps, in a fragment made with InPeriod, the messages the
// engagement rates count, and in others the campaign messages, which alone
// win conversions and opt-outs.
func (c *sqlCtx) OutboundClass(alias string) string {
	if c.Filtered {
		return c.Engaged(alias)
	}
	return c.CampaignClass(alias)
}

// FilterIfInPeriod renders the request's filters in a fragment made with
// InPeriod, and nothing in others.
func (c *sqlCtx) FilterIfInPeriod(alias string) string {
	if !c.Filtered {
		return ""
	}
	return c.Filter(alias)
}

// ReportsReads is true for messages on channels that report reads in the
// workspace (store.Workspace.ReceiptsOf).
func (c *sqlCtx) ReportsReads(alias string) string { return c.reports(alias, true) }

// ReportsDeliveries is true for messages on channels that report
// deliveries.
func (c *sqlCtx) ReportsDeliveries(alias string) string { return c.reports(alias, false) }

func (c *sqlCtx) reports(alias string, read bool) string {
	without := c.req.ws.ChannelsWithout(read)
	if len(without) == 0 {
		return "1 = 1"
	}
	// Channel names are bound, not written into the text: a workspace
	// names its own channels.
	list := make([]string, len(without))
	for i, ch := range without {
		list[i] = c.Arg(ch)
	}
	return fmt.Sprintf("coalesce(%s, '') NOT IN (%s)", qualified(alias, "channel"), strings.Join(list, ", "))
}

// The fragments below are where the dialects differ: each asks the
// store's store.Dialect.

// Latest is the aggregate that picks value from the row with the greatest
// order, ties going to the greatest value, so the pick is deterministic.
func (c *sqlCtx) Latest(value, order string) string { return c.dialect.Latest(value, order) }

// AttributesOrders is true when the request filters or groups by a
// dimension that orders take from the campaign message that won them.
func (c *sqlCtx) AttributesOrders() bool {
	for _, d := range []string{"campaign", "template", "variant"} {
		if len(c.req.Filters[d]) > 0 || contains(c.req.GroupBy, d) {
			return true
		}
	}
	return false
}

// OrderRows marks alias as naming rows of order facts; it renders nothing.
func (c *sqlCtx) OrderRows(alias string) string {
	c.factAliases[alias] = store.OrderFacts.Name
	return ""
}

// packSeparator separates the values Packed joins: the ASCII unit
// separator, which names and ids do not hold.
const packSeparator = "\x1f"

// Packed joins the texts of cols (an empty text for null) into one, so a
// Latest can carry several columns of one row; Unpack takes them apart.
func (c *sqlCtx) Packed(cols ...string) string {
	parts := make([]string, len(cols))
	for i, col := range cols {
		parts[i] = "coalesce(" + col + ", '')"
	}
	return "concat(" + strings.Join(parts, ", '"+packSeparator+"', ") + ")"
}

// Unpack is the n-th (from 1) value of a Packed text, null when empty.
func (c *sqlCtx) Unpack(expr string, n int) string {
	return "nullIf(" + c.dialect.SplitPart(expr, packSeparator, n) + ", '')"
}

// MessageRows marks alias as naming rows of message facts (a subquery
// selecting them whole), which carry the class dimension; it renders
// nothing.
func (c *sqlCtx) MessageRows(alias string) string {
	c.factAliases[alias] = store.MessageFacts.Name
	return ""
}

// SessionColumns lists the session facts' columns but the workspace, in
// the order store.ScanSession reads them.
func (c *sqlCtx) SessionColumns(alias string) string {
	var cols []string
	for _, col := range store.SessionColumns[1:] {
		cols = append(cols, alias+"."+col.Name)
	}
	return strings.Join(cols, ", ")
}

// Events is the raw event table under alias, each event once.
func (c *sqlCtx) Events(alias string) string {
	c.eventAliases[alias] = true
	return c.dialect.Events(alias)
}

// Facts is a fact table under alias (none when empty), as its current
// rows.
func (c *sqlCtx) Facts(table, alias string) string {
	c.factAliases[alias] = table
	return c.dialect.Facts(table, alias)
}

// Prop extracts a string from an event's props JSON.
func (c *sqlCtx) Prop(alias, key string) string { return c.dialect.Prop(alias, key) }

// socialSources are the sources of visits from social platforms.
var socialSources = []string{"facebook", "instagram", "tiktok", "x", "twitter", "t.co", "linkedin", "youtube", "pinterest",
	"snapchat", "whatsapp", "l.facebook.com", "m.facebook.com", "lm.facebook.com", "l.instagram.com"}

// Paid is true for paid traffic: a paid medium (event.PaidMedia).
func (c *sqlCtx) Paid(alias string) string {
	return fmt.Sprintf("coalesce(%s.medium, '') IN (%s)", alias, store.SQLList(event.PaidMedia))
}

// SocialSources is the quoted list of social sources.
func (c *sqlCtx) SocialSources() string { return store.SQLList(socialSources) }

// PropNumber is a number in props, 0 when absent or not a number.
func (c *sqlCtx) PropNumber(alias, key string) string { return c.dialect.PropNumber(alias, key) }

// TagsText is an event's tags as one text, separated by newlines (tags
// hold no newline: they are short labels).
func (c *sqlCtx) TagsText(alias string) string { return c.dialect.JoinArray(alias+".tags", "\n") }

// bucket truncates a time in milliseconds to the request's bucket in its
// time zone, giving the local wall-clock start of the bucket.
func (c *sqlCtx) bucket(timeExpr string) string {
	return c.dialect.Bucket(c.req.Bucket, timeExpr, c.zone)
}

// HourOfWeek is the local hour of the week of a time in milliseconds, in
// the report's time zone: 0 is Monday 00:00–01:00, 167 Sunday 23:00.
func (c *sqlCtx) HourOfWeek(timeExpr string) string { return c.dialect.HourOfWeek(timeExpr, c.zone) }

// zone binds the report's time zone, once per use in the text.
func (c *sqlCtx) zone() string { return c.Arg(c.req.Location.String()) }

// Bucket is the request's time bucket of a time in milliseconds, as local
// wall-clock text.
func (c *sqlCtx) Bucket(timeExpr string) string { return c.bucket(timeExpr) }
