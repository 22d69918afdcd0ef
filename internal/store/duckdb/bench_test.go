package duckdb

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/omnikpi/omnikpi/internal/store/storetest"
)

// BenchmarkStore_Insert measures the write path (staging, deduplication
// and fact upserts) in batches of 100,000 events, as bulk import uses it.
func BenchmarkStore_Insert(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.duckdb"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchmarkInsert(b, s)
}
