package api

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/store"
)

// countingStore answers KeyByHash from a map and counts the calls.
type countingStore struct {
	store.Store
	keys  map[string]store.Key
	calls int
}

func (s *countingStore) KeyByHash(_ context.Context, hash string) (store.Key, error) {
	s.calls++
	if k, ok := s.keys[hash]; ok {
		return k, nil
	}
	return store.Key{}, store.ErrNotFound
}

func TestKeyCache(t *testing.T) {
	s := &countingStore{keys: map[string]store.Key{"h1": {Hash: "h1", Workspace: "a"}}}
	c := newCache[store.Key]()
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	ctx := context.Background()
	for range 3 {
		if k, err := c.get(ctx, "h1", s.KeyByHash); err != nil || k.Workspace != "a" {
			t.Fatalf("%v %+v", err, k)
		}
	}
	if s.calls != 1 {
		t.Errorf("%d store calls for three lookups within the TTL, want 1", s.calls)
	}
	now = now.Add(cacheTTL)
	c.get(ctx, "h1", s.KeyByHash)
	if s.calls != 2 {
		t.Errorf("an expired entry was not looked up again (%d calls)", s.calls)
	}
	// An unknown key is asked each time, so a key made a moment later works.
	for range 2 {
		if _, err := c.get(ctx, "h2", s.KeyByHash); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown key: %v", err)
		}
	}
	s.keys["h2"] = store.Key{Hash: "h2", Workspace: "b"}
	if k, err := c.get(ctx, "h2", s.KeyByHash); err != nil || k.Workspace != "b" {
		t.Errorf("a new key: %v %+v", err, k)
	}
}

func TestCache_Forget(t *testing.T) {
	s := &countingStore{keys: map[string]store.Key{"h1": {Hash: "h1", Workspace: "a"}}}
	c := newCache[store.Key]()
	ctx := context.Background()
	c.get(ctx, "h1", s.KeyByHash)
	c.forget("h1")
	c.get(ctx, "h1", s.KeyByHash)
	if s.calls != 2 {
		t.Errorf("%d store calls, want 2: a forgotten entry is asked again", s.calls)
	}
}
