package api

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omnikpi/omnikpi/internal/audit"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
)

// routeScopes is the scope each route that takes a key or a session
// needs. The views (GET /v1/kpis, /v1/funnel, … /v1/alerts) need read;
// a route not listed, such as every admin route, needs admin, so that a
// new route is closed until it is listed here.
var routeScopes = map[string]string{
	"POST /v1/events":        store.ScopeIngest,
	"GET /v1/catalogue":      store.ScopeRead,
	"GET /v1/workspace":      store.ScopeRead,
	"GET /v1/tracker":        store.ScopeRead, // made on the first request: a public id
	"PUT /v1/tracker":        store.ScopeAdmin,
	"GET /v1/links":          store.ScopeRead,
	"PUT /v1/alerts/{id}":    store.ScopeAdmin,
	"DELETE /v1/alerts/{id}": store.ScopeAdmin,
	"DELETE /v1/session":     "", // signing out needs no scope
	"PATCH /v1/session":      "", // nor choosing a language
}

func init() {
	for _, v := range kpi.Views() {
		routeScopes["GET "+v.Path] = store.ScopeRead
	}
}

// RouteScope is the scope a route's pattern needs of a key or session.
func RouteScope(pattern string) string {
	if s, ok := routeScopes[pattern]; ok {
		return s
	}
	return store.ScopeAdmin
}

// caller is who a request comes from, as auth found it.
type caller struct {
	workspace string
	actor     string   // for the audit trail
	scopes    []string // what it may do
	keyHash   string   // the key's hash, whose last use is recorded; "" for others
	bucket    string   // its rate limit's bucket; "" for none (the admin token)
}

func (c caller) has(scope string) bool {
	for _, s := range c.scopes {
		if s == scope {
			return true
		}
	}
	return false
}

func keyCaller(k store.Key) caller {
	actor := "key " + k.Prefix
	if k.Name != "" {
		actor += " (" + k.Name + ")"
	}
	return caller{workspace: k.Workspace, actor: actor, scopes: k.Settings().Scopes, keyHash: k.Hash, bucket: "key " + k.Hash}
}

// userCaller is a dashboard user: they read and change the workspace's
// settings and alert rules; events come from integrations' keys.
func userCaller(workspace, user string) caller {
	return caller{workspace: workspace, actor: "user " + user, scopes: []string{store.ScopeRead, store.ScopeAdmin},
		bucket: "user " + workspace + "/" + user}
}

// adminCaller is the server's admin token, acting for workspace: every
// scope, and no rate limit (it is the operator's own commands, such as
// an import through the server).
func adminCaller(workspace string) caller {
	return caller{workspace: workspace, actor: "admin token", scopes: store.AllScopes}
}

// serveAs serves the request for c: within its rate limit, with the scope
// its route needs, its use recorded and its actor in the context for the
// audit trail.
func (h *handler) serveAs(w http.ResponseWriter, r *http.Request, c caller, next http.HandlerFunc) {
	if c.bucket != "" {
		if ok, wait := h.limits.take(c.bucket); !ok {
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			writeError(w, http.StatusTooManyRequests, "rate_limited",
				"too many requests with this "+strings.SplitN(c.actor, " ", 2)[0]+": retry after "+strconv.Itoa(max(secs, 1))+" s", "Authorization")
			return
		}
	}
	if need := RouteScope(r.Pattern); need != "" && !c.has(need) {
		writeError(w, http.StatusForbidden, "insufficient_scope",
			r.Pattern+" needs the "+need+" scope; "+c.actor+" has "+strings.Join(c.scopes, ", "), "scope")
		return
	}
	if c.keyHash != "" {
		h.uses.touch(c.keyHash, time.Now())
	}
	h.serveIn(w, r.WithContext(audit.As(r.Context(), c.actor)), c.workspace, next)
}

// limiter is a token bucket per key (or session user): each holds up to
// burst requests and refills at rate a second, so one integration's
// flood is answered 429 while the others go on.
type limiter struct {
	rate  float64 // requests a second; 0: no limit
	burst float64
	mu    sync.Mutex
	all   map[string]*bucket
	now   func() time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	if burst < 1 {
		burst = 1
	}
	return &limiter{rate: rate, burst: float64(burst), all: map[string]*bucket{}, now: time.Now}
}

// take spends a request of id's bucket, or says how long until one is
// there.
func (l *limiter) take(id string) (bool, time.Duration) {
	if l.rate <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.all[id]
	if !ok {
		if len(l.all) >= 100_000 { // bounded: full buckets are the same as none
			for k, b := range l.all {
				if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
					delete(l.all, k)
				}
			}
		}
		b = &bucket{tokens: l.burst, at: now}
		l.all[id] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// KeyUseInterval is how often the last uses of keys are written to the
// store: a request with a key notes its use in memory only.
const KeyUseInterval = time.Minute

// KeyUses gathers when keys were last used and writes them to the store
// in one batch every KeyUseInterval, before keys are listed, and when
// Flush is called (serve calls it as it stops).
type KeyUses struct {
	s        store.Store
	log      *slog.Logger
	mu       sync.Mutex
	pending  map[string]time.Time // by key hash
	written  time.Time            // when pending was last taken to the store
	flushing bool
}

// NewKeyUses records the uses of keys in s.
func NewKeyUses(s store.Store, log *slog.Logger) *KeyUses {
	return &KeyUses{s: s, log: log, pending: map[string]time.Time{}, written: time.Now()}
}

// touch notes a use of the key; past KeyUseInterval since the last write,
// it writes the batch in the background.
func (u *KeyUses) touch(hash string, now time.Time) {
	u.mu.Lock()
	u.pending[hash] = now
	due := !u.flushing && now.Sub(u.written) >= KeyUseInterval
	if due {
		u.flushing = true
	}
	u.mu.Unlock()
	if due {
		go func() {
			if err := u.Flush(context.Background()); err != nil {
				u.log.Warn("record the last use of keys", "err", err)
			}
			u.mu.Lock()
			u.flushing = false
			u.mu.Unlock()
		}()
	}
}

// Flush writes the uses noted since the last write; on failure they are
// kept for the next.
func (u *KeyUses) Flush(ctx context.Context) error {
	u.mu.Lock()
	batch := u.pending
	u.pending, u.written = map[string]time.Time{}, time.Now()
	u.mu.Unlock()
	err := u.s.RecordKeyUses(ctx, batch)
	if err != nil {
		u.mu.Lock()
		for h, t := range batch {
			if t.After(u.pending[h]) {
				u.pending[h] = t
			}
		}
		u.mu.Unlock()
	}
	return err
}
