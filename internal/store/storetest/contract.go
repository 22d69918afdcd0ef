package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Store is a store whose tables a test can read directly.
type Store interface {
	store.Store
	DB() *sql.DB
}

// Opener makes an empty store for one test.
type Opener func(t *testing.T) Store

// Run runs the contract every store keeps, against stores made by open.
func Run(t *testing.T, open Opener) {
	t.Run("InsertDeduplicates", func(t *testing.T) { insertDeduplicates(t, open) })
	t.Run("FactsIndependentOfOrderAndBatches", func(t *testing.T) { factsIndependentOfOrderAndBatches(t, open) })
	t.Run("SizeGrows", func(t *testing.T) { sizeGrows(t, open) })
	t.Run("RevokeKey", func(t *testing.T) { revokeKey(t, open) })
	t.Run("EventsKeepEveryColumn", func(t *testing.T) { eventsKeepEveryColumn(t, open) })
	t.Run("SessionsIndependentOfOrderAndBatches", func(t *testing.T) { sessionsIndependentOfOrderAndBatches(t, open) })
}

// eventsKeepEveryColumn: the events table has store.EventColumns, in
// order, and an event with every field set reads back as store.EventRow
// laid it out.
func eventsKeepEveryColumn(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	score, duration := 4.5, int64(61_000)
	e := Event("full", 0, event.OrderPlaced, "m1", func(e *event.Event) {
		e.Customer, e.Conversation, e.Campaign, e.Template, e.Variant = "c1", "v1", "spring", "tpl", "B"
		e.Actor, e.Agent, e.Team, e.Order = event.ActorAgent, "ana", "sales", "o1"
		e.Amount, e.Score, e.DurationMS, e.Count = &event.Money{Minor: 1999, Currency: "EUR"}, &score, &duration, 3
		e.Text, e.Tags = "hello", []string{"vip", "late"}
		e.Source, e.Medium, e.UTMCampaign, e.UTMContent, e.UTMTerm = "google", "cpc", "spring", "banner", "shoes"
		e.Product, e.Platform, e.Props = "sku-1", "web", map[string]any{"goal": "booking"}
	})
	if _, err := s.Insert(ctx, []event.Event{e}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.DB().Query("SELECT * FROM " + s.Dialect().Events("e") + " WHERE e.id = 'full'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, c := range store.EventColumns {
		want = append(want, c.Name)
	}
	if !reflect.DeepEqual(cols, want) {
		t.Fatalf("the events table has columns %v, want store.EventColumns %v", cols, want)
	}
	if !rows.Next() {
		t.Fatalf("the event was not stored: %v", rows.Err())
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	for i, v := range store.EventRow(&e, 0) {
		if name := cols[i]; name != "received" && fmt.Sprint(deref(vals[i])) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v", name, deref(vals[i]), v)
		}
	}
}

// revokeKey: a revoked key is neither found by its hash nor listed; the
// workspace's other keys stay; revoking again, or an unknown hash, is no
// error.
func revokeKey(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	created := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	keep := store.Key{Hash: "aa01", Prefix: "ok_keep", Workspace: "w", Created: created}
	gone := store.Key{Hash: "bb02", Prefix: "ok_gone", Workspace: "w", Created: created.Add(time.Second)}
	for _, k := range []store.Key{keep, gone} {
		if err := s.AddKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.KeyByHash(ctx, gone.Hash); err != nil {
		t.Fatalf("before revoking: %v", err)
	}
	for range 2 {
		if err := s.RevokeKey(ctx, gone.Hash); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeKey(ctx, "no such hash"); err != nil {
		t.Errorf("revoking an unknown hash: %v", err)
	}
	if _, err := s.KeyByHash(ctx, gone.Hash); err != store.ErrNotFound {
		t.Errorf("the revoked key is still found: %v", err)
	}
	if k, err := s.KeyByHash(ctx, keep.Hash); err != nil || k.Prefix != keep.Prefix {
		t.Errorf("the other key: %+v, %v", k, err)
	}
	keys, err := s.Keys(ctx, "w")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].Hash != keep.Hash {
		t.Errorf("keys after revoking = %+v, want only %s", keys, keep.Prefix)
	}
}

// sizeGrows: a store holding many events takes more room than it did
// before they came.
func sizeGrows(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	before, err := s.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var events []event.Event
	for i := range 20000 {
		events = append(events, Event(fmt.Sprintf("e%d", i), i%60, event.MessageSent, fmt.Sprintf("m%d", i), nil))
	}
	if _, err := s.Insert(ctx, events); err != nil {
		t.Fatal(err)
	}
	after, err := s.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Errorf("size %d bytes before 20,000 events, %d after", before, after)
	}
}

// Event makes an event of workspace "w" on WhatsApp at 12:minute on
// 10 January 2026, changed by mod.
func Event(id string, minute int, kind event.Kind, msg string, mod func(*event.Event)) event.Event {
	e := event.Event{
		ID: id, Workspace: "w", Kind: kind, Message: msg, Channel: "whatsapp", Count: 1,
		TS: time.Date(2026, 1, 10, 12, minute, 0, 0, time.UTC),
	}
	if mod != nil {
		mod(&e)
	}
	return e
}

func insertDeduplicates(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	first := []event.Event{Event("a", 0, event.MessageSent, "m1", nil), Event("a", 1, event.MessageSent, "m1", nil), Event("b", 2, event.MessageRead, "m1", nil)}
	got, err := s.Insert(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Outcome{store.Accepted, store.Duplicate, store.Accepted}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes = %v, want %v", got, want)
	}
	got, err = s.Insert(ctx, []event.Event{Event("b", 9, event.MessageRead, "m1", nil), Event("c", 3, event.LinkClicked, "m1", nil)})
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.Outcome{store.Duplicate, store.Accepted}; !reflect.DeepEqual(got, want) {
		t.Fatalf("second batch outcomes = %v, want %v", got, want)
	}
	var n, maxTS int64
	if err := s.DB().QueryRow("SELECT count(*), max(ts) FROM events").Scan(&n, &maxTS); err != nil {
		t.Fatal(err)
	}
	if n != 3 || maxTS != time.Date(2026, 1, 10, 12, 3, 0, 0, time.UTC).UnixMilli() {
		t.Errorf("stored %d events, latest at %d; want 3, the first copy of each", n, maxTS)
	}
	// The duplicate "b" at minute 9 must not move the read time.
	var readMS int64
	if err := s.DB().QueryRow("SELECT read_ms FROM " + factTable(s, "message_facts") + " WHERE workspace = 'w' AND message = 'm1'").Scan(&readMS); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 1, 10, 12, 2, 0, 0, time.UTC).UnixMilli(); readMS != want {
		t.Errorf("read_ms = %d, want %d (from the first copy of b)", readMS, want)
	}
}

// factTable names a fact table so that a query sees each entity's row once:
// ClickHouse keeps every version of a row until a background merge.
func factTable(s Store, name string) string {
	return s.Dialect().Facts(name, "")
}

// factsDump reads every fact table in a stable order.
func factsDump(t *testing.T, s Store) []string {
	t.Helper()
	var out []string
	for _, f := range store.Facts {
		rows, err := s.DB().Query("SELECT * FROM " + factTable(s, f.Name) + " ORDER BY workspace, " + f.Key)
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
			line := ""
			for _, v := range vals {
				line += fmt.Sprintf("%v|", deref(v))
			}
			out = append(out, line)
		}
		rows.Close()
	}
	return out
}

// deref shows a pointer's value rather than its address.
func deref(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		return rv.Elem().Interface()
	}
	return v
}

func factsIndependentOfOrderAndBatches(t *testing.T, open Opener) {
	rng := rand.New(rand.NewPCG(7, 7))
	var events []event.Event
	kinds := []event.Kind{event.MessageSent, event.MessageDelivered, event.MessageRead, event.MessageFailed, event.LinkClicked, event.MessageReceived}
	for i := range 400 {
		msg := fmt.Sprintf("m%d", rng.IntN(60))
		kind := kinds[rng.IntN(len(kinds))]
		events = append(events, Event(fmt.Sprintf("e%d", i), rng.IntN(50), kind, msg, func(e *event.Event) {
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
		events = append(events, Event(fmt.Sprintf("o-e%d", i), rng.IntN(50), kind, "", func(e *event.Event) {
			e.Order, e.Message = order, ""
			if kind != event.OrderReturned || rng.IntN(2) == 0 {
				e.Amount = &event.Money{Minor: int64(100 + rng.IntN(900)), Currency: "EUR"}
			}
		}))
	}
	// Duplicates with the same id and the same content, as retries are.
	for range 50 {
		events = append(events, events[rng.IntN(len(events))])
	}

	load := func(order []event.Event, batch int) []string {
		s := open(t)
		for start := 0; start < len(order); start += batch {
			if _, err := s.Insert(context.Background(), order[start:min(start+batch, len(order))]); err != nil {
				t.Fatal(err)
			}
		}
		return factsDump(t, s)
	}
	want := load(events, len(events))
	if len(want) < 60 {
		t.Fatalf("only %d fact rows: the data set is too small to test anything", len(want))
	}
	for trial := range 3 {
		shuffled := append([]event.Event(nil), events...)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got := load(shuffled, 3+trial*37)
		if !reflect.DeepEqual(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("trial %d: facts differ after shuffling and batching by %d; first difference:\n got %s\nwant %s", trial, 3+trial*37, got[i], want[i])
				}
			}
			t.Fatalf("trial %d: %d fact rows, want %d", trial, len(got), len(want))
		}
	}
}
