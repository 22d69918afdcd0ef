package clickhouse

import (
	"fmt"
	"strings"

	"github.com/omnikpi/omnikpi/internal/store"
)

// factDDL is a fact table of store.Facts rendered for ClickHouse: the
// aggregate state columns its materialized view fills, and the merged
// columns of the fact table the KPI SQL reads with the expressions that
// compute them from the states.
type factDDL struct {
	Name, State, Key, Source string
	Kinds, Primary           string   // quoted IN lists
	StateColumns             []string // "col_state AggregateFunction(…)"
	StateExprs               []string // "…State(…) AS col_state"
	Columns                  []string // "col Type" of the fact table
	Names                    []string // the fact table's merged columns
	Finals                   []string // "…Merge(col_state)", in Names order
}

// sqlType is ClickHouse's type of a stored column. A list is never null:
// an empty array stands for none.
func sqlType(c store.Column) string {
	t := map[store.ColumnType]string{store.Text: "String", store.Int: "Int64", store.Float: "Float64",
		store.Bool: "UInt8", store.TextList: "Array(String)"}[c.Type]
	if c.Nullable && c.Type != store.TextList {
		t = "Nullable(" + t + ")"
	}
	return t
}

// newFactDDL renders f. Times use 0 for "none": aggregate functions with
// the If combinator give the type's default on no rows, and no accepted
// event is older than the year 2000.
func newFactDDL(f store.FactTable) factDDL {
	d := factDDL{
		Name: f.Name, State: f.Name + "_state", Key: f.Key, Source: f.Source,
		Kinds: store.SQLList(f.Kinds), Primary: store.SQLList(f.Primary),
	}
	add := func(col, typ, colType, state, final string) {
		d.StateColumns = append(d.StateColumns, fmt.Sprintf("%s_state AggregateFunction(%s)", col, typ))
		d.StateExprs = append(d.StateExprs, fmt.Sprintf("%s AS %s_state", state, col))
		d.Columns = append(d.Columns, col+" "+colType)
		d.Names = append(d.Names, col)
		d.Finals = append(d.Finals, final)
	}
	placed := "" // the column holding the earliest order_placed time
	for _, c := range f.Columns {
		if c.Rule == store.Earliest && len(c.Kinds) == 1 && c.Kinds[0] == "order_placed" {
			placed = c.Name
		}
	}
	for _, c := range f.Columns {
		in := f.KindList(c)
		switch c.Rule {
		case store.Earliest:
			add(c.Name, "minIf, Int64, UInt8", "Nullable(Int64)", fmt.Sprintf("minIfState(ts, kind IN (%s))", in),
				fmt.Sprintf("nullIf(minIfMerge(%s_state), 0)", c.Name))
		case store.Latest:
			add(c.Name, "maxIf, Int64, UInt8", "Nullable(Int64)", fmt.Sprintf("maxIfState(ts, kind IN (%s))", in),
				fmt.Sprintf("nullIf(maxIfMerge(%s_state), 0)", c.Name))
		case store.FirstPlaced:
			typ := sqlType(store.Column{Type: c.Type()})
			add(c.Name, "argMinIf, "+typ+", Tuple(Int64, String), UInt8", "Nullable("+typ+")",
				fmt.Sprintf("argMinIfState(assumeNotNull(%s), (ts, id), kind = 'order_placed')", c.Of),
				fmt.Sprintf("if(minIfMerge(%s_state) = 0, NULL, argMinIfMerge(%s_state))", placed, c.Name))
		case store.SumAmount:
			// A set of (event id, amount): a re-sent refund is one element.
			add(c.Name, "groupUniqArrayIf, Tuple(String, Int64), UInt8", "Int64",
				fmt.Sprintf("groupUniqArrayIfState((id, coalesce(amount, 0)), kind IN (%s))", in),
				fmt.Sprintf("arraySum(x -> tupleElement(x, 2), groupUniqArrayIfMerge(%s_state))", c.Name))
		case store.WithoutAmount:
			add(c.Name, "maxIf, UInt8, UInt8", "UInt8",
				fmt.Sprintf("maxIfState(toUInt8(1), kind IN (%s) AND isNull(amount))", in),
				fmt.Sprintf("maxIfMerge(%s_state) = 1", c.Name))
		default:
			panic("unknown fact rule")
		}
	}
	// A dimension's value comes from the event with the smallest (key,
	// value), as in the DuckDB store. The pair is kept as one string, the
	// key as 19 fixed-width digits followed by the value, whose minimum is
	// that pick: 18.16 merges a String minimum several times faster than an
	// argMin over a tuple. Keys lie between 9.4e11 (the year 2000) and
	// RankLater + 7.3e12 (the year 2200), so key + 1e18 always has 19
	// digits.
	dimKey := fmt.Sprintf("toString(ts + toInt64(if(kind IN (%s), 0, %d)) + 1000000000000000000)", d.Primary, store.RankLater)
	for _, dim := range f.AllDims() {
		value := dim
		for _, p := range f.PropDims {
			if p == dim {
				value = fmt.Sprintf("nullIf(visitParamExtractString(ifNull(props, ''), '%s'), '')", dim)
			}
		}
		add(dim, "minIf, String, UInt8", "Nullable(String)",
			fmt.Sprintf("minIfState(concat(%[2]s, assumeNotNull(%[1]s)), isNotNull(%[1]s))", value, dimKey),
			fmt.Sprintf("nullIf(substring(minIfMerge(%s_state), 20), '')", dim))
	}
	// The number of events merged into a row is its version: of the rows
	// written for an entity, the one that merged the most events wins.
	add("version", "count", "UInt64", "countState()", "countMerge(version_state)")
	return d
}

// Refresh is the statement that writes the merged rows of the entities
// named in the external table batch_entities (workspace, entity) into the
// fact table, from all their states.
func (d factDDL) Refresh() string {
	sel := make([]string, len(d.Finals))
	for i, f := range d.Finals {
		sel[i] = f + " AS " + d.Names[i]
	}
	return fmt.Sprintf(`INSERT INTO %s (workspace, %s, %s)
SELECT workspace, entity AS %s,
    %s
FROM %s
WHERE workspace GLOBAL IN (SELECT workspace FROM batch_entities)
  AND (workspace, entity) GLOBAL IN (SELECT workspace, entity FROM batch_entities)
GROUP BY workspace, entity`,
		d.Name, d.Key, strings.Join(d.Names, ", "), d.Key, strings.Join(sel, ",\n    "), d.State)
}
