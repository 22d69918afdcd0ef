package clickhouse_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse/chtest"
)

func ev(id string, minute int, kind event.Kind, msg string, mod func(*event.Event)) event.Event {
	e := event.Event{
		ID: id, Workspace: "w", Kind: kind, Message: msg, Channel: "whatsapp", Count: 1,
		TS: time.Date(2026, 1, 10, 12, minute, 0, 0, time.UTC),
	}
	if mod != nil {
		mod(&e)
	}
	return e
}

func TestStore_InsertDeduplicates(t *testing.T) {
	s := chtest.Open(t)
	ctx := context.Background()
	first := []event.Event{ev("a", 0, event.MessageSent, "m1", nil), ev("a", 1, event.MessageSent, "m1", nil), ev("b", 2, event.MessageRead, "m1", nil)}
	got, err := s.Insert(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.Outcome{store.Accepted, store.Duplicate, store.Accepted}; !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes = %v, want %v", got, want)
	}
	got, err = s.Insert(ctx, []event.Event{ev("b", 9, event.MessageRead, "m1", nil), ev("c", 3, event.LinkClicked, "m1", nil)})
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.Outcome{store.Duplicate, store.Accepted}; !reflect.DeepEqual(got, want) {
		t.Fatalf("second batch outcomes = %v, want %v", got, want)
	}
	var n, maxTS int64
	if err := s.DB().QueryRow("SELECT count(), max(ts) FROM events").Scan(&n, &maxTS); err != nil {
		t.Fatal(err)
	}
	if n != 3 || maxTS != time.Date(2026, 1, 10, 12, 3, 0, 0, time.UTC).UnixMilli() {
		t.Fatalf("stored %d events, latest %d; want 3 events, the first copy of each", n, maxTS)
	}
	var sent, read, clicked *int64
	if err := s.DB().QueryRow("SELECT sent_ms, read_ms, clicked_ms FROM message_facts WHERE workspace = 'w' AND message = 'm1'").
		Scan(&sent, &read, &clicked); err != nil {
		t.Fatal(err)
	}
	if sent == nil || read == nil || clicked == nil || *read != time.Date(2026, 1, 10, 12, 2, 0, 0, time.UTC).UnixMilli() {
		t.Fatalf("facts sent=%v read=%v clicked=%v", sent, read, clicked)
	}
}
