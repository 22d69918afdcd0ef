package client

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The types below mirror the JSON the API sends and takes, field for
// field, so that a program outside omnikpi's module can use them.

// IngestResult answers POST /v1/events: each valid event's status is
// accepted (new in the store), duplicate (held already) or queued
// (durable in the server's journal, checked for duplicates when
// applied); accepted and duplicate only with Client.WaitApplied.
type IngestResult struct {
	Accepted   int           `json:"accepted"`
	Duplicates int           `json:"duplicates"`
	Queued     int           `json:"queued"`
	Forgotten  int           `json:"forgotten,omitempty"` // dropped: they name an erased customer
	Expired    int           `json:"expired,omitempty"`   // dropped: older than the workspace's retention keeps
	Rejected   []Rejected    `json:"rejected"`
	Results    []EventResult `json:"results"` // valid events, in body order
}

// Count returns how many events have each status: from the results when
// the answer lists them, else from its totals.
func (r *IngestResult) Count() map[string]int {
	n := map[string]int{}
	if len(r.Results) == 0 {
		n["accepted"], n["duplicate"], n["queued"] = r.Accepted, r.Duplicates, r.Queued
		return n
	}
	for _, e := range r.Results {
		n[e.Status]++
	}
	return n
}

// Rejected is an event of a request that was not stored, and why.
type Rejected struct {
	Line   int    `json:"line,omitempty"` // 1-based line of an NDJSON body, or position in a JSON array
	ID     string `json:"id,omitempty"`   // the event's id, when it could be read
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// EventResult is what became of one valid event.
type EventResult struct {
	ID     string `json:"id"`
	Status string `json:"status"` // queued, or with wait=applied accepted or duplicate
}

// Report answers GET /v1/kpis.
type Report struct {
	Workspace string `json:"workspace"`
	From      string `json:"from"` // RFC 3339 in the report's time zone
	To        string `json:"to"`
	TimeZone  string `json:"time_zone"`
	Rows      []Row  `json:"rows"`
}

// Row is one group of a report: an empty Group when the report is not
// grouped; a bucketed report has the bucket's start under Group["bucket"].
type Row struct {
	Group map[string]*string `json:"group"` // null where the events carry no value
	KPIs  []Value            `json:"kpis"`
}

// Value is one KPI's figure for a group. Money KPIs give one Value per
// currency.
type Value struct {
	ID          string   `json:"id"`
	Value       *float64 `json:"value"` // nil when the denominator is zero or the channel does not report it
	Numerator   float64  `json:"numerator"`
	Denominator float64  `json:"denominator"`
	Unit        string   `json:"unit"` // count, percent, money, ratio, seconds or score
	Currency    string   `json:"currency,omitempty"`
	// Label names one of several figures of a KPI: a response-time
	// bucket, a goal, a feedback tag, a keyword.
	Label  string `json:"label,omitempty"`
	Rating string `json:"rating,omitempty"` // worse, within, better or best than the band
	Band   *Band  `json:"band,omitempty"`
	Reason string `json:"reason,omitempty"` // why Value is null
	// With compare=previous or last_year: the figure of that period and
	// the change to this one, in ChangeUnit ("percent" or "points").
	Previous       *float64 `json:"previous,omitempty"`
	Change         *float64 `json:"change,omitempty"`
	LastYear       *float64 `json:"last_year,omitempty"`
	ChangeLastYear *float64 `json:"change_last_year,omitempty"`
	ChangeUnit     string   `json:"change_unit,omitempty"`
}

// Band is a benchmark band: Low to High is within, past Best (in the
// direction the KPI prefers) is best. Nil ends are open. Currency and
// Source are given on a report's money bands.
type Band struct {
	Low      *float64 `json:"low,omitempty"`
	High     *float64 `json:"high,omitempty"`
	Best     *float64 `json:"best,omitempty"`
	Currency string   `json:"currency,omitempty"`
	Source   string   `json:"source,omitempty"`
}

// BandOverride is a workspace's own band for a KPI, in place of the
// catalogue's.
type BandOverride struct {
	Low  *float64 `json:"low,omitempty"`
	High *float64 `json:"high,omitempty"`
	Best *float64 `json:"best,omitempty"`
}

// Workspace is a workspace's settings, as GET and PATCH /v1/workspace
// answer them.
type Workspace struct {
	Name             string                  `json:"name"`
	TimeZone         string                  `json:"time_zone"` // IANA name
	KeepPhoneNumbers bool                    `json:"keep_phone_numbers,omitempty"`
	Windows          Windows                 `json:"windows"`
	StopWords        []string                `json:"stop_words,omitempty"`
	RateCard         *RateCard               `json:"rate_card,omitempty"`
	ChatLinks        []ChatLink              `json:"chat_links,omitempty"`
	Alerts           []AlertRule             `json:"alerts,omitempty"`
	AlertHistory     []AlertFiring           `json:"alert_history,omitempty"` // newest last
	BusinessHours    *BusinessHours          `json:"business_hours,omitempty"`
	Bands            map[string]BandOverride `json:"bands,omitempty"` // by KPI id
	Users            []User                  `json:"users,omitempty"`
	// Receipts are the channels whose receipts differ from the server's
	// defaults: which statuses each reports.
	Receipts map[string]Receipts `json:"receipts,omitempty"`
	// Retention is how long the workspace's data is kept; nil: forever.
	Retention *Retention `json:"retention,omitempty"`
	// Tracker is the site tracker; nil until first asked for (Tracker).
	Tracker *Tracker `json:"tracker,omitempty"`
}

// Windows are a workspace's counting windows.
type Windows struct {
	Reply        Duration `json:"reply"`
	Conversion   Duration `json:"conversion"`
	OptOut       Duration `json:"opt_out"`
	Conversation Duration `json:"conversation"`
	Session      Duration `json:"session,omitempty"` // 0: 24 h
}

// Receipts says which statuses a channel reports.
type Receipts struct {
	Delivered bool `json:"delivered"`
	Read      bool `json:"read"`
}

// RateCard prices delivered messages: its rows of one date are the card
// in force from that date.
type RateCard struct {
	Currency string      `json:"currency"` // ISO 4217; a row without its own currency is in this one
	Prices   []RatePrice `json:"prices"`
}

// RatePrice is one row of a rate card.
type RatePrice struct {
	From          string `json:"from,omitempty"`         // the UTC date it takes effect, as 2026-01-01; empty for always
	Category      string `json:"category"`               // such as marketing
	Type          string `json:"pricing_type,omitempty"` // empty for regular
	Country       string `json:"country,omitempty"`      // ISO 3166-1 alpha-2; empty for every country not listed
	Market        string `json:"market,omitempty"`       // the market whose monthly count decides a tier; empty for the country
	Currency      string `json:"currency,omitempty"`     // empty for the card's
	Price         string `json:"price"`                  // a decimal in major units, such as "0.0411"
	TierFrom      int64  `json:"tier_from,omitempty"`    // a volume tier: the month's messages TierFrom…TierTo (0: no bound)
	TierTo        int64  `json:"tier_to,omitempty"`
	FreePerNumber int64  `json:"free_per_number,omitempty"` // each business number's first messages of a month that are free
}

// BusinessHours are when a business answers, in its time zone.
type BusinessHours struct {
	Open     map[string][]string `json:"open"`               // by weekday ("mon" … "sun"), periods as "09:00-12:30"
	Holidays []string            `json:"holidays,omitempty"` // closed dates, as 2026-12-25
}

// User is a dashboard user. The server never sends PasswordHash.
type User struct {
	Name         string `json:"name"`
	PasswordHash string `json:"password_hash,omitempty"`
	Language     string `json:"language,omitempty"` // the dashboard's language the user chose
}

// AlertRule watches one KPI over a rolling window.
type AlertRule struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	KPI  string `json:"kpi"`
	// Condition is below, above, worse_than_band, better_than_band,
	// change_below or change_above.
	Condition string            `json:"condition"`
	Value     float64           `json:"value,omitempty"`
	Window    Duration          `json:"window"`
	Filters   map[string]string `json:"filters,omitempty"` // dimension → value
	Webhook   string            `json:"webhook,omitempty"`
	Muted     bool              `json:"muted,omitempty"`  // firings recorded, not posted
	Firing    *AlertFiring      `json:"firing,omitempty"` // nil while the rule does not fire
	Source    string            `json:"source,omitempty"` // "config" for rules of the server's configuration
}

// AlertFiring is one firing of a rule, from its start to its resolution.
type AlertFiring struct {
	Rule      string    `json:"rule"`
	KPI       string    `json:"kpi"`
	Value     *float64  `json:"value"`
	Started   time.Time `json:"started"`
	Resolved  time.Time `json:"resolved,omitzero"`
	Notified  bool      `json:"notified"`          // the firing notice was delivered
	Cleared   bool      `json:"resolved_notified"` // the resolved notice was delivered
	LastError string    `json:"last_error,omitempty"`
}

// WorkspaceChange is the body of PATCH /v1/workspace: only the settings
// given change.
type WorkspaceChange struct {
	TimeZone         string `json:"time_zone,omitempty"` // an IANA zone
	KeepPhoneNumbers *bool  `json:"keep_phone_numbers,omitempty"`
	// StopWords replace the opt-out replies; DefaultStopWords restores
	// the defaults.
	StopWords        []string  `json:"stop_words,omitempty"`
	DefaultStopWords bool      `json:"default_stop_words,omitempty"`
	RateCard         *RateCard `json:"rate_card,omitempty"`     // replaces the card
	AddRateCard      *RateCard `json:"add_rate_card,omitempty"` // adds its dates' versions, replacing those of the same dates
	RemoveRateCard   bool      `json:"remove_rate_card,omitempty"`
	// BusinessHours are the open periods by weekday; Holidays replace the
	// closed dates.
	BusinessHours       map[string][]string `json:"business_hours,omitempty"`
	RemoveBusinessHours bool                `json:"remove_business_hours,omitempty"`
	Holidays            []string            `json:"holidays,omitempty"`
	SessionGap          Duration            `json:"session_gap,omitempty"`
	// Receipts sets, by channel, which statuses it reports; nil restores
	// the channel's default.
	Receipts map[string]*Receipts `json:"receipts,omitempty"`
}

// Key is an API key of a workspace, named by its prefix.
type Key struct {
	Prefix    string    `json:"prefix"`
	Workspace string    `json:"workspace"`
	Created   time.Time `json:"created"`
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`             // ingest, read, admin
	Expires   time.Time `json:"expires,omitzero"`   // none: never
	Expired   bool      `json:"expired,omitempty"`  // refused from Expires on
	LastUsed  time.Time `json:"last_used,omitzero"` // as recorded, a minute apart at most; none: never
	Key       string    `json:"key,omitempty"`      // the plain key, only when it was just created
}

// KeyRequest is what a new key is made with.
type KeyRequest struct {
	Name      string    `json:"name,omitempty"`
	Scopes    []string  `json:"scopes,omitempty"`     // by default ingest and read
	Expires   time.Time `json:"expires,omitzero"`     // none: never
	ExpiresIn Duration  `json:"expires_in,omitempty"` // instead of Expires: from now
}

// RotatedKey is a rotated key: the new one, with its plain key, and the
// old one, revoked or working until its Expires.
type RotatedKey struct {
	Key
	Old Key `json:"old"`
}

// AuditEntry is one change in a workspace's audit trail.
type AuditEntry struct {
	Time      time.Time       `json:"time"`
	Workspace string          `json:"workspace"`
	Actor     string          `json:"actor"`  // key ok_abcdefg (name), user alice, admin token, cli alice
	Action    string          `json:"action"` // key.create, user.remove, workspace.update…
	Target    string          `json:"target"`
	Details   json.RawMessage `json:"details"` // a JSON object
}

// QuarantineList answers GET /v1/quarantine.
type QuarantineList struct {
	Parts   []QuarantinedPart `json:"parts"`   // oldest first
	Waiting int               `json:"waiting"` // parts not ingested yet
}

// QuarantinedPart is a webhook part kept for a number or account no
// workspace was configured for.
type QuarantinedPart struct {
	ID            string          `json:"id"`
	Source        string          `json:"source"` // such as whatsapp
	PhoneNumberID string          `json:"phone_number_id"`
	AccountID     string          `json:"business_account"`
	Received      time.Time       `json:"received"`
	Part          json.RawMessage `json:"part"`
	// Ingested is when the part's events were handed to the store, and
	// Workspace where; zero while it waits.
	Ingested  time.Time `json:"ingested,omitzero"`
	Workspace string    `json:"workspace,omitempty"`
}

// QuarantineMapping maps numbers and accounts to workspaces for one
// ingestion of the quarantine, beside the server's configuration.
type QuarantineMapping struct {
	PhoneNumbers     map[string]string `json:"phone_numbers,omitempty"`
	BusinessAccounts map[string]string `json:"business_accounts,omitempty"`
}

// QuarantineResult says what an ingestion of the quarantine did.
type QuarantineResult struct {
	Parts   int `json:"parts"`   // parts ingested now
	Events  int `json:"events"`  // their events, handed to the store
	Waiting int `json:"waiting"` // parts still without a workspace
}

// Duration is a time.Duration written in JSON as the API writes it: in
// the largest whole unit, "7d", "36h", "90m" or "45s", a day being 24
// hours. Go's "1h30m" is read too.
type Duration time.Duration

// day is the unit "d" of durations.
const day = 24 * time.Hour

// MarshalText writes d as "7d", "36h", "90m" or "45s"; anything finer as
// Go writes it.
func (d Duration) MarshalText() ([]byte, error) {
	v := time.Duration(d)
	for _, u := range []struct {
		size time.Duration
		name string
	}{{day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if v != 0 && v%u.size == 0 {
			return []byte(strconv.FormatInt(int64(v/u.size), 10) + u.name), nil
		}
	}
	if v == 0 {
		return []byte("0s"), nil
	}
	return []byte(v.String()), nil
}

// UnmarshalText reads "7d", "1.5d", "2d12h", or any duration Go reads.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	bad := fmt.Errorf("%q is not a duration such as 7d, 24h or 90m", s)
	days, rest, ok := strings.Cut(s, "d")
	if !ok {
		v, err := time.ParseDuration(s)
		if err != nil {
			return bad
		}
		*d = Duration(v)
		return nil
	}
	n, err := strconv.ParseFloat(days, 64)
	if err != nil || days == "" || strings.ContainsAny(days, "eEnNiIxX_") {
		return bad
	}
	total := n * float64(day)
	if rest != "" {
		if rest[0] == '+' || rest[0] == '-' {
			return bad
		}
		r, err := time.ParseDuration(rest)
		if err != nil {
			return bad
		}
		if n < 0 || strings.HasPrefix(days, "-") {
			total -= float64(r)
		} else {
			total += float64(r)
		}
	}
	if math.IsNaN(total) || math.Abs(total) >= math.MaxInt64 {
		return bad
	}
	*d = Duration(total)
	return nil
}

// String writes d as MarshalText does.
func (d Duration) String() string {
	b, _ := d.MarshalText()
	return string(b)
}

// ChatLink is a click-to-chat link (wa.me, m.me, ig.me) with the reference
// that makes the chats it starts touches with its source.
type ChatLink struct {
	Ref      string    `json:"ref"`
	Channel  string    `json:"channel"` // whatsapp, facebook or instagram
	To       string    `json:"to"`      // the WhatsApp number, the Page, the Instagram username
	Source   string    `json:"source"`
	Medium   string    `json:"medium,omitempty"`
	Campaign string    `json:"campaign,omitempty"`
	Text     string    `json:"text,omitempty"`
	Created  time.Time `json:"created"`
}

// LinkWithURL is a link with the URL to publish.
type LinkWithURL struct {
	ChatLink
	URL string `json:"url"`
}
