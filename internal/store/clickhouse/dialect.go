package clickhouse

import (
	"fmt"

	"github.com/omnikpi/omnikpi/internal/store"
)

// dialect is ClickHouse's SQL for the fragments of store.Dialect.
type dialect struct{}

// Dialect is ClickHouse's.
func (s *Store) Dialect() store.Dialect { return dialect{} }

func (dialect) Name() string { return "clickhouse" }

// Events: the events table is a ReplacingMergeTree, whose duplicates (left
// by concurrent writers or by a retry after a crash) collapse only in
// background merges; FINAL collapses them at read time, so counts are exact
// before any merge.
func (dialect) Events(alias string) string { return "events AS " + alias + " FINAL" }

// Facts: the store writes a new row of an entity's facts after every
// insert that names it, the newest with the highest version; FINAL keeps
// only that row before any background merge. The subquery keeps the
// enclosing query local in the sharded layout, where a JOIN of two
// Distributed tables is refused; the workspace and time conditions are
// still pushed into it.
func (dialect) Facts(table, alias string) string {
	name := "(SELECT * FROM " + table + " FINAL)"
	if table == store.SessionFactsTable {
		name = sessionsCurrent()
	}
	if alias != "" {
		name += " AS " + alias
	}
	return name
}

func (dialect) Latest(value, order string) string {
	return fmt.Sprintf("tupleElement(max(tuple(%s, %s)), 2)", order, value)
}

func (dialect) SplitPart(text, sep string, n int) string {
	return fmt.Sprintf("splitByString('%s', %s)[%d]", sep, text, n)
}

func (dialect) JoinArray(array, sep string) string {
	return fmt.Sprintf("arrayStringConcat(%s, '%s')", array, sep)
}

func (dialect) Prop(alias, key string) string {
	return fmt.Sprintf("visitParamExtractString(%s.props, '%s')", alias, key)
}

func (dialect) PropNumber(alias, key string) string {
	return fmt.Sprintf("toFloat64OrZero(visitParamExtractRaw(ifNull(%s.props, ''), '%s'))", alias, key)
}

func (dialect) Bucket(unit, timeMS string, zone func() string) string {
	switch unit {
	case "hour":
		return fmt.Sprintf("toString(toStartOfHour(%s))", local(timeMS, zone))
	case "day":
		return fmt.Sprintf("toString(toStartOfDay(%s))", local(timeMS, zone))
	}
	// toMonday and toStartOfMonth give a Date, which prints without a
	// time.
	fn := map[string]string{"week": "toMonday", "month": "toStartOfMonth"}[unit]
	return fmt.Sprintf("concat(toString(%s(%s)), ' 00:00:00')", fn, local(timeMS, zone))
}

func (dialect) HourOfWeek(timeMS string, zone func() string) string {
	return fmt.Sprintf("((toDayOfWeek(%s) - 1) * 24 + toHour(%s))", local(timeMS, zone), local(timeMS, zone))
}

// local is a time in Unix ms as a DateTime in the zone, binding the zone
// anew.
func local(timeMS string, zone func() string) string {
	return fmt.Sprintf("toDateTime(intDiv(%s, 1000), %s)", timeMS, zone())
}
