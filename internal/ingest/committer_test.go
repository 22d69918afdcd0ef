package ingest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// countingStore counts Insert transactions.
type countingStore struct {
	store.Store
	inserts atomic.Int64
}

func (c *countingStore) Insert(ctx context.Context, events []event.Event) ([]store.Outcome, error) {
	c.inserts.Add(1)
	return c.Store.Insert(ctx, events)
}

func TestCommitter_GroupsConcurrentSubmissions(t *testing.T) {
	db, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "c.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cs := &countingStore{Store: db}
	c := NewCommitter(cs, slog.New(slog.NewTextHandler(io.Discard, nil)), CommitterOptions{MaxDelay: 5 * time.Millisecond})
	defer c.Close()

	const clients, perClient = 8, 25
	var accepted, duplicates atomic.Int64
	var wg sync.WaitGroup
	for cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range perClient {
				// Every client also sends the shared event "same": exactly
				// one of all those copies may be accepted.
				events := []event.Event{
					{ID: fmt.Sprintf("c%d-%d", cl, n), Workspace: "w", Kind: event.OrderPlaced, Order: "o", Count: 1,
						TS: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Amount: &event.Money{Minor: 100, Currency: "EUR"}},
					{ID: "same", Workspace: "w", Kind: event.LeadCreated, Count: 1, TS: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
				}
				outcomes, err := c.Submit(context.Background(), events)
				if err != nil {
					t.Error(err)
					return
				}
				if len(outcomes) != 2 || outcomes[0] != store.Accepted {
					t.Errorf("outcomes = %v", outcomes)
				}
				for _, o := range outcomes {
					if o == store.Accepted {
						accepted.Add(1)
					} else {
						duplicates.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	total := int64(clients * perClient)
	if accepted.Load() != total+1 || duplicates.Load() != total-1 {
		t.Errorf("accepted %d, duplicates %d; want %d and %d", accepted.Load(), duplicates.Load(), total+1, total-1)
	}
	var stored int64
	if err := db.DB().QueryRow("SELECT count(*) FROM events").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != total+1 {
		t.Errorf("stored %d events, want %d", stored, total+1)
	}
	if n := cs.inserts.Load(); n >= total {
		t.Errorf("%d transactions for %d submissions: nothing was grouped", n, total)
	}
}

func TestCommitter_SubmitAfterClose(t *testing.T) {
	db, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "c.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := NewCommitter(db, slog.New(slog.NewTextHandler(io.Discard, nil)), CommitterOptions{})
	c.Close()
	_, err = c.Submit(context.Background(), []event.Event{{ID: "x", Workspace: "w", Kind: event.LeadCreated, Count: 1, TS: time.Now()}})
	if err != ErrClosed {
		t.Errorf("err = %v, want ErrClosed", err)
	}
}
