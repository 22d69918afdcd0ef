package kpi

import (
	"cmp"
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

// pricingFamily is the messaging cost and the counts of paid and free
// messages, computed in Go: the rate card prices each delivered message by
// the card in force at its delivery and, for volume tiers and free
// allowances, by its number in the month.
var pricingFamily = family{"priced-messages", []string{"msg_cost", "paid_n", "free_n", "priced_n"}}

// pricedRow is some delivered messages of one kind, as the pricing queries
// give them.
type pricedRow struct {
	groupCells
	msg              store.Delivered
	template, sentAs *string // the template, the category it was sent as
	n                int64
}

// priceDelivered prices the period's delivered messages that carry
// pricing with the workspace's rate card (none: every charge is unpriced)
// and hands each row with the charge of one of its messages to sink.
func (e *Engine) priceDelivered(ctx context.Context, res *resolved, sink func(pricedRow, store.Charge)) error {
	var card store.RateCard
	if res.ws.RateCard != nil {
		card = *res.ws.RateCard
	}
	pricer := store.NewPricer(card)
	r := *res
	r.ordinalCategories = card.NeedsOrdinals()
	byNumber := func(category, typ string) bool {
		return cmp.Or(typ, store.Regular) == store.Regular && slices.Contains(r.ordinalCategories, category)
	}
	err := e.scanPriced(ctx, &r, "priced-messages", func(g *groupCells, scan func(...any) error) error {
		p := pricedRow{groupCells: *g}
		var category, typ, country *string
		var day, n float64 // both drivers scan any number into a float
		if err := scan(&category, &typ, &country, &p.template, &p.sentAs, &day, &n); err != nil {
			return err
		}
		p.groupCells = *g
		if byNumber(deref(category), deref(typ)) {
			return nil // priced one by one below
		}
		p.n = int64(n)
		p.msg = store.Delivered{At: time.UnixMilli(int64(day) * 86_400_000).UTC(),
			Category: deref(category), Type: deref(typ), Country: deref(country)}
		sink(p, pricer.Price(p.msg))
		return nil
	})
	if err != nil || len(r.ordinalCategories) == 0 {
		return err
	}
	return e.scanPriced(ctx, &r, "priced-message-list", func(g *groupCells, scan func(...any) error) error {
		p := pricedRow{groupCells: *g}
		var ms *int64
		var category, country, phone *string
		var priced float64
		if err := scan(&ms, &category, &country, &phone, &p.template, &p.sentAs, &priced); err != nil {
			return err
		}
		p.groupCells, p.n = *g, 1
		p.msg = store.Delivered{At: time.UnixMilli(deref64(ms)).UTC(), Category: deref(category), Type: store.Regular,
			Country: deref(country), PhoneNumber: deref(phone)}
		charge := pricer.Price(p.msg) // counted in its month, priced or not
		if priced == 1 {
			sink(p, charge)
		}
		return nil
	})
}

// groupCells are the group's columns of a query's row.
type groupCells struct {
	cells  []*string // the request's GroupBy
	bucket *string
}

// scanPriced runs a pricing query and calls each for every row with a scan
// that reads the group's columns into g and the others into its
// arguments.
func (e *Engine) scanPriced(ctx context.Context, res *resolved, query string, each func(g *groupCells, scan func(...any) error) error) error {
	rows, err := e.query(ctx, res, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		g := &groupCells{cells: make([]*string, len(res.GroupBy))}
		scan := func(rest ...any) error {
			dest := make([]any, 0, len(g.cells)+1+len(rest))
			for i := range g.cells {
				dest = append(dest, &g.cells[i])
			}
			if res.Bucket != "" {
				dest = append(dest, &g.bucket)
			}
			return rows.Scan(append(dest, rest...)...)
		}
		if err := each(g, scan); err != nil {
			return fmt.Errorf("read %s: %w", query, err)
		}
	}
	return rows.Err()
}

func deref64(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}

// runPricing adds the period's messaging cost, exact until each group's sum
// is added, to each group's msg_cost and to its campaign cost (cost,
// cost_msg_sw: rocs, roi, cost per recipient), and counts the priced
// messages, paid and free.
func (e *Engine) runPricing(ctx context.Context, res *resolved, groups map[string]*groupData) error {
	totals := map[*groupData]map[string]*big.Rat{}
	var order []*groupData
	var failed error
	err := e.priceDelivered(ctx, res, func(p pricedRow, c store.Charge) {
		g, err := groupFor(groups, p.cells, p.bucket, res.Location)
		if err != nil {
			failed = err
			return
		}
		n := float64(p.n)
		g.comps.plain["priced_n"] += n
		if c.Free {
			g.comps.plain["free_n"] += n
		} else {
			g.comps.plain["paid_n"] += n
		}
		if c.Minor == nil || c.Currency == "" {
			return // the card does not price it
		}
		if totals[g] == nil {
			totals[g] = map[string]*big.Rat{}
			order = append(order, g)
		}
		sum := totals[g][c.Currency]
		if sum == nil {
			sum = new(big.Rat)
			totals[g][c.Currency] = sum
		}
		sum.Add(sum, new(big.Rat).Mul(c.Minor, new(big.Rat).SetInt64(p.n)))
	})
	if err = cmp.Or(err, failed); err != nil {
		return err
	}
	for _, g := range order {
		for cur, sum := range totals[g] {
			cost, _ := sum.Float64()
			m := g.comps.money[cur]
			if m == nil {
				m = map[string]float64{}
				g.comps.money[cur] = m
			}
			m["msg_cost"] += cost
			m["cost"] += cost
			m["cost_msg_sw"] += cost
		}
	}
	return nil
}

// MessagingCostRow is the cost of the period's delivered messages of one
// campaign, template, pricing category, pricing type and country.
type MessagingCostRow struct {
	Campaign         *string  `json:"campaign"`
	Template         *string  `json:"template"`
	Category         string   `json:"category"`
	PricingType      string   `json:"pricing_type"`
	Country          *string  `json:"country"`
	Delivered        int64    `json:"delivered"`
	Paid             int64    `json:"paid"`
	Free             int64    `json:"free"`
	Currency         *string  `json:"currency"`           // none when the card prices none of them
	Cost             *float64 `json:"cost"`               // in major units of Currency
	CostPerDelivered *float64 `json:"cost_per_delivered"` // cost ÷ delivered
}

// MessagingCostReport breaks the messaging cost down.
type MessagingCostReport struct {
	Workspace string             `json:"workspace"`
	From      string             `json:"from"`
	To        string             `json:"to"`
	TimeZone  string             `json:"time_zone"`
	Rows      []MessagingCostRow `json:"rows"`
}

// MessagingCosts prices the period's delivered messages and adds them up
// by campaign, template, pricing category, pricing type, country and
// currency.
func (e *Engine) MessagingCosts(ctx context.Context, r Request) (MessagingCostReport, error) {
	res, err := e.prepare(ctx, r)
	if err != nil {
		return MessagingCostReport{}, err
	}
	res.GroupBy, res.Bucket = []string{"campaign"}, ""
	type key struct{ campaign, template, category, typ, country, currency string }
	rows := map[key]*MessagingCostRow{}
	sums := map[key]*big.Rat{}
	err = e.priceDelivered(ctx, res, func(p pricedRow, c store.Charge) {
		k := key{deref(p.cells[0]), deref(p.template), p.msg.Category, cmp.Or(p.msg.Type, store.Regular), p.msg.Country, ""}
		if c.Minor != nil {
			k.currency = c.Currency
		}
		row := rows[k]
		if row == nil {
			row = &MessagingCostRow{Campaign: p.cells[0], Template: p.template, Category: k.category, PricingType: k.typ,
				Country: nonEmpty(k.country), Currency: nonEmpty(k.currency)}
			rows[k] = row
		}
		row.Delivered += p.n
		if c.Free {
			row.Free += p.n
		} else {
			row.Paid += p.n
		}
		if c.Minor != nil {
			if sums[k] == nil {
				sums[k] = new(big.Rat)
			}
			sums[k].Add(sums[k], new(big.Rat).Mul(c.Minor, new(big.Rat).SetInt64(p.n)))
		}
	})
	if err != nil {
		return MessagingCostReport{}, err
	}
	rep := MessagingCostReport{Workspace: res.Workspace, From: res.fromText(), To: res.toText(), TimeZone: res.Location.String(),
		Rows: []MessagingCostRow{}}
	keys := make([]key, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.campaign, b.campaign), cmp.Compare(a.template, b.template), cmp.Compare(a.category, b.category),
			cmp.Compare(a.typ, b.typ), cmp.Compare(a.country, b.country), cmp.Compare(a.currency, b.currency))
	})
	for _, k := range keys {
		row := rows[k]
		if sum := sums[k]; sum != nil {
			cost := majorUnits(sum, k.currency)
			per := cost / float64(row.Delivered)
			row.Cost, row.CostPerDelivered = &cost, &per
		}
		rep.Rows = append(rep.Rows, *row)
	}
	return rep, nil
}

// majorUnits is an exact sum of minor units in major units of currency.
func majorUnits(minor *big.Rat, currency string) float64 {
	f, _ := new(big.Rat).Quo(minor, event.MinorScale(currency)).Float64()
	return f
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

var _ = register(View{
	Name: "messaging-costs", Path: "/v1/costs/messaging", Schema: "MessagingCostReport", Request: true,
	Summary: "Messaging cost of the period's delivered messages by campaign, template, pricing category, pricing type and country: paid, free, cost",
	Columns: messagingCostColumns,
	Run: func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) {
		return e.MessagingCosts(ctx, r)
	},
	New: func(Params) Result { return &MessagingCostReport{} },
})

var messagingCostColumns = []Column{
	{Name: "campaign", Type: TypeString}, {Name: "template", Type: TypeString},
	{Name: "category", Type: TypeString, Doc: "pricing category, such as marketing"},
	{Name: "pricing_type", Type: TypeString, Doc: "regular, free_customer_service, free_entry_point"},
	{Name: "country", Type: TypeString, Doc: "the recipient's"},
	{Name: "delivered", Type: TypeInteger, Unit: Count}, {Name: "paid", Type: TypeInteger, Unit: Count},
	{Name: "free", Type: TypeInteger, Unit: Count, Doc: "of a free type or within a free allowance"},
	{Name: "cost", Type: TypeNumber, Unit: Money, Doc: "none when the rate card prices none of them"},
	{Name: "cost_per_delivered", Type: TypeNumber, Unit: Money},
	{Name: "currency", Type: TypeString},
}

// Table is a row per campaign, template, category, type and country.
func (rep MessagingCostReport) Table() Table {
	t := Table{Title: fmt.Sprintf("Messaging cost, %s to %s, workspace %s (%s)", rep.From, rep.To, rep.Workspace, rep.TimeZone),
		Columns: messagingCostColumns}
	for _, r := range rep.Rows {
		t.Rows = append(t.Rows, []any{r.Campaign, r.Template, r.Category, r.PricingType, r.Country, r.Delivered, r.Paid, r.Free,
			r.Cost, r.CostPerDelivered, r.Currency})
	}
	return t
}

// BillingMismatch is a template whose messages the channel billed in
// another category than the one they were sent as, such as a utility
// template billed as marketing.
type BillingMismatch struct {
	Template   *string  `json:"template"`
	SentAs     string   `json:"sent_as"`
	BilledAs   string   `json:"billed_as"`
	Messages   int64    `json:"messages"`
	Currency   *string  `json:"currency"`
	Billed     *float64 `json:"billed"`     // the cost as billed
	AsSent     *float64 `json:"as_sent"`    // the cost had they been billed as sent
	Difference *float64 `json:"difference"` // billed − as sent
}

// BillingMismatchReport lists the period's billing mismatches.
type BillingMismatchReport struct {
	Workspace  string            `json:"workspace"`
	From       string            `json:"from"`
	To         string            `json:"to"`
	TimeZone   string            `json:"time_zone"`
	Mismatches []BillingMismatch `json:"mismatches"`
}

// BillingMismatches lists, per template, the period's delivered messages
// billed in another pricing category than the template's category at
// sending (props.template_category of the message, else the category the
// template was made in, from WhatsApp's template webhooks), with what they cost
// and what they would have cost at the card's price of the category they
// were sent as (in force at their delivery, tiers counted over these
// messages alone).
func (e *Engine) BillingMismatches(ctx context.Context, r Request) (BillingMismatchReport, error) {
	res, err := e.prepare(ctx, r)
	if err != nil {
		return BillingMismatchReport{}, err
	}
	res.GroupBy, res.Bucket = nil, ""
	var card store.RateCard
	if res.ws.RateCard != nil {
		card = *res.ws.RateCard
	}
	asSent := store.NewPricer(card)
	created, err := e.templateCategories(ctx, r)
	if err != nil {
		return BillingMismatchReport{}, err
	}
	type key struct{ template, sentAs, billedAs, currency string }
	type sums struct {
		row            *BillingMismatch
		billed, asSent *big.Rat
	}
	found := map[key]*sums{}
	err = e.priceDelivered(ctx, res, func(p pricedRow, c store.Charge) {
		if p.sentAs == nil && p.template != nil && created[*p.template] != "" {
			p.sentAs = nonEmpty(created[*p.template])
		}
		if p.sentAs == nil || *p.sentAs == p.msg.Category {
			return
		}
		alt := p.msg
		alt.Category = *p.sentAs
		other := asSent.Price(alt)
		k := key{deref(p.template), *p.sentAs, p.msg.Category, ""}
		if c.Minor != nil {
			k.currency = c.Currency
		}
		s := found[k]
		if s == nil {
			s = &sums{row: &BillingMismatch{Template: p.template, SentAs: k.sentAs, BilledAs: k.billedAs, Currency: nonEmpty(k.currency)}}
			if c.Minor != nil && other.Minor != nil && other.Currency == c.Currency {
				s.billed, s.asSent = new(big.Rat), new(big.Rat)
			}
			found[k] = s
		}
		s.row.Messages += p.n
		if s.billed == nil {
			return
		}
		if other.Minor == nil || other.Currency != c.Currency {
			s.billed, s.asSent = nil, nil // not comparable: no cost shown
			return
		}
		n := new(big.Rat).SetInt64(p.n)
		s.billed.Add(s.billed, new(big.Rat).Mul(c.Minor, n))
		s.asSent.Add(s.asSent, new(big.Rat).Mul(other.Minor, n))
	})
	if err != nil {
		return BillingMismatchReport{}, err
	}
	rep := BillingMismatchReport{Workspace: res.Workspace, From: res.fromText(), To: res.toText(), TimeZone: res.Location.String(),
		Mismatches: []BillingMismatch{}}
	for k, s := range found {
		if s.billed != nil {
			billed, as := majorUnits(s.billed, k.currency), majorUnits(s.asSent, k.currency)
			diff := majorUnits(new(big.Rat).Sub(s.billed, s.asSent), k.currency)
			s.row.Billed, s.row.AsSent, s.row.Difference = &billed, &as, &diff
		}
		rep.Mismatches = append(rep.Mismatches, *s.row)
	}
	slices.SortFunc(rep.Mismatches, func(a, b BillingMismatch) int {
		return cmp.Or(cmp.Compare(deref(a.Template), deref(b.Template)), cmp.Compare(a.SentAs, b.SentAs),
			cmp.Compare(a.BilledAs, b.BilledAs), cmp.Compare(deref(a.Currency), deref(b.Currency)))
	})
	return rep, nil
}

// templateCategories maps each template's name to the category it was
// made in, as WhatsApp's template webhooks tell it up to the period's end:
// the category before Meta recategorised it, else its category when
// approved. Webhooks write categories in capitals; pricing, in lower case.
func (e *Engine) templateCategories(ctx context.Context, r Request) (map[string]string, error) {
	health, err := e.AccountHealth(ctx, r)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, t := range health.Templates {
		if category := cmp.Or(deref(t.PreviousCategory), deref(t.Category)); t.Name != nil && category != "" {
			out[*t.Name] = strings.ToLower(category)
		}
	}
	return out, nil
}

var _ = register(View{
	Name: "billing-mismatches", Path: "/v1/costs/mismatches", Schema: "BillingMismatchReport", Request: true,
	Summary: "Templates whose messages were billed in another category than they were sent as, with the cost difference",
	Columns: mismatchColumns,
	Run: func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) {
		return e.BillingMismatches(ctx, r)
	},
	New: func(Params) Result { return &BillingMismatchReport{} },
})

var mismatchColumns = []Column{
	{Name: "template", Type: TypeString}, {Name: "sent_as", Type: TypeString}, {Name: "billed_as", Type: TypeString},
	{Name: "messages", Type: TypeInteger, Unit: Count},
	{Name: "billed", Type: TypeNumber, Unit: Money, Doc: "the cost as billed"},
	{Name: "as_sent", Type: TypeNumber, Unit: Money, Doc: "the cost at the price of the category sent as"},
	{Name: "difference", Type: TypeNumber, Unit: Money, Doc: "billed − as sent"},
	{Name: "currency", Type: TypeString},
}

// Table is a row per template and pair of categories.
func (rep BillingMismatchReport) Table() Table {
	t := Table{Title: fmt.Sprintf("Billed in another category than sent as, %s to %s, workspace %s (%s)", rep.From, rep.To, rep.Workspace, rep.TimeZone),
		Columns: mismatchColumns}
	for _, m := range rep.Mismatches {
		t.Rows = append(t.Rows, []any{m.Template, m.SentAs, m.BilledAs, m.Messages, m.Billed, m.AsSent, m.Difference, m.Currency})
	}
	return t
}
