package api

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/omnikpi/omnikpi/internal/ingest/metaanalytics"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Meta's analytics are events like any other: a key that may ingest may
// upload them.
func init() { routeScopes["POST /v1/meta/analytics"] = store.ScopeIngest }

// MetaImport answers POST /v1/meta/analytics: the data points read from
// each of Meta's answers and what became of their events.
type MetaImport struct {
	PricingPoints  int `json:"pricing_points"`
	TemplatePoints int `json:"template_points"`
	Submitted
}

// postMetaAnalytics stores a saved Graph API answer of Meta's
// (pricing_analytics, template_analytics) as events, for the
// reconciliation view.
func (h *handler) postMetaAnalytics(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for name := range q {
		switch name {
		case "currency", "template", "wait", "workspace":
		default:
			writeError(w, http.StatusBadRequest, "invalid_parameter", "unknown query parameter "+strconv.Quote(name)+": takes currency, template, wait", name)
			return
		}
	}
	templates, err := metaanalytics.TemplateNames(q["template"])
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_parameter", err.Error(), "template")
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large",
			"the body is larger than the limit of "+strconv.FormatInt(h.maxBody, 10)+" bytes: ask Meta for a shorter period", "")
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, "invalid_body", "unreadable body: "+err.Error(), "")
		return
	}
	res, err := metaanalytics.Parse(data, metaanalytics.Options{Workspace: WorkspaceFrom(r.Context()), Currency: q.Get("currency"), Templates: templates})
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", err.Error(), "")
		return
	}
	_, n, ok := h.submit(w, r, "meta", res.Events, 0)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, MetaImport{PricingPoints: res.Pricing, TemplatePoints: res.Template, Submitted: n})
}
