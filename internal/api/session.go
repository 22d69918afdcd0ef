package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

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
type session struct {
	workspace string
	user      string // empty when signed in with an API key
	csrf      string
	expires   time.Time
	caller    caller // who the session's requests come from, with their scopes
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
func (s *sessions) open(workspace, user string, c caller) (string, session) {
	token := randomToken()
	sess := session{workspace: workspace, user: user, csrf: randomToken(), expires: s.now().Add(sessionTTL), caller: c}
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

// SessionInfo answers the session routes.
type SessionInfo struct {
	Workspace string `json:"workspace"`
	User      string `json:"user"`
	TimeZone  string `json:"time_zone"`
	CSRFToken string `json:"csrf_token"`
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
	var workspace string
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
		workspace, who = in.Workspace, userCaller(in.Workspace, in.User)
	default:
		writeError(w, http.StatusBadRequest, "invalid_body", "give an API key, or a workspace, user and password", "key")
		return
	}
	token, sess := h.sessions.open(workspace, in.User, who)
	secure := r.TLS != nil
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL.Seconds())})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: sess.csrf, Path: "/", Secure: secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL.Seconds())})
	h.writeSession(w, r, sess)
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

// getSession tells who is signed in.
func (h *handler) getSession(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		writeError(w, http.StatusUnauthorized, "unauthorized", "not signed in", "")
		return
	}
	sess, ok := h.sessions.find(c.Value)
	if !ok {
		writeError(w, http.StatusUnauthorized, "unauthorized", "the session has ended: sign in again", "")
		return
	}
	h.writeSession(w, r, sess)
}

func (h *handler) writeSession(w http.ResponseWriter, r *http.Request, sess session) {
	tz := "UTC"
	if ws, err := h.settings(r.Context(), sess.workspace); err == nil {
		tz = ws.TimeZone
	}
	writeJSON(w, http.StatusOK, SessionInfo{Workspace: sess.workspace, User: sess.user, TimeZone: tz, CSRFToken: sess.csrf})
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
func (h *handler) fromSession(w http.ResponseWriter, r *http.Request, c *http.Cookie) (session, bool) {
	sess, ok := h.sessions.find(c.Value)
	if !ok {
		writeError(w, http.StatusUnauthorized, "unauthorized", "the session has ended: sign in again", "")
		return sess, false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead &&
		subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(sess.csrf)) != 1 {
		writeError(w, http.StatusForbidden, "csrf", "a change made with a session needs its token in the "+CSRFHeader+" header", CSRFHeader)
		return sess, false
	}
	return sess, true
}
