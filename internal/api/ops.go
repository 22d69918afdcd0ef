package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/omnikpi/omnikpi/internal/journal"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Metric names, as /metrics shows them.
const (
	metricIngested = "omnikpi_ingested_events_total"
	metricRequests = "omnikpi_http_request_duration_seconds"
	metricQueries  = "omnikpi_kpi_query_duration_seconds"
)

// countIngested adds an ingestion request's events by result.
func (h *handler) countIngested(source string, byResult map[string]int) {
	for result, n := range byResult {
		if n > 0 {
			h.metrics.Add(metricIngested, "Events received, by source (api, whatsapp) and result (queued in the journal; accepted or duplicate when the request waited for the store; rejected; shed when the journal was full).",
				[]string{"source", "result"}, []string{source, result}, float64(n))
		}
	}
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// timed records every request's latency by its route pattern (never its
// raw path, which would let clients grow the series without bound).
func (h *handler) timed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		h.metrics.Observe(metricRequests, "HTTP request latency by route and status code.",
			[]string{"route", "code"}, []string{route, strconv.Itoa(rec.status)}, time.Since(start))
	})
}

// registerGauges adds the values read when /metrics is asked.
func (h *handler) registerGauges() {
	h.metrics.Gauge("omnikpi_store_size_bytes", "Bytes the store takes on disk.", func() (float64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n, err := h.store.Size(ctx)
		return float64(n), err
	})
	h.metrics.Gauge("omnikpi_ingest_requests_in_flight", "Ingestion requests being served now.", func() (float64, error) {
		return float64(len(h.inflight)), nil
	})
	if h.journal == nil {
		return
	}
	h.metrics.Gauge("omnikpi_journal_lag_events", "Events acknowledged and journaled but not yet in the store.", func() (float64, error) {
		return float64(h.journal.Lag().Events), nil
	})
	h.metrics.Gauge("omnikpi_journal_lag_bytes", "Journal bytes not yet in the store; past the bound ingestion answers 503.", func() (float64, error) {
		return float64(h.journal.Lag().Bytes), nil
	})
	h.metrics.Gauge("omnikpi_journal_lag_seconds", "Age of the oldest journaled request not yet in the store; 0 when none.", func() (float64, error) {
		return lagSeconds(h.journal.Lag()), nil
	})
}

func lagSeconds(l journal.Lag) float64 {
	if l.Oldest.IsZero() {
		return 0
	}
	return time.Since(l.Oldest).Seconds()
}

func (h *handler) getMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	if err := h.metrics.Write(w); err != nil {
		h.log.Error("write metrics", "err", err)
	}
}

// ready answers 200 once the store answers a query, and 503 otherwise:
// a load balancer sends traffic only to a server that can store it.
func (h *handler) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := ping(ctx, h.store); err != nil {
		h.log.Warn("not ready", "err", err)
		writeError(w, http.StatusServiceUnavailable, "not_ready", "the store does not answer: "+err.Error(), "")
		return
	}
	if h.journal != nil {
		if lag := h.journal.Lag(); lagSeconds(lag) > h.maxLag.Seconds() {
			msg := fmt.Sprintf("the store is %.0f s (%d events) behind the ingestion journal, more than the bound of %s", lagSeconds(lag), lag.Events, h.maxLag)
			h.log.Warn("not ready", "reason", msg)
			writeError(w, http.StatusServiceUnavailable, "not_ready", msg, "")
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ready\n"))
}

func ping(ctx context.Context, s store.Store) error {
	rows, err := s.Query(ctx, "SELECT 1")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}
