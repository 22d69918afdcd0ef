package api

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
	"github.com/omnikpi/omnikpi/internal/store"
)

// WebhookResult answers a webhook POST. Meta reads only the status; the
// body helps whoever tests an integration.
type WebhookResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
	Queued     int `json:"queued"`
	// Quarantined counts the parts kept for a number or account no
	// workspace is configured for, to be ingested once one is.
	Quarantined int                `json:"quarantined"`
	Skipped     []whatsapp.Problem `json:"skipped"` // parts not stored, and why
}

// verifyWhatsApp answers Meta's subscription handshake: the challenge is
// echoed only for the configured verify token.
func (h *handler) verifyWhatsApp(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("hub.mode") != "subscribe" || !whatsapp.ValidVerifyToken(q.Get("hub.verify_token"), h.whatsapp.VerifyToken) {
		h.log.Warn("whatsapp webhook verification refused", "mode", q.Get("hub.mode"))
		writeError(w, http.StatusForbidden, "forbidden", "hub.mode must be subscribe and hub.verify_token the configured verify token", "hub.verify_token")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, q.Get("hub.challenge"))
}

// postWhatsApp stores a webhook from the WhatsApp Cloud API once its
// signature is checked, and answers 200 only when its events are durable.
// Parts that cannot be read are logged and skipped; Meta would otherwise
// re-send the whole batch for days. Parts of a number or account no
// workspace is configured for are kept in the quarantine.
func (h *handler) postWhatsApp(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "the body is larger than the limit of "+strconv.FormatInt(h.maxBody, 10)+" bytes", "")
		return
	} else if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", "reading the body: "+err.Error(), "")
		return
	}
	sig := r.Header.Get(whatsapp.SignatureHeader)
	if sig == "" {
		writeError(w, http.StatusUnauthorized, "unauthorized", "missing "+whatsapp.SignatureHeader+" header", whatsapp.SignatureHeader)
		return
	}
	if !whatsapp.ValidSignature(body, sig, h.whatsapp.Secrets()...) {
		h.log.Warn("whatsapp webhook with a wrong signature", "bytes", len(body))
		writeError(w, http.StatusUnauthorized, "unauthorized", whatsapp.SignatureHeader+" is not the HMAC-SHA256 of this body under the app secret", whatsapp.SignatureHeader)
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
	res, err := whatsapp.Parse(body, whatsapp.Options{
		Route: h.whatsapp.Route,
		StopWords: func(name string) *whatsapp.StopWords {
			if words := workspace(name).StopWords; len(words) > 0 {
				return whatsapp.NewStopWords(words)
			}
			return nil
		},
	})
	var bodyErr *whatsapp.BodyError
	if errors.As(err, &bodyErr) {
		writeError(w, http.StatusBadRequest, "invalid_body", bodyErr.Error(), "")
		return
	}
	unrouted := map[string]bool{}
	for _, u := range res.Unrouted {
		unrouted[u.Where] = true
	}
	for _, p := range res.Problems {
		if !unrouted[p.Where] {
			h.log.Warn("whatsapp webhook part skipped", "where", p.Where, "reason", p.Reason)
		}
	}
	if len(res.Unrouted) > 0 && !h.keepUnrouted(w, r, res.Unrouted) {
		return
	}
	for i := range res.Events {
		if !workspace(res.Events[i].Workspace).KeepPhoneNumbers {
			ingest.HashPhoneCustomers(res.Events[i:i+1], res.Events[i].Workspace)
		}
	}
	if lookupErr != nil {
		serverError(w, h.log, r, lookupErr)
		return
	}
	out := WebhookResult{Skipped: res.Problems, Quarantined: len(res.Unrouted)}
	if out.Skipped == nil {
		out.Skipped = []whatsapp.Problem{}
	}
	if len(res.Events) > 0 {
		_, n, ok := h.submit(w, r, "whatsapp", res.Events, 0)
		if !ok {
			return
		}
		out.Accepted, out.Duplicates, out.Queued = n.Accepted, n.Duplicates, n.Queued
	}
	writeJSON(w, http.StatusOK, out)
}
