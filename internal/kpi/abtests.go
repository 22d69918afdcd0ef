package kpi

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/store"
)

// The A/B tests of a workspace, whatever the period asked: a campaign that
// sent two variants or more, or, for messages without a campaign, a
// template that did. A test is running while it still sends: its last
// message went out within RunningFor before the list's moment; after that
// it is finished.

// RunningFor is how recently a test must have sent to be running.
const RunningFor = 72 * time.Hour

// ABTestEntry is one test.
type ABTestEntry struct {
	// Campaign names the test; Template does when its messages carry no
	// campaign (Campaign is then null).
	Campaign *string  `json:"campaign"`
	Template *string  `json:"template"`
	Variants []string `json:"variants"`
	Sent     int64    `json:"sent"`
	First    string   `json:"first_sent"` // RFC 3339 in the workspace's zone
	Last     string   `json:"last_sent"`
	State    string   `json:"state"` // running or finished
}

// ABTestList is every A/B test, the latest sent first.
type ABTestList struct {
	Workspace string        `json:"workspace"`
	TimeZone  string        `json:"time_zone"`
	At        string        `json:"at"`          // the moment the states are of
	Running   string        `json:"running_for"` // how recently a running test sent
	Tests     []ABTestEntry `json:"tests"`
}

// ABTests lists the workspace's A/B tests with their states at at (a date
// or RFC 3339 time; "": now).
func (e *Engine) ABTests(ctx context.Context, r Request, at string) (ABTestList, error) {
	res, err := e.prepare(ctx, Request{Workspace: r.Workspace, TimeZone: r.TimeZone})
	if err != nil {
		return ABTestList{}, err
	}
	when, err := parseBound(at, res.Location, e.now())
	if err != nil {
		return ABTestList{}, &RequestError{Field: "at", Reason: err.Error()}
	}
	// Every send there is, not the default month.
	res.from, res.to = time.UnixMilli(0), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	rows, err := e.query(ctx, res, "ab-tests")
	if err != nil {
		return ABTestList{}, err
	}
	defer rows.Close()
	type test struct {
		entry       ABTestEntry
		first, last int64
	}
	tests := map[[2]string]*test{}
	for rows.Next() {
		var campaign, template *string
		var variant string
		var first, last, sent float64
		if err := rows.Scan(&campaign, &template, &variant, &first, &last, &sent); err != nil {
			return ABTestList{}, fmt.Errorf("read ab-tests: %w", err)
		}
		key := [2]string{"campaign", deref(campaign)}
		if campaign == nil {
			key = [2]string{"template", deref(template)}
		}
		t := tests[key]
		if t == nil {
			t = &test{first: int64(first), last: int64(last)}
			if campaign != nil {
				t.entry.Campaign = campaign
			} else {
				t.entry.Template = template
			}
			tests[key] = t
		}
		if !slices.Contains(t.entry.Variants, variant) {
			t.entry.Variants = append(t.entry.Variants, variant)
		}
		t.entry.Sent += int64(sent)
		t.first, t.last = min(t.first, int64(first)), max(t.last, int64(last))
	}
	if err := rows.Err(); err != nil {
		return ABTestList{}, err
	}
	out := ABTestList{Workspace: res.Workspace, TimeZone: res.Location.String(), At: when.In(res.Location).Format(time.RFC3339),
		Running: store.FormatDuration(RunningFor), Tests: []ABTestEntry{}}
	var list []*test
	for _, t := range tests {
		if len(t.entry.Variants) < 2 {
			continue
		}
		sort.Strings(t.entry.Variants)
		t.entry.First = time.UnixMilli(t.first).In(res.Location).Format(time.RFC3339)
		t.entry.Last = time.UnixMilli(t.last).In(res.Location).Format(time.RFC3339)
		t.entry.State = "finished"
		if when.Sub(time.UnixMilli(t.last)) <= RunningFor {
			t.entry.State = "running"
		}
		list = append(list, t)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].last != list[j].last {
			return list[i].last > list[j].last
		}
		return deref(list[i].entry.Campaign)+"\x00"+deref(list[i].entry.Template) < deref(list[j].entry.Campaign)+"\x00"+deref(list[j].entry.Template)
	})
	for _, t := range list {
		out.Tests = append(out.Tests, t.entry)
	}
	return out, nil
}

var _ = register(View{
	Name: "abtests", Path: "/v1/abtests", Schema: "ABTestList",
	Summary: "Every A/B test of the workspace, whatever the period: its variants, first and last send, and whether it is running",
	Params: []Param{
		{Name: "at", Doc: "The states at this date or RFC 3339 time (default now); a test is running when it sent within 72 h before", Example: "2026-02-01"},
	},
	Columns: abTestColumns,
	Run: func(ctx context.Context, e *Engine, r Request, p Params) (Result, error) {
		return e.ABTests(ctx, r, p["at"])
	},
	New: func(Params) Result { return &ABTestList{} },
})

var abTestColumns = []Column{
	{Name: "campaign", Type: TypeString}, {Name: "template", Type: TypeString, Doc: "of a test without a campaign"},
	{Name: "variants", Type: TypeString, Doc: "separated by spaces"}, {Name: "sent", Type: TypeInteger, Unit: Count},
	{Name: "first_sent", Type: TypeTime}, {Name: "last_sent", Type: TypeTime},
	{Name: "state", Type: TypeString, Doc: "running (sent within 72 h) or finished"},
}

// Table is a row per test.
func (l ABTestList) Table() Table {
	t := Table{Title: fmt.Sprintf("A/B tests of workspace %s (%s), states at %s", l.Workspace, l.TimeZone, l.At), Columns: abTestColumns}
	for _, x := range l.Tests {
		t.Rows = append(t.Rows, []any{x.Campaign, x.Template, strings.Join(x.Variants, " "), x.Sent, x.First, x.Last, x.State})
	}
	return t
}
