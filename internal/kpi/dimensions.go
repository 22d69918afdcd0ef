package kpi

import (
	"context"
	"fmt"
	"slices"
)

// DimensionValues are the values of the filterable dimensions that occur
// in a period: what the dashboard's filter menus offer.
type DimensionValues struct {
	Workspace  string              `json:"workspace"`
	From       string              `json:"from"`
	To         string              `json:"to"`
	Channels   []string            `json:"channels"`
	Campaigns  []string            `json:"campaigns"`
	Templates  map[string][]string `json:"templates"` // by campaign
	Agents     []string            `json:"agents"`
	Currencies []string            `json:"currencies"` // of orders
}

// Dimensions lists the channels of the period's events, the campaigns and
// their templates of its messages, the agents of its messages and
// conversations, and the currencies of its orders, each sorted.
func (e *Engine) Dimensions(ctx context.Context, r Request) (DimensionValues, error) {
	res, err := e.prepare(ctx, r)
	if err != nil {
		return DimensionValues{}, err
	}
	out := DimensionValues{Workspace: res.Workspace, From: res.fromText(), To: res.toText(),
		Channels: []string{}, Campaigns: []string{}, Templates: map[string][]string{}, Agents: []string{}, Currencies: []string{}}
	add := func(list *[]string, v *string) {
		if v != nil && *v != "" && !slices.Contains(*list, *v) {
			*list = append(*list, *v)
		}
	}
	for _, q := range []struct {
		name string
		read func(scan func(...any) error) error
	}{
		{"dimension-channels", func(scan func(...any) error) error {
			var ch *string
			err := scan(&ch)
			add(&out.Channels, ch)
			return err
		}},
		{"dimension-campaigns", func(scan func(...any) error) error {
			var campaign, template, agent *string
			err := scan(&campaign, &template, &agent)
			add(&out.Campaigns, campaign)
			add(&out.Agents, agent)
			if campaign != nil && template != nil {
				list := out.Templates[*campaign]
				add(&list, template)
				out.Templates[*campaign] = list
			}
			return err
		}},
		{"dimension-agents", func(scan func(...any) error) error {
			var agent *string
			err := scan(&agent)
			add(&out.Agents, agent)
			return err
		}},
		{"dimension-currencies", func(scan func(...any) error) error {
			var cur *string
			err := scan(&cur)
			add(&out.Currencies, cur)
			return err
		}},
	} {
		rows, err := e.query(ctx, res, q.name)
		if err != nil {
			return DimensionValues{}, err
		}
		for rows.Next() {
			if err := q.read(rows.Scan); err != nil {
				rows.Close()
				return DimensionValues{}, fmt.Errorf("read %s: %w", q.name, err)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return DimensionValues{}, err
		}
	}
	for _, list := range append([][]string{out.Channels, out.Campaigns, out.Agents, out.Currencies}, mapValues(out.Templates)...) {
		slices.Sort(list)
	}
	return out, nil
}

func mapValues(m map[string][]string) [][]string {
	out := make([][]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

var _ = register(View{
	Name: "dimensions", Path: "/v1/dimensions", Schema: "DimensionValues", Request: true,
	Summary: "The channels, campaigns and their templates, agents and order currencies of the period: the values to filter by",
	Columns: dimensionColumns,
	Run:     func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) { return e.Dimensions(ctx, r) },
	New:     func(Params) Result { return &DimensionValues{} },
})

var dimensionColumns = []Column{
	{Name: "dimension", Type: TypeString, Doc: "channel, campaign, template, agent or currency"},
	{Name: "value", Type: TypeString},
	{Name: "campaign", Type: TypeString, Doc: "a template's campaign"},
}

// Table is a row per value.
func (d DimensionValues) Table() Table {
	t := Table{Title: fmt.Sprintf("Dimension values, %s to %s, workspace %s", d.From, d.To, d.Workspace), Columns: dimensionColumns}
	for _, x := range []struct {
		name string
		list []string
	}{{"channel", d.Channels}, {"campaign", d.Campaigns}} {
		for _, v := range x.list {
			t.Rows = append(t.Rows, []any{x.name, v, nil})
		}
	}
	for _, c := range d.Campaigns {
		for _, tmpl := range d.Templates[c] {
			t.Rows = append(t.Rows, []any{"template", tmpl, c})
		}
	}
	for _, x := range []struct {
		name string
		list []string
	}{{"agent", d.Agents}, {"currency", d.Currencies}} {
		for _, v := range x.list {
			t.Rows = append(t.Rows, []any{x.name, v, nil})
		}
	}
	return t
}
