package kpi

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/omnikpi/omnikpi/internal/store"
)

// ClickKinds is the quoted list of click kinds for the SQL.
func (c *sqlCtx) ClickKinds() string { return store.SQLList(clickKinds) }

// ClickRow is the period's clicks on one button or link of one campaign
// and template.
type ClickRow struct {
	Kind     string  `json:"kind"`    // button or link
	Label    *string `json:"label"`   // the button's title, or the link's URL
	Payload  *string `json:"payload"` // the button's payload
	Channel  *string `json:"channel"`
	Campaign *string `json:"campaign"`
	Template *string `json:"template"`
	Total    int64   `json:"total"`    // click events
	Unique   int64   `json:"unique"`   // distinct clickers
	Messages int64   `json:"messages"` // distinct messages clicked
}

// ClickReport counts the period's clicks per button and link.
type ClickReport struct {
	Workspace string     `json:"workspace"`
	From      string     `json:"from"`
	To        string     `json:"to"`
	TimeZone  string     `json:"time_zone"`
	Rows      []ClickRow `json:"rows"`
}

// Clicks counts the period's link_clicked and button_clicked events (by
// their time) per button or link: a button by its title and payload
// (props.title, props.payload, as the WhatsApp and Messenger webhooks set
// them), a link by its URL (props.url, page_url, landing_url or link). A
// click inherits channel, campaign, template, variant and customer from
// its message, as statuses do; one that names no message keeps its own.
// Total counts click events (each id once, so a re-sent webhook counts
// once), unique the distinct customers (a click of no known customer
// counts by its message, else alone), messages the distinct messages.
func (e *Engine) Clicks(ctx context.Context, r Request) (ClickReport, error) {
	res, err := e.prepare(ctx, r)
	if err != nil {
		return ClickReport{}, err
	}
	type dims struct{ customer, channel, campaign, template, variant *string }
	byMessage := map[string]dims{}
	rows, err := e.query(ctx, res, "clicked-messages")
	if err != nil {
		return ClickReport{}, err
	}
	for rows.Next() {
		var id string
		var d dims
		if err := rows.Scan(&id, &d.customer, &d.channel, &d.campaign, &d.template, &d.variant); err != nil {
			rows.Close()
			return ClickReport{}, fmt.Errorf("read clicked-messages: %w", err)
		}
		byMessage[id] = d
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ClickReport{}, err
	}
	if rows, err = e.query(ctx, res, "click-events"); err != nil {
		return ClickReport{}, err
	}
	defer rows.Close()
	type key struct{ kind, label, payload, channel, campaign, template string }
	type counts struct {
		row               *ClickRow
		events, who, msgs map[string]bool
	}
	found := map[key]*counts{}
	for rows.Next() {
		var id, kind string
		var message, title, payload, url *string
		var d dims
		if err := rows.Scan(&id, &kind, &message, &d.customer, &d.channel, &d.campaign, &d.template, &d.variant,
			&title, &payload, &url); err != nil {
			return ClickReport{}, fmt.Errorf("read click-events: %w", err)
		}
		if message != nil {
			if m, ok := byMessage[*message]; ok {
				d = dims{cmp.Or(m.customer, d.customer), cmp.Or(m.channel, d.channel), cmp.Or(m.campaign, d.campaign),
					cmp.Or(m.template, d.template), cmp.Or(m.variant, d.variant)}
			}
		}
		if !res.keeps(func(dim string) *string {
			return map[string]*string{"customer": d.customer, "channel": d.channel, "campaign": d.campaign,
				"template": d.template, "variant": d.variant}[dim]
		}) {
			continue
		}
		row := ClickRow{Kind: "button", Label: title, Payload: payload, Channel: d.channel, Campaign: d.campaign, Template: d.template}
		if kind == clickKinds[0] { // link_clicked
			row.Kind, row.Label, row.Payload = "link", url, nil
		}
		k := key{row.Kind, deref(row.Label), deref(row.Payload), deref(row.Channel), deref(row.Campaign), deref(row.Template)}
		c := found[k]
		if c == nil {
			c = &counts{row: &row, events: map[string]bool{}, who: map[string]bool{}, msgs: map[string]bool{}}
			found[k] = c
		}
		c.events[id] = true
		switch {
		case d.customer != nil:
			c.who["c:"+*d.customer] = true
		case message != nil:
			c.who["m:"+*message] = true
		default:
			c.who["e:"+id] = true
		}
		if message != nil {
			c.msgs[*message] = true
		}
	}
	if err := rows.Err(); err != nil {
		return ClickReport{}, err
	}
	rep := ClickReport{Workspace: res.Workspace, From: res.fromText(), To: res.toText(), TimeZone: res.Location.String(), Rows: []ClickRow{}}
	for _, c := range found {
		c.row.Total, c.row.Unique, c.row.Messages = int64(len(c.events)), int64(len(c.who)), int64(len(c.msgs))
		rep.Rows = append(rep.Rows, *c.row)
	}
	slices.SortFunc(rep.Rows, func(a, b ClickRow) int {
		return cmp.Or(cmp.Compare(b.Total, a.Total), cmp.Compare(b.Unique, a.Unique), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(deref(a.Label), deref(b.Label)), cmp.Compare(deref(a.Payload), deref(b.Payload)),
			cmp.Compare(deref(a.Channel), deref(b.Channel)), cmp.Compare(deref(a.Campaign), deref(b.Campaign)),
			cmp.Compare(deref(a.Template), deref(b.Template)))
	})
	return rep, nil
}

var _ = register(View{
	Name: "clicks", Path: "/v1/clicks", Schema: "ClickReport", Request: true,
	Summary: "The period's clicks per button (title and payload) and link (URL), by channel, campaign and template: total and unique",
	Columns: clickColumns,
	Run:     func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) { return e.Clicks(ctx, r) },
	New:     func(Params) Result { return &ClickReport{} },
})

var clickColumns = []Column{
	{Name: "kind", Type: TypeString, Doc: "button or link"},
	{Name: "label", Type: TypeString, Doc: "the button's title or the link's URL"},
	{Name: "payload", Type: TypeString, Doc: "the button's payload"},
	{Name: "channel", Type: TypeString}, {Name: "campaign", Type: TypeString}, {Name: "template", Type: TypeString},
	{Name: "total", Type: TypeInteger, Unit: Count, Doc: "click events"},
	{Name: "unique", Type: TypeInteger, Unit: Count, Doc: "distinct clickers"},
	{Name: "messages", Type: TypeInteger, Unit: Count, Doc: "distinct messages clicked"},
}

// Table is a row per button or link, the most clicked first.
func (rep ClickReport) Table() Table {
	t := Table{Title: fmt.Sprintf("Clicks per button and link, %s to %s, workspace %s (%s)", rep.From, rep.To, rep.Workspace, rep.TimeZone),
		Columns: clickColumns}
	for _, r := range rep.Rows {
		t.Rows = append(t.Rows, []any{r.Kind, r.Label, r.Payload, r.Channel, r.Campaign, r.Template, r.Total, r.Unique, r.Messages})
	}
	return t
}

// Click-to-WhatsApp ads. The WhatsApp webhook derives a lead_created of
// medium click_to_whatsapp from a message's referral (the customer tapped
// an ad and wrote), with the referral in its props. Attribution rule:
//
//   - an order is credited to the ad of the same customer's latest
//     click-to-WhatsApp referral at or before it, within the workspace's
//     conversion window (7 days by default); one ad takes the whole order;
//   - a free-entry-point message (the pricing type Meta gives the
//     business's messages in the 72 hours after it answered such a chat)
//     is credited to the customer's latest referral within 72 hours before
//     its send time;
//   - a conversation is started by an ad when the customer's conversation
//     session on the channel starts with the referral's message.
//
// The referrals and orders are the journeys' (journeys.go): a referral is
// the lead touch the attribution view credits too, and its latest one
// before an order is the last-touch credit among the customer's
// click-to-WhatsApp touches. Ties at one millisecond go to the greater
// event id, as the journeys sort them, so arrival order changes nothing.

// freeEntryWindow is how long after a click-to-WhatsApp chat Meta prices
// the business's messages as free_entry_point.
const freeEntryWindow = 72 * time.Hour

// referral is one click-to-WhatsApp lead with its ad.
type referral struct {
	id, customer, channel string
	ts                    int64
	adID, clid, headline  string
	sourceType, sourceURL string
	account               string // the WhatsApp Business Account the chat came to
}

// readReferral reads the ad from a lead's props: the top-level ad_id and
// ctwa_clid the webhook sets, else the referral's own source_id and
// ctwa_clid; the headline, source type and URL from the referral.
func readReferral(props *string) (r referral) {
	if props == nil {
		return r
	}
	var p struct {
		AdID     string `json:"ad_id"`
		Clid     string `json:"ctwa_clid"`
		Headline string `json:"headline"`
		Account  string `json:"wa_business_account"`
		Referral struct {
			SourceID   string `json:"source_id"`
			SourceType string `json:"source_type"`
			SourceURL  string `json:"source_url"`
			Headline   string `json:"headline"`
			Clid       string `json:"ctwa_clid"`
		} `json:"referral"`
	}
	if json.Unmarshal([]byte(*props), &p) != nil {
		return r
	}
	return referral{adID: cmp.Or(p.AdID, p.Referral.SourceID), clid: cmp.Or(p.Clid, p.Referral.Clid),
		headline: cmp.Or(p.Referral.Headline, p.Headline), sourceType: p.Referral.SourceType, sourceURL: p.Referral.SourceURL,
		account: p.Account}
}

// adCredit is an order and the referral it is credited to.
type adCredit struct {
	order order
	ref   *referral
}

// adData is what the ads view and the conversions read.
type adData struct {
	res       *resolved
	referrals map[string]*referral // by lead event id, from the span's start
	credits   []adCredit           // the period's orders credited to a referral, in time order
	journeys  *journeys
}

// readAds reads the referrals around the period and credits the period's
// orders by the rule above.
func (e *Engine) readAds(ctx context.Context, r Request) (*adData, error) {
	r.GroupBy, r.Bucket = nil, ""
	res, err := e.prepare(ctx, r)
	if err != nil {
		return nil, err
	}
	window := time.Duration(res.ws.Windows.Conversion)
	// The journeys are read from this far before the period.
	res.Lookback = max(window, freeEntryWindow)
	j, err := e.readJourneys(ctx, res)
	if err != nil {
		return nil, err
	}
	d := &adData{res: res, referrals: map[string]*referral{}, journeys: j}
	rows, err := e.queryOver(ctx, res, "ad-referrals", span{res.from.Add(-res.Lookback), res.to})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, customer string
		var ts int64
		var channel, source, props *string
		if err := rows.Scan(&id, &customer, &ts, &channel, &source, &props); err != nil {
			return nil, fmt.Errorf("read ad-referrals: %w", err)
		}
		ref := readReferral(props)
		ref.id, ref.customer, ref.channel, ref.ts = id, customer, deref(channel), ts
		ref.sourceType = cmp.Or(ref.sourceType, deref(source))
		d.referrals[id] = &ref
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, o := range j.orders {
		if ref := d.latestReferral(o.customer, o.ts, window); ref != nil {
			d.credits = append(d.credits, adCredit{order: o, ref: ref})
		}
	}
	return d, nil
}

// latestReferral is the customer's latest click-to-WhatsApp referral at or
// before ts, within window; nil when none.
func (d *adData) latestReferral(customer *string, ts int64, window time.Duration) *referral {
	touches := d.journeys.touchesBefore(customer, ts, window)
	for i := len(touches) - 1; i >= 0; i-- {
		t := touches[i]
		if t.kind == "lead_created" && deref(t.medium) == "click_to_whatsapp" {
			if ref := d.referrals[t.id]; ref != nil {
				return ref
			}
		}
	}
	return nil
}

// keepsReferral applies the request's filters to a referral: its channel,
// customer, source (the ad's source type) and medium.
func (d *adData) keepsReferral(ref *referral) bool {
	return d.res.keeps(func(dim string) *string {
		switch dim {
		case "channel":
			return &ref.channel
		case "customer":
			return &ref.customer
		case "source":
			return nonEmpty(ref.sourceType)
		case "medium":
			m := "click_to_whatsapp"
			return &m
		}
		return nil
	})
}

// AdRevenue is the revenue credited to an ad in one currency.
type AdRevenue struct {
	Currency string  `json:"currency"`
	Orders   int64   `json:"orders"`
	Revenue  float64 `json:"revenue"` // in major units
	minor    int64
}

// AdRow is one click-to-WhatsApp ad's figures in the period.
type AdRow struct {
	AdID          *string      `json:"ad_id"` // the referral's source_id
	Headline      *string      `json:"headline"`
	SourceType    *string      `json:"source_type"`
	SourceURL     *string      `json:"source_url"`
	Leads         int64        `json:"leads"`  // referrals: chats opened from the ad
	Clicks        int64        `json:"clicks"` // distinct ctwa_clid among them
	Conversations int64        `json:"conversations"`
	FreeEntry     int64        `json:"free_entry_point_messages"`
	Orders        int64        `json:"orders"`
	Revenue       []AdRevenue  `json:"revenue"` // per currency
	latest        [3]*referral // the latest referral with a headline, source type and URL
}

// AdReport is the period's click-to-WhatsApp ads.
type AdReport struct {
	Workspace string  `json:"workspace"`
	From      string  `json:"from"`
	To        string  `json:"to"`
	TimeZone  string  `json:"time_zone"`
	Window    string  `json:"window"` // the conversion window orders are credited within
	Ads       []AdRow `json:"ads"`
}

// Ads lists the period's click-to-WhatsApp ads with the leads, the
// conversations they started and the free-entry-point messages of the
// period, and the orders of the period credited to them with their
// revenue (see the rule above).
func (e *Engine) Ads(ctx context.Context, r Request) (AdReport, error) {
	d, err := e.readAds(ctx, r)
	if err != nil {
		return AdReport{}, err
	}
	res := d.res
	from, to := res.from.UnixMilli(), res.to.UnixMilli()
	ads := map[string]*AdRow{}
	clids := map[string]map[string]bool{}
	ad := func(ref *referral) *AdRow {
		a := ads[ref.adID]
		if a == nil {
			a = &AdRow{AdID: nonEmpty(ref.adID), Revenue: []AdRevenue{}}
			ads[ref.adID] = a
			clids[ref.adID] = map[string]bool{}
		}
		// Each of the ad's texts is the latest referral's that has one.
		for i, f := range []string{ref.headline, ref.sourceType, ref.sourceURL} {
			if l := a.latest[i]; f != "" && (l == nil || ref.ts > l.ts || ref.ts == l.ts && ref.id > l.id) {
				a.latest[i] = ref
			}
		}
		return a
	}
	starts := map[[2]string][]*referral{} // the period's referrals by customer and channel
	for _, ref := range d.referrals {
		if ref.ts < from || !d.keepsReferral(ref) {
			continue
		}
		a := ad(ref)
		a.Leads++
		if ref.clid != "" {
			clids[ref.adID][ref.clid] = true
		}
		k := [2]string{ref.customer, ref.channel}
		starts[k] = append(starts[k], ref)
	}
	rows, err := e.query(ctx, res, "ad-sessions")
	if err != nil {
		return AdReport{}, err
	}
	for rows.Next() {
		var customer string
		var channel *string
		var start int64
		if err := rows.Scan(&customer, &channel, &start); err != nil {
			rows.Close()
			return AdReport{}, fmt.Errorf("read ad-sessions: %w", err)
		}
		// Two referrals at the session's start (one message seen twice
		// under two ids cannot be: a lead's id is its message's) credit
		// the greater id, as the journeys order them.
		var starter *referral
		for _, ref := range starts[[2]string{customer, deref(channel)}] {
			if ref.ts == start && (starter == nil || ref.id > starter.id) {
				starter = ref
			}
		}
		if starter != nil {
			ads[starter.adID].Conversations++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return AdReport{}, err
	}
	if rows, err = e.query(ctx, res, "ad-free-messages"); err != nil {
		return AdReport{}, err
	}
	for rows.Next() {
		var message, customer string
		var channel *string
		var ts int64
		if err := rows.Scan(&message, &customer, &channel, &ts); err != nil {
			rows.Close()
			return AdReport{}, fmt.Errorf("read ad-free-messages: %w", err)
		}
		if ref := d.latestReferral(&customer, ts, freeEntryWindow); ref != nil && d.keepsReferral(ref) {
			ad(ref).FreeEntry++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return AdReport{}, err
	}
	for _, c := range d.credits {
		if c.order.ts < from || c.order.ts >= to || !d.keepsReferral(c.ref) || !res.keepsCurrency(c.order.currency) {
			continue
		}
		a := ad(c.ref)
		a.Orders++
		i := slices.IndexFunc(a.Revenue, func(r AdRevenue) bool { return r.Currency == c.order.currency })
		if i < 0 {
			a.Revenue = append(a.Revenue, AdRevenue{Currency: c.order.currency})
			i = len(a.Revenue) - 1
		}
		a.Revenue[i].Orders++
		a.Revenue[i].minor += c.order.amount
	}
	rep := AdReport{Workspace: res.Workspace, From: res.fromText(), To: res.toText(), TimeZone: res.Location.String(),
		Window: store.FormatDuration(time.Duration(res.ws.Windows.Conversion)), Ads: []AdRow{}}
	for id, a := range ads {
		if l := a.latest[0]; l != nil {
			a.Headline = &l.headline
		}
		if l := a.latest[1]; l != nil {
			a.SourceType = &l.sourceType
		}
		if l := a.latest[2]; l != nil {
			a.SourceURL = &l.sourceURL
		}
		a.Clicks = int64(len(clids[id]))
		for i := range a.Revenue {
			a.Revenue[i].Revenue = majorUnits(new(big.Rat).SetInt64(a.Revenue[i].minor), a.Revenue[i].Currency)
		}
		slices.SortFunc(a.Revenue, func(x, y AdRevenue) int { return cmp.Compare(x.Currency, y.Currency) })
		rep.Ads = append(rep.Ads, *a)
	}
	slices.SortFunc(rep.Ads, func(a, b AdRow) int {
		return cmp.Or(cmp.Compare(b.Orders, a.Orders), cmp.Compare(b.Leads, a.Leads), cmp.Compare(deref(a.AdID), deref(b.AdID)))
	})
	return rep, nil
}

var _ = register(View{
	Name: "ads", Path: "/v1/ads", Schema: "AdReport", Request: true,
	Summary: "Click-to-WhatsApp ads: leads, clicks, conversations started, free-entry-point messages, and the orders and revenue credited to each",
	Columns: adColumns(nil),
	Run:     func(ctx context.Context, e *Engine, r Request, _ Params) (Result, error) { return e.Ads(ctx, r) },
	New:     func(Params) Result { return &AdReport{} },
})

// adColumns are the ads table's columns, with a revenue column per
// currency (one standing for them all when none is given).
func adColumns(currencies []string) []Column {
	cols := []Column{
		{Name: "ad_id", Type: TypeString, Doc: "the referral's source_id"}, {Name: "headline", Type: TypeString},
		{Name: "source_type", Type: TypeString, Doc: "ad or post"}, {Name: "source_url", Type: TypeString},
		{Name: "leads", Type: TypeInteger, Unit: Count, Doc: "chats opened from the ad"},
		{Name: "clicks", Type: TypeInteger, Unit: Count, Doc: "distinct ctwa_clid"},
		{Name: "conversations", Type: TypeInteger, Unit: Count, Doc: "conversation sessions the ad's chat started"},
		{Name: "free_entry_point_messages", Type: TypeInteger, Unit: Count},
		{Name: "orders", Type: TypeInteger, Unit: Count, Doc: "orders credited to the ad"},
	}
	if currencies == nil {
		return append(cols, Column{Name: "revenue*", Type: TypeNumber, Unit: Money, Doc: "credited revenue, a column per currency"})
	}
	for _, c := range currencies {
		cols = append(cols, Column{Name: "revenue", Type: TypeNumber, Unit: Money, Currency: c})
	}
	return cols
}

// Table is a row per ad, with a revenue column per currency.
func (rep AdReport) Table() Table {
	var currencies []string
	for _, a := range rep.Ads {
		for _, r := range a.Revenue {
			if !slices.Contains(currencies, r.Currency) {
				currencies = append(currencies, r.Currency)
			}
		}
	}
	slices.Sort(currencies)
	t := Table{Title: fmt.Sprintf("Click-to-WhatsApp ads, %s to %s, workspace %s (%s), orders credited within %s", rep.From, rep.To,
		rep.Workspace, rep.TimeZone, rep.Window), Columns: adColumns(currencies)}
	if currencies == nil {
		t.Columns = t.Columns[:len(t.Columns)-1]
	}
	for _, a := range rep.Ads {
		cells := []any{a.AdID, a.Headline, a.SourceType, a.SourceURL, a.Leads, a.Clicks, a.Conversations, a.FreeEntry, a.Orders}
		for _, c := range currencies {
			var v *float64
			for _, r := range a.Revenue {
				if r.Currency == c {
					v = &r.Revenue
				}
			}
			cells = append(cells, v)
		}
		t.Rows = append(t.Rows, cells)
	}
	return t
}

// AdConversion is a conversion of a click-to-WhatsApp chat, as the
// Conversions API for business messaging takes it: an order credited to
// the chat's ad (Purchase), or the chat itself (LeadSubmitted), with the
// ad click's ctwa_clid.
type AdConversion struct {
	Event    string    `json:"event"` // Purchase or LeadSubmitted
	ID       string    `json:"id"`    // the order's id, or the lead event's
	Time     time.Time `json:"time"`
	AdID     string    `json:"ad_id"`
	CtwaClid string    `json:"ctwa_clid"`
	Account  string    `json:"account"`  // the WhatsApp Business Account the chat came to, when known
	Currency string    `json:"currency"` // a purchase's
	Value    float64   `json:"value"`    // a purchase's amount, in major units
}

// Conversion event names of the Conversions API for business messaging.
const (
	EventPurchase = "Purchase"
	EventLead     = "LeadSubmitted"
)

// AdConversions lists the period's click-to-WhatsApp leads that carry a
// ctwa_clid and the period's orders credited to one (by the rule above),
// in time order, ties by id.
func (e *Engine) AdConversions(ctx context.Context, r Request) ([]AdConversion, error) {
	d, err := e.readAds(ctx, r)
	if err != nil {
		return nil, err
	}
	from := d.res.from.UnixMilli()
	out := []AdConversion{}
	for _, ref := range d.referrals {
		if ref.ts >= from && ref.clid != "" {
			out = append(out, AdConversion{Event: EventLead, ID: ref.id, Time: time.UnixMilli(ref.ts).UTC(), AdID: ref.adID,
				CtwaClid: ref.clid, Account: ref.account})
		}
	}
	for _, c := range d.credits {
		if c.ref.clid == "" {
			continue
		}
		out = append(out, AdConversion{Event: EventPurchase, ID: c.order.id, Time: time.UnixMilli(c.order.ts).UTC(), AdID: c.ref.adID,
			CtwaClid: c.ref.clid, Account: c.ref.account, Currency: c.order.currency,
			Value: majorUnits(new(big.Rat).SetInt64(c.order.amount), c.order.currency)})
	}
	slices.SortFunc(out, func(a, b AdConversion) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Event, b.Event), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}
