package clickhouse

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/store"
)

// Erasure's and retention's statements on each layout, checked as text;
// TestForget_*, TestRetention_* in package kpi run them for real on the
// test server's sharded and replicated clusters.

// TestLayout_ErasureKnowsShardTables: the tables erasure treats as held
// in part by each shard are those the sharded schema puts behind a
// Distributed table, and every table erasure and retention change exists.
func TestLayout_ErasureKnowsShardTables(t *testing.T) {
	stmts, err := Layout{Cluster: "c", ShardDatabases: []string{"s1", "s2"}}.Schema("shop")
	if err != nil {
		t.Fatal(err)
	}
	created := regexp.MustCompile(`^CREATE TABLE IF NOT EXISTS (\w+)\.?(\w*)`)
	distributed, whole := map[string]bool{}, map[string]bool{}
	for _, q := range stmts {
		m := created.FindStringSubmatch(q)
		if m == nil {
			continue
		}
		switch {
		case strings.Contains(q, "ENGINE = Distributed("):
			distributed[m[1]] = true
		case m[2] == "": // a table of the front database
			whole[m[1]] = true
		}
	}
	if len(distributed) < 3+2*len(store.Facts) || len(whole) < 5 {
		t.Fatalf("read %d sharded and %d whole tables from the schema", len(distributed), len(whole))
	}
	for table := range distributed {
		if !shardTable(table) {
			t.Errorf("%s is sharded, but erasure takes it for a table held whole", table)
		}
	}
	for table := range whole {
		if shardTable(table) {
			t.Errorf("%s is held whole, but erasure takes it for a sharded one", table)
		}
	}
	changed := []string{"events", "event_ids", store.SessionFactsTable, "quarantine", "api_keys", "forgotten", "retention_marks", "workspaces"}
	for _, f := range store.Facts {
		changed = append(changed, f.Name, f.Name+"_state")
	}
	for _, table := range changed {
		if !distributed[table] && !whole[table] {
			t.Errorf("erasure changes %s, which the schema does not have", table)
		}
	}
}

// TestLayout_ErasureStatements: on one server a table is changed by its
// name; in the test layout each shard database's local table is; in the
// replicated layout a shard table's local table ON CLUSTER, and a table
// every node holds whole on this node, which ZooKeeper replicates.
func TestLayout_ErasureStatements(t *testing.T) {
	cfg, err := ParseURL("clickhouse://ch1:9000/shop?cluster=prod")
	if err != nil {
		t.Fatal(err)
	}
	stores := map[string]*Store{
		"one server": {cfg: Config{Database: "shop"}},
		"test layout": {cfg: Config{Database: "shop"},
			layout: Layout{Cluster: "two", ShardDatabases: []string{"s1", "s2"}}},
		"replicated": {cfg: cfg, layout: cfg.Layout},
	}
	want := map[string]map[string][]string{
		"one server": {
			"events":            {"ALTER TABLE shop.events DELETE WHERE x"},
			"order_facts_state": {"ALTER TABLE shop.order_facts_state DELETE WHERE x"},
			"quarantine":        {"ALTER TABLE shop.quarantine DELETE WHERE x"},
		},
		"test layout": {
			"events":            {"ALTER TABLE s1.events_local DELETE WHERE x", "ALTER TABLE s2.events_local DELETE WHERE x"},
			"order_facts_state": {"ALTER TABLE s1.order_facts_state_local DELETE WHERE x", "ALTER TABLE s2.order_facts_state_local DELETE WHERE x"},
			"quarantine":        {"ALTER TABLE shop.quarantine DELETE WHERE x"},
		},
		"replicated": {
			"events":            {"ALTER TABLE shop.events_local ON CLUSTER prod DELETE WHERE x"},
			"order_facts_state": {"ALTER TABLE shop.order_facts_state_local ON CLUSTER prod DELETE WHERE x"},
			"quarantine":        {"ALTER TABLE shop.quarantine DELETE WHERE x"},
		},
	}
	for name, s := range stores {
		for table, stmts := range want[name] {
			var got []string
			for _, c := range s.copies(table) {
				got = append(got, s.alter(table, c, "DELETE WHERE x"))
			}
			if strings.Join(got, "\n") != strings.Join(stmts, "\n") {
				t.Errorf("%s, %s:\n%s\nwant\n%s", name, table, strings.Join(got, "\n"), strings.Join(stmts, "\n"))
			}
		}
	}
	if got := stores["replicated"].everyNode("a:9000,b:9000", copyOf{"system", "mutations"}); got != "remote('a:9000,b:9000', system, mutations, 'default', '')" {
		t.Errorf("every node: %s", got)
	}
	if stores["one server"].idBytes() != 0 || stores["test layout"].idBytes() != 0 || stores["replicated"].idBytes() != replicatedIDBytes {
		t.Error("only the replicated layout cuts its id lists")
	}
}

// TestLayout_IDListsCut: cut id lists name every id once, each statement's
// within the bound, and uncut they are anyIn's one condition.
func TestLayout_IDListsCut(t *testing.T) {
	lists := map[string][]string{"customer": {"c1", "c'2"}, "message": nil, "order_id": {}}
	for i := 0; i < 500; i++ {
		lists["message"] = append(lists["message"], fmt.Sprintf("message-%04d", i))
	}
	if got := anyInParts(lists, 0); len(got) != 1 || got[0] != anyIn(lists) {
		t.Errorf("uncut: %v", got)
	}
	if got := anyInParts(map[string][]string{"customer": nil}, 100); len(got) != 0 {
		t.Errorf("no ids: %v", got)
	}
	const limit = 400
	parts := anyInParts(lists, limit)
	if len(parts) < 10 {
		t.Fatalf("%d parts of %d bytes of ids, want them cut to %d bytes", len(parts), 500*16, limit)
	}
	lit := regexp.MustCompile(`'((?:[^'\\]|\\.)*)'`)
	var seen []string
	for _, p := range parts {
		if len(p) > limit+100 {
			t.Errorf("a part of %d bytes: %s", len(p), p)
		}
		for _, m := range lit.FindAllStringSubmatch(p, -1) {
			seen = append(seen, strings.ReplaceAll(m[1], `\'`, `'`))
		}
	}
	var all []string
	for _, ids := range lists {
		all = append(all, ids...)
	}
	sort.Strings(all)
	sort.Strings(seen)
	if strings.Join(seen, ",") != strings.Join(all, ",") {
		t.Errorf("the parts name %d ids, want each of the %d once", len(seen), len(all))
	}
}
