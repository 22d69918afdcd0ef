package kpi

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// PhoneHealth is a WhatsApp business number's state as its latest
// phone_number_quality_update webhooks left it.
type PhoneHealth struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	BusinessAccount    string `json:"business_account"`
	// Quality is the latest of FLAGGED (the number's quality rating has
	// reached low) and UNFLAGGED (back to medium or high); null before
	// either.
	Quality      *string `json:"quality"`
	QualitySince *string `json:"quality_since"`
	// MessagingLimit is max_daily_conversations_per_business (the
	// portfolio's limit, which replaces current_limit from 2026), else
	// current_limit: TIER_250, TIER_2K, TIER_10K, TIER_100K, TIER_UNLIMITED…
	MessagingLimit *string `json:"messaging_limit"`
	LimitSince     *string `json:"limit_since"` // when it took its current value
	LastEvent      string  `json:"last_event"`
	Updated        string  `json:"updated"`
}

// TemplateHealth is a template's state as its latest status, quality and
// category webhooks left it.
type TemplateHealth struct {
	ID           *string `json:"message_template_id"`
	Name         *string `json:"message_template_name"`
	Language     *string `json:"message_template_language"`
	Status       *string `json:"status"` // APPROVED, PAUSED, DISABLED, REJECTED… (the status update's event)
	Reason       *string `json:"reason"`
	StatusSince  *string `json:"status_since"`
	Quality      *string `json:"quality_score"` // GREEN, YELLOW, RED, UNKNOWN
	QualitySince *string `json:"quality_since"`
	Category     *string `json:"category"` // MARKETING, UTILITY, AUTHENTICATION
	// PreviousCategory and Recategorised are of the latest completed
	// change of category.
	PreviousCategory *string `json:"previous_category"`
	Recategorised    *string `json:"recategorised"`
	// PendingCategory is the category Meta announced it will move the
	// template to (correct_category), at PendingAt, until it has.
	PendingCategory *string `json:"pending_category"`
	PendingAt       *string `json:"pending_at"`
	Updated         string  `json:"updated"`
}

// HealthChange is one health webhook of the period.
type HealthChange struct {
	At       string  `json:"at"`
	Field    string  `json:"field"`
	Subject  string  `json:"subject"` // the number, the template's name, or the business account
	Language *string `json:"language"`
	Event    *string `json:"event"`
	From     *string `json:"from"` // the limit, quality score or category before, where the webhook says
	To       *string `json:"to"`
	Reason   *string `json:"reason"`
	Signal   *string `json:"signal"` // quality_drop, limit_changed, template_paused, template_disabled, template_recategorised
}

// HealthReport is the account-health view.
type HealthReport struct {
	Workspace    string           `json:"workspace"`
	From         string           `json:"from"`
	To           string           `json:"to"`
	TimeZone     string           `json:"time_zone"`
	PhoneNumbers []PhoneHealth    `json:"phone_numbers"`
	Templates    []TemplateHealth `json:"templates"`
	Changes      []HealthChange   `json:"changes"` // the period's, the latest first
}

// healthRow is one row of the health-events query; "" stands for absent,
// as ClickHouse reads a missing prop.
type healthRow struct {
	id, typ, event, phone, limit, oldLimit, maxDaily, templateID, template, language, reason, category,
	prevQuality, quality, prevCategory, newCategory, correctCategory, categoryAt, signal, account string
	ts int64
}

// AccountHealth replays the workspace's health webhooks up to the period's
// end, in time order (ties by id, so arrival order changes nothing), into
// each number's and template's state, and lists the period's changes.
func (e *Engine) AccountHealth(ctx context.Context, r Request) (HealthReport, error) {
	res, err := e.prepare(ctx, r)
	if err != nil {
		return HealthReport{}, err
	}
	rows, err := e.query(ctx, res, "health-events")
	if err != nil {
		return HealthReport{}, err
	}
	defer rows.Close()
	var all []healthRow
	seen := map[string]bool{}
	for rows.Next() {
		var h healthRow
		cols := []*string{&h.typ, &h.event, &h.phone, &h.limit, &h.oldLimit, &h.maxDaily, &h.templateID, &h.template, &h.language,
			&h.reason, &h.category, &h.prevQuality, &h.quality, &h.prevCategory, &h.newCategory, &h.correctCategory, &h.categoryAt, &h.signal, &h.account}
		ptrs := make([]*string, len(cols))
		dest := []any{&h.id, &h.ts}
		for i := range cols {
			dest = append(dest, &ptrs[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return HealthReport{}, fmt.Errorf("read health-events: %w", err)
		}
		for i, p := range ptrs {
			*cols[i] = deref(p)
		}
		if !seen[h.id] { // a duplicate that the store has not merged yet
			seen[h.id] = true
			all = append(all, h)
		}
	}
	if err := rows.Err(); err != nil {
		return HealthReport{}, err
	}
	slices.SortStableFunc(all, func(a, b healthRow) int { return cmp.Or(cmp.Compare(a.ts, b.ts), cmp.Compare(a.id, b.id)) })

	at := func(ms int64) string { return time.UnixMilli(ms).In(res.Location).Format(time.RFC3339) }
	rep := HealthReport{Workspace: res.Workspace, From: res.fromText(), To: res.toText(), TimeZone: res.Location.String(),
		PhoneNumbers: []PhoneHealth{}, Templates: []TemplateHealth{}, Changes: []HealthChange{}}
	phones := map[string]*PhoneHealth{}
	templates := map[string]*TemplateHealth{}
	fromMS := res.from.UnixMilli()
	for _, h := range all {
		when := at(h.ts)
		change := HealthChange{At: when, Field: h.typ, Event: nonEmpty(h.event), Reason: nonEmpty(h.reason), Signal: nonEmpty(h.signal)}
		switch h.typ {
		case "phone_number_quality_update":
			if h.phone == "" {
				continue
			}
			p := phones[h.phone]
			if p == nil {
				p = &PhoneHealth{DisplayPhoneNumber: h.phone}
				phones[h.phone] = p
			}
			p.BusinessAccount, p.LastEvent, p.Updated = h.account, h.event, when
			if h.event == "FLAGGED" || h.event == "UNFLAGGED" {
				p.Quality, p.QualitySince = nonEmpty(h.event), nonEmpty(when)
			}
			if limit := cmp.Or(h.maxDaily, h.limit); limit != "" && deref(p.MessagingLimit) != limit {
				p.MessagingLimit, p.LimitSince = nonEmpty(limit), nonEmpty(when)
			}
			change.Subject, change.From, change.To = h.phone, nonEmpty(h.oldLimit), nonEmpty(cmp.Or(h.maxDaily, h.limit))
		case "message_template_status_update", "message_template_quality_update", "template_category_update":
			key := h.templateID
			if key == "" {
				key = h.template + "\x00" + h.language
			}
			t := templates[key]
			if t == nil {
				t = &TemplateHealth{}
				templates[key] = t
			}
			t.ID, t.Name, t.Language = orKeep(t.ID, h.templateID), orKeep(t.Name, h.template), orKeep(t.Language, h.language)
			t.Updated = when
			change.Subject, change.Language = cmp.Or(h.template, h.templateID), nonEmpty(h.language)
			switch h.typ {
			case "message_template_status_update":
				t.Status, t.Reason, t.StatusSince = nonEmpty(h.event), nonEmpty(h.reason), nonEmpty(when)
				t.Category = orKeep(t.Category, h.category)
			case "message_template_quality_update":
				t.Quality, t.QualitySince = nonEmpty(h.quality), nonEmpty(when)
				change.From, change.To = nonEmpty(h.prevQuality), nonEmpty(h.quality)
			default:
				if h.correctCategory != "" { // announced: new_category is still the current one
					t.Category = orKeep(t.Category, h.newCategory)
					t.PendingCategory, t.PendingAt = nonEmpty(h.correctCategory), unixText(h.categoryAt, res.Location)
					change.From, change.To = nonEmpty(h.newCategory), nonEmpty(h.correctCategory)
					change.Event = nonEmpty("PENDING")
					break
				}
				t.Category = orKeep(t.Category, h.newCategory)
				if h.prevCategory != "" {
					t.PreviousCategory, t.Recategorised = nonEmpty(h.prevCategory), nonEmpty(when)
				}
				t.PendingCategory, t.PendingAt = nil, nil
				change.From, change.To = nonEmpty(h.prevCategory), nonEmpty(h.newCategory)
			}
		default: // account_update
			change.Subject = h.account
		}
		if h.ts >= fromMS {
			rep.Changes = append(rep.Changes, change)
		}
	}
	slices.Reverse(rep.Changes)
	for _, p := range phones {
		rep.PhoneNumbers = append(rep.PhoneNumbers, *p)
	}
	slices.SortFunc(rep.PhoneNumbers, func(a, b PhoneHealth) int { return cmp.Compare(a.DisplayPhoneNumber, b.DisplayPhoneNumber) })
	for _, t := range templates {
		rep.Templates = append(rep.Templates, *t)
	}
	slices.SortFunc(rep.Templates, func(a, b TemplateHealth) int {
		return cmp.Or(cmp.Compare(deref(a.Name), deref(b.Name)), cmp.Compare(deref(a.Language), deref(b.Language)), cmp.Compare(deref(a.ID), deref(b.ID)))
	})
	return rep, nil
}

// orKeep is s when given, else what was known.
func orKeep(known *string, s string) *string {
	if s == "" {
		return known
	}
	return &s
}

// unixText is a Unix time in seconds, as the webhook gave it, in loc.
func unixText(s string, loc *time.Location) *string {
	var sec int64
	if _, err := fmt.Sscan(s, &sec); err != nil {
		return nil
	}
	return nonEmpty(time.Unix(sec, 0).In(loc).Format(time.RFC3339))
}

var _ = register(View{
	Name: "account-health", Path: "/v1/whatsapp/health", Schema: "HealthReport", Request: true,
	Summary: "WhatsApp account health: each business number's quality and messaging limit, each template's status, quality and category, and the period's changes",
	Columns: healthColumns,
	Run: func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) {
		return e.AccountHealth(ctx, r)
	},
	New: func(Params) Result { return &HealthReport{} },
})

var healthColumns = []Column{
	{Name: "row", Type: TypeString, Doc: "phone_number, template, or change (a webhook of the period)"},
	{Name: "subject", Type: TypeString, Doc: "the number, the template's name, or the business account"},
	{Name: "language", Type: TypeString}, {Name: "quality", Type: TypeString}, {Name: "messaging_limit", Type: TypeString},
	{Name: "status", Type: TypeString}, {Name: "category", Type: TypeString}, {Name: "event", Type: TypeString},
	{Name: "from", Type: TypeString}, {Name: "to", Type: TypeString}, {Name: "signal", Type: TypeString},
	{Name: "at", Type: TypeTime, Doc: "the latest update, or the change's time"},
}

// Table is a row per number and per template, as they stand at the
// period's end, then a row per change of the period, the latest first.
func (rep HealthReport) Table() Table {
	t := Table{Title: fmt.Sprintf("WhatsApp account health at the end of %s to %s, workspace %s (%s): %d numbers, %d templates, %d changes",
		rep.From, rep.To, rep.Workspace, rep.TimeZone, len(rep.PhoneNumbers), len(rep.Templates), len(rep.Changes)), Columns: healthColumns}
	for _, p := range rep.PhoneNumbers {
		t.Rows = append(t.Rows, []any{"phone_number", p.DisplayPhoneNumber, nil, p.Quality, p.MessagingLimit, nil, nil, p.LastEvent, nil, nil, nil, p.Updated})
	}
	for _, x := range rep.Templates {
		t.Rows = append(t.Rows, []any{"template", cmp.Or(deref(x.Name), deref(x.ID)), x.Language, x.Quality, nil, x.Status, x.Category, nil, nil, nil, nil, x.Updated})
	}
	for _, c := range rep.Changes {
		t.Rows = append(t.Rows, []any{"change", c.Subject, c.Language, nil, nil, nil, nil, c.Event, c.From, c.To, c.Signal, c.At})
	}
	return t
}
