package tracker

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
)

// Row is a stored page view or identify event, as the closer reads it
// back.
type Row struct {
	ID, Kind, Customer                               string
	TS                                               int64 // Unix ms
	Source, Medium, UTMCampaign, UTMContent, UTMTerm string
	Props                                            map[string]any
}

func (r Row) prop(key string) string {
	s, _ := r.Props[key].(string)
	return s
}

// Visitor is the visitor id a row carries.
func (r Row) Visitor() string { return r.prop(PropVisitor) }

// IsIdentify reports whether the row is an identify call's event.
func (r Row) IsIdentify() bool {
	return r.Kind == string(event.ChannelEvent) && r.prop("type") == IdentifyType && r.Customer != ""
}

// sortRows orders rows by time, then id: nothing depends on the order in
// which they arrived.
func sortRows(rows []Row) {
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].TS != rows[j].TS {
			return rows[i].TS < rows[j].TS
		}
		return rows[i].ID < rows[j].ID
	})
}

// Split cuts one visitor's page views into visits: a visit ends when gap
// passes without a page view. Each visit's page views are in time order.
func Split(views []Row, gap time.Duration) [][]Row {
	views = append([]Row(nil), views...)
	sortRows(views)
	var out [][]Row
	for i, v := range views {
		if i == 0 || v.TS-views[i-1].TS >= gap.Milliseconds() {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], v)
	}
	return out
}

// VisitID is the event id of the visit whose first page view has id
// first: re-made from the same page views, it is the same event.
func VisitID(first string) string { return "ss-" + strings.TrimPrefix(first, "pv-") }

// Visit is the site_session of one visit's page views (in time order): it
// starts at the first, lasts until the last, counts the page views, and
// has the first's landing page, referrer, UTM fields and ad click id. Its
// customer is the one the visitor was last identified as before the visit
// ended (its last page view and the gap): during the visit, or earlier the
// same day; none when the visitor was not identified by then.
func Visit(views []Row, identifies []Row, gap time.Duration) (event.Event, error) {
	if len(views) == 0 {
		return event.Event{}, fmt.Errorf("a visit without page views")
	}
	first, last := views[0], views[len(views)-1]
	ends := last.TS + gap.Milliseconds()
	var customer string
	var at Row
	for _, id := range identifies {
		if id.TS < ends && (customer == "" || id.TS > at.TS || (id.TS == at.TS && id.ID > at.ID)) {
			customer, at = id.Customer, id
		}
	}
	props := map[string]any{PropVisitor: first.Visitor(), PropPages: len(views)}
	if u := first.prop(PropURL); u != "" {
		props[PropLanding] = u
	}
	if u := last.prop(PropURL); u != "" {
		props[PropExit] = u
	}
	for _, k := range []string{PropReferrer, "click_id", "click_id_type"} {
		if v := first.prop(k); v != "" {
			props[k] = v
		}
	}
	if paid, _ := first.Props["paid"].(bool); paid {
		props["paid"] = true
	}
	duration := last.TS - first.TS
	e := event.Event{ID: VisitID(first.ID), TS: time.UnixMilli(first.TS).UTC(), Kind: event.SiteSession, Channel: Channel,
		Customer: customer, Count: 1, DurationMS: &duration, Source: first.Source, Medium: first.Medium,
		UTMCampaign: first.UTMCampaign, UTMContent: first.UTMContent, UTMTerm: first.UTMTerm, Props: props}
	if err := e.Validate(); err != nil {
		return event.Event{}, fmt.Errorf("visit %s: %w", e.ID, err)
	}
	return e, nil
}
