package duckdb

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/omnikpi/omnikpi/internal/store"
)

// sqlType is DuckDB's type of a stored column.
func sqlType(c store.Column) string {
	t := map[store.ColumnType]string{store.Text: "VARCHAR", store.Int: "BIGINT", store.Float: "DOUBLE",
		store.Bool: "BOOLEAN", store.TextList: "VARCHAR[]"}[c.Type]
	if !c.Nullable {
		t += " NOT NULL"
	}
	return c.Name + " " + t
}

// factDDL is a fact table of store.Facts as schema.sql renders it.
type factDDL struct {
	Name, Key string
	Columns   []string // "name TYPE", in the table's order
	Added     []string // "t ADD COLUMN IF NOT EXISTS …" for each nullable column
}

// newFactDDL lays f out: workspace and the entity, the merged columns,
// then each dimension followed by its key (DimKey).
func newFactDDL(f store.FactTable) factDDL {
	d := factDDL{Name: f.Name, Key: f.Key}
	cols := []store.Column{{Name: "workspace", Type: store.Text}, {Name: f.Key, Type: store.Text}}
	for _, c := range f.Columns {
		cols = append(cols, store.Column{Name: c.Name, Type: c.Type(), Nullable: c.Nullable()})
	}
	for _, dim := range f.AllDims() {
		cols = append(cols, store.Column{Name: dim, Type: store.Text, Nullable: true},
			store.Column{Name: dim + "_k", Type: store.Int, Nullable: true})
	}
	for _, c := range cols {
		d.Columns = append(d.Columns, sqlType(c))
		if c.Nullable {
			d.Added = append(d.Added, f.Name+" ADD COLUMN IF NOT EXISTS "+sqlType(c))
		}
	}
	return d
}

// schema renders schema.sql.
func schema() (string, error) {
	t, err := template.New("schema.sql").Funcs(template.FuncMap{"join": strings.Join}).Parse(schemaSQL)
	if err != nil {
		return "", fmt.Errorf("parse schema: %w", err)
	}
	data := struct {
		Events   []string
		Facts    []factDDL
		Sessions []string
	}{}
	for _, c := range store.SessionColumns {
		data.Sessions = append(data.Sessions, sqlType(c))
	}
	for _, c := range store.EventColumns {
		data.Events = append(data.Events, sqlType(c))
	}
	for _, f := range store.Facts {
		data.Facts = append(data.Facts, newFactDDL(f))
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render schema: %w", err)
	}
	return b.String(), nil
}
