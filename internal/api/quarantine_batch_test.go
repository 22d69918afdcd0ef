package api

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// TestIngestQuarantined_Batches hands the quarantine to the store batch by
// batch: when one batch fails, those before it stay ingested and the rest
// wait for the next run, which takes them up.
func TestIngestQuarantined_Batches(t *testing.T) {
	ctx := context.Background()
	s, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "q.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	body, err := os.ReadFile("../ingest/whatsapp/testdata/campaign_day.json")
	if err != nil {
		t.Fatal(err)
	}
	res, _ := whatsapp.Parse(body, whatsapp.Options{})
	var parts []store.QuarantinedPart
	for _, u := range res.Unrouted {
		parts = append(parts, store.QuarantinedPart{ID: u.ID(), Source: "whatsapp", PhoneNumberID: u.PhoneNumberID, AccountID: u.AccountID, Part: u.Change})
	}
	if err := s.Quarantine(ctx, parts); err != nil || len(parts) != 4 {
		t.Fatalf("%d parts: %v", len(parts), err)
	}
	defer func(n int) { quarantineBatch = n }(quarantineBatch)
	quarantineBatch = 1
	route := func(string, string) (string, bool) { return "shop", true }
	calls := 0
	failing := func(ctx context.Context, events []event.Event) error {
		if calls++; calls == 2 {
			return errors.New("the store is away")
		}
		_, err := s.Insert(ctx, events)
		return err
	}
	got, err := IngestQuarantined(ctx, s, route, failing)
	if err == nil || got.Parts != 1 || calls != 2 {
		t.Fatalf("first run: %+v, %v after %d batches", got, err, calls)
	}
	got, err = IngestQuarantined(ctx, s, route, failing)
	if err != nil || got.Parts != 3 {
		t.Fatalf("second run: %+v, %v", got, err)
	}
	var n int
	if err := s.DB().QueryRow("SELECT count(*) FROM events WHERE workspace = 'shop'").Scan(&n); err != nil || n != 11 {
		t.Errorf("%d events stored, want 11 (%v)", n, err)
	}
}
