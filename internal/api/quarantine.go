package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/config"
	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
	"github.com/omnikpi/omnikpi/internal/store"
)

// QuarantineList answers GET /v1/quarantine.
type QuarantineList struct {
	Parts   []store.QuarantinedPart `json:"parts"`   // oldest first
	Waiting int                     `json:"waiting"` // parts not ingested yet
}

// QuarantineMapping maps numbers and accounts to workspaces for one
// ingestion of the quarantine, beside the server's configuration.
type QuarantineMapping struct {
	PhoneNumbers     map[string]string `json:"phone_numbers,omitempty"`
	BusinessAccounts map[string]string `json:"business_accounts,omitempty"`
}

// QuarantineResult says what an ingestion of the quarantine did.
type QuarantineResult struct {
	Parts   int `json:"parts"`   // parts ingested now
	Events  int `json:"events"`  // their events, handed to the store
	Waiting int `json:"waiting"` // parts still without a workspace
}

// errNoQuarantine is a store that keeps no quarantine.
var errNoQuarantine = errors.New("this store keeps no quarantine")

// quarantineRoutes are admin routes: the quarantine holds parts of no
// workspace.
func (h *handler) quarantineRoutes() []route {
	return []route{
		{"GET /v1/quarantine", h.admin(noWorkspace, h.listQuarantine)},
		{"POST /v1/quarantine/ingest", h.admin(noWorkspace, h.ingestQuarantine)},
	}
}

// keepUnrouted quarantines the parts of a webhook of source that no
// workspace is configured for, durably, before the webhook is answered.
// It writes the error answer itself and reports false when they could not
// be kept.
func (h *handler) keepUnrouted(w http.ResponseWriter, r *http.Request, source string, unrouted []ingest.Part) bool {
	q, ok := h.store.(store.Quarantine)
	if !ok {
		serverError(w, h.log, r, errNoQuarantine)
		return false
	}
	now := time.Now().UTC()
	parts := make([]store.QuarantinedPart, len(unrouted))
	for i, u := range unrouted {
		parts[i] = store.QuarantinedPart{ID: u.ID, Source: source, PhoneNumberID: u.Keys.Key, AccountID: u.Keys.Account,
			Received: now, Part: u.Raw}
		h.log.Warn(source+" webhook part quarantined: no workspace is configured for its number or account",
			"where", u.Where, "phone_number_id", u.Keys.Key, "business_account", u.Keys.Account, "part", parts[i].ID)
	}
	if err := q.Quarantine(r.Context(), parts); err != nil {
		serverError(w, h.log, r, err)
		return false
	}
	return true
}

func (h *handler) listQuarantine(w http.ResponseWriter, r *http.Request) {
	q, ok := h.store.(store.Quarantine)
	if !ok {
		serverError(w, h.log, r, errNoQuarantine)
		return
	}
	parts, err := q.QuarantinedParts(r.Context())
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	out := QuarantineList{Parts: parts}
	if out.Parts == nil {
		out.Parts = []store.QuarantinedPart{}
	}
	for _, p := range parts {
		if p.Ingested.IsZero() {
			out.Waiting++
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) ingestQuarantine(w http.ResponseWriter, r *http.Request) {
	var m QuarantineMapping
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err == nil && len(strings.TrimSpace(string(body))) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		err = dec.Decode(&m)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", "want {\"phone_numbers\":{\"ID\":\"WORKSPACE\"},\"business_accounts\":{…}} or nothing: "+err.Error(), "")
		return
	}
	wait, ok := waitParam(w, r)
	if !ok {
		return
	}
	sources := slices.Clone(h.sources)
	for i, src := range sources {
		if src.Name() == whatsapp.Channel {
			route := m.Route(nil)
			sources[i] = ingest.Rerouted(src, func(k ingest.Keys) (string, bool) { return route(k.Key, k.Account) })
		}
	}
	res, err := IngestQuarantine(r.Context(), h.store, sources, func(ctx context.Context, events []event.Event) error {
		_, err := h.ingester.Submit(ctx, events, wait)
		return err
	})
	if err != nil {
		serverError(w, h.log, r, err)
		return
	}
	h.log.Info("quarantine ingested", "parts", res.Parts, "events", res.Events, "waiting", res.Waiting)
	writeJSON(w, http.StatusOK, res)
}

// Route maps WhatsApp's keys by m first, then by next (none when nil).
func (m QuarantineMapping) Route(next func(phoneNumberID, accountID string) (string, bool)) func(phoneNumberID, accountID string) (string, bool) {
	own := config.WhatsApp{PhoneNumbers: m.PhoneNumbers, BusinessAccounts: m.BusinessAccounts}
	return func(phone, account string) (string, bool) {
		if ws, ok := own.Route(phone, account); ok {
			return ws, true
		}
		if next != nil {
			return next(phone, account)
		}
		return "", false
	}
}

// IngestQuarantined ingests the waiting WhatsApp parts of the quarantine
// that route maps to a workspace (see IngestQuarantine).
func IngestQuarantined(ctx context.Context, s store.Store, route func(phoneNumberID, accountID string) (string, bool),
	submit func(context.Context, []event.Event) error) (QuarantineResult, error) {
	src := ingest.Rerouted(whatsapp.New(whatsapp.Settings{}), func(k ingest.Keys) (string, bool) { return route(k.Key, k.Account) })
	return IngestQuarantine(ctx, s, []ingest.Source{src}, submit)
}

// IngestQuarantine ingests every waiting part of the quarantine that its
// source, among sources, now routes to a workspace, read as the webhook
// reads it: its events go to submit, then the part is marked ingested.
// Parts of other sources wait. Event ids come from the payload, so a part
// ingested twice (after a crash between the two steps) is counted once.
func IngestQuarantine(ctx context.Context, s store.Store, sources []ingest.Source,
	submit func(context.Context, []event.Event) error) (QuarantineResult, error) {
	var res QuarantineResult
	q, ok := s.(store.Quarantine)
	if !ok {
		return res, errNoQuarantine
	}
	parts, err := q.QuarantinedParts(ctx)
	if err != nil {
		return res, err
	}
	settings := map[string]store.Workspace{}
	now := time.Now().UTC()
	var done []store.QuarantinedPart
	var events []event.Event
	// flush hands the parts read so far to the store, in requests of a
	// bounded size, so that a large quarantine neither makes one huge
	// journal record nor loses what was ingested when a later batch fails.
	flush := func() error {
		if len(events) > 0 {
			if err := submit(ctx, events); err != nil {
				return err
			}
		}
		if len(done) > 0 {
			if err := q.MarkIngested(ctx, done); err != nil {
				return err
			}
		}
		res.Parts, res.Events = res.Parts+len(done), res.Events+len(events)
		done, events = nil, nil
		return nil
	}
	for _, p := range parts {
		if !p.Ingested.IsZero() {
			continue
		}
		src, name := routed(sources, p)
		if src == nil {
			res.Waiting++
			continue
		}
		ws, ok := settings[name]
		if !ok {
			if ws, err = EnsureWorkspace(ctx, s, name); err != nil {
				return res, err
			}
			settings[name] = ws
		}
		parsed, err := src.ParsePart(ingest.Part{ID: p.ID, Keys: partKeys(p), Raw: p.Part}, name, ws)
		if err != nil {
			return res, fmt.Errorf("quarantined part %s: %w", p.ID, err)
		}
		events = append(events, ingest.Prepare(parsed, ws)...)
		p.Ingested, p.Workspace = now, name
		done = append(done, p)
		if len(events) >= quarantineBatch {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	return res, flush()
}

// routed returns the source of a quarantined part, among sources, and the
// workspace it now routes the part to; nil when none does.
func routed(sources []ingest.Source, p store.QuarantinedPart) (ingest.Source, string) {
	for _, src := range sources {
		if src.Name() == p.Source {
			if name, ok := src.Route(partKeys(p)); ok {
				return src, name
			}
		}
	}
	return nil, ""
}

// partKeys are the keys the quarantine keeps of a part.
func partKeys(p store.QuarantinedPart) ingest.Keys {
	return ingest.Keys{Key: p.PhoneNumberID, Account: p.AccountID}
}

// quarantineBatch is about how many events of the quarantine are handed
// to the store at once.
var quarantineBatch = 5000

// StartWhatsApp is StartSources with the WhatsApp source of cfg alone.
func StartWhatsApp(ctx context.Context, s store.Store, cfg config.WhatsApp, submit func(context.Context, []event.Event) error, log *slog.Logger) error {
	return StartSources(ctx, s, []ingest.Source{whatsapp.New(cfg)}, submit, log)
}

// StartSources logs the configuration of each configured source (which
// keys go to which workspace; never the secrets), then ingests the
// quarantined parts they now map. serve calls it at start; a failure to
// ingest is logged, not returned, so that serve starts all the same.
func StartSources(ctx context.Context, s store.Store, sources []ingest.Source, submit func(context.Context, []event.Event) error, log *slog.Logger) error {
	for _, src := range sources {
		if src.Configured() != nil {
			continue
		}
		for _, m := range src.Mappings() {
			log.Info(src.Name()+" webhook: "+strings.ReplaceAll(m.Kind, "_", " ")+" maps to a workspace", m.Kind, m.ID, "workspace", m.Workspace)
		}
		log.LogAttrs(ctx, slog.LevelInfo, src.Name()+" webhook configured", src.LogAttrs()...)
	}
	res, err := IngestQuarantine(ctx, s, sources, submit)
	if errors.Is(err, errNoQuarantine) {
		return nil
	}
	if err != nil {
		// Serving matters more: what is left waits for the next start or
		// omnikpi quarantine ingest.
		log.Error("quarantine: webhook parts of numbers now configured not ingested; they wait for the next start or omnikpi quarantine ingest",
			"ingested_parts", res.Parts, "err", err)
		return nil
	}
	if res.Parts > 0 || res.Waiting > 0 {
		log.Info("quarantine: webhook parts of numbers now configured ingested", "parts", res.Parts, "events", res.Events, "waiting", res.Waiting)
	}
	return nil
}
