// Package alerts evaluates a workspace's alert rules on a schedule and
// posts a JSON notice to the rule's web hook when a rule starts firing and
// when it clears: once per firing, not once per evaluation, with retries.
package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Conditions a rule may test: below or above a fixed value, worse or
// better than the KPI's band (in the direction the KPI prefers), a change
// below or above a value.
var Conditions = []string{"below", "above", "worse_than_band", "better_than_band", "change_below", "change_above"}

// conditionAliases are the former names of conditions. Rules stored with
// them keep working; Normalize renames them.
var conditionAliases = map[string]string{"below_band": "worse_than_band", "above_band": "better_than_band"}

// Normalize returns the rule with its condition under its current name,
// and a built-in named by its id alone filled in (see Builtins).
func Normalize(r store.AlertRule) store.AlertRule {
	r = builtin(r)
	r.Condition = condition(r.Condition)
	return r
}

// condition is the current name of condition c.
func condition(c string) string {
	if now, ok := conditionAliases[c]; ok {
		return now
	}
	return c
}

// Validate checks a rule and names the field at fault. The former names
// of conditions are accepted, and a built-in's id without a KPI.
func Validate(r store.AlertRule) error {
	r = builtin(r)
	if r.ID == "" {
		return &kpi.RequestError{Field: "id", Reason: "is required"}
	}
	if _, ok := kpi.DefinitionOf(r.KPI); !ok {
		return &kpi.RequestError{Field: "kpi", Reason: fmt.Sprintf("%q is not a KPI of the catalogue", r.KPI)}
	}
	known := false
	for _, c := range Conditions {
		known = known || c == condition(r.Condition)
	}
	if !known {
		return &kpi.RequestError{Field: "condition", Reason: fmt.Sprintf("%q must be one of %v", r.Condition, Conditions)}
	}
	if r.Window <= 0 {
		return &kpi.RequestError{Field: "window", Reason: "must be a positive duration such as 24h or 7d"}
	}
	for d := range r.Filters {
		ok := false
		for _, known := range kpi.Dimensions {
			ok = ok || known == d
		}
		if !ok {
			return &kpi.RequestError{Field: "filters", Reason: fmt.Sprintf("%q is not a dimension", d)}
		}
	}
	if r.Webhook != "" {
		u, err := url.Parse(r.Webhook)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &kpi.RequestError{Field: "webhook", Reason: fmt.Sprintf("%q is not an http(s) URL", r.Webhook)}
		}
	}
	return nil
}

// Notice is the JSON posted to a rule's web hook.
type Notice struct {
	Status    string    `json:"status"` // firing or resolved
	Workspace string    `json:"workspace"`
	Rule      string    `json:"rule"`
	Name      string    `json:"name,omitempty"`
	KPI       string    `json:"kpi"`
	Condition string    `json:"condition"`
	Threshold float64   `json:"threshold"`
	Value     *float64  `json:"value"`
	Window    string    `json:"window"`
	Started   time.Time `json:"started"`
	Resolved  time.Time `json:"resolved,omitzero"`
}

// Evaluator checks every workspace's rules.
type Evaluator struct {
	Store   store.Store
	Engine  *kpi.Engine
	Log     *slog.Logger
	Client  *http.Client
	Retries int           // further attempts after a failed delivery, default 4
	Backoff time.Duration // before the first retry, doubled each time; default 1 s
	mu      sync.Mutex
}

// Run evaluates every interval until ctx ends.
func (ev *Evaluator) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := ev.EvaluateOnce(ctx, time.Now()); err != nil && ctx.Err() == nil {
			ev.Log.Error("alert evaluation failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// EvaluateOnce checks every rule as of now, sends the notices of the
// firings that start or clear, and stores the rules' state.
func (ev *Evaluator) EvaluateOnce(ctx context.Context, now time.Time) error {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	names, err := ev.Store.WorkspaceNames(ctx)
	if err != nil {
		return err
	}
	for _, name := range names {
		ws, err := ev.Store.Workspace(ctx, name)
		if err != nil {
			return err
		}
		if len(ws.Alerts) == 0 {
			continue
		}
		changed := false
		for i := range ws.Alerts {
			changed = ev.evaluate(ctx, &ws, &ws.Alerts[i], now) || changed
		}
		if !changed {
			continue
		}
		if err := ev.save(ctx, ws); err != nil {
			return err
		}
	}
	return nil
}

// save stores the rules' state over the newest settings, so that a setting
// changed meanwhile (a time zone, a rule edited through the API) is kept.
func (ev *Evaluator) save(ctx context.Context, evaluated store.Workspace) error {
	latest, err := ev.Store.Workspace(ctx, evaluated.Name)
	if err != nil {
		return err
	}
	state := map[string]*store.AlertFiring{}
	for _, r := range evaluated.Alerts {
		state[r.ID] = r.Firing
	}
	for i := range latest.Alerts {
		if f, ok := state[latest.Alerts[i].ID]; ok {
			latest.Alerts[i].Firing = f
		}
	}
	latest.AlertHistory = evaluated.AlertHistory
	return ev.Store.PutWorkspace(ctx, latest)
}

// evaluate checks one rule and reports whether its state changed.
func (ev *Evaluator) evaluate(ctx context.Context, ws *store.Workspace, rule *store.AlertRule, now time.Time) bool {
	fires, value, err := ev.check(ctx, ws.Name, *rule, now)
	if err != nil {
		ev.Log.Warn("alert rule not evaluated", "workspace", ws.Name, "rule", rule.ID, "err", err)
		return false
	}
	switch {
	case fires && rule.Firing == nil:
		f := &store.AlertFiring{Rule: rule.ID, KPI: rule.KPI, Value: value, Started: now.UTC()}
		ev.deliver(ctx, ws.Name, *rule, f, "firing")
		rule.Firing = f
		ws.AlertHistory = append(ws.AlertHistory, *f)
		if n := len(ws.AlertHistory); n > store.MaxAlertHistory {
			ws.AlertHistory = ws.AlertHistory[n-store.MaxAlertHistory:]
		}
		return true
	case fires && !rule.Firing.Notified:
		// Still firing and not yet told: try again, once per evaluation.
		ev.deliver(ctx, ws.Name, *rule, rule.Firing, "firing")
		record(ws, *rule.Firing)
		return true
	case !fires && rule.Firing != nil:
		f := rule.Firing
		f.Resolved, f.Value = now.UTC(), value
		ev.deliver(ctx, ws.Name, *rule, f, "resolved")
		record(ws, *f)
		rule.Firing = nil
		return true
	}
	return false
}

// record updates a firing in the history.
func record(ws *store.Workspace, f store.AlertFiring) {
	for i := range ws.AlertHistory {
		if h := &ws.AlertHistory[i]; h.Rule == f.Rule && h.Started.Equal(f.Started) {
			*h = f
		}
	}
}

// check computes the rule's KPI over the window ending now and tells
// whether the condition holds, with the value.
func (ev *Evaluator) check(ctx context.Context, workspace string, rule store.AlertRule, now time.Time) (bool, *float64, error) {
	req := kpi.Request{Workspace: workspace, KPIs: []string{rule.KPI},
		From: now.Add(-time.Duration(rule.Window)).UTC().Format(time.RFC3339Nano), To: now.UTC().Format(time.RFC3339Nano)}
	for d, v := range rule.Filters {
		if req.Filters == nil {
			req.Filters = map[string][]string{}
		}
		req.Filters[d] = []string{v}
	}
	if rule.Condition == "change_below" || rule.Condition == "change_above" {
		req.Compare = []string{"previous"}
	}
	rep, err := ev.Engine.Compute(ctx, req)
	if err != nil {
		return false, nil, err
	}
	if len(rep.Rows) == 0 || len(rep.Rows[0].KPIs) == 0 {
		return false, nil, nil
	}
	v := rep.Rows[0].KPIs[0]
	switch condition(rule.Condition) {
	case "below":
		return v.Value != nil && *v.Value < rule.Value, v.Value, nil
	case "above":
		return v.Value != nil && *v.Value > rule.Value, v.Value, nil
	case "worse_than_band":
		return v.Rating == kpi.Worse, v.Value, nil
	case "better_than_band":
		return v.Rating == kpi.Better || v.Rating == kpi.Best, v.Value, nil
	case "change_below":
		return v.Change != nil && *v.Change < rule.Value, v.Change, nil
	case "change_above":
		return v.Change != nil && *v.Change > rule.Value, v.Change, nil
	}
	return false, nil, errors.New("unknown condition " + rule.Condition)
}

// deliver posts the notice, retrying with a doubling backoff, and records
// on the firing whether it arrived.
func (ev *Evaluator) deliver(ctx context.Context, workspace string, rule store.AlertRule, f *store.AlertFiring, status string) {
	ok := func(delivered bool, err error) {
		if status == "firing" {
			f.Notified = delivered
		} else {
			f.Cleared = delivered
		}
		f.LastError = ""
		if err != nil {
			f.LastError = err.Error()
		}
	}
	if rule.Webhook == "" || rule.Muted {
		ok(false, nil) // recorded only
		return
	}
	body, _ := json.Marshal(Notice{Status: status, Workspace: workspace, Rule: rule.ID, Name: rule.Name, KPI: rule.KPI,
		Condition: rule.Condition, Threshold: rule.Value, Value: f.Value, Window: store.FormatDuration(time.Duration(rule.Window)),
		Started: f.Started, Resolved: f.Resolved})
	retries, backoff := ev.Retries, ev.Backoff
	if retries <= 0 {
		retries = 4
	}
	if backoff <= 0 {
		backoff = time.Second
	}
	client := ev.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	var err error
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				ok(false, ctx.Err())
				return
			case <-time.After(backoff << (attempt - 1)):
			}
		}
		if err = post(ctx, client, rule.Webhook, body); err == nil {
			ok(true, nil)
			return
		}
		ev.Log.Warn("alert notice not delivered", "workspace", workspace, "rule", rule.ID, "attempt", attempt+1, "err", err)
	}
	ok(false, err)
}

func post(ctx context.Context, client *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("web hook answered %s", resp.Status)
	}
	return nil
}
