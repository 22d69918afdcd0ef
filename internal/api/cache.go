package api

import (
	"context"
	"sync"
	"time"

	"github.com/omnikpi/omnikpi/internal/store"
)

// cacheTTL is how long a looked-up API key or workspace's settings are
// trusted without asking the store again: every ingestion request is
// authenticated and reads its workspace's settings, and a store round trip
// per request costs more than the rest of a small request. A change made
// by another process (omnikpi workspace, keys) is seen within it.
const cacheTTL = 10 * time.Second

// ttlCache remembers values found in the store for cacheTTL. What is not
// found is not remembered, so a new key works at once.
type ttlCache[V any] struct {
	mu      sync.Mutex
	entries map[string]cached[V]
	now     func() time.Time
}

type cached[V any] struct {
	value   V
	expires time.Time
}

func newCache[V any]() *ttlCache[V] {
	return &ttlCache[V]{entries: map[string]cached[V]{}, now: time.Now}
}

// get returns the value for id, from the cache or from load.
func (c *ttlCache[V]) get(ctx context.Context, id string, load func(context.Context, string) (V, error)) (V, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.value, nil
	}
	v, err := load(ctx, id)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if len(c.entries) > 10_000 { // bounded: start again rather than grow
		c.entries = map[string]cached[V]{}
	}
	c.entries[id] = cached[V]{value: v, expires: now.Add(cacheTTL)}
	c.mu.Unlock()
	return v, nil
}

// forget drops id, after this process changed it.
func (c *ttlCache[V]) forget(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}

// settings returns a workspace's settings through the cache; a workspace
// not stored yet has the defaults.
func (h *handler) settings(ctx context.Context, name string) (store.Workspace, error) {
	ws, _, err := store.SettingsOf(ctx, func(ctx context.Context, name string) (store.Workspace, error) {
		return h.workspaces.get(ctx, name, h.store.Workspace)
	}, name)
	return ws, err
}
