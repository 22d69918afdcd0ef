// Package shop holds what the webhook sources of shop platforms (packages
// shopify and woocommerce) share: their base64 HMAC-SHA256 signatures, the
// customer an order names, matched to chat customers by phone number or
// e-mail, the source of the visit that placed it, and the form in which
// their webhooks wait in the quarantine.
package shop

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
)

// ValidSignature reports whether header is the base64 HMAC-SHA256 of body,
// exactly as received, under one of secrets, compared in constant time.
func ValidSignature(body []byte, header string, secrets []string) bool {
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header))
	return err == nil && ingest.SignedByAny(body, got, secrets)
}

// Sign returns the signature header of body under secret, as Shopify and
// WooCommerce compute it; for clients and tests.
func Sign(body []byte, secret string) string {
	return base64.StdEncoding.EncodeToString(ingest.HMACSHA256(body, secret))
}

// Verify checks the signature in header name of body against secrets, as a
// source's Verify does.
func Verify(header, name string, body []byte, secrets []string) error {
	sig := strings.TrimSpace(header)
	if sig == "" {
		return &ingest.VerifyError{Field: name, Reason: "missing " + name + " header", Missing: true}
	}
	if !ValidSignature(body, sig, secrets) {
		return &ingest.VerifyError{Field: name, Reason: name + " is not the base64 HMAC-SHA256 of this body under the webhook secret"}
	}
	return nil
}

// Secrets lists one and several secrets together, without the empty.
func Secrets(one string, more []string) []string {
	var out []string
	for _, s := range append([]string{one}, more...) {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Phone is a phone number as a shop has it, with the country of the
// address it was given with (ISO 3166-1 alpha-2), which tells the calling
// code of a national number.
type Phone struct{ Number, Country string }

// InternationalPhone writes a number in the international form WhatsApp
// ids have, "+" and digits: "+62 812-3456-7890" and, for an Indonesian
// address, "0812 3456 7890" are both "+6281234567890". A national number
// loses its trunk 0 (but for Italy's, which keep it). false when it is
// not a phone number, or is national and its country's code is not known.
func InternationalPhone(number, country string) (string, bool) {
	s := strings.TrimSpace(number)
	international := strings.HasPrefix(s, "+")
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == '+' && b.Len() == 0, c == ' ', c == '-', c == '.', c == '(', c == ')', c == '/':
		default:
			return "", false
		}
	}
	digits := b.String()
	if !international && strings.HasPrefix(digits, "00") {
		digits, international = digits[2:], true
	}
	if !international {
		code := whatsapp.CallingCode(country)
		switch {
		case code == "":
			return "", false
		case strings.HasPrefix(digits, "0") && code != "39" && code != "378":
			digits = code + digits[1:]
		case strings.HasPrefix(digits, code) && len(digits) >= 10:
			// written with its calling code but without "+"
		default:
			digits = code + digits
		}
	}
	if len(digits) < 7 || len(digits) > 15 || strings.HasPrefix(digits, "0") {
		return "", false
	}
	return "+" + digits, true
}

// Customer is the customer id of an order: its first phone number that
// can be written in international form, which serve hashes as it hashes
// WhatsApp's (so an order and a WhatsApp chat of one number are one
// customer), else its first e-mail address, in lower case; "" for none.
func Customer(phones []Phone, emails ...string) string {
	for _, p := range phones {
		if n, ok := InternationalPhone(p.Number, p.Country); ok {
			return n
		}
	}
	for _, e := range emails {
		if e = strings.ToLower(strings.TrimSpace(e)); strings.Contains(e, "@") {
			return e
		}
	}
	return ""
}

// Visit sets what an order says of the visit that placed it: its landing
// page (props.landing_url), whose UTM parameters and ad click id are read
// as any event's url is (see event.FromMap) unless m sets the fields
// itself, and its referring site (props.referrer), whose host becomes the
// source, with medium "referral", when nothing else names one. Values in
// parentheses, such as WooCommerce's "(direct)", name none.
func Visit(m map[string]any, landing, referrer, ownHost string) {
	for _, k := range []string{"source", "medium", "utm_campaign", "utm_content", "utm_term"} {
		if v, _ := m[k].(string); strings.HasPrefix(v, "(") || v == "" {
			delete(m, k)
		}
	}
	var q url.Values
	if landing = strings.TrimSpace(landing); landing != "" {
		m["landing_url"] = landing
		if u, err := url.Parse(landing); err == nil {
			q = u.Query()
		}
	}
	if referrer = strings.TrimSpace(referrer); referrer != "" {
		m["referrer"] = referrer
	}
	if m["source"] != nil || referrer == "" || q.Get("utm_source") != "" || hasClickID(q) {
		return
	}
	u, err := url.Parse(referrer)
	if err != nil {
		return
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	if host == "" || host == strings.TrimPrefix(NormalizeKey(ownHost), "www.") {
		return
	}
	m["source"] = host
	if m["medium"] == nil && q.Get("utm_medium") == "" {
		m["medium"] = "referral"
	}
}

// hasClickID reports whether a query carries an ad click id, which names
// its network as the source (see event.FromMap).
func hasClickID(q url.Values) bool {
	for _, p := range []string{"gclid", "gbraid", "wbraid", "fbclid", "ttclid", "msclkid", "twclid", "li_fat_id"} {
		if q.Get(p) != "" {
			return true
		}
	}
	return false
}

// Event builds and validates an event from fields as the generic format
// names them (see event.FromMap): a URL in landing_url is read for UTM
// parameters and click ids, and fields the format does not know go into
// props.
func Event(m map[string]any) (event.Event, error) {
	for k, v := range m {
		if s, ok := v.(string); ok && s == "" {
			delete(m, k)
		}
	}
	e, err := event.FromMap(m)
	if err != nil {
		return event.Event{}, fmt.Errorf("%v %v", m["kind"], err)
	}
	return e, nil
}

// Part is a webhook kept in the quarantine: its topic and key, from its
// headers, and its body as sent.
type Part struct {
	Topic string          `json:"topic"`
	Key   string          `json:"key"`
	Body  json.RawMessage `json:"body"`
}

// Unrouted is the quarantined part of a webhook body no workspace maps, named
// by its content so that a re-sent webhook is kept once.
func Unrouted(prefix, topic, key string, body []byte) ingest.Part {
	raw, _ := json.Marshal(Part{Topic: topic, Key: key, Body: body})
	sum := sha256.Sum256(raw)
	return ingest.Part{ID: prefix + hex.EncodeToString(sum[:16]), Keys: ingest.Keys{Key: key}, Where: topic, Raw: raw}
}

// ReadPart reads a part that Unrouted made.
func ReadPart(raw []byte) (Part, error) {
	var p Part
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("quarantined part: %w", err)
	}
	if p.Topic == "" || len(p.Body) == 0 {
		return p, errors.New("quarantined part: no topic or body")
	}
	return p, nil
}

// ID reads a platform's id, a JSON number or string, as text: Shopify's
// ids exceed a float64's exact integers, so they are never read as one.
type ID string

// UnmarshalJSON takes a number or a string; null leaves the id empty.
func (id *ID) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var text string
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
		*id = ID(strings.TrimSpace(text))
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("an id must be a number or a string, not %s", s)
	}
	*id = ID(n.String())
	return nil
}

// Text reads a JSON string or number as text, null as "": amounts come as
// either.
type Text string

// UnmarshalJSON takes a string, a number or null.
func (t *Text) UnmarshalJSON(b []byte) error {
	var id ID
	if err := id.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("want a string or a number, not %s", strings.TrimSpace(string(b)))
	}
	*t = Text(id)
	return nil
}

// JSONReason shortens encoding/json's messages to what a sender can act on.
func JSONReason(err error) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Sprintf("invalid JSON at byte %d: %v", syntax.Offset, err)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field != "" {
		return fmt.Sprintf("%q must be %s, not %s", typ.Field, typ.Type, typ.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// NormalizeKey writes a shop's domain or site URL as its mapping key: the
// host, in lower case, and the path of a site under one, without scheme
// or trailing slash: "https://Shop.example.com/" is "shop.example.com".
func NormalizeKey(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	host, path, _ := strings.Cut(s, "/")
	path = strings.Trim(path, "/")
	if path != "" {
		return strings.ToLower(host) + "/" + path
	}
	return strings.ToLower(host)
}

// Product is the product of an order's line items when they are all of
// one; "" when there are several or none.
func Product(ids []string) string {
	one := ""
	for _, id := range ids {
		if id == "" {
			continue
		}
		if one != "" && id != one {
			return ""
		}
		one = id
	}
	return one
}
