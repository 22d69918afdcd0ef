package store

// Dialect writes the fragments of the KPI SQL that differ between stores.
// The queries (internal/kpi/sql) are one text for both stores, written in
// their common subset; each store package implements Dialect for the few
// real differences: how its tables are read, JSON props, aggregates that
// pick a row, and local time. Table names, aliases, keys and separators
// are fixed text of the templates, never user input; a zone is bound as a
// parameter by the zone function, which appends it to the query's
// arguments and returns its placeholder, once per use.
type Dialect interface {
	// Name names the dialect, such as "duckdb".
	Name() string

	// Events is the raw event table under alias, each event once.
	Events(alias string) string
	// Facts is a fact table as its current rows, under alias (none when
	// alias is empty).
	Facts(table, alias string) string

	// Latest is the aggregate that picks value from the row with the
	// greatest order, ties going to the greatest value, so the pick is
	// deterministic.
	Latest(value, order string) string
	// SplitPart is the n-th (from 1) part of text split at sep, empty
	// past the last.
	SplitPart(text, sep string, n int) string
	// JoinArray joins a column of an array of texts into one text with
	// sep between them.
	JoinArray(array, sep string) string

	// Prop is the string at the top-level key of an event's props JSON
	// (null or empty when absent).
	Prop(alias, key string) string
	// PropNumber is the number at key in props, 0 when absent or not a
	// number.
	PropNumber(alias, key string) string

	// Bucket truncates a time in Unix milliseconds to the start of its
	// hour, day, week (from Monday) or month in the bound zone, as local
	// wall-clock text "2006-01-02 15:04:05".
	Bucket(unit, timeMS string, zone func() string) string
	// HourOfWeek is the local hour of the week of a time in Unix
	// milliseconds in the bound zone: 0 is Monday 00:00–01:00, 167 Sunday
	// 23:00.
	HourOfWeek(timeMS string, zone func() string) string
}
