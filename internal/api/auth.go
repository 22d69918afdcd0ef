package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/store"
)

type ctxKey int

const workspaceKey ctxKey = iota

// WorkspaceFrom returns the authenticated workspace of a request.
func WorkspaceFrom(ctx context.Context) string {
	ws, _ := ctx.Value(workspaceKey).(string)
	return ws
}

// KeyPrefix starts every API key, so a leaked one is easy to recognise.
const KeyPrefix = "ok_"

// NewKey makes an API key for workspace: the plain key, shown once, and
// what is stored of it. Keys carry 256 random bits, so a plain SHA-256 is
// enough to store them safely; a slow password hash would only slow down
// every request.
func NewKey(workspace string) (string, store.Key) {
	b := make([]byte, 32)
	rand.Read(b)
	plain := KeyPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	return plain, store.Key{Hash: HashKey(plain), Prefix: plain[:10], Workspace: workspace, Created: time.Now().UTC()}
}

// HashKey is how a key is stored and looked up.
func HashKey(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// auth requires a valid Bearer key, the admin token with a
// WorkspaceHeader, or a dashboard session cookie, and puts its workspace
// in the context.
func (h *handler) auth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		plain, ok := strings.CutPrefix(header, "Bearer ")
		if c, err := r.Cookie(SessionCookie); header == "" && err == nil {
			g, ok := h.fromSession(w, r, c)
			if !ok {
				return
			}
			h.serveAs(w, r, g.caller, next)
			return
		}
		if header == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="omnikpi"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing Authorization: Bearer KEY header", "Authorization")
			return
		}
		if !ok || strings.TrimSpace(plain) == "" {
			writeError(w, http.StatusUnauthorized, "unauthorized", "the Authorization header must be 'Bearer KEY'", "Authorization")
			return
		}
		if h.isAdmin(strings.TrimSpace(plain)) {
			if name, ok := h.adminWorkspace(w, r, false); ok {
				h.serveAs(w, r, adminCaller(name), next)
			}
			return
		}
		key, ok := h.key(w, r, strings.TrimSpace(plain))
		if ok {
			h.serveAs(w, r, keyCaller(key), next)
		}
	})
}

// key finds the request's API key and checks that it has not expired;
// or answers the 401.
func (h *handler) key(w http.ResponseWriter, r *http.Request, plain string) (store.Key, bool) {
	key, err := h.keys.get(r.Context(), HashKey(plain), h.store.KeyByHash)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusUnauthorized, "unauthorized", "unknown API key", "Authorization")
		return key, false
	}
	if err != nil {
		serverError(w, h.log, r, err)
		return key, false
	}
	if key.Expired(time.Now()) {
		writeError(w, http.StatusUnauthorized, "key_expired", "API key "+key.Prefix+"… expired at "+key.Expires.UTC().Format(time.RFC3339), "Authorization")
		return key, false
	}
	return key, true
}

// serveIn serves the request inside workspace. A request naming another
// workspace in ?workspace= or the WorkspaceHeader is refused with 403.
func (h *handler) serveIn(w http.ResponseWriter, r *http.Request, workspace string, next http.HandlerFunc) {
	if ws := r.Header.Get(WorkspaceHeader); ws != "" && strings.TrimSpace(ws) != workspace {
		writeError(w, http.StatusForbidden, "forbidden", "you are signed in to another workspace than "+ws, WorkspaceHeader)
		return
	}
	if ws := r.URL.Query().Get("workspace"); ws != "" && ws != workspace {
		writeError(w, http.StatusForbidden, "forbidden", "you are signed in to another workspace than "+ws, "workspace")
		return
	}
	next(w, r.WithContext(context.WithValue(r.Context(), workspaceKey, workspace)))
}
