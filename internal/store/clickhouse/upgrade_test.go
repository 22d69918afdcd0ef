package clickhouse_test

import (
	"context"
	"slices"
	"testing"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse/chtest"
	"github.com/omnikpi/omnikpi/internal/store/storetest"
)

// TestOpen_AddsFactColumnsOfANewerVersion opens a database whose message
// facts lack a dimension, as an earlier version made them, and finds the
// column added and fed by new events, the older facts kept.
func TestOpen_AddsFactColumnsOfANewerVersion(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *clickhouse.Store{
		"one server": chtest.Open, "two shards": chtest.OpenTwoShards, "replicated": chtest.OpenReplicated,
	} {
		t.Run(name, func(t *testing.T) { addsFactColumns(t, open) })
	}
}

func addsFactColumns(t *testing.T, open func(testing.TB) *clickhouse.Store) {
	ctx := context.Background()
	i := slices.IndexFunc(store.Facts, func(f store.FactTable) bool { return f.Name == store.MessageFacts.Name })
	current := store.Facts[i].PropDims
	defer func() { store.Facts[i].PropDims = current }() // also when open skips the test
	store.Facts[i].PropDims = slices.DeleteFunc(slices.Clone(current), func(d string) bool { return d == "template_category" })
	old := open(t)
	store.Facts[i].PropDims = current
	before := storetest.Event("s1", 0, event.MessageSent, "m1", func(e *event.Event) { e.Campaign = "spring" })
	if _, err := old.Insert(ctx, []event.Event{before}); err != nil {
		t.Fatal(err)
	}
	old.Close()

	s, err := clickhouse.OpenConfig(ctx, old.Config())
	if err != nil {
		t.Fatalf("open a database of an earlier version: %v", err)
	}
	defer s.Close()
	after := storetest.Event("s2", 1, event.MessageSent, "m2", func(e *event.Event) {
		e.Campaign = "spring"
		e.Props = map[string]any{"template_category": "utility"}
	})
	if _, err := s.Insert(ctx, []event.Event{after}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.DB().QueryContext(ctx, "SELECT message, campaign, template_category FROM message_facts FINAL ORDER BY message")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got [][3]string
	for rows.Next() {
		var msg string
		var campaign, category *string
		if err := rows.Scan(&msg, &campaign, &category); err != nil {
			t.Fatal(err)
		}
		got = append(got, [3]string{msg, deref(campaign), deref(category)})
	}
	want := [][3]string{{"m1", "spring", ""}, {"m2", "spring", "utility"}}
	if !slices.Equal(got, want) {
		t.Errorf("message facts %v, want %v", got, want)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
