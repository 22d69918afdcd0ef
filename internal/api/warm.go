package api

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/omnikpi/omnikpi/internal/kpi"
)

// Warming: a seller opens the dashboard on its overview for the last 30
// days, whose two answers (the headline KPIs against the previous period,
// and by day) take seconds to compute on a large workspace. The server
// computes them ahead, into the answer cache, for the few workspaces whose
// dashboard was in use lately, so the overview is drawn from the cache.
// New events anywhere make every answer stale (the cache knows the
// journal's position, not whose events it applied), so the work is
// bounded: a few workspaces, each at most once a minute.
var (
	warmEvery      = 15 * time.Second // how often the warm answers are checked
	warmAtMostOnce = time.Minute      // a workspace's answers are recomputed at most this often
)

const (
	warmWorkspaces = 4 // workspaces kept warm at most, the most recently used
	warmSeenFor    = 12 * time.Hour
)

// dashboards remembers when each workspace's dashboard was last opened.
type dashboards struct {
	mu     sync.Mutex
	seen   map[string]time.Time
	warmed map[string]time.Time // when its answers were last computed
}

func newDashboards() *dashboards {
	return &dashboards{seen: map[string]time.Time{}, warmed: map[string]time.Time{}}
}

func (d *dashboards) opened(workspace string, at time.Time) {
	d.mu.Lock()
	d.seen[workspace] = at
	d.mu.Unlock()
}

// recent lists the workspaces whose dashboard was opened within
// warmSeenFor before now, the most recent first, at most warmWorkspaces.
func (d *dashboards) recent(now time.Time) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for ws, at := range d.seen {
		if now.Sub(at) <= warmSeenFor {
			out = append(out, ws)
		}
	}
	sort.Slice(out, func(i, j int) bool { return d.seen[out[i]].After(d.seen[out[j]]) })
	return out[:min(len(out), warmWorkspaces)]
}

// overviewQueries are the queries of the dashboard's overview for its
// default period, the 30 days to today in the workspace's zone, as the
// page asks them.
func overviewQueries(now time.Time, loc *time.Location) []url.Values {
	today := now.In(loc)
	to := time.Date(today.Year(), today.Month(), today.Day()+1, 0, 0, 0, 0, time.UTC)
	from := to.AddDate(0, 0, -30)
	base := func(k, v string) url.Values {
		return url.Values{"from": {from.Format(time.DateOnly)}, "to": {to.Format(time.DateOnly)},
			"kpi": {strings.Join(kpi.Headline, ",")}, k: {v}}
	}
	return []url.Values{base("compare", "previous"), base("bucket", "day")}
}

// warmDashboards keeps the overview's answers computed until ctx ends:
// at start for every workspace when there are at most warmWorkspaces,
// then for those whose dashboard was opened lately.
func (h *handler) warmDashboards(ctx context.Context) {
	if names, err := h.store.WorkspaceNames(ctx); err == nil && len(names) <= warmWorkspaces {
		for _, ws := range names {
			h.dashboards.opened(ws, time.Now().Add(-warmSeenFor/2))
		}
	}
	var v *kpi.View
	for _, x := range kpi.Views() {
		if x.Path == "/v1/kpis" {
			v = x
		}
	}
	if v == nil || h.journal == nil {
		return
	}
	serve := h.cachedView(v)
	tick := time.NewTicker(warmEvery)
	defer tick.Stop()
	for {
		for _, ws := range h.dashboards.recent(time.Now()) {
			if ctx.Err() != nil {
				return
			}
			h.warm(ctx, ws, serve)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// warm computes workspace's overview answers that the cache lacks, at most
// once a warmAtMostOnce; one the cache holds for the current data is kept
// on, since nothing else writes a DuckDB file (a ClickHouse store may have
// other writers, so its answers age as any other).
func (h *handler) warm(ctx context.Context, workspace string, serve http.HandlerFunc) {
	ws, err := h.settings(ctx, workspace)
	if err != nil {
		return
	}
	loc, err := time.LoadLocation(ws.TimeZone)
	if err != nil {
		return
	}
	now := time.Now()
	h.dashboards.mu.Lock()
	recently := now.Sub(h.dashboards.warmed[workspace]) < warmAtMostOnce
	h.dashboards.mu.Unlock()
	sole := h.store.Dialect().Name() == "duckdb"
	for _, q := range overviewQueries(now, loc) {
		key := h.answers.key(workspace, "/v1/kpis", q.Encode(), h.journal.Applied())
		if sole && h.answers.touch(key) {
			continue
		}
		if _, ok := h.answers.get(key); ok || recently {
			continue
		}
		r, err := http.NewRequestWithContext(context.WithValue(ctx, workspaceKey, workspace), http.MethodGet, "/v1/kpis?"+q.Encode(), nil)
		if err != nil {
			return
		}
		start := time.Now()
		serve(&discardAnswer{header: http.Header{}}, r)
		h.log.Debug("warmed the overview", "workspace", workspace, "query", q.Encode(), "took", time.Since(start))
		h.dashboards.mu.Lock()
		h.dashboards.warmed[workspace] = now
		h.dashboards.mu.Unlock()
	}
}

// discardAnswer is the response of a warming request, which only fills
// the cache.
type discardAnswer struct{ header http.Header }

func (d *discardAnswer) Header() http.Header         { return d.header }
func (d *discardAnswer) WriteHeader(int)             {}
func (d *discardAnswer) Write(p []byte) (int, error) { return len(p), nil }
