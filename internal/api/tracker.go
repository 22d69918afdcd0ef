package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omnikpi/omnikpi/internal/audit"
	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/tracker"
	"github.com/omnikpi/omnikpi/internal/web"
)

// The site tracker (package tracker): its script at /t.js, the public
// endpoint its hits go to, /track/{tracker}, which takes no key (the id is
// public) but only page views and identify calls, each client address
// within its rate limit, and /v1/tracker, where a workspace finds its id
// and the tag to paste, made the first time it is asked for.

// Default rate limit of the tracker's endpoint, per client address: a
// visitor posts a hit per page; a shop's office or a mobile network may put
// many visitors behind one address.
const (
	DefaultTrackerRate  = 10 // hits a second
	DefaultTrackerBurst = 100
)

// trackerState is what the tracker's routes keep between requests.
type trackerState struct {
	limits *limiter // hits by client address
	now    func() time.Time
	mu     sync.Mutex
	byID   map[string]string // tracker id → workspace
	loaded time.Time         // when byID was last read from the store
	reload sync.Mutex        // one reload at a time
	change sync.Mutex        // one change of a tracker's settings (id, salt) at a time
}

func newTrackerState(rate float64, burst int) *trackerState {
	if rate == 0 {
		rate, burst = DefaultTrackerRate, DefaultTrackerBurst
	}
	return &trackerState{limits: newLimiter(rate, burst), now: time.Now, byID: map[string]string{}}
}

func (h *handler) trackerRoutes() []route {
	fn := func(f http.HandlerFunc) http.Handler { return f }
	return []route{
		{"GET /t.js", fn(serveTrackerScript)},
		{"POST /track/{tracker}", fn(h.shed(h.postTrack))},
		{"OPTIONS /track/{tracker}", fn(h.trackPreflight)},
		{"GET /v1/tracker", h.auth(h.getTracker)},
		{"PUT /v1/tracker", h.auth(h.putTracker)},
	}
}

var trackerScript = web.TrackerScript()

var trackerScriptETag = func() string {
	sum := sha256.Sum256(trackerScript)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// serveTrackerScript serves the script shops paste: cached for an hour,
// so a new version reaches the shops' visitors within one.
func serveTrackerScript(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("ETag", trackerScriptETag)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if r.Header.Get("If-None-Match") == trackerScriptETag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(trackerScript)
}

// trackCORS lets any site's pages read the answers of the tracker's
// endpoint, without credentials: the workspace's origins, when set, are
// checked by the handler, where a refusal can say why.
func trackCORS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if o := r.Header.Get("Origin"); o != "" {
		h.Set("Access-Control-Allow-Origin", o)
		h.Add("Vary", "Origin")
	} else {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	h.Set("Access-Control-Expose-Headers", "Retry-After")
}

func (h *handler) trackPreflight(w http.ResponseWriter, r *http.Request) {
	trackCORS(w, r)
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// TrackResult answers a hit: what became of its event, or why none was
// stored.
type TrackResult struct {
	Submitted
	Ignored string `json:"ignored,omitempty"` // "bot": a robot's user agent, not stored
}

// postTrack takes one hit of the script: a page view or an identify call,
// stored as an event of the tracker's workspace once durable, like any
// event of the API.
func (h *handler) postTrack(w http.ResponseWriter, r *http.Request) {
	trackCORS(w, r)
	t := h.track
	addr := clientAddr(r)
	if ok, wait := t.limits.take("addr " + addr); !ok {
		secs := strconv.Itoa(max(int(math.Ceil(wait.Seconds())), 1))
		w.Header().Set("Retry-After", secs)
		writeError(w, http.StatusTooManyRequests, "rate_limited", "too many hits from this address: retry after "+secs+" s", "")
		return
	}
	id := r.PathValue("tracker")
	ws, found, err := h.trackerWorkspace(r.Context(), id)
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	if !found {
		writeError(w, http.StatusNotFound, "unknown_tracker", "no workspace has the tracker id "+strconv.Quote(id)+": copy the tag from the dashboard's Funnel view or GET /v1/tracker", "tracker")
		return
	}
	if origins := ws.Tracker.Origins; len(origins) > 0 && !slices.Contains(origins, r.Header.Get("Origin")) {
		writeError(w, http.StatusForbidden, "forbidden_origin", "this tracker takes hits from the pages of "+strings.Join(origins, ", ")+" only, not "+strconv.Quote(r.Header.Get("Origin")), "Origin")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, tracker.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "a hit is at most "+strconv.Itoa(tracker.MaxBodyBytes)+" bytes", "")
		return
	} else if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", "reading the body: "+err.Error(), "")
		return
	}
	hit, err := tracker.ParseHit(body)
	var bad *tracker.HitError
	if errors.As(err, &bad) {
		h.countIngested("tracker", map[string]int{"rejected": 1})
		writeError(w, http.StatusBadRequest, "invalid_hit", bad.Error(), bad.Field)
		return
	}
	ua := r.Header.Get("User-Agent")
	if tracker.IsBot(ua) {
		h.countIngested("tracker", map[string]int{"bot": 1})
		writeJSON(w, http.StatusAccepted, TrackResult{Ignored: "bot"})
		return
	}
	now := t.now()
	salt, err := h.trackerSalt(r.Context(), ws, now)
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	visitor := tracker.VisitorID(salt, ws.Name, addr, ua)
	var e event.Event
	if hit.Kind == tracker.IdentifyType {
		customer := hit.Customer
		if !ws.KeepPhoneNumbers {
			customer = ingest.CustomerID(customer, ws.Name)
		}
		e, err = tracker.Identify(visitor, customer, now)
	} else {
		e, err = tracker.PageView(visitor, hit, now)
	}
	var fieldErr *event.FieldError
	switch {
	case errors.As(err, &bad):
		writeError(w, http.StatusBadRequest, "invalid_hit", bad.Error(), bad.Field)
		return
	case errors.As(err, &fieldErr):
		writeError(w, http.StatusBadRequest, "invalid_hit", fieldErr.Error(), fieldErr.Field)
		return
	case err != nil:
		serverError(w, h.log, r, err)
		return
	}
	e.Workspace = ws.Name
	_, n, ok := h.submit(w, r, "tracker", []event.Event{e}, 0)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, TrackResult{Submitted: n})
}

// clientAddr is the address a request comes from: the last address of
// X-Forwarded-For when it comes through a proxy on loopback or a private
// network (which added it), else the peer's own.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil && (ip.IsLoopback() || ip.IsPrivate()) {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(strings.Join(xff, ","), ",")
			if last := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(last) != nil {
				return last
			}
		}
	}
	return host
}

// trackerWorkspace finds the workspace whose tracker has id; the ids are
// read from the store again at most every cacheTTL, when one is not found.
func (h *handler) trackerWorkspace(ctx context.Context, id string) (store.Workspace, bool, error) {
	t := h.track
	if !strings.HasPrefix(id, store.TrackerIDPrefix) {
		return store.Workspace{}, false, nil
	}
	t.mu.Lock()
	name, ok := t.byID[id]
	stale := t.now().Sub(t.loaded) >= cacheTTL
	t.mu.Unlock()
	if ok {
		ws, err := h.settings(ctx, name)
		if err != nil || (ws.Tracker != nil && ws.Tracker.ID == id) {
			return ws, err == nil, err
		}
	}
	if !stale {
		return store.Workspace{}, false, nil
	}
	if err := h.loadTrackers(ctx); err != nil {
		return store.Workspace{}, false, err
	}
	t.mu.Lock()
	name, ok = t.byID[id]
	t.mu.Unlock()
	if !ok {
		return store.Workspace{}, false, nil
	}
	ws, err := h.settings(ctx, name)
	return ws, err == nil && ws.Tracker != nil && ws.Tracker.ID == id, err
}

// loadTrackers reads every workspace's tracker id.
func (h *handler) loadTrackers(ctx context.Context) error {
	t := h.track
	t.reload.Lock()
	defer t.reload.Unlock()
	t.mu.Lock()
	fresh := t.now().Sub(t.loaded) < cacheTTL
	t.mu.Unlock()
	if fresh { // another request has just read them
		return nil
	}
	names, err := h.store.WorkspaceNames(ctx)
	if err != nil {
		return err
	}
	byID := map[string]string{}
	for _, name := range names {
		ws, err := h.store.Workspace(ctx, name)
		if err != nil {
			return err
		}
		if ws.Tracker != nil && ws.Tracker.ID != "" {
			byID[ws.Tracker.ID] = name
		}
	}
	t.mu.Lock()
	t.byID, t.loaded = byID, t.now()
	t.mu.Unlock()
	return nil
}

// trackerSalt is the salt of the day of now of ws's visitor ids: the one
// stored for that day, or a new one stored in its place.
func (h *handler) trackerSalt(ctx context.Context, ws store.Workspace, now time.Time) (string, error) {
	day := tracker.Day(now)
	if ws.Tracker.SaltDay == day && ws.Tracker.Salt != "" {
		return ws.Tracker.Salt, nil
	}
	t := h.track
	t.change.Lock()
	defer t.change.Unlock()
	fresh, err := h.store.Workspace(ctx, ws.Name)
	if err != nil {
		return "", err
	}
	if fresh.Tracker == nil { // removed since: take the request's
		c := *ws.Tracker
		fresh.Tracker = &c
	}
	if fresh.Tracker.SaltDay != day || fresh.Tracker.Salt == "" {
		fresh.Tracker.Salt, fresh.Tracker.SaltDay = tracker.NewSalt(), day
		if err := h.store.PutWorkspace(ctx, fresh); err != nil {
			return "", err
		}
	}
	h.workspaces.forget(ws.Name)
	return fresh.Tracker.Salt, nil
}

// TrackerInfo answers /v1/tracker: the workspace's tracker and the tag
// that installs it.
type TrackerInfo struct {
	ID         string         `json:"id"`
	SessionGap store.Duration `json:"session_gap"`
	Origins    []string       `json:"origins"`  // the sites that may post; empty: any
	Script     string         `json:"script"`   // the script's address on this server
	Endpoint   string         `json:"endpoint"` // where its hits go
	Snippet    string         `json:"snippet"`  // the tag to paste into every page
	Identify   string         `json:"identify"` // the call that links a visitor to a customer id
}

// TrackerChange is what PUT /v1/tracker sets; an absent field is kept.
type TrackerChange struct {
	SessionGap *store.Duration `json:"session_gap,omitempty"`
	Origins    *[]string       `json:"origins,omitempty"`
}

// getTracker answers the workspace's tracker, made on the first request.
func (h *handler) getTracker(w http.ResponseWriter, r *http.Request) {
	if !knownParams(w, r) {
		return
	}
	tr, err := h.ensureTracker(r.Context(), WorkspaceFrom(r.Context()), nil)
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	writeJSON(w, http.StatusOK, trackerInfo(r, tr))
}

// putTracker changes the tracker's visit gap or origins.
func (h *handler) putTracker(w http.ResponseWriter, r *http.Request) {
	var c TrackerChange
	d := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", `the body must be a JSON object such as {"session_gap":"30m","origins":["https://shop.example.com"]}: `+err.Error(), "")
		return
	}
	if c.SessionGap != nil && (*c.SessionGap < store.Duration(time.Second) || *c.SessionGap > store.Duration(24*time.Hour)) {
		writeError(w, http.StatusBadRequest, "invalid_tracker", "session_gap must be from 1s to 24h, such as 30m", "session_gap")
		return
	}
	if c.Origins != nil {
		for i, o := range *c.Origins {
			norm, err := origin(o)
			if err != nil {
				writeError(w, http.StatusBadRequest, "invalid_tracker", "origins["+strconv.Itoa(i)+"]: "+err.Error(), "origins")
				return
			}
			(*c.Origins)[i] = norm
		}
	}
	tr, err := h.ensureTracker(r.Context(), WorkspaceFrom(r.Context()), &c)
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	writeJSON(w, http.StatusOK, trackerInfo(r, tr))
}

// origin reads a site's origin, scheme://host[:port], as a browser's
// Origin header writes it.
func origin(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", errors.New(strconv.Quote(s) + " is not an origin such as https://shop.example.com")
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

// ensureTracker returns the workspace's tracker, made and stored when it
// has none, with change applied.
func (h *handler) ensureTracker(ctx context.Context, workspace string, change *TrackerChange) (store.Tracker, error) {
	t := h.track
	t.change.Lock()
	defer t.change.Unlock()
	ws, _, err := store.SettingsOf(ctx, h.store.Workspace, workspace)
	if err != nil {
		return store.Tracker{}, err
	}
	var fields []string
	if ws.Tracker == nil {
		ws.Tracker = &store.Tracker{ID: store.NewTrackerID()}
		fields = append(fields, "tracker.id")
	}
	if change != nil && change.SessionGap != nil && *change.SessionGap != ws.Tracker.SessionGap {
		ws.Tracker.SessionGap = *change.SessionGap
		fields = append(fields, "tracker.session_gap")
	}
	if change != nil && change.Origins != nil && !slices.Equal(*change.Origins, ws.Tracker.Origins) {
		ws.Tracker.Origins = *change.Origins
		if len(ws.Tracker.Origins) == 0 {
			ws.Tracker.Origins = nil
		}
		fields = append(fields, "tracker.origins")
	}
	if len(fields) == 0 {
		return *ws.Tracker, nil
	}
	if err := h.store.PutWorkspace(ctx, ws); err != nil {
		return store.Tracker{}, err
	}
	h.workspaces.forget(workspace)
	t.mu.Lock()
	t.byID[ws.Tracker.ID] = workspace
	t.mu.Unlock()
	if err := audit.Record(ctx, h.store, workspace, audit.WorkspaceUpdate, workspace, map[string]any{"fields": fields}); err != nil {
		return store.Tracker{}, err
	}
	return *ws.Tracker, nil
}

// trackerInfo is tr as /v1/tracker answers it, with addresses on the
// server the request reached.
func trackerInfo(r *http.Request, tr store.Tracker) TrackerInfo {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	base := scheme + "://" + r.Host
	info := TrackerInfo{ID: tr.ID, SessionGap: store.Duration(tr.Gap()), Origins: tr.Origins, Script: base + "/t.js",
		Endpoint: base + "/track/" + tr.ID, Identify: "omnikpi('identify', CUSTOMER_ID);"}
	if info.Origins == nil {
		info.Origins = []string{}
	}
	info.Snippet = `<script defer src="` + info.Script + `" data-tracker="` + tr.ID + `"></script>`
	return info
}
