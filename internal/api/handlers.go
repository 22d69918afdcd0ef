package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/omnikpi/omnikpi/internal/alerts"
	"github.com/omnikpi/omnikpi/internal/audit"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
)

// IngestResult answers POST /v1/events.
type IngestResult struct {
	Submitted
	Rejected []ingest.Rejected `json:"rejected"`
	Results  []EventResult     `json:"results"` // valid events, in body order
}

// EventResult is what became of one valid event.
type EventResult struct {
	ID     string `json:"id"`
	Status string `json:"status"` // queued, or with wait=applied accepted or duplicate
}

// postEvents stores a JSON array or NDJSON of events and answers once they
// are durable in the journal (with wait=applied: once in the store). A body with some bad events still stores the good ones (200,
// with the bad ones listed); a body whose events are all bad is a 400.
func (h *handler) postEvents(w http.ResponseWriter, r *http.Request) {
	workspace := WorkspaceFrom(r.Context())
	body := http.MaxBytesReader(w, r.Body, h.maxBody)
	events, rejected, err := ingest.DecodeBody(body, workspace)
	var tooLarge *http.MaxBytesError
	var bodyErr *ingest.BodyError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large",
			"the body is larger than the limit of "+strconv.FormatInt(h.maxBody, 10)+" bytes: send fewer events per request", "")
		return
	case errors.As(err, &bodyErr):
		writeError(w, http.StatusBadRequest, "invalid_body", bodyErr.Error(), "")
		return
	case err != nil:
		serverError(w, h.log, r, err)
		return
	}
	ws, err := h.settings(r.Context(), workspace)
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	sent := len(events)
	events = ingest.Prepare(events, ws)
	res := IngestResult{Rejected: rejected, Results: make([]EventResult, 0, sent)}
	if res.Rejected == nil {
		res.Rejected = []ingest.Rejected{}
	}
	outcomes, n, ok := h.submit(w, r, "api", events, len(rejected))
	if !ok {
		return
	}
	res.Submitted = n
	for i, o := range outcomes[:min(sent, len(outcomes))] { // the leads of chat links are not the client's
		res.Results = append(res.Results, EventResult{ID: events[i].ID, Status: status(o)})
	}
	status := http.StatusOK
	if len(events) == 0 && len(rejected) > 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, res)
}

// view serves a view of the registry on its route: the view's answer as
// JSON, or with format=csv its table (kpi.WriteCSV); 400 naming the field
// for a bad request, 500 for anything else.
func (h *handler) view(v *kpi.View) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !knownParams(w, r) {
			return
		}
		asCSV, ok := wantsCSV(w, r)
		if !ok {
			return
		}
		q := r.URL.Query()
		q.Del("workspace")
		q.Del("format")
		out, err := v.Compute(r.Context(), h.engine, WorkspaceFrom(r.Context()), q)
		var reqErr *kpi.RequestError
		switch {
		case errors.As(err, &reqErr):
			writeError(w, http.StatusBadRequest, "invalid_request", reqErr.Error(), reqErr.Field)
		case err != nil:
			serverError(w, h.log, r, err)
		case asCSV:
			name := strings.ReplaceAll(strings.TrimPrefix(r.URL.Path, "/v1/"), "/", "-")
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
			if err := kpi.WriteCSV(w, out.Table()); err != nil {
				h.log.Error("write CSV", "path", r.URL.Path, "err", err)
			}
		default:
			writeJSON(w, http.StatusOK, out)
		}
	}
}

// cachedView serves a KPI view's answers from the answer cache while the
// data they read is the same: with a journal, the store changes only when
// its applier applies records (journal.Applied) or this server takes a
// change. Without one, every answer is computed.
func (h *handler) cachedView(v *kpi.View) http.HandlerFunc {
	serve := h.view(v)
	if !v.Request || h.journal == nil || h.answers == nil {
		return serve
	}
	return func(w http.ResponseWriter, r *http.Request) {
		key := h.answers.key(WorkspaceFrom(r.Context()), r.URL.Path, r.URL.Query().Encode(), h.journal.Applied())
		if a, ok := h.answers.get(key); ok {
			writeAnswer(w, a, "hit")
			return
		}
		buf := &bufferedAnswer{header: http.Header{}}
		serve(buf, r)
		a := &answer{body: buf.body.Bytes(), contentType: buf.header.Get("Content-Type"),
			disposition: buf.header.Get("Content-Disposition"), made: h.answers.now()}
		if buf.status != http.StatusOK {
			for k, vals := range buf.header {
				w.Header()[k] = vals
			}
			w.WriteHeader(buf.status)
			w.Write(a.body)
			return
		}
		h.answers.put(key, a)
		writeAnswer(w, a, "miss")
	}
}

// writeAnswer sends a view's answer, saying whether it came from the
// cache.
func writeAnswer(w http.ResponseWriter, a *answer, cache string) {
	w.Header().Set("Content-Type", a.contentType)
	if a.disposition != "" {
		w.Header().Set("Content-Disposition", a.disposition)
	}
	w.Header().Set("Omnikpi-Cache", cache)
	w.WriteHeader(http.StatusOK)
	w.Write(a.body)
}

func (h *handler) getCatalogue(w http.ResponseWriter, r *http.Request) {
	if !knownParams(w, r) {
		return
	}
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		lang = "en"
	}
	c, err := kpi.CatalogueIn(lang)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "lang: "+err.Error(), "lang")
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (h *handler) getWorkspace(w http.ResponseWriter, r *http.Request) {
	if !knownParams(w, r) {
		return
	}
	ws, _, err := store.SettingsOf(r.Context(), h.store.Workspace, WorkspaceFrom(r.Context()))
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	users := make([]store.User, len(ws.Users))
	for i, u := range ws.Users {
		users[i] = store.User{Name: u.Name} // never the password hash
	}
	ws.Users = users
	ws.Tracker = ws.Tracker.Public() // never the day's salt of visitor ids
	writeJSON(w, http.StatusOK, ws)
}

// putAlert creates or replaces the rule {id}; its state is kept.
func (h *handler) putAlert(w http.ResponseWriter, r *http.Request) {
	var rule store.AlertRule
	d := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	d.DisallowUnknownFields()
	if err := d.Decode(&rule); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", "the body must be one alert rule as JSON: "+err.Error(), "")
		return
	}
	rule.ID, rule.Source, rule.Firing = r.PathValue("id"), "", nil
	var reqErr *kpi.RequestError
	if err := alerts.Validate(rule); errors.As(err, &reqErr) {
		writeError(w, http.StatusBadRequest, "invalid_rule", reqErr.Error(), reqErr.Field)
		return
	}
	ws, ok := h.workspace(w, r)
	if !ok {
		return
	}
	rule = alerts.Normalize(rule) // below_band is saved as worse_than_band
	ws.PutAlert(rule)
	if err := h.store.PutWorkspace(r.Context(), ws); err != nil {
		serverError(w, h.log, r, err)
		return
	}
	h.workspaces.forget(ws.Name)
	if err := audit.Record(r.Context(), h.store, ws.Name, audit.AlertPut, rule.ID, rule); err != nil {
		serverError(w, h.log, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rule)
}

// deleteAlert removes the rule {id}.
func (h *handler) deleteAlert(w http.ResponseWriter, r *http.Request) {
	ws, ok := h.workspace(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	kept := ws.Alerts[:0]
	for _, a := range ws.Alerts {
		if a.ID != id {
			kept = append(kept, a)
		}
	}
	if len(kept) == len(ws.Alerts) {
		writeError(w, http.StatusNotFound, "not_found", "no alert rule "+id, "id")
		return
	}
	ws.Alerts = kept
	if err := h.store.PutWorkspace(r.Context(), ws); err != nil {
		serverError(w, h.log, r, err)
		return
	}
	h.workspaces.forget(ws.Name)
	if err := audit.Record(r.Context(), h.store, ws.Name, audit.AlertRemove, id, nil); err != nil {
		serverError(w, h.log, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// workspace reads the settings of the request's workspace, or answers the
// error.
func (h *handler) workspace(w http.ResponseWriter, r *http.Request) (store.Workspace, bool) {
	ws, _, err := store.SettingsOf(r.Context(), h.store.Workspace, WorkspaceFrom(r.Context()))
	if err != nil {
		serverError(w, h.log, r, err)
		return ws, false
	}
	return ws, true
}
