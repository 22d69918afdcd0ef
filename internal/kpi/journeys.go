package kpi

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/omnikpi/omnikpi/internal/store"
)

// Customer journeys (KPIS.md §4): the touchpoints before a purchase, read
// per customer in Go. Chat touches are campaign messages read or clicked
// and inbound messages, each message once whatever events it came in
// (KPIS.md §7), for the customer of the message; web touches are site
// sessions that carry a source or campaign (UTM parameters, an ad click
// id), and orders that carry the source of the visit they were placed in
// (a shop's landing page or referrer); a lead is a touch on its channel
// and source (a click-to-WhatsApp ad). Events are sorted by (time, id)
// first, so nothing depends on arrival order.

// TouchKinds are the event kinds the journeys read as events; messages
// come from the message facts.
var touchKinds = []string{"lead_created", "site_session", "product_recommended", "order_placed"}

// TouchKinds is the quoted list for the SQL.
func (c *sqlCtx) TouchKinds() string { return store.SQLList(touchKinds) }

// touch is one event of a customer's journey.
type touch struct {
	id, kind                          string
	ts                                int64
	channel, campaign, source, medium *string
	duration                          int64
	product                           *string
}

// counts reports whether the event is a touchpoint for attribution.
func (t *touch) counts() bool {
	switch t.kind {
	case "message_received", "lead_created", "message_read", "click":
		return true
	case "site_session": // a visit's page views are not touches of their own
		return t.source != nil || t.campaign != nil
	case "order_placed": // the visit an order was placed in, by its landing page or referrer (a shop's webhook)
		return t.source != nil
	}
	return false
}

// order is a conversion to attribute.
type order struct {
	id, currency string
	customer     *string // nil when the order names none: it has no touch
	ts, amount   int64
}

// journeys holds what the journey figures and attribution read.
type journeys struct {
	byCustomer map[string][]*touch // in time order
	orders     []order             // the period's orders with an amount
}

// lookback and half-life of attribution, and their defaults.
func (res *resolved) lookback() time.Duration {
	if res.Lookback > 0 {
		return res.Lookback
	}
	return 30 * 24 * time.Hour
}

func (res *resolved) halfLife() time.Duration {
	if res.HalfLife > 0 {
		return res.HalfLife
	}
	return 7 * 24 * time.Hour
}

// readJourneys fetches the touch events from a lookback before the period
// to a conversion window after it, the campaign messages read or clicked
// and the inbound messages then, and the period's orders.
func (e *Engine) readJourneys(ctx context.Context, res *resolved) (*journeys, error) {
	sp := span{res.from.Add(-res.lookback()), res.to.Add(time.Duration(res.ws.Windows.Conversion))}
	j := &journeys{byCustomer: map[string][]*touch{}}
	rows, err := e.queryOver(ctx, res, "touch-events", sp)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		t := &touch{}
		var customer string
		var duration *int64
		if err := rows.Scan(&t.id, &customer, &t.ts, &t.kind, &t.channel, &t.campaign, &t.source, &t.medium, &duration, &t.product); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read touch-events: %w", err)
		}
		if duration != nil {
			t.duration = *duration
		}
		j.byCustomer[customer] = append(j.byCustomer[customer], t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if rows, err = e.queryOver(ctx, res, "message-touches", sp); err != nil {
		return nil, err
	}
	for rows.Next() {
		var message, customer string
		var read, clicked, received *int64
		var channel, campaign *string
		if err := rows.Scan(&message, &customer, &read, &clicked, &received, &channel, &campaign); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read message-touches: %w", err)
		}
		if read != nil && campaign != nil {
			j.byCustomer[customer] = append(j.byCustomer[customer], &touch{id: "r:" + message, kind: "message_read", ts: *read, channel: channel, campaign: campaign})
		}
		if clicked != nil && campaign != nil {
			j.byCustomer[customer] = append(j.byCustomer[customer], &touch{id: "c:" + message, kind: "click", ts: *clicked, channel: channel, campaign: campaign})
		}
		if received != nil {
			j.byCustomer[customer] = append(j.byCustomer[customer], &touch{id: "i:" + message, kind: "message_received", ts: *received, channel: channel, campaign: campaign})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, list := range j.byCustomer {
		sort.Slice(list, func(a, b int) bool {
			if list[a].ts != list[b].ts {
				return list[a].ts < list[b].ts
			}
			return list[a].id < list[b].id
		})
	}
	if rows, err = e.query(ctx, res, "attributed-orders"); err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var o order
		if err := rows.Scan(&o.id, &o.customer, &o.ts, &o.amount, &o.currency); err != nil {
			return nil, fmt.Errorf("read attributed-orders: %w", err)
		}
		j.orders = append(j.orders, o)
	}
	sort.Slice(j.orders, func(a, b int) bool {
		if j.orders[a].ts != j.orders[b].ts {
			return j.orders[a].ts < j.orders[b].ts
		}
		return j.orders[a].id < j.orders[b].id
	})
	return j, rows.Err()
}

// touchesBefore are the customer's touchpoints in the lookback window up to
// and including ts; none without a customer.
func (j *journeys) touchesBefore(customer *string, ts int64, lookback time.Duration) []*touch {
	if customer == nil {
		return nil
	}
	var out []*touch
	from := ts - lookback.Milliseconds()
	for _, t := range j.byCustomer[*customer] {
		if t.ts > ts {
			break
		}
		if t.ts >= from && t.counts() {
			out = append(out, t)
		}
	}
	return out
}

// journeyComponents are what runJourneys fills.
var journeyComponents = []string{"buyers", "sessions_before", "purchasing_sessions", "cross_channel_orders",
	"touched_orders", "recommended", "recommended_bought"}

// runJourneys adds the journey figures to the groups: a buyer's and an
// order's by the customer (and bucket of the purchase), a session's by its
// channel, source and campaign, a recommendation's by its own.
func (e *Engine) runJourneys(ctx context.Context, res *resolved, groups map[string]*groupData) error {
	j, err := e.readJourneys(ctx, res)
	if err != nil {
		return err
	}
	from, to := res.from.UnixMilli(), res.to.UnixMilli()
	lookback := res.lookback()
	firstOrder := map[string]order{}
	for _, o := range j.orders {
		if o.customer == nil { // no buyer, no touch
			continue
		}
		if _, seen := firstOrder[*o.customer]; !seen {
			firstOrder[*o.customer] = o
		}
		touches := j.touchesBefore(o.customer, o.ts, lookback)
		if len(touches) == 0 {
			continue
		}
		g, err := touchGroup(res, groups, *o.customer, nil, o.ts)
		if err != nil || g == nil {
			if err != nil {
				return err
			}
			continue
		}
		g.comps.plain["touched_orders"]++
		channels := map[string]bool{}
		for _, t := range touches {
			channels[deref(t.channel)] = true
		}
		if len(channels) > 1 {
			g.comps.plain["cross_channel_orders"]++
		}
	}
	for customer, o := range firstOrder {
		g, err := touchGroup(res, groups, customer, nil, o.ts)
		if err != nil {
			return err
		}
		if g == nil {
			continue
		}
		g.comps.plain["buyers"]++
		for _, t := range j.byCustomer[customer] {
			if t.kind == "site_session" && t.ts < o.ts && t.ts >= o.ts-lookback.Milliseconds() {
				g.comps.plain["sessions_before"]++
			}
		}
	}
	window := time.Duration(res.ws.Windows.Conversion).Milliseconds()
	for customer, list := range j.byCustomer {
		for i, t := range list {
			if t.ts < from || t.ts >= to {
				continue
			}
			switch t.kind {
			case "site_session":
				g, err := touchGroup(res, groups, customer, t, t.ts)
				if err != nil {
					return err
				}
				if g == nil {
					continue
				}
				if j.orderedWithin(list[i:], t.ts, t.ts+t.duration, nil) {
					g.comps.plain["purchasing_sessions"]++
				}
			case "product_recommended":
				g, err := touchGroup(res, groups, customer, t, t.ts)
				if err != nil {
					return err
				}
				if g == nil || t.product == nil {
					continue
				}
				g.comps.plain["recommended"]++
				if j.orderedWithin(list[i:], t.ts, t.ts+window, t.product) {
					g.comps.plain["recommended_bought"]++
				}
			}
		}
	}
	return nil
}

// orderedWithin reports whether list (a customer's events from some point
// on) has an order_placed in [from, to], of product when it is given.
func (j *journeys) orderedWithin(list []*touch, from, to int64, product *string) bool {
	for _, t := range list {
		if t.ts > to {
			return false
		}
		if t.kind == "order_placed" && t.ts >= from && (product == nil || (t.product != nil && *t.product == *product)) {
			return true
		}
	}
	return false
}

// touchGroup finds the group of a journey figure: the customer's, and the
// event's channel, campaign and source when an event is given; nil when
// the filters leave it out.
func touchGroup(res *resolved, groups map[string]*groupData, customer string, t *touch, at int64) (*groupData, error) {
	return dimGroup(res, groups, at, func(dim string) *string {
		switch {
		case dim == "customer":
			return &customer
		case t == nil:
			return nil
		case dim == "channel":
			return t.channel
		case dim == "campaign" || dim == "utm_campaign":
			return t.campaign
		case dim == "source":
			return t.source
		}
		return nil
	})
}

// dimGroup finds the group of a figure computed in Go from the dimension
// values value gives and the time at, or nil when the request's filters
// leave it out.
func dimGroup(res *resolved, groups map[string]*groupData, at int64, value func(dim string) *string) (*groupData, error) {
	if !res.keeps(value) {
		return nil, nil
	}
	cells := make([]*string, len(res.GroupBy))
	for i, dim := range res.GroupBy {
		cells[i] = value(dim)
	}
	var bucket *string
	if res.Bucket != "" {
		b := bucketStart(time.UnixMilli(at).In(res.Location), res.Bucket).Format("2006-01-02 15:04:05")
		bucket = &b
	}
	return groupFor(groups, cells, bucket, res.Location)
}

// keeps reports whether the request's filters keep a figure computed in Go
// whose dimension values value gives (nil for a dimension it lacks).
func (res *resolved) keeps(value func(dim string) *string) bool {
	for dim, accepted := range res.Filters {
		if len(accepted) == 0 {
			continue
		}
		if v := value(dim); v == nil || !contains(accepted, *v) {
			return false
		}
	}
	return true
}
