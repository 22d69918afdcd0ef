package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/journal"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Submitter takes validated events for storage (journal.Ingester). Submit
// returns once they are durable. With wait it returns once they are in the
// store, with each event's outcome (accepted or duplicate); without, the
// outcomes may be store.Queued, the duplicate check to come. On error
// nothing of the submission is acknowledged.
type Submitter interface {
	Submit(ctx context.Context, events []event.Event, wait bool) ([]store.Outcome, error)
}

// Submitted counts what became of a request's valid events.
type Submitted struct {
	Accepted   int `json:"accepted"`            // new in the store (wait=applied)
	Duplicates int `json:"duplicates"`          // held by the store already (wait=applied)
	Queued     int `json:"queued"`              // durable in the journal, checked for duplicates when applied
	Forgotten  int `json:"forgotten,omitempty"` // dropped: they name an erased customer (store.Forgotten)
	Expired    int `json:"expired,omitempty"`   // dropped: older than the workspace's retention keeps (store.Expired)
}

// submit hands a request's valid events to the ingester and counts their
// outcomes. With wait=applied in the query the answer waits until the
// events are in the store and tells new events from duplicates; otherwise
// it comes once they are durable in the journal. It writes the error
// answer itself and reports false when the events were not taken.
func (h *handler) submit(w http.ResponseWriter, r *http.Request, source string, events []event.Event, rejected int) ([]store.Outcome, Submitted, bool) {
	wait, ok := waitParam(w, r)
	if !ok {
		return nil, Submitted{}, false
	}
	// What the store would drop is dropped here, so that the answer says
	// so; the store drops it again if it comes through the journal.
	drops, err := h.store.Dropped(r.Context(), events)
	if err != nil {
		serverError(w, h.log, r, err)
		return nil, Submitted{}, false
	}
	kept := make([]event.Event, 0, len(events))
	for i, d := range drops {
		if d == 0 {
			kept = append(kept, events[i])
		}
	}
	outcomes, err := h.ingester.Submit(r.Context(), kept, wait)
	switch {
	case errors.Is(err, journal.ErrFull):
		h.countIngested(source, map[string]int{"shed": len(events)})
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "overloaded", "the store is behind the ingestion journal: retry after a few seconds", "")
		return nil, Submitted{}, false
	case errors.Is(err, journal.ErrClosed):
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "shutting_down", "the server is shutting down: retry after a few seconds", "")
		return nil, Submitted{}, false
	case err != nil:
		serverError(w, h.log, r, err)
		return nil, Submitted{}, false
	}
	j := 0
	for i := range drops {
		if drops[i] == 0 {
			drops[i] = outcomes[j]
			j++
		}
	}
	outcomes = drops
	var n Submitted
	for _, o := range outcomes {
		switch o {
		case store.Accepted:
			n.Accepted++
		case store.Duplicate:
			n.Duplicates++
		case store.Forgotten:
			n.Forgotten++
		case store.Expired:
			n.Expired++
		default:
			n.Queued++
		}
	}
	h.countIngested(source, map[string]int{"accepted": n.Accepted, "duplicate": n.Duplicates, "queued": n.Queued, "rejected": rejected,
		"forgotten": n.Forgotten, "expired": n.Expired})
	return outcomes, n, true
}

// waitParam reads wait=applied, which makes an ingestion request wait
// until its events are in the store. It writes the error answer itself and
// reports false for any other value.
func waitParam(w http.ResponseWriter, r *http.Request) (wait, ok bool) {
	switch v := r.URL.Query().Get("wait"); v {
	case "":
		return false, true
	case "applied":
		return true, true
	default:
		writeError(w, http.StatusBadRequest, "invalid_parameter", "wait must be applied (answer once the events are in the store) or absent, not "+v, "wait")
		return false, false
	}
}

// status is an outcome as the answer names it.
func status(o store.Outcome) string {
	switch o {
	case store.Accepted:
		return "accepted"
	case store.Duplicate:
		return "duplicate"
	case store.Forgotten:
		return "forgotten"
	case store.Expired:
		return "expired"
	default:
		return "queued"
	}
}
