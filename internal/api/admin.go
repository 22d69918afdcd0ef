package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/audit"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
)

// WorkspaceHeader names the workspace a request with the admin token acts
// for.
const WorkspaceHeader = "Omnikpi-Workspace"

// The admin token is the credential of the omnikpi commands run on the
// machine of the server (see Options.AdminToken). With a WorkspaceHeader
// it acts for that workspace on every route; the routes below are for it
// alone.
func (h *handler) adminRoutes() []route {
	return []route{
		{"GET /v1/workspaces", h.admin(noWorkspace, h.listWorkspaces)},
		{"PATCH /v1/workspace", h.admin(createsWorkspace, h.patchWorkspace)},
		{"GET /v1/keys", h.admin(needsWorkspace, h.listKeys)},
		{"POST /v1/keys", h.admin(createsWorkspace, h.createKey)},
		{"POST /v1/keys/{prefix}/rotate", h.admin(needsWorkspace, h.rotateKey)},
		{"DELETE /v1/keys/{prefix}", h.admin(needsWorkspace, h.revokeKey)},
		{"GET /v1/users", h.admin(needsWorkspace, h.listUsers)},
		{"PUT /v1/users/{name}", h.admin(createsWorkspace, h.putUser)},
		{"DELETE /v1/users/{name}", h.admin(needsWorkspace, h.deleteUser)},
		{"GET /v1/audit", h.admin(needsWorkspace, h.getAudit)},
	}
}

// isAdmin reports whether plain is the admin token, in constant time.
func (h *handler) isAdmin(plain string) bool {
	return h.adminToken != "" && subtle.ConstantTimeCompare([]byte(plain), []byte(h.adminToken)) == 1
}

// workspaceScope is what an admin route needs of the WorkspaceHeader.
type workspaceScope int

const (
	noWorkspace      workspaceScope = iota // acts on no one workspace
	needsWorkspace                         // the named workspace must exist
	createsWorkspace                       // the named workspace is created when new
)

// admin serves next for the admin token and, on the routes of one
// workspace, for an API key of that workspace with the admin scope.
func (h *handler) admin(scope workspaceScope, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		plain, _ := strings.CutPrefix(header, "Bearer ")
		plain = strings.TrimSpace(plain)
		if header == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="omnikpi"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing Authorization: Bearer TOKEN header with the server's admin token", "Authorization")
			return
		}
		if !h.isAdmin(plain) {
			if _, err := h.keys.get(r.Context(), HashKey(plain), h.store.KeyByHash); err != nil {
				writeError(w, http.StatusUnauthorized, "unauthorized", "neither the server's admin token nor an API key", "Authorization")
				return
			}
			if scope == noWorkspace {
				writeError(w, http.StatusForbidden, "forbidden", "this route needs the server's admin token: a key's admin scope covers its own workspace only", "Authorization")
				return
			}
			if key, ok := h.key(w, r, plain); ok {
				h.serveAs(w, r, keyCaller(key), next)
			}
			return
		}
		if scope == noWorkspace {
			next(w, r.WithContext(audit.As(r.Context(), "admin token")))
			return
		}
		name, ok := h.adminWorkspace(w, r, scope == createsWorkspace)
		if ok {
			h.serveAs(w, r, adminCaller(name), next)
		}
	})
}

// adminWorkspace reads the workspace a request with the admin token acts
// for, and checks that it exists or creates it; or answers the error.
func (h *handler) adminWorkspace(w http.ResponseWriter, r *http.Request, create bool) (string, bool) {
	name := strings.TrimSpace(r.Header.Get(WorkspaceHeader))
	if name == "" {
		writeError(w, http.StatusForbidden, "workspace_required",
			"the admin token acts for the workspace named in an "+WorkspaceHeader+": NAME header; without it, it is good only for GET /v1/workspaces and the quarantine routes", WorkspaceHeader)
		return "", false
	}
	var err error
	if create {
		_, err = EnsureWorkspace(r.Context(), h.store, name)
	} else {
		_, err = h.workspaces.get(r.Context(), name, h.store.Workspace)
	}
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "workspace_not_found", "there is no workspace "+name, WorkspaceHeader)
		return "", false
	}
	if err != nil {
		serverError(w, h.log, r, err)
		return "", false
	}
	return name, true
}

// EnsureWorkspace returns the workspace's settings, creating it with the
// defaults when it does not exist yet.
func EnsureWorkspace(ctx context.Context, s store.Store, name string) (store.Workspace, error) {
	ws, found, err := store.SettingsOf(ctx, s.Workspace, name)
	if err == nil && !found {
		err = s.PutWorkspace(ctx, ws)
	}
	return ws, err
}

// KeyRequest is what a new key is made with, as POST /v1/keys and keys
// create take it.
type KeyRequest struct {
	Name string `json:"name,omitempty"` // what the key is for, such as shopify-webhook
	// Scopes the key has; DefaultScopes when none.
	Scopes []string `json:"scopes,omitempty"`
	// Expires is when the key stops working; ExpiresIn says it from now.
	// Neither: never.
	Expires   time.Time      `json:"expires,omitzero"`
	ExpiresIn store.Duration `json:"expires_in,omitempty"`
}

// DefaultScopes are a new key's when none are asked for: sending events
// and reading reports, as an integration does. The admin scope is given
// only when asked for.
var DefaultScopes = []string{store.ScopeIngest, store.ScopeRead}

// settings checks the request and gives the key's settings at now.
func (kr KeyRequest) settings(now time.Time) (store.KeySettings, error) {
	ks := store.KeySettings{Name: strings.TrimSpace(kr.Name), Scopes: DefaultScopes, Expires: kr.Expires}
	if len(ks.Name) > 100 {
		return ks, &ChangeError{"name", "at most 100 characters"}
	}
	if kr.Scopes != nil {
		scopes, err := store.ParseScopes(strings.Join(kr.Scopes, ","))
		if err != nil {
			return ks, &ChangeError{"scopes", err.Error()}
		}
		ks.Scopes = scopes
	}
	switch {
	case !kr.Expires.IsZero() && kr.ExpiresIn != 0:
		return ks, &ChangeError{"expires", "give expires or expires_in, not both"}
	case kr.ExpiresIn < 0:
		return ks, &ChangeError{"expires_in", "must be positive"}
	case kr.ExpiresIn > 0:
		ks.Expires = now.Add(time.Duration(kr.ExpiresIn))
	case !kr.Expires.IsZero() && !kr.Expires.After(now):
		return ks, &ChangeError{"expires", "is not in the future: " + kr.Expires.UTC().Format(time.RFC3339)}
	}
	if !ks.Expires.IsZero() {
		ks.Expires = ks.Expires.UTC().Truncate(time.Millisecond)
	}
	return ks, nil
}

// CreateKey makes and stores a new API key of the workspace, creating the
// workspace when it is new, and records it in the audit trail. The plain
// key is returned only here; a wrong request is a *ChangeError.
func CreateKey(ctx context.Context, s store.Store, workspace string, req KeyRequest) (string, store.Key, error) {
	ks, err := req.settings(time.Now())
	if err != nil {
		return "", store.Key{}, err
	}
	if _, err := EnsureWorkspace(ctx, s, workspace); err != nil {
		return "", store.Key{}, err
	}
	plain, key := NewKey(workspace)
	key.Apply(ks)
	if err := s.AddKey(ctx, key); err != nil {
		return "", store.Key{}, err
	}
	return plain, key, audit.Record(ctx, s, workspace, audit.KeyCreate, key.Prefix, keyDetails(key))
}

// keyDetails is what the audit trail says of a key.
func keyDetails(k store.Key) map[string]any {
	d := map[string]any{"name": k.Name, "scopes": k.Settings().Scopes}
	if !k.Expires.IsZero() {
		d["expires"] = k.Expires.UTC().Format(time.RFC3339)
	}
	return d
}

// MaxGrace bounds how long a rotated key keeps working.
const MaxGrace = 30 * 24 * time.Hour

// RotateKey replaces the workspace's key named as RevokeKey names it by a
// new one of the same name, scopes and expiry. The old key is revoked at
// once, or with a grace period keeps working until then (its expiry), so
// that its users can switch. It returns the new plain key, the new key and
// the old one.
func RotateKey(ctx context.Context, s store.Store, workspace, prefix string, grace time.Duration) (string, store.Key, store.Key, error) {
	if grace < 0 || grace > MaxGrace {
		return "", store.Key{}, store.Key{}, &ChangeError{"grace", "must be between 0s and " + store.FormatDuration(MaxGrace)}
	}
	old, err := findKey(ctx, s, workspace, prefix)
	if err != nil {
		return "", store.Key{}, store.Key{}, err
	}
	now := time.Now()
	if old.Expired(now) {
		return "", store.Key{}, store.Key{}, &ChangeError{"prefix", "key " + old.Prefix + "… has expired: create a new key instead"}
	}
	plain, key := NewKey(workspace)
	key.Apply(old.Settings())
	if err := s.AddKey(ctx, key); err != nil {
		return "", store.Key{}, store.Key{}, err
	}
	if grace == 0 {
		err = s.RevokeKey(ctx, old.Hash)
	} else if until := now.Add(grace).UTC().Truncate(time.Millisecond); old.Expires.IsZero() || until.Before(old.Expires) {
		ks := old.Settings()
		ks.Expires = until
		old.Expires = until
		err = s.SetKeySettings(ctx, old.Hash, ks)
	}
	if err != nil {
		return "", store.Key{}, store.Key{}, err
	}
	details := keyDetails(key)
	details["new"] = key.Prefix
	details["grace"] = store.FormatDuration(grace)
	return plain, key, old, audit.Record(ctx, s, workspace, audit.KeyRotate, old.Prefix, details)
}

// ErrAmbiguousPrefix is returned when several keys start alike.
var ErrAmbiguousPrefix = errors.New("several keys have this prefix")

// RevokeKey revokes the workspace's key named by its listed prefix (a
// trailing "…" is ignored) or by the whole key. It returns the revoked key;
// an error wrapping store.ErrNotFound when the workspace has no such key,
// or ErrAmbiguousPrefix.
func RevokeKey(ctx context.Context, s store.Store, workspace, prefix string) (store.Key, error) {
	key, err := findKey(ctx, s, workspace, prefix)
	if err != nil {
		return key, err
	}
	if err := s.RevokeKey(ctx, key.Hash); err != nil {
		return key, err
	}
	return key, audit.Record(ctx, s, workspace, audit.KeyRevoke, key.Prefix, keyDetails(key))
}

// findKey finds the workspace's key by its listed prefix or the whole key.
func findKey(ctx context.Context, s store.Store, workspace, prefix string) (store.Key, error) {
	prefix = strings.TrimSuffix(strings.TrimSpace(prefix), "…")
	keys, err := s.Keys(ctx, workspace)
	if err != nil {
		return store.Key{}, err
	}
	var found []store.Key
	for _, k := range keys {
		if k.Prefix == prefix || k.Hash == HashKey(prefix) {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 0:
		return store.Key{}, notFound(fmt.Sprintf("workspace %s has no key %s", workspace, prefix))
	case 1:
		return found[0], nil
	}
	return store.Key{}, fmt.Errorf("%w: %d keys of workspace %s start with %s; give the whole key", ErrAmbiguousPrefix, len(found), workspace, prefix)
}

// WorkspaceChange is a change of a workspace's settings, as the workspace
// command and PATCH /v1/workspace make it. Fields left empty keep their
// setting.
type WorkspaceChange struct {
	TimeZone         string `json:"time_zone,omitempty"` // an IANA zone
	KeepPhoneNumbers *bool  `json:"keep_phone_numbers,omitempty"`
	// StopWords replace the opt-out replies; DefaultStopWords restores the
	// defaults.
	StopWords        []string `json:"stop_words,omitempty"`
	DefaultStopWords bool     `json:"default_stop_words,omitempty"`
	// RateCard replaces the rate card; AddRateCard adds its versions (the
	// rows of each date) in place of the card's versions of the same
	// dates, so a new quarter's card keeps the history.
	RateCard       *store.RateCard `json:"rate_card,omitempty"`
	AddRateCard    *store.RateCard `json:"add_rate_card,omitempty"`
	RemoveRateCard bool            `json:"remove_rate_card,omitempty"`
	// BusinessHours are the open periods by weekday ("mon" … "sun"), as
	// "09:00-12:30"; Holidays replace the closed dates.
	BusinessHours       map[string][]string `json:"business_hours,omitempty"`
	RemoveBusinessHours bool                `json:"remove_business_hours,omitempty"`
	Holidays            []string            `json:"holidays,omitempty"`
	SessionGap          store.Duration      `json:"session_gap,omitempty"`
	// Receipts sets, by channel, which statuses it reports; null restores
	// the channel's default.
	Receipts map[string]*store.Receipts `json:"receipts,omitempty"`
}

// ChangeError says which field of a WorkspaceChange is wrong.
type ChangeError struct {
	Field  string // the JSON name
	Reason string
}

func (e *ChangeError) Error() string { return e.Field + ": " + e.Reason }

// Apply makes the change to ws and reports whether anything changed; ws
// is left as it was when the change is refused.
func (c WorkspaceChange) Apply(ws *store.Workspace) (bool, error) {
	next := *ws
	changed := false
	if c.TimeZone != "" {
		if _, err := time.LoadLocation(c.TimeZone); err != nil {
			return false, &ChangeError{"time_zone", fmt.Sprintf("%q is not an IANA time zone", c.TimeZone)}
		}
		next.TimeZone, changed = c.TimeZone, true
	}
	if c.KeepPhoneNumbers != nil {
		next.KeepPhoneNumbers, changed = *c.KeepPhoneNumbers, true
	}
	switch {
	case c.DefaultStopWords && c.StopWords != nil:
		return false, &ChangeError{"stop_words", "give stop_words or default_stop_words, not both"}
	case c.DefaultStopWords:
		next.StopWords, changed = nil, true
	case c.StopWords != nil:
		next.StopWords, changed = nil, true
		for _, w := range c.StopWords {
			if w = strings.TrimSpace(w); w != "" {
				next.StopWords = append(next.StopWords, w)
			}
		}
	}
	given := 0
	for _, set := range []bool{c.RemoveRateCard, c.RateCard != nil, c.AddRateCard != nil} {
		if set {
			given++
		}
	}
	switch {
	case given > 1:
		return false, &ChangeError{"rate_card", "give one of rate_card, add_rate_card and remove_rate_card"}
	case c.RemoveRateCard:
		next.RateCard, changed = nil, true
	case c.RateCard != nil || c.AddRateCard != nil:
		field, card := "rate_card", c.RateCard
		if card == nil {
			field, card = "add_rate_card", c.AddRateCard
		}
		given := *card
		given.Currency = strings.ToUpper(given.Currency)
		if err := given.Validate(); err != nil {
			return false, &ChangeError{field, strings.TrimPrefix(err.Error(), "rate card: ")}
		}
		if c.AddRateCard != nil && ws.RateCard != nil {
			given = ws.RateCard.Merge(given)
		}
		next.RateCard, changed = &given, true
	}
	switch {
	case c.RemoveBusinessHours && c.BusinessHours != nil:
		return false, &ChangeError{"business_hours", "give business_hours or remove_business_hours, not both"}
	case c.RemoveBusinessHours:
		next.BusinessHours, changed = nil, true
	case c.BusinessHours != nil:
		hours := store.BusinessHours{Open: c.BusinessHours}
		if next.BusinessHours != nil {
			hours.Holidays = next.BusinessHours.Holidays
		}
		next.BusinessHours, changed = &hours, true
	}
	if c.Holidays != nil {
		if next.BusinessHours == nil {
			return false, &ChangeError{"holidays", "need business hours"}
		}
		hours := *next.BusinessHours
		hours.Holidays = c.Holidays
		next.BusinessHours, changed = &hours, true
	}
	if next.BusinessHours != nil {
		if err := kpi.ValidateBusinessHours(*next.BusinessHours); err != nil {
			return false, &ChangeError{"business_hours", err.Error()}
		}
	}
	for ch := range c.Receipts {
		if ch == "" || strings.ToLower(ch) != ch {
			return false, &ChangeError{"receipts", fmt.Sprintf("%q is not a channel name (lower case, such as web or sms)", ch)}
		}
	}
	if len(c.Receipts) > 0 {
		next.SetReceipts(c.Receipts)
		changed = true
	}
	if c.SessionGap < 0 {
		return false, &ChangeError{"session_gap", "must not be negative"}
	} else if c.SessionGap > 0 {
		next.Windows.Session, changed = c.SessionGap, true
	}
	*ws = next
	return changed, nil
}

// AddUser adds a dashboard user to ws, or sets the password of the one of
// that name; only a slow hash of the password is kept.
func AddUser(ws *store.Workspace, name, password string) error {
	if strings.TrimSpace(name) == "" {
		return &ChangeError{"name", "a user needs a name"}
	}
	if password == "" {
		return &ChangeError{"password", "a user needs a password"}
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	ws.PutUser(store.User{Name: name, PasswordHash: hash})
	return nil
}

// RemoveUser removes the dashboard user called name from ws, or returns
// an error wrapping store.ErrNotFound.
func RemoveUser(ws *store.Workspace, name string) error {
	kept := make([]store.User, 0, len(ws.Users))
	for _, u := range ws.Users {
		if u.Name != name {
			kept = append(kept, u)
		}
	}
	if len(kept) == len(ws.Users) {
		return notFound(fmt.Sprintf("workspace %s has no user %q", ws.Name, name))
	}
	ws.Users = kept
	return nil
}

// notFound is an error that is store.ErrNotFound, saying what was not
// found.
type notFound string

func (e notFound) Error() string        { return string(e) }
func (e notFound) Is(target error) bool { return target == store.ErrNotFound }

// KeyInfo describes a stored API key; the key itself is never kept.
type KeyInfo struct {
	Prefix    string    `json:"prefix"`
	Workspace string    `json:"workspace"`
	Created   time.Time `json:"created"`
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	Expires   time.Time `json:"expires,omitzero"`   // none: never
	Expired   bool      `json:"expired,omitempty"`  // refused from Expires on
	LastUsed  time.Time `json:"last_used,omitzero"` // as recorded, a minute apart at most; none: never
	Key       string    `json:"key,omitempty"`      // the plain key, only when it was just created
}

// KeyInfoOf describes a stored key as GET /v1/keys lists it.
func KeyInfoOf(k store.Key) KeyInfo {
	return KeyInfo{Prefix: k.Prefix, Workspace: k.Workspace, Created: k.Created, Name: k.Name, Scopes: k.Settings().Scopes,
		Expires: k.Expires, Expired: k.Expired(time.Now()), LastUsed: k.LastUsed}
}

func (h *handler) listWorkspaces(w http.ResponseWriter, r *http.Request) {
	if !knownParams(w, r) {
		return
	}
	names, err := h.store.WorkspaceNames(r.Context())
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	if names == nil {
		names = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"workspaces": names})
}

func (h *handler) listKeys(w http.ResponseWriter, r *http.Request) {
	if !knownParams(w, r) {
		return
	}
	if err := h.uses.Flush(r.Context()); err != nil { // so that the list shows every use
		h.log.Warn("record the last use of keys", "err", err)
	}
	keys, err := h.store.Keys(r.Context(), WorkspaceFrom(r.Context()))
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	out := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		out = append(out, KeyInfoOf(k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": out})
}

// createKey makes a key; the body, optional, is a KeyRequest.
func (h *handler) createKey(w http.ResponseWriter, r *http.Request) {
	var req KeyRequest
	if r.ContentLength != 0 && !decodeBody(w, r, &req, `{"name": "…", "scopes": ["ingest"], "expires_in": "90d"} or nothing`) {
		return
	}
	plain, key, err := CreateKey(r.Context(), h.store, WorkspaceFrom(r.Context()), req)
	if badChange(w, err) {
		return
	}
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	info := KeyInfoOf(key)
	info.Key = plain
	writeJSON(w, http.StatusCreated, info)
}

// RotatedKey answers POST /v1/keys/{prefix}/rotate.
type RotatedKey struct {
	KeyInfo
	// Old is the key replaced: revoked, or working until its expires.
	Old KeyInfo `json:"old"`
}

// rotateKey replaces a key; the body, optional, gives the old key's grace
// period ({"grace": "24h"}).
func (h *handler) rotateKey(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Grace store.Duration `json:"grace"`
	}
	if r.ContentLength != 0 && !decodeBody(w, r, &body, `{"grace": "24h"} or nothing`) {
		return
	}
	plain, key, old, err := RotateKey(r.Context(), h.store, WorkspaceFrom(r.Context()), r.PathValue("prefix"), time.Duration(body.Grace))
	if badChange(w, err) || h.keyPrefixFailed(w, r, err) {
		return
	}
	h.keys.forget(old.Hash)
	out := RotatedKey{KeyInfo: KeyInfoOf(key), Old: KeyInfoOf(old)}
	out.Key = plain
	writeJSON(w, http.StatusCreated, out)
}

// keyPrefixFailed answers an error of finding a key by its prefix: 404
// for none, 409 for several, 500 for anything else; false when err is nil.
func (h *handler) keyPrefixFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error(), "prefix")
	case errors.Is(err, ErrAmbiguousPrefix):
		writeError(w, http.StatusConflict, "ambiguous_prefix", err.Error(), "prefix")
	default:
		serverError(w, h.log, r, err)
	}
	return true
}

// badChange answers 400 for a *ChangeError.
func badChange(w http.ResponseWriter, err error) bool {
	var bad *ChangeError
	if errors.As(err, &bad) {
		writeError(w, http.StatusBadRequest, "invalid_request", bad.Error(), bad.Field)
		return true
	}
	return false
}

// revokeKey revokes the key and forgets it here at once, so the next
// request with it is refused.
func (h *handler) revokeKey(w http.ResponseWriter, r *http.Request) {
	key, err := RevokeKey(r.Context(), h.store, WorkspaceFrom(r.Context()), r.PathValue("prefix"))
	if h.keyPrefixFailed(w, r, err) {
		return
	}
	h.keys.forget(key.Hash)
	w.WriteHeader(http.StatusNoContent)
}

// patchWorkspace changes the workspace's settings as the workspace
// command does, and answers them as GET /v1/workspace does.
func (h *handler) patchWorkspace(w http.ResponseWriter, r *http.Request) {
	var change WorkspaceChange
	if !decodeBody(w, r, &change, "a workspace change") {
		return
	}
	rec := record{audit.WorkspaceUpdate, WorkspaceFrom(r.Context()), map[string]any{"fields": change.Fields()}}
	h.changeWorkspace(w, r, rec, func(ws *store.Workspace) (bool, error) { return change.Apply(ws) }, func(ws store.Workspace) {
		writeJSON(w, http.StatusOK, withoutPasswords(ws))
	})
}

func (h *handler) listUsers(w http.ResponseWriter, r *http.Request) {
	if !knownParams(w, r) {
		return
	}
	ws, ok := h.workspace(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": withoutPasswords(ws).Users})
}

func (h *handler) putUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Password string `json:"password"`
	}
	if !decodeBody(w, r, &body, `{"password": "…"}`) {
		return
	}
	name := r.PathValue("name")
	h.changeWorkspace(w, r, record{audit.UserPut, name, nil}, func(ws *store.Workspace) (bool, error) { return true, AddUser(ws, name, body.Password) }, func(store.Workspace) {
		writeJSON(w, http.StatusOK, store.User{Name: name})
	})
}

func (h *handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	h.changeWorkspace(w, r, record{audit.UserRemove, name, nil}, func(ws *store.Workspace) (bool, error) { return true, RemoveUser(ws, name) }, func(store.Workspace) {
		w.WriteHeader(http.StatusNoContent)
	})
}

// record is what the audit trail says of a change.
type record struct {
	action, target string
	details        any
}

// changeWorkspace reads the request's workspace, changes it with change,
// stores it and records rec in the audit trail when changed, and calls
// done; or answers the error.
func (h *handler) changeWorkspace(w http.ResponseWriter, r *http.Request, rec record, change func(*store.Workspace) (bool, error), done func(store.Workspace)) {
	ws, ok := h.workspace(w, r)
	if !ok {
		return
	}
	changed, err := change(&ws)
	var bad *ChangeError
	switch {
	case errors.As(err, &bad):
		writeError(w, http.StatusBadRequest, "invalid_request", bad.Error(), bad.Field)
		return
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error(), "")
		return
	case err != nil:
		serverError(w, h.log, r, err)
		return
	}
	if changed {
		if err := h.store.PutWorkspace(r.Context(), ws); err != nil {
			serverError(w, h.log, r, err)
			return
		}
		h.workspaces.forget(ws.Name)
		if err := audit.Record(r.Context(), h.store, ws.Name, rec.action, rec.target, rec.details); err != nil {
			serverError(w, h.log, r, err)
			return
		}
	}
	done(ws)
}

// Fields names the settings the change sets, by their JSON names.
func (c WorkspaceChange) Fields() []string {
	b, _ := json.Marshal(c)
	var m map[string]json.RawMessage
	json.Unmarshal(b, &m)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// getAudit answers the workspace's audit trail, newest first.
func (h *handler) getAudit(w http.ResponseWriter, r *http.Request) {
	if !knownParams(w, r) {
		return
	}
	q, err := AuditQueryOf(r.URL.Query())
	if badChange(w, err) {
		return
	}
	q.Workspace = WorkspaceFrom(r.Context())
	entries, err := h.store.Audit(r.Context(), q)
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	out := make([]AuditEntry, len(entries))
	for i, e := range entries {
		out[i] = auditEntry(e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": out})
}

// AuditEntry is one entry of GET /v1/audit.
type AuditEntry struct {
	Time      time.Time       `json:"time"`
	Workspace string          `json:"workspace"`
	Actor     string          `json:"actor"`
	Action    string          `json:"action"`
	Target    string          `json:"target"`
	Details   json.RawMessage `json:"details"`
}

func auditEntry(e store.AuditEntry) AuditEntry {
	return AuditEntry{Time: e.Time, Workspace: e.Workspace, Actor: e.Actor, Action: e.Action, Target: e.Target, Details: json.RawMessage(e.Details)}
}

// AuditQueryOf reads GET /v1/audit's parameters: from and to (RFC 3339
// times or dates, UTC; to exclusive), action (key, or key.create) and
// limit (default 100, at most store.MaxAuditLimit). A wrong one is a
// *ChangeError naming it.
func AuditQueryOf(v url.Values) (store.AuditQuery, error) {
	var q store.AuditQuery
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		text := v.Get(p.name)
		if text == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, text)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, text); err != nil {
				return q, &ChangeError{p.name, fmt.Sprintf("%q is neither a date (2026-01-31) nor an RFC 3339 time", text)}
			}
		}
		*p.dst = t
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		return q, &ChangeError{"to", "must be after from"}
	}
	q.Action = strings.TrimSpace(v.Get("action"))
	if text := v.Get("limit"); text != "" {
		n, err := strconv.Atoi(text)
		if err != nil || n < 1 || n > store.MaxAuditLimit {
			return q, &ChangeError{"limit", fmt.Sprintf("%q is not a number from 1 to %d", text, store.MaxAuditLimit)}
		}
		q.Limit = n
	}
	return q, nil
}

// decodeBody reads a JSON body of at most 1 MiB into v, refusing fields
// it does not know; or answers the 400.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, what string) bool {
	d := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", "the body must be "+what+" as JSON: "+err.Error(), "")
		return false
	}
	return true
}

// withoutPasswords is ws with its users' names only, and its tracker
// without its salt.
func withoutPasswords(ws store.Workspace) store.Workspace {
	users := make([]store.User, len(ws.Users))
	for i, u := range ws.Users {
		users[i] = store.User{Name: u.Name}
	}
	ws.Users = users
	ws.Tracker = ws.Tracker.Public() // nor the day's salt of visitor ids
	return ws
}
