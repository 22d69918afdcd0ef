package kpi_test

import (
	"context"
	"embed"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/omnikpi/omnikpi/internal/kpi/kpitest"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse/chtest"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

//go:embed testdata/*.txt
var scripts embed.FS

func TestScripts_DuckDB(t *testing.T) {
	sub, _ := fs.Sub(scripts, "testdata")
	kpitest.Run(t, sub, func(t *testing.T) store.Store {
		s, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "kpi.duckdb"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestScripts_ClickHouse(t *testing.T) {
	chtest.URL(t)
	sub, _ := fs.Sub(scripts, "testdata")
	kpitest.Run(t, sub, func(t *testing.T) store.Store { return chtest.Open(t) })
}
