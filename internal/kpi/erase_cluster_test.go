package kpi

import (
	"context"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse/chtest"
)

// shardedLayouts are the ClickHouse layouts whose rows are in each shard's
// NAME_local tables, with the databases that hold those tables: the test
// cluster's two shard databases, or the store's own database, which every
// node of the replicated layout has.
var shardedLayouts = map[string]struct {
	open      func(t *testing.T) eraseStore
	databases func(s eraseStore) []string
}{
	"clickhouse-sharded": {
		open:      func(t *testing.T) eraseStore { return chtest.OpenTwoShards(t) },
		databases: func(eraseStore) []string { return chtest.ShardDatabases },
	},
	"clickhouse-replicated": {
		open: func(t *testing.T) eraseStore { return chtest.OpenReplicated(t) },
		databases: func(s eraseStore) []string {
			var db string
			if err := s.DB().QueryRow("SELECT currentDatabase()").Scan(&db); err != nil {
				panic(err)
			}
			return []string{db}
		},
	},
}

// shardTables are the tables each shard holds part of.
func shardTables() []string {
	tables := []string{"events", "event_ids", store.SessionFactsTable}
	for _, f := range store.Facts {
		tables = append(tables, f.Name, f.Name+"_state")
	}
	return tables
}

// TestRetention_ClusterShards reads each shard's own tables, below the
// Distributed tables the other tests read through, while retention and
// erasure run on a sharded layout beside a second workspace: retention
// of a month that the other workspace shares (removed by mutations, not a
// partition drop) and of texts, an erasure, retention of facts and the
// erasure of the other workspace each leave no row they remove on any
// shard, no mutation unfinished, and every row of the other workspace.
func TestRetention_ClusterShards(t *testing.T) {
	for name, layout := range shardedLayouts {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := layout.open(t)
			dbs := layout.databases(s)
			loadErase(t, s, eraseData(""))
			other := eraseData("")
			for i := range other {
				other[i].Workspace = "v"
			}
			if err := s.PutWorkspace(ctx, store.NewWorkspace("v")); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Insert(ctx, other); err != nil {
				t.Fatal(err)
			}
			// local counts the rows of a shard table's local tables that
			// match the condition, on every shard.
			local := func(table, cond string, args ...any) (total int64, each []int64) {
				t.Helper()
				for _, db := range dbs {
					n := countRows(t, s, "SELECT count() FROM "+db+"."+table+"_local WHERE "+cond, args...)
					total += n
					each = append(each, n)
				}
				return total, each
			}
			undone := func() {
				t.Helper()
				for _, db := range dbs {
					if n := countRows(t, s, "SELECT count() FROM system.mutations WHERE database = ? AND is_done = 0", db); n != 0 {
						t.Errorf("%d mutations of %s not done", n, db)
					}
				}
			}
			othersLeft := func(step string) {
				t.Helper()
				if n, _ := local("events", "workspace = 'v'"); n != 60 {
					t.Errorf("after %s: %d events of the other workspace on the shards, want 60", step, n)
				}
				if n, _ := local("events", "workspace = 'v' AND text IS NOT NULL"); n != 6 {
					t.Errorf("after %s: %d texts of the other workspace on the shards, want 6", step, n)
				}
				for _, f := range store.Facts {
					if n, _ := local(f.Name, "workspace = 'v'"); n == 0 {
						t.Errorf("after %s: no %s of the other workspace left", step, f.Name)
					}
				}
			}
			if _, each := local("events", "workspace = 'w'"); len(dbs) > 1 && (each[0] == 0 || each[1] == 0) {
				t.Fatalf("events on the shards: %v; the test needs both to hold some", each)
			}

			// January's events, which the other workspace's share, and
			// the texts before 10 March.
			janEnd, marText := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
			run, err := s.ApplyRetention(ctx, "w", store.Cutoffs{Events: janEnd, Texts: marText})
			if err != nil {
				t.Fatal(err)
			}
			if run.Events != 30 || run.Texts != 6 || len(run.Partitions) != 0 {
				t.Errorf("run %+v, want 30 events and 6 texts removed, no partition dropped", run)
			}
			if n, _ := local("events", "workspace = 'w' AND ts < ?", janEnd.UnixMilli()); n != 0 {
				t.Errorf("%d events of January left on the shards", n)
			}
			if n, _ := local("events", "workspace = 'w' AND ts < ? AND text IS NOT NULL", marText.UnixMilli()); n != 0 {
				t.Errorf("%d texts before 10 March left on the shards", n)
			}
			if n, _ := local("events", "workspace = 'w'"); n != 30 {
				t.Errorf("%d events of March on the shards, want 30", n)
			}
			undone()
			othersLeft("retention of events")

			// Carol, by her stored id.
			hashed := ingest.CustomerID(carol, "w")
			if _, err := s.Forget(ctx, "w", []string{hashed}, nil); err != nil {
				t.Fatal(err)
			}
			hers := "'" + hashed + "'"
			for table, cond := range map[string]string{
				"events":                   "customer = " + hers + " OR message LIKE '%-2-%' OR order_id LIKE '%-2-%' OR conversation LIKE '%-2-%'",
				"event_ids":                "id LIKE '0309-2-%'", // retention keeps the ids of January's events, as on one server
				"message_facts":            "customer = " + hers + " OR message LIKE '%-2-%'",
				"message_facts_state":      "entity LIKE '%-2-%'",
				"order_facts":              "customer = " + hers + " OR order_id LIKE '%-2-%'",
				"order_facts_state":        "entity LIKE '%-2-%'",
				"conversation_facts":       "customer = " + hers + " OR conversation LIKE '%-2-%'",
				"conversation_facts_state": "entity LIKE '%-2-%'",
				store.SessionFactsTable:    "customer = " + hers + " OR key_customer = " + hers + " OR key_conversation LIKE '%-2-%'",
			} {
				if n, _ := local(table, "workspace = 'w' AND ("+cond+")"); n != 0 {
					t.Errorf("%d rows of carol's left in the shards' %s", n, table)
				}
			}
			if n, _ := local("events", "workspace = 'w'"); n != 20 {
				t.Errorf("%d events of March on the shards after the erasure, want the other customers' 20", n)
			}
			undone()
			othersLeft("the erasure")

			// The facts of every period, with the sessions.
			run, err = s.ApplyRetention(ctx, "w", store.Cutoffs{Facts: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			if run.Facts == 0 {
				t.Errorf("run %+v removed no facts", run)
			}
			for _, f := range store.Facts {
				for _, table := range []string{f.Name, f.Name + "_state"} {
					if n, _ := local(table, "workspace = 'w'"); n != 0 {
						t.Errorf("%d rows of %s left on the shards", n, table)
					}
				}
			}
			if n, _ := local(store.SessionFactsTable, "workspace = 'w'"); n != 0 {
				t.Errorf("%d session rows left on the shards", n)
			}
			undone()
			othersLeft("retention of facts")

			// The other workspace, whole.
			if _, err := s.ForgetWorkspace(ctx, "v"); err != nil {
				t.Fatal(err)
			}
			for _, table := range shardTables() {
				if n, _ := local(table, "workspace = 'v'"); n != 0 {
					t.Errorf("%d rows of the erased workspace left in the shards' %s", n, table)
				}
			}
			for _, table := range []string{"forgotten", "retention_marks", "quarantine", "api_keys"} {
				if n := countRows(t, s, "SELECT count() FROM "+table+" WHERE workspace = 'v'"); n != 0 {
					t.Errorf("%d rows of the erased workspace left in %s", n, table)
				}
			}
			if n, _ := local("events", "workspace = 'w'"); n != 20 {
				t.Errorf("erasing the other workspace left %d events of this one, want 20", n)
			}
			undone()
			// The store still takes events.
			later := customerEvents("dave", 5, time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC))
			if got, err := s.Insert(ctx, later); err != nil || got[0] != store.Accepted {
				t.Fatalf("events after the erasures: %v %v", got, err)
			}
		})
	}
}
