package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Cookie names of a dashboard session. The session cookie is HttpOnly; the
// CSRF cookie is read by the page's script, which sends it back in the
// X-CSRF-Token header of every change (double submit).
const (
	SessionCookie = "omnikpi_session"
	CSRFCookie    = "omnikpi_csrf"
	CSRFHeader    = "X-CSRF-Token"
)

// sessionTTL is how long a sign-in lasts.
const sessionTTL = 12 * time.Hour

// session is a signed-in dashboard user. Sessions live in the server's
// memory: a restart signs everyone out, which costs a sign-in and keeps no
// bearer secret in the store.
//
// A session holds one grant per workspace signed in to (a messaging
// provider's staff work for several): the page names the workspace of each
// request in the Omnikpi-Workspace header, so two tabs can show two
// workspaces; without it a request is for the first.
type session struct {
	grants  []grant
	csrf    string
	expires time.Time
}

// grant is a session's sign-in to one workspace.
type grant struct {
	workspace string
	user      string // empty when signed in with an API key
	caller    caller // who the requests come from, with their scopes
}

// grant returns the session's sign-in to workspace, the first for "".
func (s session) grant(workspace string) (grant, bool) {
	for _, g := range s.grants {
		if workspace == "" || g.workspace == workspace {
			return g, true
		}
	}
	return grant{}, false
}

type sessions struct {
	mu  sync.Mutex
	all map[string]session // by the hash of the cookie's token
	now func() time.Time
}

func newSessions() *sessions {
	return &sessions{all: map[string]session{}, now: time.Now}
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// open starts a session and returns its cookie token.
func (s *sessions) open(g grant) (string, session) {
	token := randomToken()
	sess := session{grants: []grant{g}, csrf: randomToken(), expires: s.now().Add(sessionTTL)}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.all { // expired sessions go when new ones come
		if now.After(v.expires) {
			delete(s.all, k)
		}
	}
	s.all[HashKey(token)] = sess
	return token, sess
}

// add signs the session of token in to one more workspace, or again to
// one it holds, which goes first.
func (s *sessions) add(token string, g grant) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.all[HashKey(token)]
	if !ok || s.now().After(sess.expires) {
		return session{}, false
	}
	grants := []grant{g}
	for _, old := range sess.grants {
		if old.workspace != g.workspace {
			grants = append(grants, old)
		}
	}
	sess.grants = grants
	s.all[HashKey(token)] = sess
	return sess, true
}

func (s *sessions) find(token string) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.all[HashKey(token)]
	if ok && s.now().After(sess.expires) {
		delete(s.all, HashKey(token))
		return session{}, false
	}
	return sess, ok
}

func (s *sessions) close(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.all, HashKey(token))
}

// signIn is the body of POST /v1/session: an API key, or a workspace's
// user and password.
type signIn struct {
	Key       string `json:"key"`
	Workspace string `json:"workspace"`
	User      string `json:"user"`
	Password  string `json:"password"`
}

// SessionInfo answers the session routes: the workspace the request is
// for, the user's language (empty for a key, whose page keeps its own),
// and every workspace the session is signed in to.
type SessionInfo struct {
	Workspace  string             `json:"workspace"`
	User       string             `json:"user"`
	TimeZone   string             `json:"time_zone"`
	Language   string             `json:"language,omitempty"`
	CSRFToken  string             `json:"csrf_token"`
	Workspaces []SessionWorkspace `json:"workspaces"`
}

// SessionWorkspace is one workspace a session is signed in to.
type SessionWorkspace struct {
	Workspace string `json:"workspace"`
	User      string `json:"user"`
	TimeZone  string `json:"time_zone"`
}

// postSession signs in and sets the session and CSRF cookies.
func (h *handler) postSession(w http.ResponseWriter, r *http.Request) {
	var in signIn
	d := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	d.DisallowUnknownFields()
	if err := d.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", `the body must be {"key": "..."} or {"workspace": "...", "user": "...", "password": "..."}: `+err.Error(), "")
		return
	}
	var workspace, userName string
	var who caller
	switch {
	case in.Key != "":
		key, err := h.keys.get(r.Context(), HashKey(in.Key), h.store.KeyByHash)
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusUnauthorized, "unauthorized", "unknown API key", "key")
			return
		} else if err != nil {
			serverError(w, h.log, r, err)
			return
		}
		if key.Expired(time.Now()) {
			writeError(w, http.StatusUnauthorized, "key_expired", "API key "+key.Prefix+"… expired at "+key.Expires.UTC().Format(time.RFC3339), "key")
			return
		}
		workspace, who = key.Workspace, keyCaller(key)
	case in.Workspace != "" && in.User != "":
		ws, err := h.store.Workspace(r.Context(), in.Workspace)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			serverError(w, h.log, r, err)
			return
		}
		user, found := ws.User(in.User)
		// A missing user costs the same hash as a wrong password, so the
		// answer's time does not tell which names exist.
		if !CheckPassword(cmpHash(user.PasswordHash, found), in.Password) || !found {
			writeError(w, http.StatusUnauthorized, "unauthorized", "wrong user or password", "password")
			return
		}
		workspace, userName, who = in.Workspace, in.User, userCaller(in.Workspace, in.User)
	default:
		writeError(w, http.StatusBadRequest, "invalid_body", "give an API key, or a workspace, user and password", "key")
		return
	}
	g := grant{workspace: workspace, user: userName, caller: who}
	// Signed in already, with the session's token: the session adds this
	// workspace, and the page switches between them. Without the token
	// (another site's form, a page that lost it) the sign-in opens a new
	// session, as any sign-in does.
	if c, err := r.Cookie(SessionCookie); err == nil {
		if old, ok := h.sessions.find(c.Value); ok && subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(old.csrf)) == 1 {
			if sess, ok := h.sessions.add(c.Value, g); ok {
				h.writeSession(w, r, sess, g)
				return
			}
		}
	}
	token, sess := h.sessions.open(g)
	secure := r.TLS != nil
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL.Seconds())})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: sess.csrf, Path: "/", Secure: secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL.Seconds())})
	h.writeSession(w, r, sess, g)
}

// dummyHash is checked against when a user does not exist, so that a
// wrong user name takes as long as a wrong password. Made at the first
// sign-in: its 600,000 rounds would otherwise delay the start of every
// command of the binary.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("not a password of anyone")
	return h
})

func cmpHash(stored string, found bool) string {
	if found {
		return stored
	}
	return dummyHash()
}

// getSession tells who is signed in, for the workspace the request
// names.
func (h *handler) getSession(w http.ResponseWriter, r *http.Request) {
	sess, g, ok := h.cookieSession(w, r, func() {
		writeError(w, http.StatusUnauthorized, "unauthorized", "not signed in", "")
	})
	if ok {
		h.writeSession(w, r, sess, g)
	}
}

// cookieSession is the request's session and its sign-in to the
// workspace the request names, or the error answered: noCookie's when
// the request carries no session cookie.
func (h *handler) cookieSession(w http.ResponseWriter, r *http.Request, noCookie func()) (session, grant, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		noCookie()
		return session{}, grant{}, false
	}
	sess, ok := h.sessionOf(w, c)
	if !ok {
		return session{}, grant{}, false
	}
	g, ok := sessionGrant(w, r, sess)
	return sess, g, ok
}

// sessionOf is the session of cookie c, or a 401 when it has ended.
func (h *handler) sessionOf(w http.ResponseWriter, c *http.Cookie) (session, bool) {
	sess, ok := h.sessions.find(c.Value)
	if !ok {
		writeError(w, http.StatusUnauthorized, "unauthorized", "the session has ended: sign in again", "")
	}
	return sess, ok
}

// sessionGrant is the session's sign-in to the workspace the request
// names in its Omnikpi-Workspace header, or else in workspace= (a link,
// such as a CSV download, carries no header); or a 403 naming it.
func sessionGrant(w http.ResponseWriter, r *http.Request, sess session) (grant, bool) {
	name, field := r.Header.Get(WorkspaceHeader), WorkspaceHeader
	if name == "" {
		name, field = r.URL.Query().Get("workspace"), "workspace"
	}
	g, ok := sess.grant(name)
	if !ok {
		writeError(w, http.StatusForbidden, "forbidden", "this session is not signed in to workspace "+strconv.Quote(name)+": sign in to it first", field)
	}
	return g, ok
}

func (h *handler) writeSession(w http.ResponseWriter, r *http.Request, sess session, current grant) {
	h.dashboards.opened(current.workspace, time.Now())
	info := SessionInfo{Workspace: current.workspace, User: current.user, TimeZone: "UTC", CSRFToken: sess.csrf}
	for _, g := range sess.grants {
		sw := SessionWorkspace{Workspace: g.workspace, User: g.user, TimeZone: "UTC"}
		if ws, err := h.settings(r.Context(), g.workspace); err == nil {
			sw.TimeZone = ws.TimeZone
			if u, ok := ws.User(g.user); ok && g.workspace == current.workspace {
				info.Language = u.Language
			}
		}
		if g.workspace == current.workspace {
			info.TimeZone = sw.TimeZone
		}
		info.Workspaces = append(info.Workspaces, sw)
	}
	writeJSON(w, http.StatusOK, info)
}

// patchSession changes the signed-in user's language, kept in each of the
// session's workspaces where the session is a user (a key's page keeps its
// own choice).
func (h *handler) patchSession(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Language string `json:"language"`
	}
	d := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	d.DisallowUnknownFields()
	if err := d.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", `the body must be {"language": "..."}: `+err.Error(), "")
		return
	}
	lang, err := kpi.Language(in.Language)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_language", err.Error(), "language")
		return
	}
	noSession := func() {
		writeError(w, http.StatusBadRequest, "no_session", "the language belongs to a dashboard session: sign in at POST /v1/session", "")
	}
	if r.Header.Get("Authorization") != "" { // authenticated by a key, not the session
		noSession()
		return
	}
	sess, current, ok := h.cookieSession(w, r, noSession)
	if !ok {
		return
	}
	for _, g := range sess.grants {
		if g.user == "" {
			continue
		}
		ws, err := h.store.Workspace(r.Context(), g.workspace)
		if errors.Is(err, store.ErrNotFound) {
			continue // erased since the sign-in
		} else if err != nil {
			serverError(w, h.log, r, err)
			return
		}
		u, found := ws.User(g.user)
		if !found || u.Language == lang {
			continue
		}
		u.Language = lang
		ws.PutUser(u)
		if err := h.store.PutWorkspace(r.Context(), ws); err != nil {
			serverError(w, h.log, r, err)
			return
		}
		h.workspaces.forget(ws.Name)
	}
	h.writeSession(w, r, sess, current)
}

// deleteSession signs out (the auth check has already required the CSRF
// token) and clears both cookies.
func (h *handler) deleteSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		h.sessions.close(c.Value)
	}
	for _, name := range []string{SessionCookie, CSRFCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: name == SessionCookie,
			SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	}
	w.WriteHeader(http.StatusNoContent)
}

// fromSession authenticates a request by its session cookie. A change
// (any method but GET and HEAD) also needs the session's CSRF token in the
// X-CSRF-Token header, which another site's page cannot read.
func (h *handler) fromSession(w http.ResponseWriter, r *http.Request, c *http.Cookie) (grant, bool) {
	sess, ok := h.sessionOf(w, c)
	if !ok {
		return grant{}, false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead &&
		subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(sess.csrf)) != 1 {
		writeError(w, http.StatusForbidden, "csrf", "a change made with a session needs its token in the "+CSRFHeader+" header", CSRFHeader)
		return grant{}, false
	}
	return sessionGrant(w, r, sess)
}
