package kpi

import (
	"net/url"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/store"
)

// FromValues reads a request from query parameters: from, to, kpi,
// group_by, bucket, tz, hours, and one parameter per dimension used as a filter
// (channel=whatsapp). List values are comma-separated or repeated.
func FromValues(workspace string, q url.Values) (Request, error) {
	r := Request{
		Workspace: workspace,
		From:      q.Get("from"),
		To:        q.Get("to"),
		KPIs:      list(q["kpi"]),
		GroupBy:   list(q["group_by"]),
		Bucket:    q.Get("bucket"),
		TimeZone:  q.Get("tz"),
		Hours:     q.Get("hours"),
		Compare:   compareList(list(q["compare"])),
		Segment:   q.Get("segment"),
	}
	for _, c := range list(q["currency"]) {
		r.Currencies = append(r.Currencies, strings.ToUpper(c))
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"lookback", &r.Lookback}, {"half_life", &r.HalfLife}} {
		if v := q.Get(d.name); v != "" {
			dur, err := store.ParseDuration(v)
			if err != nil || dur <= 0 {
				return r, &RequestError{Field: d.name, Reason: quote(v) + " is not a duration such as 30d or 12h"}
			}
			*d.dst = dur
		}
	}
	for _, d := range Dimensions {
		if vals := list(q[d]); len(vals) > 0 {
			if r.Filters == nil {
				r.Filters = map[string][]string{}
			}
			r.Filters[d] = vals
		}
	}
	return r, r.validate()
}

// compareList expands "both" into previous and last_year, keeping each
// comparison once.
func compareList(in []string) []string {
	var out []string
	for _, c := range in {
		for _, x := range map[bool][]string{true: {"previous", "last_year"}, false: {c}}[c == "both"] {
			if !contains(out, x) {
				out = append(out, x)
			}
		}
	}
	return out
}

// List splits repeated and comma-separated values.
func List(values []string) []string { return list(values) }

// FunnelOptions reads an ordered funnel's within (a duration such as 7d,
// default 7 days) and order (strict or loose, default loose).
func FunnelOptions(within, order string) (time.Duration, bool, error) {
	var d time.Duration
	if within != "" {
		var err error
		if d, err = store.ParseDuration(within); err != nil || d <= 0 {
			return 0, false, &RequestError{Field: "within", Reason: quote(within) + " is not a duration such as 7d or 12h"}
		}
	}
	switch order {
	case "", "loose":
		return d, false, nil
	case "strict":
		return d, true, nil
	}
	return 0, false, &RequestError{Field: "order", Reason: quote(order) + " must be strict or loose"}
}

// list splits repeated and comma-separated values.
func list(values []string) []string {
	var out []string
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// validate checks the names in r; times are checked when resolved.
func (r Request) validate() error {
	for _, id := range r.KPIs {
		if _, ok := byID[id]; !ok {
			return &RequestError{Field: "kpi", Reason: "unknown KPI " + quote(id)}
		}
	}
	for _, d := range r.GroupBy {
		if !isDimension(d) {
			return &RequestError{Field: "group_by", Reason: quote(d) + " is not a dimension (" + strings.Join(Dimensions, ", ") + ")"}
		}
	}
	for d := range r.Filters {
		if !isDimension(d) {
			return &RequestError{Field: d, Reason: "is not a dimension"}
		}
	}
	for _, v := range r.Filters["class"] {
		if !contains(Classes, v) {
			return &RequestError{Field: "class", Reason: quote(v) + " must be one of " + strings.Join(Classes, ", ")}
		}
	}
	for _, c := range r.Compare {
		if c != "previous" && c != "last_year" {
			return &RequestError{Field: "compare", Reason: quote(c) + " must be previous, last_year or both"}
		}
	}
	if r.Segment != "" {
		if err := checkSegment(r.Segment); err != nil {
			return err
		}
	}
	if r.Hours != "" && r.Hours != "wall" && r.Hours != "business" {
		return &RequestError{Field: "hours", Reason: quote(r.Hours) + " must be wall or business"}
	}
	for _, c := range r.Currencies {
		if len(c) != 3 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return &RequestError{Field: "currency", Reason: quote(c) + " is not an ISO 4217 code such as EUR"}
		}
	}
	if r.Bucket != "" && !contains(Buckets, r.Bucket) {
		return &RequestError{Field: "bucket", Reason: quote(r.Bucket) + " must be one of " + strings.Join(Buckets, ", ")}
	}
	return nil
}

func quote(s string) string { return `"` + s + `"` }

func isDimension(d string) bool { return contains(Dimensions, d) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
