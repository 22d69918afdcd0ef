package kpi

import (
	"fmt"
	"strings"

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
	// LastYearFromMS and LastYearToMS are the period a year earlier.
	LastYearFromMS, LastYearToMS int64
	Win                          windowsMS
	Window                       int64  // the window of the enclosing fragment
	Extra                        string // a fixed condition for the enclosing fragment
	Filtered                     bool   // the enclosing fragment applies the request's filters
	// eventAliases are the aliases that name raw events (found by a first
	// rendering): only they carry the visit dimensions (EventDimensions).
	eventAliases map[string]bool
}

type windowsMS struct {
	Reply, Conversion, OptOut, Conversation int64
}

// Arg binds v as the next parameter.
func (c *sqlCtx) Arg(v any) string {
	*c.args = append(*c.args, v)
	return "?"
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
		fmt.Fprintf(&b, "%s.%s AS g_%s, ", alias, d, d)
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
		col := d
		if alias != "" {
			col = alias + "." + d
		}
		fmt.Fprintf(&b, " AND %s IN (", col)
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

// lacks reports whether the rows under alias have no column d: facts
// carry the message dimensions, not the visit ones.
func (c *sqlCtx) lacks(alias, d string) bool {
	return contains(EventDimensions, d) && !c.eventAliases[alias]
}

// FilterIfInPeriod renders the request's filters in a fragment made with
// InPeriod, and nothing in others.
func (c *sqlCtx) FilterIfInPeriod(alias string) string {
	if !c.Filtered {
		return ""
	}
	return c.Filter(alias)
}

// ReportsReads is true for messages on channels that send read receipts.
func (c *sqlCtx) ReportsReads(alias string) string {
	return fmt.Sprintf("coalesce(%s.channel, '') NOT IN (%s)", alias, store.SQLList(noReadReceipts))
}

// ReportsDeliveries is true for messages on channels that send delivery
// receipts.
func (c *sqlCtx) ReportsDeliveries(alias string) string {
	return fmt.Sprintf("coalesce(%s.channel, '') NOT IN (%s)", alias, store.SQLList(noDeliveryReceipts))
}

// The fragments below are where the dialects differ.

// Latest is the aggregate that picks value from the row with the greatest
// order, ties going to the greatest value, so the pick is deterministic.
func (c *sqlCtx) Latest(value, order string) string {
	switch c.dialect {
	case store.ClickHouse:
		return fmt.Sprintf("tupleElement(max(tuple(%s, %s)), 2)", order, value)
	default:
		return fmt.Sprintf("arg_max(%[1]s, {'o': %[2]s, 'v': %[1]s})", value, order)
	}
}

// Events is the raw event table under alias. ClickHouse keeps it in a
// ReplacingMergeTree, whose duplicates (left by concurrent writers or by a
// retry after a crash) collapse only in background merges: FINAL collapses
// them at read time, so counts are exact before any merge. DuckDB's primary
// key never lets a duplicate in.
func (c *sqlCtx) Events(alias string) string {
	c.eventAliases[alias] = true
	switch c.dialect {
	case store.ClickHouse:
		return "events AS " + alias + " FINAL"
	default:
		return "events " + alias
	}
}

// Facts is a fact table under alias (none when empty). DuckDB updates its
// fact rows in place. ClickHouse writes a new row of an entity's facts
// after every insert that names it, the newest with the highest version:
// FINAL keeps only that row before any background merge. The subquery
// keeps the enclosing query local in the sharded layout, where a JOIN of
// two Distributed tables is refused; the workspace and time conditions are
// still pushed into it.
func (c *sqlCtx) Facts(table, alias string) string {
	name := table
	if c.dialect == store.ClickHouse {
		name = "(SELECT * FROM " + table + " FINAL)"
	}
	if alias != "" {
		name += " AS " + alias
	}
	return name
}

// Prop extracts a string from an event's props JSON.
func (c *sqlCtx) Prop(alias, key string) string {
	switch c.dialect {
	case store.ClickHouse:
		return fmt.Sprintf("visitParamExtractString(%s.props, '%s')", alias, key)
	default:
		return fmt.Sprintf("json_extract_string(%s.props, '$.%s')", alias, key)
	}
}

// paidMedia are the utm_medium values of paid traffic; a URL with an ad
// click id gets "cpc".
var paidMedia = []string{"cpc", "ppc", "paid", "paid_social", "paidsocial", "paid-social", "cpm", "display", "ads", "ad"}

// socialSources are the sources of visits from social platforms.
var socialSources = []string{"facebook", "instagram", "tiktok", "x", "twitter", "t.co", "linkedin", "youtube", "pinterest",
	"snapchat", "whatsapp", "l.facebook.com", "m.facebook.com", "lm.facebook.com", "l.instagram.com"}

// Paid is true for paid traffic: a paid medium.
func (c *sqlCtx) Paid(alias string) string {
	return fmt.Sprintf("coalesce(%s.medium, '') IN (%s)", alias, store.SQLList(paidMedia))
}

// SocialSources is the quoted list of social sources.
func (c *sqlCtx) SocialSources() string { return store.SQLList(socialSources) }

// PropNumber is a number in props, 0 when absent or not a number.
func (c *sqlCtx) PropNumber(alias, key string) string {
	switch c.dialect {
	case store.ClickHouse:
		return fmt.Sprintf("toFloat64OrZero(visitParamExtractRaw(ifNull(%s.props, ''), '%s'))", alias, key)
	default:
		return fmt.Sprintf("coalesce(TRY_CAST(json_extract_string(%s.props, '$.%s') AS DOUBLE), 0)", alias, key)
	}
}

// TagsText is an event's tags as one text, separated by newlines (tags
// hold no newline: they are short labels).
func (c *sqlCtx) TagsText(alias string) string {
	switch c.dialect {
	case store.ClickHouse:
		return fmt.Sprintf("arrayStringConcat(%s.tags, '\n')", alias)
	default:
		return fmt.Sprintf("array_to_string(%s.tags, '\n')", alias)
	}
}

// bucket truncates a time in milliseconds to the request's bucket in its
// time zone, giving the local wall-clock start of the bucket.
func (c *sqlCtx) bucket(timeExpr string) string {
	switch c.dialect {
	case store.ClickHouse:
		local := fmt.Sprintf("toDateTime(intDiv(%s, 1000), %s)", timeExpr, c.Arg(c.req.Location.String()))
		switch c.req.Bucket {
		case "hour":
			return fmt.Sprintf("toString(toStartOfHour(%s))", local)
		case "day":
			return fmt.Sprintf("toString(toStartOfDay(%s))", local)
		}
		// toMonday and toStartOfMonth give a Date, which prints without
		// a time.
		fn := map[string]string{"week": "toMonday", "month": "toStartOfMonth"}[c.req.Bucket]
		return fmt.Sprintf("concat(toString(%s(%s)), ' 00:00:00')", fn, local)
	default:
		return fmt.Sprintf("strftime(date_trunc('%s', timezone(%s, make_timestamp((%s) * 1000)::TIMESTAMPTZ)), '%%Y-%%m-%%d %%H:%%M:%%S')",
			c.req.Bucket, c.Arg(c.req.Location.String()), timeExpr)
	}
}

// HourOfWeek is the local hour of the week of a time in milliseconds, in
// the report's time zone: 0 is Monday 00:00–01:00, 167 Sunday 23:00.
func (c *sqlCtx) HourOfWeek(timeExpr string) string {
	// Each use of the local time binds the zone again: the text holds one
	// placeholder per use.
	switch c.dialect {
	case store.ClickHouse:
		local := func() string {
			return fmt.Sprintf("toDateTime(intDiv(%s, 1000), %s)", timeExpr, c.Arg(c.req.Location.String()))
		}
		return fmt.Sprintf("((toDayOfWeek(%s) - 1) * 24 + toHour(%s))", local(), local())
	default:
		local := func() string {
			return fmt.Sprintf("timezone(%s, make_timestamp((%s) * 1000)::TIMESTAMPTZ)", c.Arg(c.req.Location.String()), timeExpr)
		}
		return fmt.Sprintf("((isodow(%s) - 1) * 24 + hour(%s))", local(), local())
	}
}

// Bucket is the request's time bucket of a time in milliseconds, as local
// wall-clock text.
func (c *sqlCtx) Bucket(timeExpr string) string { return c.bucket(timeExpr) }
