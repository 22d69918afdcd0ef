// Package store defines what omnikpi needs from a database: durable,
// deduplicated event storage with facts maintained on ingest, SQL queries for
// the KPI engine, and workspaces with their API keys. Each backend is a
// sub-package.
package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
)

// ErrNotFound is returned when a workspace or key does not exist.
var ErrNotFound = errors.New("not found")

// Outcome says what became of one event handed to Insert.
type Outcome uint8

// Outcomes.
const (
	Accepted  Outcome = iota + 1 // stored now
	Duplicate                    // an event with the same (workspace, id) was stored before
	// Queued: durable in the ingestion journal; whether it is new or a
	// duplicate is decided when the journal is applied to the store.
	Queued
)

// Rows is the cursor a query returns; *sql.Rows satisfies it.
type Rows interface {
	// Columns names the result's columns, in order.
	Columns() ([]string, error)
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Store is implemented by each backend.
type Store interface {
	// Insert stores validated events, each with its workspace set, in one
	// durable transaction, and reports per event whether it was new. The
	// facts the KPIs read are updated in the same transaction from the new
	// events only, so duplicates change nothing.
	Insert(ctx context.Context, events []event.Event) ([]Outcome, error)

	// Query runs one read-only SQL statement of the KPI engine with
	// positional ? parameters.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// Dialect writes the fragments of the KPI SQL that are the store's
	// own.
	Dialect() Dialect

	// Workspace returns a workspace's settings, or ErrNotFound.
	Workspace(ctx context.Context, name string) (Workspace, error)
	// WorkspaceNames lists every workspace, by name.
	WorkspaceNames(ctx context.Context) ([]string, error)
	// PutWorkspace creates or replaces a workspace's settings.
	PutWorkspace(ctx context.Context, ws Workspace) error
	// AddKey stores the hash of a new API key for a workspace.
	AddKey(ctx context.Context, key Key) error
	// KeyByHash finds the key with this hash, or ErrNotFound.
	KeyByHash(ctx context.Context, hash string) (Key, error)
	// Keys lists a workspace's keys, oldest first; revoked keys are left
	// out.
	Keys(ctx context.Context, workspace string) ([]Key, error)
	// RevokeKey revokes the key with this hash for good: KeyByHash no
	// longer finds it and Keys no longer lists it. Revoking a key that is
	// not stored, or already revoked, is not an error.
	RevokeKey(ctx context.Context, hash string) error
	// SetKeySettings replaces the name, scopes and expiry of the key with
	// this hash (AddKey stores them for a new key).
	SetKeySettings(ctx context.Context, hash string, ks KeySettings) error
	// RecordKeyUses stores when keys were last used, by hash, in one
	// write; a use older than the one stored changes nothing.
	RecordKeyUses(ctx context.Context, uses map[string]time.Time) error
	// AddAudit appends entries to the audit trail.
	AddAudit(ctx context.Context, entries ...AuditEntry) error
	// Audit reads a workspace's audit trail, newest first.
	Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
	// Size is the bytes the store takes on disk.
	Size(ctx context.Context) (int64, error)
	Eraser

	Close() error
}

// Workspace is a tenant and its settings. Every event belongs to one.
type Workspace struct {
	Name     string `json:"name"`
	TimeZone string `json:"time_zone"` // IANA name; reports bucket and show times in it
	// KeepPhoneNumbers turns off hashing of customer ids that are phone
	// numbers.
	KeepPhoneNumbers bool    `json:"keep_phone_numbers,omitempty"`
	Windows          Windows `json:"windows"`
	// StopWords are the replies that opt a customer out, replacing the
	// default list of the WhatsApp webhook when set.
	StopWords []string `json:"stop_words,omitempty"`
	// RateCard prices billable messages into messaging cost; none when nil.
	RateCard *RateCard `json:"rate_card,omitempty"`
	// ChatLinks are the workspace's click-to-chat links, by reference.
	ChatLinks []ChatLink `json:"chat_links,omitempty"`
	// Alerts are the workspace's alert rules and what became of them.
	Alerts []AlertRule `json:"alerts,omitempty"`
	// AlertHistory holds the latest firings, newest last (at most
	// MaxAlertHistory).
	AlertHistory []AlertFiring `json:"alert_history,omitempty"`
	// BusinessHours are when the business answers, in TimeZone; response
	// and resolution times can be counted in them. None when nil.
	BusinessHours *BusinessHours `json:"business_hours,omitempty"`
	// Bands overrides benchmark bands by KPI id.
	Bands map[string]Band `json:"bands,omitempty"`
	// Users sign in to the dashboard with a password.
	Users []User `json:"users,omitempty"`
	// Receipts overrides, by channel, which statuses a channel reports
	// (DefaultReceipts for the others).
	Receipts map[string]Receipts `json:"receipts,omitempty"`
	// Retention says how long raw events, texts and facts are kept; nil
	// keeps everything.
	Retention *Retention `json:"retention,omitempty"`
	// Tracker is the site tracker's settings, made when first asked for;
	// none when nil.
	Tracker *Tracker `json:"tracker,omitempty"`
}

// Receipts says which statuses a channel reports (KPIS.md §7). A rate that
// needs a status the channel does not report has no value for it.
type Receipts struct {
	Delivered bool `json:"delivered"`
	Read      bool `json:"read"`
}

// DefaultReceipts are the channels that do not report every status: SMS
// reports no reads, Instagram no deliveries, web chat widgets neither.
// Every other channel reports both.
var DefaultReceipts = map[string]Receipts{
	"sms":       {Delivered: true},
	"instagram": {Read: true},
	"web":       {},
}

// ReceiptsOf says which statuses channel reports in this workspace.
func (ws Workspace) ReceiptsOf(channel string) Receipts {
	if r, ok := ws.Receipts[channel]; ok {
		return r
	}
	if r, ok := DefaultReceipts[channel]; ok {
		return r
	}
	return Receipts{Delivered: true, Read: true}
}

// ParseReceipts reads receipt settings written as the workspace command
// takes them: "sms=delivered,web=none,email=delivered+read,instagram=default",
// each channel with the statuses it reports (delivered, read, both joined
// by "+", or none), or default for the default. A default is a nil entry.
func ParseReceipts(text string) (map[string]*Receipts, error) {
	out := map[string]*Receipts{}
	for _, part := range strings.Split(text, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		channel, statuses, ok := strings.Cut(part, "=")
		channel = strings.TrimSpace(channel)
		if !ok || channel == "" {
			return nil, fmt.Errorf("%q: write channel=statuses, such as web=none or sms=delivered", part)
		}
		if statuses == "default" {
			out[channel] = nil
			continue
		}
		r := &Receipts{}
		if statuses != "none" {
			for _, st := range strings.Split(statuses, "+") {
				switch strings.TrimSpace(st) {
				case "delivered":
					r.Delivered = true
				case "read":
					r.Read = true
				default:
					return nil, fmt.Errorf("%q: %q is not a status (delivered, read, delivered+read, none or default)", part, st)
				}
			}
		}
		out[channel] = r
	}
	return out, nil
}

// SetReceipts applies settings read by ParseReceipts to ws.
func (ws *Workspace) SetReceipts(change map[string]*Receipts) {
	next := map[string]Receipts{}
	for ch, r := range ws.Receipts {
		next[ch] = r
	}
	for ch, r := range change {
		if r == nil {
			delete(next, ch)
		} else {
			next[ch] = *r
		}
	}
	if len(next) == 0 {
		next = nil
	}
	ws.Receipts = next
}

// ChannelsWithout lists, sorted, the channels that do not report reads
// (read true) or deliveries (read false).
func (ws Workspace) ChannelsWithout(read bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range []map[string]Receipts{ws.Receipts, DefaultReceipts} {
		for ch := range m {
			if seen[ch] {
				continue
			}
			seen[ch] = true
			r := ws.ReceiptsOf(ch)
			if (read && !r.Read) || (!read && !r.Delivered) {
				out = append(out, ch)
			}
		}
	}
	sort.Strings(out)
	return out
}

// User is a dashboard user of one workspace. Only a slow hash of the
// password is kept (see api.HashPassword).
type User struct {
	Name         string `json:"name"`
	PasswordHash string `json:"password_hash,omitempty"`
	// Language is the dashboard's language the user chose (kpi.Languages).
	Language string `json:"language,omitempty"`
}

// User returns the workspace's user called name.
func (ws Workspace) User(name string) (User, bool) {
	for _, u := range ws.Users {
		if u.Name == name {
			return u, true
		}
	}
	return User{}, false
}

// PutUser adds the user, or replaces the one of the same name.
func (ws *Workspace) PutUser(u User) {
	for i := range ws.Users {
		if ws.Users[i].Name == u.Name {
			ws.Users[i] = u
			return
		}
	}
	ws.Users = append(ws.Users, u)
}

// Band is a benchmark band (KPIS.md §6): low–high is "within", at or past
// Best is "best". Nil ends are open. In the direction the KPI prefers.
type Band struct {
	Low  *float64 `json:"low,omitempty"`
	High *float64 `json:"high,omitempty"`
	Best *float64 `json:"best,omitempty"`
}

// Windows are the counting windows of KPIS.md §7, settable per workspace.
type Windows struct {
	Reply        Duration `json:"reply"`        // a reply counts for response_rate within this after the message
	Conversion   Duration `json:"conversion"`   // an order or goal counts for the last campaign message within this before it
	OptOut       Duration `json:"opt_out"`      // an opt-out counts against the latest message within this before it
	Conversation Duration `json:"conversation"` // an order counts for a conversation the customer had within this before it
	// Session splits a customer's messages on a channel that name no
	// conversation into conversations after this much silence; 0 is 24 h.
	Session Duration `json:"session,omitempty"`
}

// SessionGap is Session, or its default.
func (w Windows) SessionGap() time.Duration {
	if w.Session <= 0 {
		return 24 * time.Hour
	}
	return time.Duration(w.Session)
}

// BusinessHours are a workspace's opening hours.
type BusinessHours struct {
	// Open lists each weekday's open periods as "09:00-12:30", by the
	// weekday's first three letters in lower case ("mon" … "sun"); a day
	// not listed is closed. "24:00" ends a period at midnight.
	Open map[string][]string `json:"open"`
	// Holidays are closed dates, as 2026-12-25, in the workspace's zone.
	Holidays []string `json:"holidays,omitempty"`
}

// DefaultWindows are the catalogue's defaults.
func DefaultWindows() Windows {
	return Windows{
		Reply:        Duration(24 * time.Hour),
		Conversion:   Duration(7 * 24 * time.Hour),
		OptOut:       Duration(7 * 24 * time.Hour),
		Conversation: Duration(7 * 24 * time.Hour),
	}
}

// NewWorkspace returns a workspace with the default settings.
func NewWorkspace(name string) Workspace {
	return Workspace{Name: name, TimeZone: "UTC", Windows: DefaultWindows()}
}

// Duration is a time.Duration that reads and writes as "7d" or "24h" in
// JSON.
type Duration time.Duration

// MarshalText writes d as FormatDuration does, such as "7d" or "36h".
func (d Duration) MarshalText() ([]byte, error) { return []byte(FormatDuration(time.Duration(d))), nil }

// UnmarshalText reads a duration as ParseDuration does: "7d", "24h", or
// Go's "168h0m0s" as older settings hold it.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Millis is d in milliseconds, the unit of stored times.
func (d Duration) Millis() int64 { return time.Duration(d).Milliseconds() }

// Key is an API key as stored: only its hash is kept.
type Key struct {
	Hash      string // hex SHA-256 of the key
	Prefix    string // first characters of the key, to tell keys apart in lists
	Workspace string
	Created   time.Time
	Name      string    // what the key is for, such as shopify-webhook; may be empty
	Scopes    []string  // ScopeIngest, ScopeRead, ScopeAdmin; nil: every scope (a key made before scopes)
	Expires   time.Time // zero: never; from then on the key is refused
	// LastUsed is when the key was last used, as recorded (the API records
	// uses in batches, a minute apart); zero when never. Keys sets it;
	// KeyByHash leaves it zero.
	LastUsed time.Time
}

// AlertRule watches one KPI over a rolling window.
type AlertRule struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	KPI  string `json:"kpi"`
	// Condition is below or above (Value), worse_than_band or
	// better_than_band (the KPI's benchmark band, in the direction the KPI
	// prefers; below_band and above_band are their former names),
	// change_below or change_above (the change against the window before,
	// in percent, or points for rates and scores).
	Condition string            `json:"condition"`
	Value     float64           `json:"value,omitempty"`
	Window    Duration          `json:"window"`            // the rolling window, such as 24h
	Filters   map[string]string `json:"filters,omitempty"` // dimension → value, such as channel → whatsapp
	Webhook   string            `json:"webhook,omitempty"` // where firings are posted; none: only recorded
	// Muted keeps the rule watching and its firings recorded, but posts
	// nothing; a firing still on when it is unmuted is posted then.
	Muted bool `json:"muted,omitempty"`
	// Firing is the rule's state: since when it fires, or nil.
	Firing *AlertFiring `json:"firing,omitempty"`
	Source string       `json:"source,omitempty"` // "config" for rules of the configuration file
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

// PutAlert adds a rule, or replaces the one with its id while keeping
// that one's state.
func (ws *Workspace) PutAlert(rule AlertRule) {
	for i := range ws.Alerts {
		if ws.Alerts[i].ID == rule.ID {
			rule.Firing = ws.Alerts[i].Firing
			ws.Alerts[i] = rule
			return
		}
	}
	ws.Alerts = append(ws.Alerts, rule)
}

// MaxAlertHistory bounds a workspace's stored firings.
const MaxAlertHistory = 200
