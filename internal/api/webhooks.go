package api

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
	"github.com/omnikpi/omnikpi/internal/store"
)

// WebhookResult answers a webhook POST. The platforms read only the
// status; the body helps whoever tests an integration.
type WebhookResult struct {
	Submitted
	// Quarantined counts the parts kept for keys (a WhatsApp number or
	// account) no workspace is configured for, to be ingested once one is.
	Quarantined int              `json:"quarantined"`
	Skipped     []ingest.Problem `json:"skipped"` // parts not stored, and why
}

// WebhookSources are the webhook sources of opts: its Sources, and a
// WhatsApp source of opts.WhatsApp unless they hold one.
func (opts Options) WebhookSources() []ingest.Source {
	out := slices.Clone(opts.Sources)
	if !slices.ContainsFunc(out, func(s ingest.Source) bool { return s.Name() == whatsapp.Channel }) {
		out = append(out, whatsapp.New(opts.WhatsApp))
	}
	return out
}

// webhookRoutes serve each source at /webhooks/NAME: its handshake on GET
// when it has one, its webhooks on POST; 404 while it is not configured.
func (h *handler) webhookRoutes() []route {
	var rs []route
	for _, src := range h.sources {
		path := "/webhooks/" + src.Name()
		if err := src.Configured(); err != nil {
			rs = append(rs, route{path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeError(w, http.StatusNotFound, "not_configured", err.Error(), "")
			})})
			continue
		}
		if hs, ok := src.(ingest.Handshaker); ok {
			rs = append(rs, route{"GET " + path, h.handshake(src.Name(), hs)})
		}
		rs = append(rs, route{"POST " + path, h.shed(h.webhook(src))})
	}
	return rs
}

// handshake answers a platform's verification handshake.
func (h *handler) handshake(name string, hs ingest.Handshaker) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		answer, err := hs.Handshake(r.URL.Query())
		if err != nil {
			var refused *ingest.VerifyError
			field := ""
			if errors.As(err, &refused) {
				field = refused.Field
			}
			h.log.Warn(name+" webhook verification refused", "reason", err.Error())
			writeError(w, http.StatusForbidden, "forbidden", err.Error(), field)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, answer)
	}
}

// webhook stores a webhook of src once the source has verified it, and
// answers 200 only when its events are durable. Parts that cannot be read
// are logged and skipped; the platform would otherwise re-send the whole
// batch for days. Parts that no workspace maps are kept in the quarantine.
func (h *handler) webhook(src ingest.Source) http.HandlerFunc {
	name := src.Name()
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "the body is larger than the limit of "+strconv.FormatInt(h.maxBody, 10)+" bytes", "")
			return
		} else if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_body", "reading the body: "+err.Error(), "")
			return
		}
		if err := src.Verify(r.Header, body); err != nil {
			var refused *ingest.VerifyError
			field := ""
			if errors.As(err, &refused) {
				field = refused.Field
			}
			if refused == nil || !refused.Missing {
				h.log.Warn(name+" webhook with a wrong signature", "bytes", len(body))
			}
			writeError(w, http.StatusUnauthorized, "unauthorized", err.Error(), field)
			return
		}

		settings := map[string]store.Workspace{}
		var lookupErr error
		workspace := func(name string) store.Workspace {
			ws, ok := settings[name]
			if !ok {
				var err error
				if ws, err = h.settings(r.Context(), name); err != nil {
					lookupErr = err
				}
				settings[name] = ws
			}
			return ws
		}
		var batch ingest.Batch
		if hp, ok := src.(ingest.HeaderParser); ok {
			batch, err = hp.ParseWebhook(r.Header, body, workspace)
		} else {
			batch, err = src.Parse(body, workspace)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_body", err.Error(), "")
			return
		}
		unrouted := map[string]bool{}
		for _, u := range batch.Unrouted {
			unrouted[u.Where] = true
		}
		for _, p := range batch.Problems {
			if !unrouted[p.Where] {
				h.log.Warn(name+" webhook part skipped", "where", p.Where, "reason", p.Reason)
			}
		}
		if len(batch.Unrouted) > 0 && !h.keepUnrouted(w, r, name, batch.Unrouted) {
			return
		}
		var prepared []event.Event
		for i := range batch.Events {
			prepared = append(prepared, ingest.Prepare(batch.Events[i:i+1], workspace(batch.Events[i].Workspace))...)
		}
		batch.Events = prepared
		if lookupErr != nil {
			serverError(w, h.log, r, lookupErr)
			return
		}
		out := WebhookResult{Skipped: batch.Problems, Quarantined: len(batch.Unrouted)}
		if out.Skipped == nil {
			out.Skipped = []ingest.Problem{}
		}
		if len(batch.Events) > 0 {
			_, n, ok := h.submit(w, r, name, batch.Events, 0)
			if !ok {
				return
			}
			out.Submitted = n
		}
		writeJSON(w, http.StatusOK, out)
	}
}
