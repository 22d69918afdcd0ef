package kpi

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse/chtest"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// TestQueries_ReturnTheirComponents runs every family query on each store,
// ungrouped and grouped by every dimension and a bucket, and checks that it
// returns a column for each component its family lists and nothing else.
func TestQueries_ReturnTheirComponents(t *testing.T) {
	stores := map[string]func(t *testing.T) store.Store{
		"duckdb": func(t *testing.T) store.Store {
			s, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "q.duckdb"))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"clickhouse": func(t *testing.T) store.Store {
			s, err := clickhouse.Open(context.Background(), chtest.Database(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	requests := []struct {
		name string
		req  Request
	}{
		{"total", Request{}},
		{"grouped", Request{GroupBy: Dimensions, Bucket: "day"}},
		{"by campaign", Request{GroupBy: []string{"campaign"}, Filters: map[string][]string{"class": {"campaign"}}}},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			e, err := New(s)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for _, rc := range requests {
				r := rc.req
				r.Workspace, r.From, r.To = "w", "2026-01-01", "2026-02-01"
				res, err := e.prepare(ctx, r)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range families {
					t.Run(rc.name+"/"+f.query, func(t *testing.T) {
						rows, err := e.query(ctx, res, f.query)
						if err != nil {
							t.Fatal(err)
						}
						defer rows.Close()
						names, err := rows.Columns()
						if err != nil {
							t.Fatal(err)
						}
						if _, err := f.columns(names, res); err != nil {
							t.Errorf("%v; the query returns %s", err, strings.Join(names, ", "))
						}
					})
				}
			}
		})
	}
}

func TestFamily_Columns(t *testing.T) {
	f := family{"orders", []string{"orders", "gross"}}
	grouped := &resolved{Request: Request{GroupBy: []string{"channel"}, Bucket: "day"}}
	tests := []struct {
		name    string
		res     *resolved
		columns []string
		want    familyColumns // when no error
		err     string
	}{
		{name: "by name, in any order", res: &resolved{}, columns: []string{"gross", "orders"},
			want: familyColumns{group: []int{}, bucket: -1, currency: -1,
				comps: []componentColumn{{col: 0, name: "gross"}, {col: 1, name: "orders"}}}},
		{name: "group, bucket and currency", res: grouped, columns: []string{"g_bucket", "g_channel", "currency", "n_orders", "gross"},
			want: familyColumns{group: []int{1}, bucket: 0, currency: 2,
				comps: []componentColumn{{col: 3, name: "orders", across: true}, {col: 4, name: "gross"}}}},
		{name: "n_ is a name of its own without a currency", res: &resolved{}, columns: []string{"n_orders", "gross"},
			err: "returns column n_orders, which is none of its components"},
		{name: "a component missing", res: &resolved{}, columns: []string{"orders"}, err: "no column for its component gross"},
		{name: "a column too many", res: &resolved{}, columns: []string{"orders", "gross", "net"}, err: "returns column net"},
		{name: "the group missing", res: grouped, columns: []string{"g_bucket", "orders", "gross"}, err: "no column g_channel"},
		{name: "the bucket missing", res: grouped, columns: []string{"g_channel", "orders", "gross"}, err: "no column g_bucket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.columns(tt.columns, tt.res)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
