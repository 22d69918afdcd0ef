package clickhouse_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"

	"github.com/omnikpi/omnikpi/internal/store/clickhouse/chtest"
	"github.com/omnikpi/omnikpi/internal/store/storetest"
)

func TestStore_Contract(t *testing.T) {
	chtest.URL(t)
	storetest.Run(t, func(t *testing.T) storetest.Store { return chtest.Open(t) })
}

// TestStore_RetryMendsFacts stands for a crash between writing a batch's
// events and merging their facts: the events are stored but the facts are
// not. The client's retry finds every event a duplicate and still brings
// the facts up to date.
func TestStore_RetryMendsFacts(t *testing.T) {
	s := chtest.Open(t)
	ctx := context.Background()
	batch := []event.Event{
		storetest.Event("s1", 0, event.MessageSent, "m1", func(e *event.Event) { e.Campaign = "spring" }),
		storetest.Event("r1", 5, event.MessageRead, "m1", nil),
	}
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO events (workspace, id, ts, kind, channel, message, campaign, count, tags, received)")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range batch {
		var campaign any
		if e.Campaign != "" {
			campaign = e.Campaign
		}
		if _, err := stmt.ExecContext(ctx, e.Workspace, e.ID, e.TSMillis(), string(e.Kind), e.Channel, e.Message, campaign, int64(1), []string{}, int64(0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.DB().QueryRow("SELECT count() FROM message_facts FINAL").Scan(&n); err != nil || n != 0 {
		t.Fatalf("facts before the retry: %d rows, %v; want none", n, err)
	}
	got, err := s.Insert(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.Outcome{store.Duplicate, store.Duplicate}; !reflect.DeepEqual(got, want) {
		t.Fatalf("retry outcomes = %v, want %v", got, want)
	}
	var campaign string
	var read int64
	if err := s.DB().QueryRow("SELECT campaign, read_ms FROM message_facts FINAL WHERE message = 'm1'").Scan(&campaign, &read); err != nil {
		t.Fatal(err)
	}
	if campaign != "spring" || read != batch[1].TSMillis() {
		t.Errorf("facts after the retry: campaign %q, read at %d; want spring, %d", campaign, read, batch[1].TSMillis())
	}
}
