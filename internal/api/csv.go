package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/omnikpi/omnikpi/internal/kpi"
)

// wantsCSV tells whether the request asks for format=csv; any other value
// than json or csv is a 400 naming the field.
func wantsCSV(w http.ResponseWriter, r *http.Request) (csvOut, ok bool) {
	switch r.URL.Query().Get("format") {
	case "", "json":
		return false, true
	case "csv":
		return true, true
	}
	writeError(w, http.StatusBadRequest, "invalid_request", "format: use json or csv", "format")
	return false, false
}

// writeTable answers v as CSV: one row per element of its list field
// (list), with nested objects as dotted columns and a nested list of
// objects (a cohort's periods, a channel's hours) as a row per element.
// The KPI report is pivoted to a row per group with a column per figure.
func writeTable(w http.ResponseWriter, name string, v any, list string) error {
	var header []string
	var rows [][]string
	if rep, ok := v.(kpi.Report); ok {
		header, rows = reportTable(rep)
	} else {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		var doc map[string]any
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&doc); err != nil {
			return err
		}
		items, _ := doc[list].([]any)
		var records []map[string]string
		for _, item := range items {
			records = append(records, flattenRows("", item)...)
		}
		seen := map[string]bool{}
		for _, rec := range records {
			for k := range rec {
				if !seen[k] {
					seen[k] = true
					header = append(header, k)
				}
			}
		}
		slices.Sort(header)
		for _, rec := range records {
			row := make([]string, len(header))
			for i, k := range header {
				row[i] = rec[k]
			}
			rows = append(rows, row)
		}
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	cw := csv.NewWriter(w)
	cw.Write(header)
	cw.WriteAll(rows)
	return cw.Error()
}

// flattenRows turns one JSON value into one or more flat records: the
// first nested list of objects met gives a record per element.
func flattenRows(prefix string, v any) []map[string]string {
	rec := map[string]string{}
	var expand string
	var children []any
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, child := range x {
				walk(join(prefix, k), child)
			}
		case []any:
			if len(x) > 0 && expand == "" {
				if _, isObject := x[0].(map[string]any); isObject {
					expand, children = prefix, x
					return
				}
			}
			b, _ := json.Marshal(x)
			rec[prefix] = string(b)
		case nil:
			rec[prefix] = ""
		case string:
			rec[prefix] = x
		default:
			rec[prefix] = strings.Trim(string(mustJSON(x)), `"`)
		}
	}
	walk(prefix, v)
	if expand == "" {
		return []map[string]string{rec}
	}
	var out []map[string]string
	for _, child := range children {
		for _, sub := range flattenRows(expand, child) {
			for k, val := range rec {
				sub[k] = val
			}
			out = append(out, sub)
		}
	}
	return out
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// reportTable is a KPI report with a row per group (a campaign, a
// template, a day…) and a column per figure: the KPI id, with its currency
// and label when it has several figures.
func reportTable(rep kpi.Report) ([]string, [][]string) {
	var dims, figures []string
	seenDim, seenFig := map[string]bool{}, map[string]bool{}
	column := func(v kpi.Value) string {
		c := v.ID
		if v.Currency != "" {
			c += "_" + v.Currency
		}
		if v.Label != "" {
			c += ":" + v.Label
		}
		return c
	}
	for _, row := range rep.Rows {
		for d := range row.Group {
			if !seenDim[d] {
				seenDim[d] = true
				dims = append(dims, d)
			}
		}
		for _, v := range row.KPIs {
			if c := column(v); !seenFig[c] {
				seenFig[c] = true
				figures = append(figures, c)
			}
		}
	}
	slices.Sort(dims)
	header := append(append([]string{}, dims...), figures...)
	at := map[string]int{} // figure column → its index
	for i, c := range figures {
		at[c] = len(dims) + i
	}
	rows := make([][]string, 0, len(rep.Rows))
	for _, row := range rep.Rows {
		cells := make([]string, len(header))
		for i, d := range dims {
			if g := row.Group[d]; g != nil {
				cells[i] = *g
			}
		}
		for _, v := range row.KPIs {
			if v.Value != nil {
				cells[at[column(v)]] = strconv.FormatFloat(*v.Value, 'f', -1, 64)
			}
		}
		rows = append(rows, cells)
	}
	return header, rows
}
