package kpi_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// Business hours apply when the KPIs are computed: changing them changes
// the figures of a past period.
func TestService_ChangedBusinessHoursChangePastFigures(t *testing.T) {
	ctx := context.Background()
	s, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "hours.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var events []event.Event
	for _, line := range []string{
		// Monday 5 January 2026, 08:00 → 10:00 UTC.
		`{"id":"a","ts":"2026-01-05T08:00:00Z","kind":"message_received","channel":"whatsapp","conversation":"c","customer":"k","message":"m1"}`,
		`{"id":"b","ts":"2026-01-05T10:00:00Z","kind":"message_sent","channel":"whatsapp","conversation":"c","customer":"k","message":"m2","actor":"agent","agent":"ana"}`,
	} {
		e, err := event.ParseJSON([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		e.Workspace = "w"
		events = append(events, e)
	}
	if _, err := s.Insert(ctx, events); err != nil {
		t.Fatal(err)
	}
	engine, err := kpi.New(s)
	if err != nil {
		t.Fatal(err)
	}
	frt := func() (float64, error) {
		rep, err := engine.Compute(ctx, kpi.Request{Workspace: "w", From: "2026-01-01", To: "2026-02-01",
			KPIs: []string{"first_response_time"}, Hours: "business"})
		if err != nil {
			return 0, err
		}
		return *rep.Rows[0].KPIs[0].Value, nil
	}
	var reqErr *kpi.RequestError
	if _, err := frt(); !errors.As(err, &reqErr) || reqErr.Field != "hours" {
		t.Fatalf("business time without business hours: %v, want a request error on hours", err)
	}
	ws := store.NewWorkspace("w")
	ws.BusinessHours = &store.BusinessHours{Open: map[string][]string{"mon": {"09:00-17:00"}}}
	if err := s.PutWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	if got, err := frt(); err != nil || got != 3600 {
		t.Fatalf("open from 09:00: %v s, %v; want 3600", got, err)
	}
	ws.BusinessHours.Open["mon"] = []string{"07:00-08:30", "09:30-17:00"}
	if err := s.PutWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	if got, err := frt(); err != nil || got != 3600 {
		t.Fatalf("two periods: %v s, %v; want 30 + 30 minutes", got, err)
	}
	ws.BusinessHours.Holidays = []string{"2026-01-05"}
	if err := s.PutWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	if got, err := frt(); err != nil || got != 0 {
		t.Fatalf("a holiday: %v s, %v; want 0", got, err)
	}
}
