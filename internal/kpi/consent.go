package kpi

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// OptedOut is a customer who opted out on a channel and has not opted in
// again since.
type OptedOut struct {
	Customer string  `json:"customer"`
	Channel  *string `json:"channel"`
	Since    string  `json:"since"` // the latest opt-out, RFC 3339 in the report's time zone
	How      string  `json:"how"`   // stop word, WhatsApp's marketing stop, or what the event said
	InPeriod bool    `json:"in_period"`
}

// OptOutReport lists the customers opted out at the period's end.
type OptOutReport struct {
	Workspace string     `json:"workspace"`
	From      string     `json:"from"`
	To        string     `json:"to"`
	TimeZone  string     `json:"time_zone"`
	Customers []OptedOut `json:"customers"`
}

// OptedOut lists, for the request's filters, each customer and channel
// whose latest consent event before the period's end is an opt-out, the
// latest first. At the same millisecond an opt-in wins, then the larger
// event id, so the list does not depend on arrival order.
func (e *Engine) OptedOut(ctx context.Context, r Request) (OptOutReport, error) {
	res, err := e.prepare(ctx, r)
	if err != nil {
		return OptOutReport{}, err
	}
	rows, err := e.query(ctx, res, "consent-events")
	if err != nil {
		return OptOutReport{}, err
	}
	defer rows.Close()
	type consent struct {
		id, customer, kind string
		channel            *string
		ts                 int64
		reason, typ        *string
	}
	latest := map[[2]string]consent{}
	rank := map[string]int{"opted_out": 0, "opted_in": 1}
	later := func(a, b consent) bool { // a comes after b
		return cmp.Or(cmp.Compare(a.ts, b.ts), cmp.Compare(rank[a.kind], rank[b.kind]), cmp.Compare(a.id, b.id)) > 0
	}
	for rows.Next() {
		var c consent
		if err := rows.Scan(&c.id, &c.customer, &c.channel, &c.kind, &c.ts, &c.reason, &c.typ); err != nil {
			return OptOutReport{}, fmt.Errorf("read consent-events: %w", err)
		}
		k := [2]string{c.customer, deref(c.channel)}
		if old, ok := latest[k]; !ok || later(c, old) {
			latest[k] = c
		}
	}
	if err := rows.Err(); err != nil {
		return OptOutReport{}, err
	}
	rep := OptOutReport{Workspace: res.Workspace, From: res.fromText(), To: res.toText(), TimeZone: res.Location.String(), Customers: []OptedOut{}}
	var kept []consent
	for _, c := range latest {
		if c.kind == "opted_out" {
			kept = append(kept, c)
		}
	}
	slices.SortFunc(kept, func(a, b consent) int {
		return cmp.Or(cmp.Compare(b.ts, a.ts), cmp.Compare(a.customer, b.customer), cmp.Compare(deref(a.channel), deref(b.channel)))
	})
	for _, c := range kept {
		rep.Customers = append(rep.Customers, OptedOut{Customer: c.customer, Channel: c.channel,
			Since: time.UnixMilli(c.ts).In(res.Location).Format(time.RFC3339), How: optOutHow(c.reason, c.typ),
			InPeriod: c.ts >= res.from.UnixMilli()})
	}
	return rep, nil
}

// optOutHow names how a customer opted out, from the event's props.
func optOutHow(reason, typ *string) string {
	switch {
	case deref(reason) == "stop_word":
		return "stop word"
	case deref(typ) == "user_preference":
		return "WhatsApp marketing stop"
	case deref(reason) != "":
		return *reason
	case deref(typ) != "":
		return *typ
	}
	return "opt-out event"
}

var _ = register(View{
	Name: "opted-out", Path: "/v1/consent/opted-out", Schema: "OptOutReport", Request: true,
	Summary: "Customers opted out at the period's end, on each channel: since when and how",
	Columns: optOutColumns,
	Run:     func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) { return e.OptedOut(ctx, r) },
	New:     func(Params) Result { return &OptOutReport{} },
})

var optOutColumns = []Column{
	{Name: "customer", Type: TypeString}, {Name: "channel", Type: TypeString}, {Name: "since", Type: TypeTime},
	{Name: "how", Type: TypeString}, {Name: "in_period", Type: TypeString, Doc: "yes when the opt-out is of the period"},
}

// Table is a row per opted-out customer and channel, the latest first.
func (rep OptOutReport) Table() Table {
	t := Table{Title: fmt.Sprintf("Opted out at the end of %s to %s, workspace %s (%s): %d", rep.From, rep.To, rep.Workspace, rep.TimeZone, len(rep.Customers)),
		Columns: optOutColumns}
	for _, c := range rep.Customers {
		in := "no"
		if c.InPeriod {
			in = "yes"
		}
		t.Rows = append(t.Rows, []any{c.Customer, c.Channel, c.Since, c.How, in})
	}
	return t
}
