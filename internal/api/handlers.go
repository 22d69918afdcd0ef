package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/omnikpi/omnikpi/internal/alerts"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
)

// IngestResult answers POST /v1/events.
type IngestResult struct {
	Accepted   int               `json:"accepted"`   // new in the store (wait=applied)
	Duplicates int               `json:"duplicates"` // held by the store already (wait=applied)
	Queued     int               `json:"queued"`     // durable in the journal, checked for duplicates when applied
	Rejected   []ingest.Rejected `json:"rejected"`
	Results    []EventResult     `json:"results"` // valid events, in body order
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
	if !ws.KeepPhoneNumbers {
		ingest.HashPhoneCustomers(events, workspace)
	}
	res := IngestResult{Rejected: rejected, Results: make([]EventResult, 0, len(events))}
	if res.Rejected == nil {
		res.Rejected = []ingest.Rejected{}
	}
	outcomes, n, ok := h.submit(w, r, "api", events, len(rejected))
	if !ok {
		return
	}
	res.Accepted, res.Duplicates, res.Queued = n.Accepted, n.Duplicates, n.Queued
	for i, o := range outcomes {
		res.Results = append(res.Results, EventResult{ID: events[i].ID, Status: status(o)})
	}
	status := http.StatusOK
	if len(events) == 0 && len(rejected) > 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, res)
}

// getKPIs answers GET /v1/kpis with the report JSON of 'omnikpi report'.
func (h *handler) getKPIs(w http.ResponseWriter, r *http.Request) {
	h.answer(w, r, "rows", func(req kpi.Request) (any, error) { return h.engine.Compute(r.Context(), req) })
}

// getUnclosed lists the period's conversations that were never resolved or
// whose last message is the customer's and unanswered.
func (h *handler) getUnclosed(w http.ResponseWriter, r *http.Request) {
	h.answer(w, r, "conversations", func(req kpi.Request) (any, error) { return h.engine.Unclosed(r.Context(), req) })
}

// getKeywords lists the period's most used terms of inbound customer text.
func (h *handler) getKeywords(w http.ResponseWriter, r *http.Request) {
	if !knownParams(w, r) {
		return
	}
	limit, ok := limitParam(w, r, 50, 1000)
	if !ok {
		return
	}
	h.answer(w, r, "keywords", func(req kpi.Request) (any, error) { return h.engine.Keywords(r.Context(), req, limit) })
}

// getFunnel answers GET /v1/funnel: the four stages per channel, or with
// steps= an ordered customer funnel over those event kinds (within=,
// order=strict|loose).
func (h *handler) getFunnel(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	table := "stages"
	if len(kpi.List(q["steps"])) > 0 {
		table = "steps"
	}
	h.answer(w, r, table, func(req kpi.Request) (any, error) {
		steps := kpi.List(q["steps"])
		if len(steps) == 0 {
			return h.engine.Stages(r.Context(), req)
		}
		within, strict, err := kpi.FunnelOptions(q.Get("within"), q.Get("order"))
		if err != nil {
			return nil, err
		}
		return h.engine.OrderedFunnel(r.Context(), req, steps, within, strict)
	})
}

// getAttribution answers GET /v1/attribution: the period's revenue and
// conversions credited by each model, by=channel,campaign,source.
func (h *handler) getAttribution(w http.ResponseWriter, r *http.Request) {
	h.answer(w, r, "rows", func(req kpi.Request) (any, error) {
		return h.engine.Attribution(r.Context(), req, kpi.List(r.URL.Query()["by"]))
	})
}

// getABTest answers GET /v1/abtest: the variants of the campaign or
// template named by the filters, against control= (default A).
func (h *handler) getABTest(w http.ResponseWriter, r *http.Request) {
	h.answer(w, r, "comparisons", func(req kpi.Request) (any, error) {
		return h.engine.ABTest(r.Context(), req, r.URL.Query().Get("control"))
	})
}

// getSegments answers GET /v1/segments?family=rfm|rpc|response|satisfaction.
func (h *handler) getSegments(w http.ResponseWriter, r *http.Request) {
	h.answer(w, r, "segments", func(req kpi.Request) (any, error) {
		return h.engine.Segments(r.Context(), req, r.URL.Query().Get("family"))
	})
}

// getSendTime answers GET /v1/sendtime: reads and replies by local hour of
// the week, per channel, with the best hours.
func (h *handler) getSendTime(w http.ResponseWriter, r *http.Request) {
	h.answer(w, r, "channels", func(req kpi.Request) (any, error) { return h.engine.BestSendTime(r.Context(), req) })
}

// getCohorts answers GET /v1/cohorts?period=week|month.
func (h *handler) getCohorts(w http.ResponseWriter, r *http.Request) {
	h.answer(w, r, "cohorts", func(req kpi.Request) (any, error) {
		return h.engine.Cohorts(r.Context(), req, r.URL.Query().Get("period"))
	})
}

// answer reads the KPI request of r's query, runs compute and writes its
// result: 400 naming the field for a bad request, 500 for anything else.
//
// With format=csv the answer is its list field table as CSV (see
// writeTable).
func (h *handler) answer(w http.ResponseWriter, r *http.Request, table string, compute func(kpi.Request) (any, error)) {
	if !knownParams(w, r) {
		return
	}
	asCSV, ok := wantsCSV(w, r)
	if !ok {
		return
	}
	req, err := kpi.FromValues(WorkspaceFrom(r.Context()), r.URL.Query())
	if err == nil {
		var out any
		if out, err = compute(req); err == nil {
			if asCSV {
				h.writeCSV(w, r, out, table)
				return
			}
			writeJSON(w, http.StatusOK, out)
			return
		}
	}
	var reqErr *kpi.RequestError
	if errors.As(err, &reqErr) {
		writeError(w, http.StatusBadRequest, "invalid_request", reqErr.Error(), reqErr.Field)
		return
	}
	serverError(w, h.log, r, err)
}

func (h *handler) getCatalogue(w http.ResponseWriter, r *http.Request) {
	if !knownParams(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"kpis": kpi.Catalogue()})
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
	writeJSON(w, http.StatusOK, ws)
}

// getAlerts lists the workspace's alert rules with their state.
func (h *handler) getAlerts(w http.ResponseWriter, r *http.Request) {
	ws, ok := h.workspace(w, r)
	if !ok {
		return
	}
	rules := ws.Alerts
	if rules == nil {
		rules = []store.AlertRule{}
	}
	h.writeList(w, r, "alerts", rules)
}

// getFirings lists the workspace's latest firings, newest first.
func (h *handler) getFirings(w http.ResponseWriter, r *http.Request) {
	ws, ok := h.workspace(w, r)
	if !ok {
		return
	}
	out := make([]store.AlertFiring, 0, len(ws.AlertHistory))
	for i := len(ws.AlertHistory) - 1; i >= 0; i-- {
		out = append(out, ws.AlertHistory[i])
	}
	h.writeList(w, r, "firings", out)
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

// writeCSV answers v's list field as a CSV download named after the route.
func (h *handler) writeCSV(w http.ResponseWriter, r *http.Request, v any, list string) {
	name := strings.ReplaceAll(strings.TrimPrefix(r.URL.Path, "/v1/"), "/", "-")
	if err := writeTable(w, name, v, list); err != nil {
		h.log.Error("write CSV", "path", r.URL.Path, "err", err)
	}
}

// getRecipients answers GET /v1/campaigns/recipients: the period's
// messages matching the filters (campaign=, template=…), one per recipient,
// with their furthest status and failure reason.
func (h *handler) getRecipients(w http.ResponseWriter, r *http.Request) {
	if !knownParams(w, r) {
		return
	}
	limit, ok := limitParam(w, r, 1000, 100_000)
	if !ok {
		return
	}
	h.answer(w, r, "recipients", func(req kpi.Request) (any, error) { return h.engine.Recipients(r.Context(), req, limit) })
}

// getFailures answers GET /v1/failures: the period's failed messages
// matching the filters, counted by the channel's reason.
func (h *handler) getFailures(w http.ResponseWriter, r *http.Request) {
	h.answer(w, r, "reasons", func(req kpi.Request) (any, error) { return h.engine.Failures(r.Context(), req) })
}

// writeList answers {name: list} as JSON, or the list as CSV.
func (h *handler) writeList(w http.ResponseWriter, r *http.Request, name string, list any) {
	if !knownParams(w, r) {
		return
	}
	asCSV, ok := wantsCSV(w, r)
	switch {
	case !ok:
	case asCSV:
		h.writeCSV(w, r, map[string]any{name: list}, name)
	default:
		writeJSON(w, http.StatusOK, map[string]any{name: list})
	}
}

// limitParam reads limit= (default def, 1 to max), or answers the 400.
func limitParam(w http.ResponseWriter, r *http.Request, def, max int) (int, bool) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		writeError(w, http.StatusBadRequest, "invalid_request", "limit: must be a whole number from 1 to "+strconv.Itoa(max), "limit")
		return 0, false
	}
	return n, true
}
