package api

import (
	"context"
	"sync"
	"time"

	"github.com/omnikpi/omnikpi/internal/store"
)

// keyTTL is how long a looked-up API key is trusted without asking the
// store again: every ingestion request is authenticated, and a store
// round trip per request costs more than the rest of a small request.
const keyTTL = 10 * time.Second

// keyCache remembers keys found by hash for keyTTL. Unknown keys are not
// remembered, so a new key works at once.
type keyCache struct {
	mu      sync.Mutex
	entries map[string]cachedKey
	now     func() time.Time
}

type cachedKey struct {
	key     store.Key
	expires time.Time
}

func newKeyCache() *keyCache {
	return &keyCache{entries: map[string]cachedKey{}, now: time.Now}
}

// lookup returns the key with hash, from the cache or the store.
func (c *keyCache) lookup(ctx context.Context, s store.Store, hash string) (store.Key, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[hash]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.key, nil
	}
	key, err := s.KeyByHash(ctx, hash)
	if err != nil {
		return key, err
	}
	c.mu.Lock()
	if len(c.entries) > 10_000 { // bounded: start again rather than grow
		c.entries = map[string]cachedKey{}
	}
	c.entries[hash] = cachedKey{key: key, expires: now.Add(keyTTL)}
	c.mu.Unlock()
	return key, nil
}
