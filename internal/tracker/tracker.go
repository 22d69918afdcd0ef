// Package tracker is the site tracker: a small script a shop pastes into
// its pages (script.js, served at /t.js), the page views and identify calls
// it posts to a workspace's public endpoint turned into events, and the
// visits (site_session events) made from those page views once each visit
// has ended.
//
// No cookie and nothing else is stored in the browser. A visitor is known
// by an anonymous id that the server computes for each request from the
// day's random salt, the workspace, the client's address and its user
// agent, as Plausible does; the address and user agent are never stored,
// and the salt is replaced each UTC day, so a visitor's ids of two days
// cannot be linked, not even by the server.
//
// Times are the server's: a page view happens when it is received, so a
// visit that has been quiet for its gap (and the journal's lag) can get no
// more page views, and is written once, whole, under an id made from its
// first page view's.
package tracker

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
)

// Channel is the channel of every event of the tracker.
const Channel = "web"

// IdentifyType is props.type of the channel_event an identify call stores.
const IdentifyType = "identify"

// Props the tracker's events carry.
const (
	PropVisitor  = "visitor"     // the anonymous visitor id of the day
	PropURL      = "url"         // a page view's page, its query reduced to marketing parameters
	PropReferrer = "referrer"    // the page the visitor came from, without its query
	PropLanding  = "landing_url" // a visit's first page
	PropExit     = "exit_url"    // a visit's last page
	PropPages    = "pages"       // a visit's page views
)

// Limits of a hit's fields, in bytes.
const (
	MaxURLLen      = 2048
	MaxCustomerLen = 200
	MaxBodyBytes   = 8 << 10
)

// Hit is what the script posts: a page view, or an identify call that
// links the visitor to a customer id.
type Hit struct {
	Kind     string `json:"kind"`               // page_view or identify
	ID       string `json:"id,omitempty"`       // page_view: the page load's random id, the same when re-sent
	URL      string `json:"url,omitempty"`      // page_view: the page's address
	Referrer string `json:"referrer,omitempty"` // page_view: document.referrer
	Customer string `json:"customer,omitempty"` // identify: the shop's customer id, phone number or e-mail
}

// HitError is a hit that cannot be taken, naming its field.
type HitError struct {
	Field  string
	Reason string
}

func (e *HitError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

var clientIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// ParseHit reads and checks one hit: a JSON object of Hit's fields.
func ParseHit(body []byte) (Hit, error) {
	var h Hit
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(&h); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return h, &HitError{typeErr.Field, "must be a " + typeErr.Type.String() + ", not a JSON " + typeErr.Value}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return h, &HitError{name, "is not a field of the tracker's hits (kind, id, url, referrer, customer)"}
		}
		return h, &HitError{"", `the body must be one JSON object such as {"kind":"page_view","id":"…","url":"https://…"}: ` + err.Error()}
	}
	if _, err := d.Token(); err != io.EOF {
		return h, &HitError{"", "the body must hold one JSON object, and nothing after it"}
	}
	switch h.Kind {
	case string(event.PageView):
		if h.ID == "" {
			return h, &HitError{"id", "is required: a random id of the page load (8 to 64 letters, digits, - or _), the same when it is re-sent"}
		}
		if !clientIDRE.MatchString(h.ID) {
			return h, &HitError{"id", "must be 8 to 64 letters, digits, - or _"}
		}
		if h.URL == "" {
			return h, &HitError{"url", "is required: the page's address"}
		}
		if _, err := pageURL(h.URL); err != nil {
			return h, &HitError{"url", err.Error()}
		}
		if h.Referrer != "" {
			if _, err := referrerURL(h.Referrer); err != nil {
				return h, &HitError{"referrer", err.Error()}
			}
		}
		if h.Customer != "" {
			return h, &HitError{"customer", "belongs to an identify call, not a page_view"}
		}
	case IdentifyType:
		h.Customer = strings.TrimSpace(h.Customer)
		if h.Customer == "" {
			return h, &HitError{"customer", "is required: the customer id the visitor signed in or checked out as"}
		}
		if len(h.Customer) > MaxCustomerLen {
			return h, &HitError{"customer", fmt.Sprintf("is %d bytes long, more than %d", len(h.Customer), MaxCustomerLen)}
		}
	case "":
		return h, &HitError{"kind", "is required: page_view or identify"}
	case string(event.SiteSession):
		return h, &HitError{"kind", "site_session is made by the server from the page views when a visit ends: send page_view"}
	default:
		return h, &HitError{"kind", fmt.Sprintf("the tracker takes page_view and identify, not %q; other events go to POST /v1/events with an API key", h.Kind)}
	}
	return h, nil
}

// marketingParams are the query parameters a page view keeps of its URL:
// UTM parameters and ad click ids. Others (a search, an e-mail address in
// a link) are dropped.
var marketingParams = []string{"utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term",
	"gclid", "gbraid", "wbraid", "fbclid", "ttclid", "msclkid", "twclid", "li_fat_id", "ctwa_clid"}

// pageURL checks a page's address and keeps its marketing parameters.
func pageURL(raw string) (*url.URL, error) {
	if len(raw) > MaxURLLen {
		return nil, fmt.Errorf("is %d bytes long, more than %d", len(raw), MaxURLLen)
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http or https address", raw)
	}
	q := u.Query()
	kept := url.Values{}
	for _, p := range marketingParams {
		if v := q.Get(p); v != "" {
			kept.Set(p, v)
		}
	}
	u.RawQuery, u.Fragment, u.RawFragment, u.User = kept.Encode(), "", "", nil
	return u, nil
}

// referrerURL checks a referrer: any absolute address (apps refer as
// android-app://com.google.android.gm/), kept without query or fragment.
func referrerURL(raw string) (*url.URL, error) {
	if len(raw) > MaxURLLen {
		return nil, fmt.Errorf("is %d bytes long, more than %d", len(raw), MaxURLLen)
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute address", raw)
	}
	u.RawQuery, u.Fragment, u.RawFragment, u.User = "", "", "", nil
	return u, nil
}

// host is a URL's host in lower case without "www.".
func host(u *url.URL) string {
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}

// PageViewID is the event id of a page view: the visitor's and the page
// load's, so a re-sent hit is the same event and one visitor cannot
// collide with another's.
func PageViewID(visitor, clientID string) string { return "pv-" + visitor + "-" + clientID }

// PageView is the page_view event of a checked hit of visitor at now. Its
// UTM fields and ad click id come from the URL (see event.FromMap); a page
// reached from another site without them names that site as its source,
// medium referral.
func PageView(visitor string, h Hit, now time.Time) (event.Event, error) {
	page, err := pageURL(h.URL)
	if err != nil {
		return event.Event{}, &HitError{"url", err.Error()}
	}
	props := map[string]any{PropVisitor: visitor, PropURL: page.String()}
	var ref *url.URL
	if h.Referrer != "" {
		if ref, err = referrerURL(h.Referrer); err != nil {
			return event.Event{}, &HitError{"referrer", err.Error()}
		}
		props[PropReferrer] = ref.String()
	}
	m := map[string]any{"id": PageViewID(visitor, h.ID), "ts": now.UTC().Format(time.RFC3339Nano), "kind": string(event.PageView),
		"channel": Channel, "props": props}
	e, err := event.FromMap(m)
	if err != nil {
		return e, err
	}
	q := page.Query()
	if id := q.Get("ctwa_clid"); id != "" && e.Props["click_id"] == nil {
		// Meta's click-to-WhatsApp ads: an ad click like fbclid's.
		e.Props["click_id"], e.Props["click_id_type"], e.Props["paid"] = id, "ctwa_clid", true
		if e.Source == "" {
			e.Source = "facebook"
		}
		if e.Medium == "" {
			e.Medium = "cpc"
		}
	}
	if e.Source == "" && ref != nil && host(ref) != "" && host(ref) != host(page) {
		e.Source = host(ref)
		if e.Medium == "" {
			e.Medium = "referral"
		}
	}
	return e, nil
}

// Identify is the channel_event that links visitor to customer (the id as
// stored: a phone number already hashed), from now on that day. Its id is
// the visitor's and the customer's, so identifying on every page stores it
// once.
func Identify(visitor, customer string, now time.Time) (event.Event, error) {
	sum := sha256.Sum256([]byte(customer))
	m := map[string]any{"id": "id-" + visitor + "-" + hex.EncodeToString(sum[:8]), "ts": now.UTC().Format(time.RFC3339Nano),
		"kind": string(event.ChannelEvent), "channel": Channel, "customer": customer,
		"props": map[string]any{"type": IdentifyType, PropVisitor: visitor}}
	return event.FromMap(m)
}

// NewSalt returns a random salt for a day's visitor ids.
func NewSalt() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Day is the UTC date a salt is for.
func Day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// VisitorID is the anonymous id of a visitor for the day of salt: a hash of
// the salt, the workspace, the client's address and its user agent, 16 hex
// characters. Neither the address nor the user agent can be read back.
func VisitorID(salt, workspace, addr, userAgent string) string {
	h := sha256.New()
	for _, s := range []string{salt, workspace, addr, userAgent} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// botWords are what the user agents of crawlers, monitors, previews and
// automated browsers hold (in lower case). "cubot", a phone maker, is not
// one.
var botWords = []string{"bot", "crawl", "spider", "slurp", "headless", "lighthouse", "pingdom", "uptime", "monitor",
	"facebookexternalhit", "preview", "prerender", "phantomjs", "selenium", "puppeteer", "playwright", "webdriver",
	"python-", "curl/", "wget", "go-http-client", "java/", "okhttp", "axios", "node-fetch", "scrapy", "httpclient",
	"libwww", "feedfetcher", "ia_archiver", "archive.org", "mediapartners", "apis-google"}

// IsBot reports whether a user agent is a robot's rather than a person's
// browser; an empty one is.
func IsBot(userAgent string) bool {
	ua := strings.ToLower(strings.TrimSpace(userAgent))
	if ua == "" {
		return true
	}
	ua = strings.ReplaceAll(ua, "cubot", "")
	for _, w := range botWords {
		if strings.Contains(ua, w) {
			return true
		}
	}
	return false
}
