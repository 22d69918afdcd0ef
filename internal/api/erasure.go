package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/audit"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Erasure and retention (store.Eraser): the admin routes below, the
// omnikpi forget and retention commands, and serve's scheduled runs all
// go through the functions of this file, which record each in the audit
// trail.
func (h *handler) erasureRoutes() []route {
	return []route{
		{"DELETE /v1/customers/{id}", h.admin(needsWorkspace, h.deleteCustomer)},
		{"DELETE /v1/workspace", h.admin(needsWorkspace, h.deleteWorkspace)},
		{"GET /v1/retention", h.admin(needsWorkspace, h.getRetention)},
		{"PUT /v1/retention", h.admin(needsWorkspace, h.putRetention)},
		{"POST /v1/retention/apply", h.admin(needsWorkspace, h.applyRetention)},
	}
}

// StoredCustomers are the ids under which a customer named by id, or by
// phone number, may be stored in ws: as given, and a phone number hashed
// as ingestion hashes it. phones are the digits of a phone number, which
// quarantined webhook parts quote.
func StoredCustomers(ws store.Workspace, ids []string) (stored, phones []string) {
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			stored = append(stored, id)
		}
	}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		add(id)
		if hashed := ingest.CustomerID(id, ws.Name); hashed != id {
			add(hashed)
			phones = append(phones, digitsOf(id))
		}
	}
	return stored, phones
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// drainer is the journal's applier: an erasure waits until what was
// journaled before it is in the store.
type drainer interface {
	Drain(ctx context.Context) error
}

// ForgetCustomers erases customers of the workspace, named by id or phone
// number, and records it in the audit trail under the stored ids.
func ForgetCustomers(ctx context.Context, s store.Store, workspace string, ids []string) (store.Erasure, error) {
	ws, err := s.Workspace(ctx, workspace)
	if err != nil {
		return store.Erasure{Workspace: workspace}, err
	}
	stored, phones := StoredCustomers(ws, ids)
	if len(stored) == 0 {
		return store.Erasure{Workspace: workspace}, errors.New("name a customer by id or phone number")
	}
	er, err := s.Forget(ctx, workspace, stored, phones)
	if err != nil {
		return er, err
	}
	// The trail outlives the erasure: it names the customers by hash only.
	hashes := make([]string, len(stored))
	for i, c := range stored {
		hashes[i] = store.ForgottenHash("customer", c)
	}
	return er, audit.Record(ctx, s, workspace, audit.CustomerErase, strings.Join(hashes, ","), erasureDetails(er))
}

func erasureDetails(er store.Erasure) map[string]int64 {
	return map[string]int64{"events": er.Events, "messages": er.Messages, "orders": er.Orders,
		"conversations": er.Conversations, "recomputed": er.Recomputed, "quarantined": er.Quarantined, "keys": er.Keys}
}

// ForgetWorkspace erases a whole workspace, and records it in the audit
// trail, which keeps the workspace's entries.
func ForgetWorkspace(ctx context.Context, s store.Store, workspace string) (store.Erasure, error) {
	er, err := s.ForgetWorkspace(ctx, workspace)
	if err != nil {
		return er, err
	}
	return er, audit.Record(ctx, s, workspace, audit.WorkspaceErase, workspace, erasureDetails(er))
}

// SetRetention replaces the workspace's retention policy; nil keeps
// everything.
func SetRetention(ctx context.Context, s store.Store, workspace string, policy *store.Retention) error {
	if policy != nil {
		if policy.EventsMonths < 0 || policy.TextsMonths < 0 || policy.FactsMonths < 0 {
			return &RetentionError{"months must be 0 (forever) or more"}
		}
		if policy.FactsMonths > 0 && policy.EventsMonths > 0 && policy.FactsMonths < policy.EventsMonths {
			return &RetentionError{"facts are kept at least as long as the raw events that feed them"}
		}
		if policy.TextsMonths > 0 && policy.EventsMonths > 0 && policy.TextsMonths > policy.EventsMonths {
			return &RetentionError{"texts are kept with their events: texts_months can be shorter than events_months, not longer"}
		}
		if policy.FactsMonths > 0 && policy.EventsMonths == 0 {
			return &RetentionError{"facts are kept at least as long as the raw events: set events_months too"}
		}
		if *policy == (store.Retention{}) {
			policy = nil
		}
	}
	ws, err := s.Workspace(ctx, workspace)
	if err != nil {
		return err
	}
	ws.Retention = policy
	if err := s.PutWorkspace(ctx, ws); err != nil {
		return err
	}
	return audit.Record(ctx, s, workspace, audit.WorkspaceUpdate, workspace, map[string]any{"fields": []string{"retention"}, "retention": policy})
}

// RetentionError is a policy that cannot be kept.
type RetentionError struct{ Reason string }

func (e *RetentionError) Error() string { return "retention: " + e.Reason }

// ApplyRetention applies the workspace's policy as of now, and records the
// run in the audit trail. A workspace without a policy is left as it is.
func ApplyRetention(ctx context.Context, s store.Store, workspace string, now time.Time) (store.RetentionRun, error) {
	ws, err := s.Workspace(ctx, workspace)
	if err != nil {
		return store.RetentionRun{Workspace: workspace}, err
	}
	if ws.Retention == nil {
		return store.RetentionRun{Workspace: workspace}, nil
	}
	run, err := s.ApplyRetention(ctx, workspace, ws.Retention.Cutoffs(now))
	if err != nil {
		return run, err
	}
	return run, audit.Record(ctx, s, workspace, audit.RetentionApply, workspace, map[string]any{
		"cutoffs": run.Cutoffs, "events": run.Events, "texts": run.Texts, "facts": run.Facts, "partitions": run.Partitions})
}

// ApplyAllRetention applies every workspace's policy, as serve does on its
// schedule, and returns the runs that removed something.
func ApplyAllRetention(ctx context.Context, s store.Store, now time.Time, log *slog.Logger) ([]store.RetentionRun, error) {
	names, err := s.WorkspaceNames(ctx)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var runs []store.RetentionRun
	var errs []error
	for _, name := range names {
		run, err := ApplyRetention(ctx, s, name, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		if run.Events+run.Texts+run.Facts > 0 {
			runs = append(runs, run)
			if log != nil {
				log.Info("retention applied", "workspace", name, "events", run.Events, "texts", run.Texts, "facts", run.Facts, "partitions", run.Partitions)
			}
		}
	}
	return runs, errors.Join(errs...)
}

// RunRetention applies every workspace's policy now and then every
// interval until ctx ends; failures are logged and tried again at the
// next run.
func RunRetention(ctx context.Context, s store.Store, every time.Duration, changes *Changes, log *slog.Logger) {
	ctx = audit.As(ctx, "retention schedule")
	for {
		if _, err := ApplyAllRetention(ctx, s, time.Now(), log); err != nil && ctx.Err() == nil {
			log.Error("retention run failed; trying again at the next", "err", err)
		}
		if changes != nil {
			changes.Note() // what it deleted is in no answer kept since
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// drain waits for the journal before an erasure.
func (h *handler) drain(ctx context.Context) error {
	if d, ok := h.ingester.(drainer); ok {
		return d.Drain(ctx)
	}
	return nil
}

// deleteCustomer erases one customer, named by id or phone number, and
// answers what was removed.
func (h *handler) deleteCustomer(w http.ResponseWriter, r *http.Request) {
	if err := h.drain(r.Context()); err != nil {
		serverError(w, h.log, r, err)
		return
	}
	er, err := ForgetCustomers(r.Context(), h.store, WorkspaceFrom(r.Context()), []string{r.PathValue("id")})
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	writeJSON(w, http.StatusOK, er)
}

// deleteWorkspace erases the whole workspace; ?confirm= must repeat its
// name.
func (h *handler) deleteWorkspace(w http.ResponseWriter, r *http.Request) {
	name := WorkspaceFrom(r.Context())
	if r.URL.Query().Get("confirm") != name {
		writeError(w, http.StatusBadRequest, "confirmation_required",
			"erasing a workspace removes all its events, facts, keys and settings for good: repeat its name as ?confirm="+name, "confirm")
		return
	}
	if err := h.drain(r.Context()); err != nil {
		serverError(w, h.log, r, err)
		return
	}
	er, err := ForgetWorkspace(r.Context(), h.store, name)
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	h.workspaces.forget(name)
	writeJSON(w, http.StatusOK, er)
}

// RetentionPolicy is a workspace's policy as GET and PUT /v1/retention
// carry it: months of each kind of data, 0 for forever.
type RetentionPolicy struct {
	Workspace string          `json:"workspace"`
	Policy    store.Retention `json:"policy"`
	// Next are the cutoffs a run would apply now.
	Next store.Cutoffs `json:"next"`
}

func (h *handler) getRetention(w http.ResponseWriter, r *http.Request) {
	ws, err := h.store.Workspace(r.Context(), WorkspaceFrom(r.Context()))
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	writeJSON(w, http.StatusOK, retentionOf(ws, time.Now()))
}

func retentionOf(ws store.Workspace, now time.Time) RetentionPolicy {
	p := RetentionPolicy{Workspace: ws.Name}
	if ws.Retention != nil {
		p.Policy = *ws.Retention
		p.Next = p.Policy.Cutoffs(now)
	}
	return p
}

func (h *handler) putRetention(w http.ResponseWriter, r *http.Request) {
	var p store.Retention
	if !decodeBody(w, r, &p, "a retention policy") {
		return
	}
	name := WorkspaceFrom(r.Context())
	var rerr *RetentionError
	if err := SetRetention(r.Context(), h.store, name, &p); errors.As(err, &rerr) {
		writeError(w, http.StatusBadRequest, "invalid_policy", rerr.Error(), "")
		return
	} else if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	h.workspaces.forget(name)
	h.getRetention(w, r)
}

func (h *handler) applyRetention(w http.ResponseWriter, r *http.Request) {
	run, err := ApplyRetention(r.Context(), h.store, WorkspaceFrom(r.Context()), time.Now())
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}
