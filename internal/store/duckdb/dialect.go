package duckdb

import (
	"fmt"

	"github.com/omnikpi/omnikpi/internal/store"
)

// dialect is DuckDB's SQL for the fragments of store.Dialect.
type dialect struct{}

// Dialect is DuckDB's.
func (s *Store) Dialect() store.Dialect { return dialect{} }

func (dialect) Name() string { return "duckdb" }

// Events: the primary key never lets a duplicate in.
func (dialect) Events(alias string) string { return "events " + alias }

// Facts: DuckDB updates its fact rows in place.
func (dialect) Facts(table, alias string) string {
	if alias == "" {
		return table
	}
	return table + " AS " + alias
}

func (dialect) Latest(value, order string) string {
	return fmt.Sprintf("arg_max(%[1]s, {'o': %[2]s, 'v': %[1]s})", value, order)
}

func (dialect) SplitPart(text, sep string, n int) string {
	return fmt.Sprintf("split_part(%s, '%s', %d)", text, sep, n)
}

func (dialect) JoinArray(array, sep string) string {
	return fmt.Sprintf("array_to_string(%s, '%s')", array, sep)
}

func (dialect) Prop(alias, key string) string {
	return fmt.Sprintf("json_extract_string(%s.props, '$.%s')", alias, key)
}

func (dialect) PropNumber(alias, key string) string {
	return fmt.Sprintf("coalesce(TRY_CAST(json_extract_string(%s.props, '$.%s') AS DOUBLE), 0)", alias, key)
}

func (dialect) Bucket(unit, timeMS string, zone func() string) string {
	return fmt.Sprintf("strftime(date_trunc('%s', %s), '%%Y-%%m-%%d %%H:%%M:%%S')", unit, local(timeMS, zone))
}

func (dialect) HourOfWeek(timeMS string, zone func() string) string {
	return fmt.Sprintf("((isodow(%s) - 1) * 24 + hour(%s))", local(timeMS, zone), local(timeMS, zone))
}

// local is a time in Unix ms as a timestamp in the zone, binding the zone
// anew.
func local(timeMS string, zone func() string) string {
	return fmt.Sprintf("timezone(%s, make_timestamp((%s) * 1000)::TIMESTAMPTZ)", zone(), timeMS)
}
