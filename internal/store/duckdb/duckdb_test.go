package duckdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

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
	s := openTemp(t)
	ctx := context.Background()
	first := []event.Event{ev("a", 0, event.MessageSent, "m1", nil), ev("a", 1, event.MessageSent, "m1", nil), ev("b", 2, event.MessageRead, "m1", nil)}
	got, err := s.Insert(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Outcome{store.Accepted, store.Duplicate, store.Accepted}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes = %v, want %v", got, want)
	}
	got, err = s.Insert(ctx, []event.Event{ev("b", 9, event.MessageRead, "m1", nil), ev("c", 3, event.LinkClicked, "m1", nil)})
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.Outcome{store.Duplicate, store.Accepted}; !reflect.DeepEqual(got, want) {
		t.Fatalf("second batch outcomes = %v, want %v", got, want)
	}
	var n, ts int64
	if err := s.db.QueryRow("SELECT count(*), max(ts) FROM events").Scan(&n, &ts); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("events stored = %d, want 3", n)
	}
	// The duplicate "b" at minute 9 must not move the read time.
	var readMS int64
	if err := s.db.QueryRow("SELECT read_ms FROM message_facts WHERE message = 'm1'").Scan(&readMS); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 1, 10, 12, 2, 0, 0, time.UTC).UnixMilli(); readMS != want {
		t.Errorf("read_ms = %d, want %d (from the first copy of b)", readMS, want)
	}
}

// factsDump reads every fact table in a stable order.
func factsDump(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		"SELECT * FROM message_facts ORDER BY workspace, message",
		"SELECT * FROM order_facts ORDER BY workspace, order_id",
		"SELECT * FROM conversation_facts ORDER BY workspace, conversation",
	} {
		rows, err := s.db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(vals...))
		}
		rows.Close()
	}
	return out
}

func TestStore_FactsIndependentOfOrderAndBatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var events []event.Event
	kinds := []event.Kind{event.MessageSent, event.MessageDelivered, event.MessageRead, event.MessageFailed, event.LinkClicked, event.MessageReceived}
	for i := range 400 {
		msg := fmt.Sprintf("m%d", rng.IntN(60))
		kind := kinds[rng.IntN(len(kinds))]
		events = append(events, ev(fmt.Sprintf("e%d", i), rng.IntN(50), kind, msg, func(e *event.Event) {
			if kind == event.MessageSent {
				e.Campaign = fmt.Sprintf("c%d", rng.IntN(3))
				e.Actor = event.ActorCampaign
			}
			if kind == event.MessageReceived {
				e.Actor = event.ActorCustomer
			}
			e.Customer = fmt.Sprintf("cus%d", rng.IntN(5))
			e.Conversation = fmt.Sprintf("conv%d", rng.IntN(10))
		}))
	}
	for i := range 100 {
		order := fmt.Sprintf("o%d", rng.IntN(30))
		kind := []event.Kind{event.OrderPlaced, event.OrderRefunded, event.OrderReturned}[rng.IntN(3)]
		events = append(events, ev(fmt.Sprintf("o-e%d", i), rng.IntN(50), kind, "", func(e *event.Event) {
			e.Order, e.Message = order, ""
			if kind != event.OrderReturned || rng.IntN(2) == 0 {
				e.Amount = &event.Money{Minor: int64(100 + rng.IntN(900)), Currency: "EUR"}
			}
		}))
	}
	// Duplicates with the same id and the same content, as retries are.
	for i := range 50 {
		events = append(events, events[rng.IntN(len(events))])
		_ = i
	}

	load := func(order []event.Event, batch int) []string {
		s := openTemp(t)
		for start := 0; start < len(order); start += batch {
			if _, err := s.Insert(context.Background(), order[start:min(start+batch, len(order))]); err != nil {
				t.Fatal(err)
			}
		}
		return factsDump(t, s)
	}
	want := load(events, len(events))
	for trial := range 3 {
		shuffled := append([]event.Event(nil), events...)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got := load(shuffled, 3+trial*37)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: facts differ after shuffling and batching by %d\n got %d rows\nwant %d rows", trial, 3+trial*37, len(got), len(want))
		}
	}
}
