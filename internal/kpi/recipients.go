package kpi

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// Recipient is one outbound message of a campaign or template and what
// became of it.
type Recipient struct {
	Message  string  `json:"message"`
	Customer *string `json:"customer"`
	Channel  *string `json:"channel"`
	Campaign *string `json:"campaign"`
	Template *string `json:"template"`
	Variant  *string `json:"variant"`
	// Status is the furthest the message got: clicked, read, delivered,
	// failed or sent.
	Status    string `json:"status"`
	Sent      string `json:"sent"`
	Delivered string `json:"delivered,omitempty"`
	Read      string `json:"read,omitempty"`
	Clicked   string `json:"clicked,omitempty"`
	Failed    string `json:"failed,omitempty"`
	// Replied is the customer's first message on the channel within the
	// reply window after this one.
	Replied string `json:"replied,omitempty"`
	// FailureCode and FailureReason are the channel's error of a failed
	// message (a WhatsApp error code and title), when it gave one.
	FailureCode   string `json:"failure_code,omitempty"`
	FailureReason string `json:"failure_reason,omitempty"`
}

// RecipientReport lists the period's recipients matching the filters, in
// send order, at most Limit of them.
type RecipientReport struct {
	Workspace  string      `json:"workspace"`
	From       string      `json:"from"`
	To         string      `json:"to"`
	TimeZone   string      `json:"time_zone"`
	Total      int         `json:"total"`     // every matching message
	Truncated  bool        `json:"truncated"` // more than Limit matched
	Recipients []Recipient `json:"recipients"`
}

// FailureReason counts the failed messages of one error.
type FailureReason struct {
	Code     string `json:"code"`
	Reason   string `json:"reason"`
	Messages int    `json:"messages"`
}

// FailureReport counts the period's failed messages matching the filters
// by reason, the most frequent first.
type FailureReport struct {
	Workspace string          `json:"workspace"`
	From      string          `json:"from"`
	To        string          `json:"to"`
	TimeZone  string          `json:"time_zone"`
	Sent      int             `json:"sent"`
	Failed    int             `json:"failed"`
	Reasons   []FailureReason `json:"reasons"`
}

// RecipientStatuses are what the recipients can be narrowed to: the
// messages that failed, or got at least that far (a clicked message was
// read and delivered), or whose recipient wrote back within the reply
// window.
var RecipientStatuses = []string{"failed", "delivered", "read", "clicked", "replied"}

// Recipients lists the recipients of the messages sent in the period that
// match r's filters (a campaign, a template, a variant…) and status, one
// of RecipientStatuses or "" for all.
func (e *Engine) Recipients(ctx context.Context, r Request, status string, limit int) (RecipientReport, error) {
	res, all, err := e.recipients(ctx, r)
	if err != nil {
		return RecipientReport{}, err
	}
	if err := e.addReplies(ctx, res, all); err != nil {
		return RecipientReport{}, err
	}
	if status != "" {
		all = slices.DeleteFunc(all, func(rc Recipient) bool { return !rc.reached(status) })
	}
	rep := RecipientReport{Workspace: res.Workspace, From: res.fromText(), To: res.toText(), TimeZone: res.Location.String(),
		Total: len(all), Recipients: all}
	if limit > 0 && len(all) > limit {
		rep.Recipients, rep.Truncated = all[:limit], true
	}
	return rep, nil
}

// Failures counts the failed messages of the period that match r's
// filters by the channel's reason.
func (e *Engine) Failures(ctx context.Context, r Request) (FailureReport, error) {
	res, all, err := e.recipients(ctx, r)
	if err != nil {
		return FailureReport{}, err
	}
	rep := FailureReport{Workspace: res.Workspace, From: res.fromText(), To: res.toText(), TimeZone: res.Location.String(),
		Sent: len(all), Reasons: []FailureReason{}}
	counts := map[[2]string]int{}
	for _, rc := range all {
		if rc.Status == "failed" {
			rep.Failed++
			counts[[2]string{rc.FailureCode, rc.FailureReason}]++
		}
	}
	for k, n := range counts {
		rep.Reasons = append(rep.Reasons, FailureReason{Code: k[0], Reason: k[1], Messages: n})
	}
	slices.SortFunc(rep.Reasons, func(a, b FailureReason) int {
		return cmp.Or(cmp.Compare(b.Messages, a.Messages), cmp.Compare(a.Code, b.Code), cmp.Compare(a.Reason, b.Reason))
	})
	return rep, nil
}

func (e *Engine) recipients(ctx context.Context, r Request) (*resolved, []Recipient, error) {
	res, err := e.prepare(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	at := func(ms *int64) string {
		if ms == nil {
			return ""
		}
		return time.UnixMilli(*ms).In(res.Location).Format(time.RFC3339)
	}
	rows, err := e.query(ctx, res, "recipients")
	if err != nil {
		return nil, nil, err
	}
	out := []Recipient{}
	failed := map[string]int{} // message → index in out
	for rows.Next() {
		var rc Recipient
		var sent int64
		var delivered, read, clicked, failedAt *int64
		if err := rows.Scan(&rc.Message, &rc.Customer, &rc.Channel, &rc.Campaign, &rc.Template, &rc.Variant,
			&sent, &delivered, &read, &clicked, &failedAt); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("read recipients: %w", err)
		}
		rc.Sent, rc.Delivered, rc.Read, rc.Clicked, rc.Failed = at(&sent), at(delivered), at(read), at(clicked), at(failedAt)
		// The same order as delivery_rate: a message delivered counts as
		// delivered even if a failure was reported as well.
		switch {
		case clicked != nil:
			rc.Status = "clicked"
		case read != nil:
			rc.Status = "read"
		case delivered != nil:
			rc.Status = "delivered"
		case failedAt != nil:
			rc.Status = "failed"
			failed[rc.Message] = len(out)
		default:
			rc.Status = "sent"
		}
		out = append(out, rc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(failed) == 0 {
		return res, out, nil
	}
	if rows, err = e.query(ctx, res, "failures"); err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var message, code, title string
		var ts int64
		if err := rows.Scan(&message, &ts, &code, &title); err != nil {
			return nil, nil, fmt.Errorf("read failures: %w", err)
		}
		if i, ok := failed[message]; ok {
			out[i].FailureCode, out[i].FailureReason = code, title
		}
	}
	return res, out, rows.Err()
}

// reached tells whether the message got as far as status.
func (rc Recipient) reached(status string) bool {
	switch status {
	case "failed":
		return rc.Status == "failed"
	case "delivered":
		return rc.Delivered != ""
	case "read":
		return rc.Read != ""
	case "clicked":
		return rc.Clicked != ""
	case "replied":
		return rc.Replied != ""
	}
	return true
}

// addReplies sets the time of each recipient's first reply.
func (e *Engine) addReplies(ctx context.Context, res *resolved, all []Recipient) error {
	at := map[string]int{}
	for i, rc := range all {
		at[rc.Message] = i
	}
	rows, err := e.query(ctx, res, "recipient-replies")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var message string
		var ms int64
		if err := rows.Scan(&message, &ms); err != nil {
			return fmt.Errorf("read recipient-replies: %w", err)
		}
		if i, ok := at[message]; ok {
			all[i].Replied = time.UnixMilli(ms).In(res.Location).Format(time.RFC3339)
		}
	}
	return rows.Err()
}

var _ = register(View{
	Name: "recipients", Path: "/v1/campaigns/recipients", Schema: "RecipientReport", Request: true,
	Summary: "Drill-down: one row per recipient message of the filtered campaign or template, its furthest status and failure reason",
	Params: []Param{{Name: "limit", Type: "integer", Min: 1, Max: 100_000, Default: "1000", Doc: "At most this many rows (1–100000, default 1000)"},
		{Name: "status", Enum: RecipientStatuses, Doc: "Only the messages that failed, were delivered, read or clicked, or were replied to within the reply window"}},
	Columns: recipientColumns,
	Run: func(ctx context.Context, e *Engine, r Request, p Params) (Result, error) {
		return e.Recipients(ctx, r, p["status"], p.Int("limit"))
	},
	New: func(Params) Result { return &RecipientReport{} },
})

var recipientColumns = []Column{
	{Name: "message", Type: TypeString}, {Name: "customer", Type: TypeString}, {Name: "channel", Type: TypeString},
	{Name: "campaign", Type: TypeString}, {Name: "template", Type: TypeString}, {Name: "variant", Type: TypeString},
	{Name: "status", Type: TypeString, Doc: "clicked, read, delivered, failed or sent"},
	{Name: "sent", Type: TypeTime}, {Name: "delivered", Type: TypeTime}, {Name: "read", Type: TypeTime}, {Name: "clicked", Type: TypeTime}, {Name: "failed", Type: TypeTime},
	{Name: "replied", Type: TypeTime, Doc: "the customer's first message within the reply window"},
	{Name: "failure_code", Type: TypeString}, {Name: "failure_reason", Type: TypeString},
}

// Table is a row per recipient message, in send order.
func (rep RecipientReport) Table() Table {
	title := fmt.Sprintf("Recipients of workspace %s, %s to %s (%s): %d", rep.Workspace, rep.From, rep.To, rep.TimeZone, rep.Total)
	if rep.Truncated {
		title += fmt.Sprintf(", the first %d shown", len(rep.Recipients))
	}
	t := Table{Title: title, Columns: recipientColumns}
	for _, r := range rep.Recipients {
		t.Rows = append(t.Rows, []any{r.Message, r.Customer, r.Channel, r.Campaign, r.Template, r.Variant, r.Status,
			r.Sent, r.Delivered, r.Read, r.Clicked, r.Failed, r.Replied, r.FailureCode, r.FailureReason})
	}
	return t
}

var _ = register(View{
	Name: "failures", Path: "/v1/failures", Schema: "FailureReport", Request: true,
	Summary: "Failed messages counted by the channel's failure code and reason",
	Columns: failureColumns,
	Run:     func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) { return e.Failures(ctx, r) },
	New:     func(Params) Result { return &FailureReport{} },
})

var failureColumns = []Column{{Name: "code", Type: TypeString}, {Name: "reason", Type: TypeString}, {Name: "messages", Type: TypeInteger, Unit: Count}}

// Table is a row per failure reason, the most frequent first.
func (rep FailureReport) Table() Table {
	t := Table{Title: fmt.Sprintf("Failed messages of workspace %s, %s to %s (%s): %d of %d sent", rep.Workspace, rep.From, rep.To, rep.TimeZone, rep.Failed, rep.Sent),
		Columns: failureColumns}
	for _, r := range rep.Reasons {
		t.Rows = append(t.Rows, []any{r.Code, r.Reason, r.Messages})
	}
	return t
}
