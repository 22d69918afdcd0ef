package clickhouse_test

import (
	"testing"

	"github.com/omnikpi/omnikpi/internal/store/clickhouse/chtest"
	"github.com/omnikpi/omnikpi/internal/store/storetest"
)

func TestStore_Contract(t *testing.T) {
	chtest.URL(t)
	storetest.Run(t, func(t *testing.T) storetest.Store { return chtest.Open(t) })
}
