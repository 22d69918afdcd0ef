// Package storetest holds what the stores' tests and benchmarks share.
package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

// BenchmarkInsert measures a store's write path (deduplication, events and
// fact maintenance) in batches of 100,000 new events, as bulk import uses
// it: sends, deliveries, reads, clicks and orders of 50,000 customers.
func BenchmarkInsert(b *testing.B, s store.Store) {
	const batch = 100_000
	kinds := []event.Kind{event.MessageSent, event.MessageDelivered, event.MessageRead, event.LinkClicked, event.OrderPlaced}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	events := make([]event.Event, batch)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range events {
			id := n*batch + i
			k := kinds[id%len(kinds)]
			e := event.Event{ID: fmt.Sprintf("e%d", id), Workspace: "w", Kind: k, Channel: "whatsapp", Count: 1,
				TS: base.Add(time.Duration(id) * time.Second), Customer: fmt.Sprintf("c%d", id%50000)}
			if k == event.OrderPlaced {
				e.Order, e.Amount = fmt.Sprintf("o%d", id), &event.Money{Minor: 1250, Currency: "EUR"}
			} else {
				e.Message = fmt.Sprintf("m%d", id/3)
				if k == event.MessageSent {
					e.Campaign, e.Template, e.Actor = "c1", "t1", event.ActorCampaign
				}
			}
			events[i] = e
		}
		if _, err := s.Insert(context.Background(), events); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}
