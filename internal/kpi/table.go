package kpi

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Table is a view's answer as rows of named, typed columns: the CSV
// (wide, raw numbers, units in the header) and the text of 'omnikpi
// report'.
type Table struct {
	Title   string // the text's first line
	Columns []Column
	// Rows hold a cell per column: string, *string, bool, int, int64,
	// float64 or *float64; nil (or a nil pointer) is no value.
	Rows [][]any
}

// Column types.
const (
	TypeString  = "string"
	TypeInteger = "integer"
	TypeNumber  = "number"
	TypeBoolean = "boolean"
	TypeTime    = "time" // RFC 3339 in the report's time zone
)

// Column is one column of a table.
type Column struct {
	Name string
	Type string
	// Unit of a number: Count, Percent, Money (in Currency, or in the
	// row's currency column when Currency is empty), Ratio, Seconds or
	// Score; "" for none.
	Unit     Unit
	Currency string
	Doc      string
	// Digits, when set, is the number of decimals the text shows
	// (the CSV always has the raw number).
	Digits *int
	// Text, when set, writes a cell for the text instead.
	Text func(v any) string `json:"-"`
}

// Header is the column's CSV header: its name, and its unit in
// parentheses: "open_rate (%)", "gross_revenue (EUR)", "first_response_time
// (s)"; a money column whose currency is the row's says "(currency)".
func (c Column) Header() string {
	u := UnitLabel(c.Unit, c.Currency)
	if u == "" {
		return c.Name
	}
	return c.Name + " (" + u + ")"
}

// UnitLabel is how a header writes a unit.
func UnitLabel(u Unit, currency string) string {
	switch u {
	case Percent:
		return "%"
	case Money:
		if currency == "" {
			return "currency"
		}
		return currency
	case Ratio:
		return "x"
	case Seconds:
		return "s"
	case Score:
		return "score"
	case "points":
		return "pts"
	}
	return ""
}

func digits(n int) *int { return &n }

// deref cells: a pointer to its value, nil pointers to nil.
func cellValue(v any) any {
	switch x := v.(type) {
	case *string:
		if x == nil {
			return nil
		}
		return *x
	case *float64:
		if x == nil {
			return nil
		}
		return *x
	}
	return v
}

// CellText is a cell as the CSV writes it.
func CellText(v any) string { return csvCell(v) }

// csvCell writes a cell raw: numbers in full, no value as "".
func csvCell(v any) string {
	switch x := cellValue(v).(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// textCell writes a cell for people: numbers in their unit ("15.0 %",
// "20.00 EUR", "2.5 min"), no value as "—" for a number and "" else.
func (c Column) textCell(v any) string {
	if c.Text != nil {
		return c.Text(v)
	}
	v = cellValue(v)
	var x float64
	switch n := v.(type) {
	case nil:
		if c.Type == TypeInteger || c.Type == TypeNumber {
			return "—"
		}
		return ""
	case int:
		x = float64(n)
	case int64:
		x = float64(n)
	case float64:
		x = n
	default:
		return csvCell(v)
	}
	if c.Digits != nil {
		s := strconv.FormatFloat(x, 'f', *c.Digits, 64)
		if c.Unit == Percent {
			s += " %"
		}
		return s
	}
	if c.Unit == "" {
		return csvCell(v)
	}
	if c.Unit == Money && c.Currency == "" {
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
	return formatNumber(x, c.Unit, c.Currency)
}

// WriteCSV writes t as CSV: a header of column names with their units, a
// line per row, raw numbers.
func WriteCSV(w io.Writer, t Table) error {
	cw := csv.NewWriter(w)
	header := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = c.Header()
	}
	cw.Write(header)
	for _, row := range t.Rows {
		rec := make([]string, len(row))
		for i, v := range row {
			rec[i] = csvCell(v)
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// TextWriter is a result with a text layout of its own (the KPI report's
// block per group with bands and ratings).
type TextWriter interface {
	WriteText(w io.Writer) error
}

// WriteText writes r for people: its own layout, or its table's title and
// aligned columns.
func WriteText(w io.Writer, r Result) error {
	if tw, ok := r.(TextWriter); ok {
		return tw.WriteText(w)
	}
	t := r.Table()
	if t.Title != "" {
		fmt.Fprintln(w, t.Title)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = strings.ToUpper(c.Name)
		if c.Unit == Money && c.Currency != "" {
			header[i] += " (" + c.Currency + ")"
		}
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range t.Rows {
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = t.Columns[i].textCell(v)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// Formats a result is rendered in.
var Formats = []string{"table", "json", "csv"}

// Render writes r as "json" (indented), "csv" or "table" (text).
func Render(w io.Writer, format string, r Result) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "csv":
		return WriteCSV(w, r.Table())
	case "table", "text", "":
		return WriteText(w, r)
	}
	return &RequestError{Field: "format", Reason: quote(format) + " must be table, json or csv"}
}
