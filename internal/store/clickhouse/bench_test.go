package clickhouse_test

import (
	"testing"

	"github.com/omnikpi/omnikpi/internal/store/clickhouse/chtest"
	"github.com/omnikpi/omnikpi/internal/store/storetest"
)

// BenchmarkStore_Insert measures the write path (duplicate check, one
// INSERT block, the materialized views) in batches of 100,000 events.
func BenchmarkStore_Insert(b *testing.B) {
	storetest.BenchmarkInsert(b, chtest.Open(b))
}
