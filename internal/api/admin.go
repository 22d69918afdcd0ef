package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

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
		{"DELETE /v1/keys/{prefix}", h.admin(needsWorkspace, h.revokeKey)},
		{"GET /v1/users", h.admin(needsWorkspace, h.listUsers)},
		{"PUT /v1/users/{name}", h.admin(createsWorkspace, h.putUser)},
		{"DELETE /v1/users/{name}", h.admin(needsWorkspace, h.deleteUser)},
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

// admin serves next only for the admin token.
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
			if _, err := h.keys.get(r.Context(), HashKey(plain), h.store.KeyByHash); err == nil {
				writeError(w, http.StatusForbidden, "forbidden", "this route needs the server's admin token, not an API key", "Authorization")
				return
			}
			writeError(w, http.StatusUnauthorized, "unauthorized", "not the server's admin token", "Authorization")
			return
		}
		if scope == noWorkspace {
			next(w, r)
			return
		}
		name, ok := h.adminWorkspace(w, r, scope == createsWorkspace)
		if ok {
			h.serveIn(w, r, name, next)
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

// CreateKey makes and stores a new API key of the workspace, creating the
// workspace when it is new. The plain key is returned only here.
func CreateKey(ctx context.Context, s store.Store, workspace string) (string, store.Key, error) {
	if _, err := EnsureWorkspace(ctx, s, workspace); err != nil {
		return "", store.Key{}, err
	}
	plain, key := NewKey(workspace)
	if err := s.AddKey(ctx, key); err != nil {
		return "", store.Key{}, err
	}
	return plain, key, nil
}

// ErrAmbiguousPrefix is returned when several keys start alike.
var ErrAmbiguousPrefix = errors.New("several keys have this prefix")

// RevokeKey revokes the workspace's key named by its listed prefix (a
// trailing "…" is ignored) or by the whole key. It returns the revoked key;
// an error wrapping store.ErrNotFound when the workspace has no such key,
// or ErrAmbiguousPrefix.
func RevokeKey(ctx context.Context, s store.Store, workspace, prefix string) (store.Key, error) {
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
		return found[0], s.RevokeKey(ctx, found[0].Hash)
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
	StopWords        []string        `json:"stop_words,omitempty"`
	DefaultStopWords bool            `json:"default_stop_words,omitempty"`
	RateCard         *store.RateCard `json:"rate_card,omitempty"`
	RemoveRateCard   bool            `json:"remove_rate_card,omitempty"`
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
	switch {
	case c.RemoveRateCard && c.RateCard != nil:
		return false, &ChangeError{"rate_card", "give rate_card or remove_rate_card, not both"}
	case c.RemoveRateCard:
		next.RateCard, changed = nil, true
	case c.RateCard != nil:
		card := *c.RateCard
		card.Currency = strings.ToUpper(card.Currency)
		if err := card.Validate(); err != nil {
			return false, &ChangeError{"rate_card", strings.TrimPrefix(err.Error(), "rate card: ")}
		}
		next.RateCard, changed = &card, true
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
	Key       string    `json:"key,omitempty"` // the plain key, only when it was just created
}

func keyInfo(k store.Key) KeyInfo {
	return KeyInfo{Prefix: k.Prefix, Workspace: k.Workspace, Created: k.Created}
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
	keys, err := h.store.Keys(r.Context(), WorkspaceFrom(r.Context()))
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	out := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		out = append(out, keyInfo(k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": out})
}

func (h *handler) createKey(w http.ResponseWriter, r *http.Request) {
	plain, key, err := CreateKey(r.Context(), h.store, WorkspaceFrom(r.Context()))
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	info := keyInfo(key)
	info.Key = plain
	writeJSON(w, http.StatusCreated, info)
}

// revokeKey revokes the key and forgets it here at once, so the next
// request with it is refused.
func (h *handler) revokeKey(w http.ResponseWriter, r *http.Request) {
	key, err := RevokeKey(r.Context(), h.store, WorkspaceFrom(r.Context()), r.PathValue("prefix"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error(), "prefix")
		return
	case errors.Is(err, ErrAmbiguousPrefix):
		writeError(w, http.StatusConflict, "ambiguous_prefix", err.Error(), "prefix")
		return
	case err != nil:
		serverError(w, h.log, r, err)
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
	h.changeWorkspace(w, r, func(ws *store.Workspace) (bool, error) { return change.Apply(ws) }, func(ws store.Workspace) {
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
	h.changeWorkspace(w, r, func(ws *store.Workspace) (bool, error) { return true, AddUser(ws, name, body.Password) }, func(store.Workspace) {
		writeJSON(w, http.StatusOK, store.User{Name: name})
	})
}

func (h *handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	h.changeWorkspace(w, r, func(ws *store.Workspace) (bool, error) { return true, RemoveUser(ws, name) }, func(store.Workspace) {
		w.WriteHeader(http.StatusNoContent)
	})
}

// changeWorkspace reads the request's workspace, changes it with change,
// stores it when changed and calls done; or answers the error.
func (h *handler) changeWorkspace(w http.ResponseWriter, r *http.Request, change func(*store.Workspace) (bool, error), done func(store.Workspace)) {
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
	}
	done(ws)
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

// withoutPasswords is ws with its users' names only.
func withoutPasswords(ws store.Workspace) store.Workspace {
	users := make([]store.User, len(ws.Users))
	for i, u := range ws.Users {
		users[i] = store.User{Name: u.Name}
	}
	ws.Users = users
	return ws
}
