package kpi

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/store"
)

// AlertList is the workspace's alert rules with their state.
type AlertList struct {
	Alerts []store.AlertRule `json:"alerts"`
}

var _ = register(View{
	Name: "alerts", Path: "/v1/alerts", List: "alerts", Item: "AlertRule",
	Summary: "The workspace's alert rules with their state",
	Columns: alertColumns,
	Run: func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) {
		ws, _, err := store.SettingsOf(ctx, e.store.Workspace, r.Workspace)
		if err != nil {
			return nil, err
		}
		out := AlertList{Alerts: ws.Alerts}
		if out.Alerts == nil {
			out.Alerts = []store.AlertRule{}
		}
		return out, nil
	},
	New: func(Params) Result { return &AlertList{} },
})

var alertColumns = []Column{
	{Name: "id", Type: TypeString}, {Name: "name", Type: TypeString}, {Name: "kpi", Type: TypeString},
	{Name: "condition", Type: TypeString}, {Name: "value", Type: TypeNumber, Doc: "the bound of below and above, in the KPI's unit"},
	{Name: "window", Type: TypeString, Doc: "a duration such as 7d"}, {Name: "filters", Type: TypeString, Doc: "dimension=value, comma-separated"},
	{Name: "webhook", Type: TypeString}, {Name: "muted", Type: TypeBoolean, Doc: "firings are recorded, not posted"},
	{Name: "firing_since", Type: TypeTime}, {Name: "source", Type: TypeString},
}

// Table is a row per rule.
func (l AlertList) Table() Table {
	t := Table{Title: fmt.Sprintf("Alert rules: %d", len(l.Alerts)), Columns: alertColumns}
	for _, a := range l.Alerts {
		var filters []string
		for k, v := range a.Filters {
			filters = append(filters, k+"="+v)
		}
		sort.Strings(filters)
		var since any
		if a.Firing != nil {
			since = a.Firing.Started.Format(timeLayout)
		}
		var value any
		if a.Condition == "below" || a.Condition == "above" || strings.HasPrefix(a.Condition, "change_") {
			value = a.Value
		}
		t.Rows = append(t.Rows, []any{a.ID, a.Name, a.KPI, a.Condition, value, store.FormatDuration(time.Duration(a.Window)), strings.Join(filters, ","), a.Webhook, a.Muted, since, a.Source})
	}
	return t
}

// FiringList is the workspace's latest firings, newest first.
type FiringList struct {
	Firings []store.AlertFiring `json:"firings"`
}

var _ = register(View{
	Name: "firings", Path: "/v1/alerts/firings", List: "firings", Item: "AlertFiring",
	Summary: "The latest firings, newest first",
	Columns: firingColumns,
	Run: func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) {
		ws, _, err := store.SettingsOf(ctx, e.store.Workspace, r.Workspace)
		if err != nil {
			return nil, err
		}
		out := FiringList{Firings: make([]store.AlertFiring, 0, len(ws.AlertHistory))}
		for i := len(ws.AlertHistory) - 1; i >= 0; i-- {
			out.Firings = append(out.Firings, ws.AlertHistory[i])
		}
		return out, nil
	},
	New: func(Params) Result { return &FiringList{} },
})

var firingColumns = []Column{
	{Name: "rule", Type: TypeString}, {Name: "kpi", Type: TypeString}, {Name: "value", Type: TypeNumber, Doc: "the KPI's value when the rule fired"},
	{Name: "started", Type: TypeTime}, {Name: "resolved", Type: TypeTime}, {Name: "notified", Type: TypeBoolean},
	{Name: "resolved_notified", Type: TypeBoolean}, {Name: "last_error", Type: TypeString},
}

// Table is a row per firing.
func (l FiringList) Table() Table {
	t := Table{Title: fmt.Sprintf("Alert firings: %d", len(l.Firings)), Columns: firingColumns}
	for _, f := range l.Firings {
		var resolved any
		if !f.Resolved.IsZero() {
			resolved = f.Resolved.Format(timeLayout)
		}
		t.Rows = append(t.Rows, []any{f.Rule, f.KPI, f.Value, f.Started.Format(timeLayout), resolved, f.Notified, f.Cleared, f.LastError})
	}
	return t
}

const timeLayout = "2006-01-02T15:04:05Z07:00"
