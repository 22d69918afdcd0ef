// Package woocommerce reads WooCommerce's order webhooks (order.created,
// order.updated) as WooCommerce sends them into order_placed,
// order_refunded and order_returned events: routed by the site that sends
// them (X-WC-Webhook-Source), signed with X-WC-Webhook-Signature, the
// customer matched to chat customers by phone number or e-mail, and the
// order attribution WooCommerce records (UTM parameters, landing page,
// referrer) read for the visit's source.
package woocommerce

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/ingest/shop"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Name is the source's name, and its address /webhooks/woocommerce.
const Name = "woocommerce"

// Headers of WooCommerce's webhooks.
const (
	SignatureHeader = "X-WC-Webhook-Signature" // base64 HMAC-SHA256 of the body
	TopicHeader     = "X-WC-Webhook-Topic"     // such as order.created
	SourceHeader    = "X-WC-Webhook-Source"    // the site's address, such as https://shop.example.com/
)

// Topics are the topics read; both carry the order as it is now.
var Topics = []string{"order.created", "order.updated"}

// pingRE is the body WooCommerce posts, unsigned, when a webhook is saved
// active, to check the delivery URL answers 200.
var pingRE = regexp.MustCompile(`^webhook_id=[0-9]+$`)

// platform is WooCommerce as package shop reads its webhooks.
var platform = shop.Platform{Title: "WooCommerce", Name: Name, Field: "sites", Kind: "site", KeyNoun: "the site's address", Prefix: "wcq_",
	SignatureHeader: SignatureHeader, TopicHeader: TopicHeader, KeyHeader: SourceHeader}

// Source is WooCommerce's webhooks as an ingest.Source: package shop's
// Webhooks verify them, read the webhook of the site its
// X-WC-Webhook-Source names, keep a site no workspace maps in the
// quarantine, and list the sites; the ping passes.
type Source struct{ shop.Webhooks }

// New returns the source with its settings.
func New(s Settings) *Source { return &Source{shop.Webhooks{Settings: s.common(), Events: parse}} }

// isPing reports whether a request is WooCommerce's ping: no topic, and
// the ping's body.
func isPing(header http.Header, body []byte) bool {
	return header.Get(TopicHeader) == "" && pingRE.Match(bytes.TrimSpace(body))
}

// Verify checks X-WC-Webhook-Signature against every secret. The ping,
// which WooCommerce does not sign and from which nothing is stored,
// passes.
func (s *Source) Verify(header http.Header, body []byte) error {
	if isPing(header, body) {
		return nil
	}
	return s.Webhooks.Verify(header, body)
}

// ParseWebhook reads a webhook of the site its X-WC-Webhook-Source names;
// a site no workspace maps is kept in the quarantine. The ping is
// answered with nothing stored.
func (s *Source) ParseWebhook(header http.Header, body []byte, settings func(string) store.Workspace) (ingest.Batch, error) {
	if isPing(header, body) {
		return ingest.Batch{}, nil
	}
	return s.Webhooks.ParseWebhook(header, body, settings)
}

type address struct {
	Email   string `json:"email"`
	Phone   string `json:"phone"`
	Country string `json:"country"`
}

type order struct {
	ID              shop.ID   `json:"id"`
	Number          string    `json:"number"`
	Status          string    `json:"status"`
	Currency        string    `json:"currency"`
	DateCreatedGMT  string    `json:"date_created_gmt"`
	DateModifiedGMT string    `json:"date_modified_gmt"`
	Total           shop.Text `json:"total"`
	CustomerID      shop.ID   `json:"customer_id"`
	CreatedVia      string    `json:"created_via"`
	PaymentMethod   string    `json:"payment_method"`
	Billing         *address  `json:"billing"`
	Shipping        *address  `json:"shipping"`
	MetaData        []struct {
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	} `json:"meta_data"`
	LineItems []struct {
		ProductID shop.ID `json:"product_id"`
	} `json:"line_items"`
	Refunds []struct {
		ID    shop.ID   `json:"id"`
		Total shop.Text `json:"total"`
	} `json:"refunds"`
}

// notPlaced are the statuses of an order not (or not yet) placed: awaiting
// payment, failed, a draft, in the trash.
var notPlaced = []string{"pending", "failed", "checkout-draft", "draft", "auto-draft", "trash"}

// attribution are the order meta WooCommerce's order attribution records,
// by the event field they fill.
var attribution = map[string]string{
	"_wc_order_attribution_utm_source":   "source",
	"_wc_order_attribution_utm_medium":   "medium",
	"_wc_order_attribution_utm_campaign": "utm_campaign",
	"_wc_order_attribution_utm_content":  "utm_content",
	"_wc_order_attribution_utm_term":     "utm_term",
	"_wc_order_attribution_source_type":  "attribution_source_type",
}

// parse reads a webhook body of topic from site into events of workspace.
func parse(topic, site, workspace string, body []byte) (ingest.Batch, error) {
	var b ingest.Batch
	if !slices.Contains(Topics, topic) {
		b.Problems = append(b.Problems, ingest.Problem{Where: topic, Reason: "topic " + topic + " is not read: subscribe to " + strings.Join(Topics, " and ")})
		return b, nil
	}
	var o order
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&o); err != nil {
		return b, fmt.Errorf("not a WooCommerce webhook body: %s", shop.JSONReason(err))
	}
	if o.ID == "" {
		return b, errors.New(`the order has no "id"`)
	}
	if o.Status == "" {
		return b, fmt.Errorf(`order %s has no "status"`, o.ID)
	}
	if slices.Contains(notPlaced, o.Status) {
		return b, nil // counted once it is processing, on hold or completed
	}
	created, modified := gmt(o.DateCreatedGMT), gmt(o.DateModifiedGMT)
	if created == "" {
		return b, fmt.Errorf(`order %s has no "date_created_gmt"`, o.ID)
	}
	modified = cmp.Or(modified, created)
	prefix := "woocommerce:" + site + ":"
	if o.Status == "cancelled" {
		// a cancellation undoes the whole order: a return without amount
		e, err := shop.Event(map[string]any{"id": prefix + "cancel:" + string(o.ID), "ts": modified, "kind": "order_returned",
			"workspace": workspace, "order": string(o.ID), "site": site, "status": o.Status})
		if err != nil {
			return b, fmt.Errorf("order %s: %v", o.ID, err)
		}
		b.Events = append(b.Events, e)
	} else {
		e, err := placed(o, site, workspace, created)
		if err != nil {
			return b, err
		}
		b.Events = append(b.Events, e)
	}
	// A refund in the order has no time of its own: it is the order's
	// last change in the first delivery stored that lists it (no figure
	// depends on it; its order's period counts).
	for i, r := range o.Refunds {
		where := fmt.Sprintf("%s, refunds[%d]", topic, i)
		amount := strings.TrimPrefix(strings.TrimSpace(string(r.Total)), "-") // WooCommerce writes refunds negative
		if r.ID == "" || amount == "" {
			b.Problems = append(b.Problems, ingest.Problem{Where: where, Reason: `a refund needs an "id" and a "total"`})
			continue
		}
		e, err := shop.Event(map[string]any{"id": prefix + "refund:" + string(r.ID), "ts": modified, "kind": "order_refunded",
			"workspace": workspace, "order": string(o.ID), "amount": amount, "currency": o.Currency, "site": site})
		if err != nil {
			b.Problems = append(b.Problems, ingest.Problem{Where: where, Reason: err.Error()})
			continue
		}
		b.Events = append(b.Events, e)
	}
	return b, nil
}

// placed is an order's order_placed.
func placed(o order, site, workspace, created string) (event.Event, error) {
	if o.Total == "" || o.Currency == "" {
		return event.Event{}, fmt.Errorf(`order %s needs a "total" and a "currency"`, o.ID)
	}
	var phones []shop.Phone
	var emails []string
	for _, a := range []*address{o.Billing, o.Shipping} {
		if a != nil {
			phones, emails = append(phones, shop.Phone{Number: a.Phone, Country: a.Country}), append(emails, a.Email)
		}
	}
	customer := shop.Customer(phones, emails...)
	if customer == "" && o.CustomerID != "" && o.CustomerID != "0" {
		customer = "woocommerce:" + site + ":" + string(o.CustomerID)
	}
	var products []string
	for _, li := range o.LineItems {
		products = append(products, string(li.ProductID))
	}
	m := map[string]any{
		"id": "woocommerce:" + site + ":order:" + string(o.ID), "ts": created, "kind": "order_placed", "workspace": workspace,
		"order": string(o.ID), "customer": customer, "amount": string(o.Total), "currency": o.Currency,
		"product": shop.Product(products), "site": site, "order_number": o.Number, "status": o.Status,
		"created_via": o.CreatedVia, "payment_method": o.PaymentMethod,
	}
	if o.CreatedVia == "checkout" || o.CreatedVia == "store-api" {
		m["channel"] = "web"
	}
	var landing, referrer string
	for _, md := range o.MetaData {
		var v string
		if json.Unmarshal(md.Value, &v) != nil {
			continue
		}
		switch md.Key {
		case "_wc_order_attribution_session_entry":
			landing = v
		case "_wc_order_attribution_referrer":
			referrer = v
		default:
			if field, ok := attribution[md.Key]; ok && strings.TrimSpace(v) != "" {
				m[field] = strings.TrimSpace(v)
			}
		}
	}
	shop.Visit(m, landing, referrer, site)
	e, err := shop.Event(m)
	if err != nil {
		return event.Event{}, fmt.Errorf("order %s: %v", o.ID, err)
	}
	return e, nil
}

// gmt writes WooCommerce's GMT times, which carry no zone
// ("2026-03-02T07:05:11"), in RFC 3339.
func gmt(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, "Z") || strings.ContainsAny(s[min(len(s), 19):], "+-") {
		return s
	}
	return strings.Replace(s, " ", "T", 1) + "Z"
}
