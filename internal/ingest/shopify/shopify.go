// Package shopify reads Shopify's order and refund webhooks as Shopify
// sends them (orders/create, orders/paid, orders/cancelled, refunds/create
// and the other order topics) into order_placed, order_refunded and
// order_returned events: routed by shop domain, signed with
// X-Shopify-Hmac-Sha256, the customer matched to chat customers by phone
// number or e-mail, the landing page and referring site read for the
// visit's source.
package shopify

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/ingest/shop"
)

// Name is the source's name, and its address /webhooks/shopify.
const Name = "shopify"

// Headers of Shopify's webhooks.
const (
	SignatureHeader = "X-Shopify-Hmac-Sha256" // base64 HMAC-SHA256 of the body
	TopicHeader     = "X-Shopify-Topic"       // such as orders/create
	ShopHeader      = "X-Shopify-Shop-Domain" // such as example.myshopify.com
	WebhookIDHeader = "X-Shopify-Webhook-Id"  // the same on every retry of a delivery
)

// orderTopics carry an order; refunds/create carries a refund.
var orderTopics = []string{"orders/create", "orders/paid", "orders/cancelled", "orders/updated", "orders/fulfilled", "orders/partially_fulfilled"}

// RefundTopic carries a refund.
const RefundTopic = "refunds/create"

// platform is Shopify as package shop reads its webhooks.
var platform = shop.Platform{Title: "Shopify", Name: Name, Field: "shops", Kind: "shop", KeyNoun: "the shop's domain", Prefix: "shq_", NameType: true,
	SignatureHeader: SignatureHeader, TopicHeader: TopicHeader, KeyHeader: ShopHeader}

// Source is Shopify's webhooks as an ingest.Source: package shop's
// Webhooks verify them, read the webhook of the shop its
// X-Shopify-Shop-Domain names as its X-Shopify-Topic says, keep a shop no
// workspace maps in the quarantine, and list the shops.
type Source struct{ shop.Webhooks }

// New returns the source with its settings.
func New(s Settings) *Source { return &Source{shop.Webhooks{Settings: s.common(), Events: parse}} }

type money struct {
	Amount       shop.Text `json:"amount"`
	CurrencyCode string    `json:"currency_code"`
}

type address struct {
	Phone       string `json:"phone"`
	CountryCode string `json:"country_code"`
}

type transaction struct {
	ID       shop.ID   `json:"id"`
	Kind     string    `json:"kind"`
	Status   string    `json:"status"`
	Amount   shop.Text `json:"amount"`
	Currency string    `json:"currency"`
}

type refund struct {
	ID           shop.ID       `json:"id"`
	OrderID      shop.ID       `json:"order_id"`
	CreatedAt    string        `json:"created_at"`
	ProcessedAt  string        `json:"processed_at"`
	Transactions []transaction `json:"transactions"`
}

type order struct {
	ID                  shop.ID   `json:"id"`
	Name                string    `json:"name"`
	CreatedAt           string    `json:"created_at"`
	CancelledAt         string    `json:"cancelled_at"`
	CancelReason        string    `json:"cancel_reason"`
	Currency            string    `json:"currency"`
	PresentmentCurrency string    `json:"presentment_currency"`
	TotalPrice          shop.Text `json:"total_price"`
	TotalPriceSet       *struct {
		PresentmentMoney money `json:"presentment_money"`
	} `json:"total_price_set"`
	Email        string `json:"email"`
	ContactEmail string `json:"contact_email"`
	Phone        string `json:"phone"`
	Customer     *struct {
		ID    shop.ID `json:"id"`
		Email string  `json:"email"`
		Phone string  `json:"phone"`
	} `json:"customer"`
	BillingAddress  *address          `json:"billing_address"`
	ShippingAddress *address          `json:"shipping_address"`
	LandingSite     string            `json:"landing_site"`
	ReferringSite   string            `json:"referring_site"`
	SourceName      string            `json:"source_name"`
	FinancialStatus string            `json:"financial_status"`
	Test            bool              `json:"test"`
	Refunds         []json.RawMessage `json:"refunds"`
	LineItems       []struct {
		ProductID shop.ID `json:"product_id"`
	} `json:"line_items"`
}

// parse reads a webhook body of topic from the shop domain into events
// of workspace.
func parse(topic, domain, workspace string, body []byte) (ingest.Batch, error) {
	var b ingest.Batch
	switch {
	case topic == RefundTopic:
		var r refund
		if err := decode(body, &r); err != nil {
			return b, err
		}
		e, err := refundEvent(r, domain, workspace)
		if err != nil {
			return b, err
		}
		if e == nil {
			b.Problems = append(b.Problems, ingest.Problem{Where: topic, Reason: fmt.Sprintf("refund %s returned no money (no successful refund transaction)", r.ID)})
		} else {
			b.Events = append(b.Events, *e)
		}
		return b, nil
	case slices.Contains(orderTopics, topic):
		var o order
		if err := decode(body, &o); err != nil {
			return b, err
		}
		return orderEvents(o, topic, domain, workspace)
	}
	b.Problems = append(b.Problems, ingest.Problem{Where: topic, Reason: "topic " + topic + " is not read: subscribe to " + strings.Join(orderTopics[:3], ", ") + " and " + RefundTopic})
	return b, nil
}

func decode(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("not a Shopify webhook body: %s", shop.JSONReason(err))
	}
	return nil
}

// orderEvents maps an order: its placement, the refunds it carries and
// its cancellation, each with an id of its own so that the same order sent
// under several topics, and every retry, is counted once.
func orderEvents(o order, topic, domain, workspace string) (ingest.Batch, error) {
	var b ingest.Batch
	if o.ID == "" {
		return b, errors.New(`the order has no "id"`)
	}
	if o.Test {
		b.Problems = append(b.Problems, ingest.Problem{Where: topic, Reason: fmt.Sprintf("order %s is a test order", o.ID)})
		return b, nil
	}
	amount, currency := string(o.TotalPrice), o.Currency
	if o.TotalPriceSet != nil && o.TotalPriceSet.PresentmentMoney.Amount != "" && o.TotalPriceSet.PresentmentMoney.CurrencyCode != "" {
		// refunds are in the currency the buyer paid in: the order is
		// counted in it too, so that they subtract
		amount, currency = string(o.TotalPriceSet.PresentmentMoney.Amount), o.TotalPriceSet.PresentmentMoney.CurrencyCode
	}
	if amount == "" {
		return b, fmt.Errorf(`order %s has no "total_price"`, o.ID)
	}
	if strings.TrimSpace(o.CreatedAt) == "" {
		return b, fmt.Errorf(`order %s has no "created_at"`, o.ID)
	}
	// Shopify writes a customer's phone in international form; an
	// address's may be national, read with the address's country.
	var phones []shop.Phone
	var emails []string
	if c := o.Customer; c != nil {
		phones, emails = append(phones, shop.Phone{Number: c.Phone}), append(emails, c.Email)
	}
	country := ""
	if o.BillingAddress != nil {
		country = o.BillingAddress.CountryCode
	}
	phones = append(phones, shop.Phone{Number: o.Phone, Country: country})
	for _, a := range []*address{o.BillingAddress, o.ShippingAddress} {
		if a != nil {
			phones = append(phones, shop.Phone{Number: a.Phone, Country: a.CountryCode})
		}
	}
	customer := shop.Customer(phones, append(emails, o.Email, o.ContactEmail)...)
	if customer == "" && o.Customer != nil && o.Customer.ID != "" {
		customer = "shopify:" + string(o.Customer.ID)
	}
	var products []string
	for _, li := range o.LineItems {
		products = append(products, string(li.ProductID))
	}
	m := map[string]any{
		"id": "shopify:order:" + string(o.ID), "ts": o.CreatedAt, "kind": "order_placed", "workspace": workspace,
		"order": string(o.ID), "customer": customer, "amount": amount, "currency": currency,
		"channel": channelOf(o.SourceName), "product": shop.Product(products),
		"shop": domain, "order_name": o.Name, "financial_status": o.FinancialStatus, "source_name": o.SourceName,
	}
	if o.Customer != nil {
		m["shopify_customer"] = string(o.Customer.ID)
	}
	shop.Visit(m, o.LandingSite, o.ReferringSite, domain)
	placed, err := shop.Event(m)
	if err != nil {
		return b, fmt.Errorf("order %s: %v", o.ID, err)
	}
	b.Events = append(b.Events, placed)
	for i, raw := range o.Refunds {
		where := fmt.Sprintf("%s, refunds[%d]", topic, i)
		var r refund
		if err := decode(raw, &r); err != nil {
			b.Problems = append(b.Problems, ingest.Problem{Where: where, Reason: err.Error()})
			continue
		}
		r.OrderID = cmp.Or(r.OrderID, o.ID)
		if e, err := refundEvent(r, domain, workspace); err != nil {
			b.Problems = append(b.Problems, ingest.Problem{Where: where, Reason: err.Error()})
		} else if e != nil {
			b.Events = append(b.Events, *e)
		}
	}
	if strings.TrimSpace(o.CancelledAt) != "" {
		// a cancellation undoes the whole order: a return without amount
		e, err := shop.Event(map[string]any{"id": "shopify:cancel:" + string(o.ID), "ts": o.CancelledAt, "kind": "order_returned",
			"workspace": workspace, "order": string(o.ID), "shop": domain, "cancel_reason": o.CancelReason})
		if err != nil {
			b.Problems = append(b.Problems, ingest.Problem{Where: topic + ", cancelled_at", Reason: err.Error()})
		} else {
			b.Events = append(b.Events, e)
		}
	}
	return b, nil
}

// refundEvent maps a refund to the money its successful (or pending)
// refund transactions returned; nil when they returned none, as a refund
// that only restocks items.
func refundEvent(r refund, domain, workspace string) (*event.Event, error) {
	if r.ID == "" || r.OrderID == "" {
		return nil, errors.New(`the refund has no "id" or "order_id"`)
	}
	var total int64
	currency := ""
	for i, t := range r.Transactions {
		if t.Kind != "refund" || (t.Status != "success" && t.Status != "pending") {
			continue
		}
		if currency != "" && t.Currency != currency {
			return nil, fmt.Errorf("refund %s: transactions[%d] is in %s, another is in %s", r.ID, i, t.Currency, currency)
		}
		currency = t.Currency
		minor, err := event.ParseAmount(string(t.Amount), currency)
		if err != nil {
			return nil, fmt.Errorf("refund %s: transactions[%d].amount: %v", r.ID, i, err)
		}
		total += minor
	}
	if currency == "" || total == 0 {
		return nil, nil
	}
	e, err := shop.Event(map[string]any{"id": "shopify:refund:" + string(r.ID), "ts": cmp.Or(r.CreatedAt, r.ProcessedAt), "kind": "order_refunded",
		"workspace": workspace, "order": string(r.OrderID), "amount": event.FormatMinor(total, currency), "currency": currency, "shop": domain})
	if err != nil {
		return nil, fmt.Errorf("refund %s: %v", r.ID, err)
	}
	return &e, nil
}

// channelOf is the channel of an order by Shopify's source_name: its
// online store is web, its point of sale a store; orders made otherwise
// (drafts, apps) name none.
func channelOf(sourceName string) string {
	switch sourceName {
	case "web":
		return "web"
	case "pos":
		return "store"
	}
	return ""
}
