package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// The scopes of an API key: what it may do in its workspace.
const (
	ScopeIngest = "ingest" // send events (POST /v1/events)
	ScopeRead   = "read"   // read reports, views, the catalogue and the settings
	ScopeAdmin  = "admin"  // change the workspace: keys, users, settings, alert rules; read the audit trail
)

// AllScopes lists every scope, in order. A key stored before keys had
// scopes has them all: it could ingest, read and change alert rules,
// which now need admin.
var AllScopes = []string{ScopeIngest, ScopeRead, ScopeAdmin}

// ParseScopes reads scopes written as "ingest,read", checking each and
// returning them in the order of AllScopes without repeats.
func ParseScopes(text string) ([]string, error) {
	given := map[string]bool{}
	for _, s := range strings.Split(text, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		known := false
		for _, a := range AllScopes {
			known = known || a == s
		}
		if !known {
			return nil, fmt.Errorf("%q is not a scope (ingest, read or admin)", s)
		}
		given[s] = true
	}
	var out []string
	for _, a := range AllScopes {
		if given[a] {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scope given: name one or more of ingest, read and admin")
	}
	return out, nil
}

// Has reports whether the key has scope.
func (k Key) Has(scope string) bool {
	for _, s := range k.scopes() {
		if s == scope {
			return true
		}
	}
	return false
}

func (k Key) scopes() []string {
	if k.Scopes == nil {
		return AllScopes
	}
	return k.Scopes
}

// Expired reports whether the key has expired at now.
func (k Key) Expired(now time.Time) bool {
	return !k.Expires.IsZero() && !now.Before(k.Expires)
}

// KeySettings is what a key has besides its hash, prefix, workspace and
// creation: both stores keep it in api_key_settings, one row per key
// (the newest wins), none for a key made before keys had them.
type KeySettings struct {
	Name    string
	Scopes  []string
	Expires time.Time // zero: never
}

// Settings returns k's settings as stored.
func (k Key) Settings() KeySettings {
	return KeySettings{Name: k.Name, Scopes: k.scopes(), Expires: k.Expires}
}

// Apply sets k's settings to ks.
func (k *Key) Apply(ks KeySettings) {
	k.Name, k.Scopes, k.Expires = ks.Name, ks.Scopes, ks.Expires
}

// Millis is t in Unix milliseconds, 0 for the zero time.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// ReadKeySettings runs query, which selects hash, name, scopes (comma
// separated) and expires (Unix ms, 0 for never) of keys, and returns them
// by hash.
func ReadKeySettings(ctx context.Context, db *sql.DB, query string, args ...any) (map[string]KeySettings, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read key settings: %w", err)
	}
	defer rows.Close()
	out := map[string]KeySettings{}
	for rows.Next() {
		var hash, name, scopes string
		var expires int64
		if err := rows.Scan(&hash, &name, &scopes, &expires); err != nil {
			return nil, fmt.Errorf("read key settings: %w", err)
		}
		ks := KeySettings{Name: name, Scopes: []string{}, Expires: fromMillis(expires)}
		if scopes != "" {
			ks.Scopes = strings.Split(scopes, ",")
		}
		out[hash] = ks
	}
	return out, rows.Err()
}

// ReadKeyUses runs query, which selects hash and the last use (Unix ms)
// of keys, and returns them by hash.
func ReadKeyUses(ctx context.Context, db *sql.DB, query string, args ...any) (map[string]time.Time, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read key uses: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var hash string
		var used int64
		if err := rows.Scan(&hash, &used); err != nil {
			return nil, fmt.Errorf("read key uses: %w", err)
		}
		out[hash] = fromMillis(used)
	}
	return out, rows.Err()
}

// WithSettings gives each key its settings and last use, as read by
// ReadKeySettings and ReadKeyUses.
func WithSettings(keys []Key, settings map[string]KeySettings, uses map[string]time.Time) []Key {
	for i := range keys {
		if ks, ok := settings[keys[i].Hash]; ok {
			keys[i].Apply(ks)
		}
		keys[i].LastUsed = uses[keys[i].Hash]
	}
	return keys
}
