package api

import (
	"net/http"
	"sort"
	"strings"

	"github.com/omnikpi/omnikpi/internal/kpi"
)

// requestParams are the query parameters kpi.FromValues reads, taken by
// every KPI route.
var requestParams = kpi.RequestParams

// routeParams are each GET route's own query parameters, besides
// workspace= (checked by auth) and format= (json or csv) that every one
// takes. A KPI route takes requestParams too. The views' come from the
// registry.
var routeParams = map[string]struct {
	kpi    bool
	params []string
}{
	"/v1/catalogue":  {false, []string{"lang"}},
	"/v1/workspace":  {false, nil},
	"/v1/workspaces": {false, nil},
	"/v1/keys":       {false, nil},
	"/v1/users":      {false, nil},
	"/v1/audit":      {false, []string{"from", "to", "action", "limit"}},
}

func init() {
	for _, v := range kpi.Views() {
		routeParams[v.Path] = struct {
			kpi    bool
			params []string
		}{v.Request, v.ParamNames()}
	}
}

// knownParams answers 400 naming the first query parameter that r's route
// does not take, so that a typo such as frm= is an error rather than a
// silently ignored filter. Routes not in routeParams are not checked.
func knownParams(w http.ResponseWriter, r *http.Request) bool {
	route, ok := routeParams[r.URL.Path]
	if !ok {
		return true
	}
	takes := func(name string) bool {
		if name == "workspace" || name == "format" {
			return true
		}
		for _, p := range route.params {
			if p == name {
				return true
			}
		}
		if route.kpi {
			for _, p := range requestParams {
				if p == name {
					return true
				}
			}
		}
		return false
	}
	var unknown []string
	for name := range r.URL.Query() {
		if !takes(name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return true
	}
	sort.Strings(unknown)
	takesText := "workspace and format"
	if route.kpi || len(route.params) > 0 {
		var all []string
		if route.kpi {
			all = append(all, "from", "to", "kpi", "group_by", "bucket", "tz", "hours", "compare", "segment", "currency", "lookback", "half_life", "a filter per dimension")
		}
		all = append(all, route.params...)
		takesText = strings.Join(all, ", ") + ", format"
	}
	writeError(w, http.StatusBadRequest, "invalid_request",
		"unknown query parameter "+quoteParam(unknown[0])+": "+r.URL.Path+" takes "+takesText, unknown[0])
	return false
}

func quoteParam(s string) string { return `"` + s + `"` }
