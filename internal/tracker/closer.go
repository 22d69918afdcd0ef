package tracker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Submitter takes events for storage and returns once they are durable
// (journal.Ingester; api.Submitter).
type Submitter interface {
	Submit(ctx context.Context, events []event.Event, wait bool) ([]store.Outcome, error)
}

// Closer writes the site_session of each visit once it has ended: once
// its gap has passed since its last page view and every page view that
// could still belong to it is in the store. It reads the page views back
// from the store, so a visit is made from exactly the page views stored,
// whatever their order of arrival, and the same page views make the same
// visit under the same id: a visit written twice (by two servers, or
// again after a restart) is stored once.
type Closer struct {
	Store  store.Store
	Submit Submitter
	Log    *slog.Logger
	// Margin is how long a received page view may take to reach the store
	// (serve's --max-lag): a visit is written once its gap and Margin have
	// passed since its last page view.
	Margin time.Duration
	// Pending, when set, says since when the local journal holds events not
	// yet in the store (zero when none): no visit is written that such an
	// event could still change.
	Pending func() time.Time

	done map[string]time.Time // by workspace: visits that ended before this are written
}

// Lookback is how far back a closer that has just started looks for
// visits that ended while no server wrote them: those already written are
// written again, and stored once.
const Lookback = 3 * 24 * time.Hour

// Run closes visits until ctx ends, every quarter of the shortest gap of
// a tracker (between one second and a minute), and looks for trackers
// every 5 s while there are none.
func (c *Closer) Run(ctx context.Context) {
	wait := time.Second
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		gap, err := c.CloseOnce(ctx, time.Now())
		if err != nil && ctx.Err() == nil {
			c.Log.Warn("write ended site visits", "err", err)
		}
		wait = 5 * time.Second
		if gap > 0 {
			wait = min(max(gap/4, time.Second), time.Minute)
		}
	}
}

// CloseOnce writes the visits of every workspace with a tracker that have
// ended by now, and returns the shortest gap among them (0 when no
// workspace has a tracker).
func (c *Closer) CloseOnce(ctx context.Context, now time.Time) (time.Duration, error) {
	names, err := c.Store.WorkspaceNames(ctx)
	if err != nil {
		return 0, err
	}
	var shortest time.Duration
	var errs []string
	for _, name := range names {
		ws, err := c.Store.Workspace(ctx, name)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if ws.Tracker == nil {
			continue
		}
		if shortest == 0 || ws.Tracker.Gap() < shortest {
			shortest = ws.Tracker.Gap()
		}
		if err := c.closeWorkspace(ctx, name, ws.Tracker.Gap(), now); err != nil {
			errs = append(errs, name+": "+err.Error())
		}
	}
	if len(errs) > 0 {
		return shortest, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return shortest, nil
}

// closeWorkspace writes the visits of workspace whose last page view came
// after the last run's bound and by this run's: those that ended since.
func (c *Closer) closeWorkspace(ctx context.Context, workspace string, gap time.Duration, now time.Time) error {
	stored := now.Add(-c.Margin) // every event received before this is in the store
	if c.Pending != nil {
		if oldest := c.Pending(); !oldest.IsZero() && oldest.Before(stored) {
			stored = oldest.Add(-time.Second)
		}
	}
	bound := stored.Add(-gap) // a visit whose last page view is before this has ended
	if c.done == nil {
		c.done = map[string]time.Time{}
	}
	from, ok := c.done[workspace]
	if !ok {
		from = now.Add(-Lookback)
	}
	if !bound.After(from) {
		return nil
	}
	visitors, err := c.visitors(ctx, workspace, from, bound)
	if err != nil {
		return err
	}
	// A visitor id is of one UTC day, so its page views are all on the day
	// of those found, and none before the day of from.
	dayStart := from.UTC().Truncate(24 * time.Hour)
	var visits []event.Event
	for len(visitors) > 0 {
		chunk := visitors[:min(len(visitors), 500)]
		visitors = visitors[len(chunk):]
		rows, err := c.rows(ctx, workspace, chunk, dayStart, now)
		if err != nil {
			return err
		}
		views, identifies := map[string][]Row{}, map[string][]Row{}
		for _, r := range rows {
			if r.IsIdentify() {
				identifies[r.Visitor()] = append(identifies[r.Visitor()], r)
			} else if r.Kind == string(event.PageView) {
				views[r.Visitor()] = append(views[r.Visitor()], r)
			}
		}
		for visitor, vs := range views {
			for _, visit := range Split(vs, gap) {
				last := visit[len(visit)-1].TS
				if last < from.UnixMilli() || last >= bound.UnixMilli() {
					continue // written before, or not over yet
				}
				e, err := Visit(visit, identifies[visitor], gap)
				if err != nil {
					return err
				}
				e.Workspace = workspace
				visits = append(visits, e)
			}
		}
	}
	if len(visits) > 0 {
		if _, err := c.Submit.Submit(ctx, visits, false); err != nil {
			return fmt.Errorf("write %d visits: %w", len(visits), err)
		}
	}
	c.done[workspace] = bound
	return nil
}

// visitors lists the visitors with a page view in [from, to).
func (c *Closer) visitors(ctx context.Context, workspace string, from, to time.Time) ([]string, error) {
	d := c.Store.Dialect()
	q := fmt.Sprintf(`SELECT DISTINCT %s AS visitor FROM %s
WHERE e.workspace = ? AND e.kind = 'page_view' AND e.channel = '%s' AND e.ts >= ? AND e.ts < ?`, d.Prop("e", PropVisitor), d.Events("e"), Channel)
	rows, err := c.Store.Query(ctx, q, workspace, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("read visitors: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v *string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read visitors: %w", err)
		}
		if v != nil && *v != "" {
			out = append(out, *v)
		}
	}
	return out, rows.Err()
}

// rows reads the page views and identify events of visitors in [from, to).
func (c *Closer) rows(ctx context.Context, workspace string, visitors []string, from, to time.Time) ([]Row, error) {
	d := c.Store.Dialect()
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(visitors)), ", ")
	q := fmt.Sprintf(`SELECT e.id, e.ts, e.kind, e.customer, e.source, e.medium, e.utm_campaign, e.utm_content, e.utm_term, e.props
FROM %s
WHERE e.workspace = ? AND e.kind IN ('page_view', 'channel_event') AND e.channel = '%s' AND e.ts >= ? AND e.ts < ?
  AND %s IN (%s)`, d.Events("e"), Channel, d.Prop("e", PropVisitor), marks)
	args := []any{workspace, from.UnixMilli(), to.UnixMilli()}
	for _, v := range visitors {
		args = append(args, v)
	}
	rows, err := c.Store.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read page views: %w", err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var customer, source, medium, campaign, content, term, props *string
		if err := rows.Scan(&r.ID, &r.TS, &r.Kind, &customer, &source, &medium, &campaign, &content, &term, &props); err != nil {
			return nil, fmt.Errorf("read page views: %w", err)
		}
		for _, f := range []struct {
			dst *string
			src *string
		}{{&r.Customer, customer}, {&r.Source, source}, {&r.Medium, medium}, {&r.UTMCampaign, campaign}, {&r.UTMContent, content}, {&r.UTMTerm, term}} {
			if f.src != nil {
				*f.dst = *f.src
			}
		}
		if props != nil && *props != "" {
			if err := json.Unmarshal([]byte(*props), &r.Props); err != nil {
				return nil, fmt.Errorf("read page view %s: props: %w", r.ID, err)
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
