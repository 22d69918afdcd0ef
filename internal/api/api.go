// Package api is omnikpi's REST API under /v1.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/omnikpi/omnikpi/internal/config"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/journal"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/metrics"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/web"
)

// Options tune the API; zero values take the defaults.
type Options struct {
	MaxBodyBytes int64 // largest accepted request body, default 16 MiB
	// Sources are the webhook sources, each at /webhooks/NAME (see
	// config.Config.Webhooks).
	Sources []ingest.Source
	// WhatsApp configures the WhatsApp Cloud API webhook when Sources
	// holds no WhatsApp source; off when not configured.
	WhatsApp config.WhatsApp
	// MaxInFlight bounds the ingestion requests held at once (reading,
	// decoding, waiting to be durable); beyond it the server answers 503
	// with Retry-After at once instead of queueing without bound. Default
	// 64.
	MaxInFlight int
	// Metrics collects the server's metrics, shown at /metrics; a new
	// registry when nil.
	Metrics *metrics.Registry
	// AdminToken is the credential of the omnikpi commands on the server's
	// machine: with an Omnikpi-Workspace header it acts for that workspace
	// on every route, and it alone may use the admin routes (keys, users,
	// settings). None when empty.
	AdminToken string
	// Journal is the ingestion journal whose lag /metrics shows and
	// /readyz checks; none when nil.
	Journal *journal.Journal
	// MaxLag is the age of the oldest unapplied journal entry past which
	// /readyz reports the server not ready, default 60 s.
	MaxLag time.Duration
	// RateLimit is the requests a second each API key (and each signed-in
	// user) may make, on average; beyond its RateBurst they are answered
	// 429 with Retry-After. 0: no limit. The admin token has none.
	RateLimit float64
	RateBurst int // requests a key may make at once; at least 1
	// KeyUses records when keys were last used; one of the API's own when
	// nil. serve makes it to Flush it as it stops.
	KeyUses *KeyUses
	// TrackerRateLimit is the hits a second each client address may post
	// to the site tracker's endpoint, on average, beyond TrackerRateBurst
	// at once; 0: DefaultTrackerRate and DefaultTrackerBurst; below 0: no
	// limit.
	TrackerRateLimit float64
	TrackerRateBurst int
	// Background, when set, runs the server's background work until it
	// ends: keeping the overview's answers of the workspaces whose
	// dashboard is in use computed ahead (with a Journal). BackgroundDone,
	// when set, is done once that work has stopped, so the store can
	// close after it.
	Background     context.Context
	BackgroundDone *sync.WaitGroup
	// Changes counts the changes made to the store beside the API's
	// requests (scheduled retention), which the answer cache heeds.
	Changes *Changes
}

// DefaultMaxBodyBytes is the default request body limit.
const DefaultMaxBodyBytes = 16 << 20

type handler struct {
	store      store.Store
	ingester   Submitter
	engine     *kpi.Engine
	log        *slog.Logger
	maxBody    int64
	sources    []ingest.Source            // webhook sources, configured or not
	inflight   chan struct{}              // a slot per ingestion request being served
	keys       *ttlCache[store.Key]       // by key hash
	workspaces *ttlCache[store.Workspace] // by name
	sessions   *sessions
	metrics    *metrics.Registry
	adminToken string
	journal    *journal.Journal
	maxLag     time.Duration
	limits     *limiter // requests by key
	uses       *KeyUses // last uses of keys, written in batches
	track      *trackerState
	answers    *answerCache // the views' answers, with a journal
	dashboards *dashboards  // whose dashboard is in use, to keep its overview warm
}

// New returns the API with every route.
func New(s store.Store, ingester Submitter, engine *kpi.Engine, log *slog.Logger, opts Options) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 64
	}
	if opts.MaxLag <= 0 {
		opts.MaxLag = time.Minute
	}
	h := &handler{store: s, ingester: ingester, engine: engine, log: log, maxBody: opts.MaxBodyBytes, sources: opts.WebhookSources(),
		inflight: make(chan struct{}, opts.MaxInFlight), keys: newCache[store.Key](), workspaces: newCache[store.Workspace](), sessions: newSessions(), metrics: opts.Metrics,
		journal: opts.Journal, maxLag: opts.MaxLag}
	h.adminToken = opts.AdminToken
	h.limits, h.uses = newLimiter(opts.RateLimit, opts.RateBurst), opts.KeyUses
	h.track = newTrackerState(opts.TrackerRateLimit, opts.TrackerRateBurst)
	h.answers = newAnswerCache()
	h.answers.outside = opts.Changes
	h.dashboards = newDashboards()
	if opts.Background != nil {
		if opts.BackgroundDone != nil {
			opts.BackgroundDone.Add(1)
		}
		go func() {
			if opts.BackgroundDone != nil {
				defer opts.BackgroundDone.Done()
			}
			h.warmDashboards(opts.Background)
		}()
	}
	if h.uses == nil {
		h.uses = NewKeyUses(s, log)
	}
	if h.metrics == nil {
		h.metrics = metrics.New()
	}
	h.registerGauges()
	if engine.Observe == nil {
		engine.Observe = func(query string, took time.Duration) {
			h.metrics.Observe(metricQueries, "KPI query latency by named query (KPI family).", []string{"query"}, []string{query}, took)
		}
	}
	mux := http.NewServeMux()
	for _, rt := range h.routes() {
		mux.Handle(rt.pattern, rt.handler)
	}
	return h.timed(h.answers.noteChanges(mux))
}

// route is one pattern of the API and what serves it.
type route struct {
	pattern string
	handler http.Handler
}

// Routes lists the pattern of every route New registers with opts; the
// OpenAPI document must describe each (see TestOpenAPI).
func Routes(opts Options) []string {
	h := &handler{sources: opts.WebhookSources()}
	var out []string
	for _, rt := range h.routes() {
		out = append(out, rt.pattern)
	}
	return out
}

func (h *handler) routes() []route {
	fn := func(f http.HandlerFunc) http.Handler { return f }
	rs := []route{
		{"GET /healthz", fn(h.health)},
		{"GET /readyz", fn(h.ready)},
		{"GET /metrics", fn(h.getMetrics)},
		{"GET /v1/openapi.json", gzipped(fn(serveOpenAPI))},
		{"POST /v1/session", fn(h.postSession)},
		{"GET /v1/session", fn(h.getSession)},
		{"PATCH /v1/session", h.auth(h.patchSession)},
		{"DELETE /v1/session", h.auth(h.deleteSession)},
		{"POST /v1/events", h.auth(h.shed(h.postEvents))},
		{"POST /v1/meta/analytics", h.auth(h.shed(h.postMetaAnalytics))},
		{"PUT /v1/alerts/{id}", h.auth(h.putAlert)},
		{"DELETE /v1/alerts/{id}", h.auth(h.deleteAlert)},
		{"GET /v1/catalogue", gzipped(h.auth(h.getCatalogue))},
		{"GET /v1/workspace", h.auth(h.getWorkspace)},
		{"GET /v1/links", h.auth(h.getLinks)},
		{"POST /v1/links", h.auth(h.postLink)},
	}
	for _, v := range kpi.Views() { // GET /v1/kpis, /v1/funnel, /v1/alerts…
		rs = append(rs, route{"GET " + v.Path, gzipped(h.auth(h.cachedView(v)))})
	}
	rs = append(rs, h.adminRoutes()...)
	rs = append(rs, h.erasureRoutes()...)
	rs = append(rs, h.quarantineRoutes()...)
	rs = append(rs, h.webhookRoutes()...)
	rs = append(rs, h.trackerRoutes()...)
	dashboard := gzipped(web.Handler())
	return append(rs,
		route{"GET /{$}", dashboard},
		route{"GET /static/", dashboard},
		route{"/v1/", fn(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path, "")
		})},
	)
}

// shed serves next while an ingestion slot is free, and otherwise answers
// 503 with Retry-After: a client backs off and retries, and the server's
// memory stays bounded by the slots times the body limit.
func (h *handler) shed(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case h.inflight <- struct{}{}:
			defer func() { <-h.inflight }()
			next(w, r)
		default:
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "overloaded", "the server is at its limit of concurrent ingestion requests: retry after a second", "")
		}
	}
}

func (h *handler) health(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}
