package duckdb

import (
	"fmt"
	"strings"

	"github.com/omnikpi/omnikpi/internal/store"
)

// The fact upserts are rendered from store.Facts, so that every column
// follows its shared rule and the ClickHouse store keeps the same ones.

// batchAgg is the aggregate of a column over the fresh events of a batch.
func batchAgg(f store.FactTable, c store.FactColumn) string {
	in := f.KindList(c)
	switch c.Rule {
	case store.Earliest:
		return fmt.Sprintf("min(ts) FILTER (WHERE kind IN (%s))", in)
	case store.Latest:
		return fmt.Sprintf("max(ts) FILTER (WHERE kind IN (%s))", in)
	case store.FirstPlaced:
		return fmt.Sprintf("arg_min(%s, {'ts': ts, 'id': id}) FILTER (WHERE kind = 'order_placed')", c.Of)
	case store.SumAmount:
		return fmt.Sprintf("coalesce(sum(amount) FILTER (WHERE kind IN (%s)), 0)", in)
	case store.WithoutAmount:
		return fmt.Sprintf("coalesce(bool_or(kind IN (%s) AND amount IS NULL), false)", in)
	}
	panic("unknown fact rule")
}

// placedFirst is true when the batch's earliest order_placed (time, then
// event id) comes before the stored one: its values win.
const placedFirst = `(excluded.placed_ms IS NOT NULL AND (t.placed_ms IS NULL OR excluded.placed_ms < t.placed_ms
    OR (excluded.placed_ms = t.placed_ms AND excluded.placed_id < t.placed_id)))`

// merge combines the stored value (t.col) with the batch's (excluded.col).
func merge(c store.FactColumn) string {
	switch c.Rule {
	case store.Earliest:
		return fmt.Sprintf("least(t.%[1]s, excluded.%[1]s)", c.Name)
	case store.Latest:
		return fmt.Sprintf("greatest(t.%[1]s, excluded.%[1]s)", c.Name)
	case store.FirstPlaced:
		return fmt.Sprintf("CASE WHEN %s THEN excluded.%[2]s ELSE t.%[2]s END", placedFirst, c.Name)
	case store.SumAmount:
		return fmt.Sprintf("t.%[1]s + excluded.%[1]s", c.Name)
	case store.WithoutAmount:
		return fmt.Sprintf("t.%[1]s OR excluded.%[1]s", c.Name)
	}
	panic("unknown fact rule")
}

// upsertSQL merges the fresh events of the staged batch into the fact table.
// The stored row and the batch's row are combined with the same rules the
// batch aggregate uses, so the result does not depend on how events were
// split into batches or ordered. Sums are exact because only events new to
// the store reach this statement.
func upsertSQL(f store.FactTable) string {
	var cols, batch, sets []string
	cols = append(cols, "workspace", f.Key)
	batch = append(batch, "workspace", f.Source)
	for _, c := range f.Columns {
		cols = append(cols, c.Name)
		batch = append(batch, batchAgg(f, c))
		sets = append(sets, c.Name+" = "+merge(c))
	}
	for _, d := range f.AllDims() {
		cols = append(cols, d, d+"_k")
		batch = append(batch,
			fmt.Sprintf("arg_min(%[1]s, {'k': k, 'v': %[1]s}) FILTER (WHERE %[1]s IS NOT NULL)", d),
			fmt.Sprintf("min(k) FILTER (WHERE %s IS NOT NULL)", d))
		better := fmt.Sprintf("(t.%[1]s_k IS NULL OR excluded.%[1]s_k < t.%[1]s_k OR (excluded.%[1]s_k = t.%[1]s_k AND excluded.%[1]s < t.%[1]s))", d)
		sets = append(sets,
			fmt.Sprintf("%[1]s = CASE WHEN %[2]s THEN excluded.%[1]s ELSE t.%[1]s END", d, better),
			fmt.Sprintf("%[1]s_k = least(t.%[1]s_k, excluded.%[1]s_k)", d))
	}
	propDims := ""
	for _, d := range f.PropDims {
		propDims += fmt.Sprintf(",\n        json_extract_string(s.props, '$.%[1]s') AS %[1]s", d)
	}
	return fmt.Sprintf(`INSERT INTO %[1]s AS t (%[2]s)
SELECT %[3]s
FROM (
    SELECT s.*, ts + CASE WHEN kind IN (%[4]s) THEN 0 ELSE %[5]d END AS k%[10]s
    FROM stage s JOIN fresh USING (seq)
    WHERE s.%[6]s IS NOT NULL AND s.kind IN (%[7]s)
)
GROUP BY workspace, %[6]s
ON CONFLICT (workspace, %[8]s) DO UPDATE SET
    %[9]s`,
		f.Name, strings.Join(cols, ", "), strings.Join(batch, ",\n    "),
		store.SQLList(f.Primary), store.RankLater, f.Source, store.SQLList(f.Kinds), f.Key,
		strings.Join(sets, ",\n    "), propDims)
}
