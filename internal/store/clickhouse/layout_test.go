package clickhouse

import (
	"regexp"
	"strings"
	"testing"
)

// The layouts' DDL checked as text; TestConformance in package kpi runs the
// sharded and the replicated layouts for real on the test server.

func TestLayout_SchemaOneServer(t *testing.T) {
	stmts, err := Layout{}.Schema("omnikpi")
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(stmts, ";\n")
	for _, absent := range []string{"Replicated", "Distributed", "ON CLUSTER", "_local", shardDB} {
		if strings.Contains(all, absent) {
			t.Errorf("one-server schema mentions %s", absent)
		}
	}
	for _, table := range []string{"events", "event_ids", "message_facts_state", "order_facts_state", "conversation_facts_state",
		"message_facts", "order_facts", "conversation_facts", "workspaces", "api_keys", "api_key_revocations"} {
		if !strings.Contains(all, "CREATE TABLE IF NOT EXISTS "+table+" (") {
			t.Errorf("no table %s", table)
		}
	}
}

func TestLayout_SchemaReplicated(t *testing.T) {
	cfg, err := ParseURL("clickhouse://ch1:9000/shop?cluster=prod")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Layout.Replicated || cfg.Layout.Cluster != "prod" || cfg.Database != "shop" {
		t.Fatalf("ParseURL gave %+v", cfg)
	}
	stmts, err := cfg.Layout.Schema(cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	engine := regexp.MustCompile(`ENGINE = (\w+)\(([^)]*)\)`)
	distributed := map[string]string{}
	for _, q := range stmts {
		if !strings.Contains(q, " ON CLUSTER prod") {
			t.Errorf("not run on the whole cluster:\n%s", q)
		}
		if strings.Contains(q, shardDB) {
			t.Errorf("placeholder left in:\n%s", q)
		}
		name := strings.Fields(q)[len(strings.Fields("CREATE TABLE IF NOT EXISTS"))]
		if strings.HasPrefix(q, "CREATE MATERIALIZED VIEW") {
			name = strings.Fields(q)[len(strings.Fields("CREATE MATERIALIZED VIEW IF NOT EXISTS"))]
		}
		// ON CLUSTER runs a statement in each node's default database.
		if !strings.HasPrefix(name, "shop.") {
			t.Errorf("%s does not name its database:\n%s", name, q)
		}
		name = strings.TrimPrefix(name, "shop.")
		if strings.HasPrefix(q, "CREATE MATERIALIZED VIEW") {
			if !regexp.MustCompile(`TO shop\.\w+_local`).MatchString(q) || !strings.Contains(q, "FROM shop.events_local") {
				t.Errorf("materialized view %s must read and write the shard's own tables:\n%s", name, q)
			}
			continue
		}
		m := engine.FindStringSubmatch(q)
		if m == nil {
			t.Errorf("table %s names no engine:\n%s", name, q)
			continue
		}
		switch {
		case m[1] == "Distributed":
			distributed[name] = m[2]
		case strings.HasSuffix(name, "_local"):
			table := strings.TrimSuffix(name, "_local")
			want := "'/clickhouse/tables/{shard}/shop/" + table + "', '{replica}'"
			if !strings.HasPrefix(m[1], "Replicated") || !strings.HasPrefix(m[2], want) {
				t.Errorf("%s has engine %s(%s), want a Replicated engine at %s", name, m[1], m[2], want)
			}
		default: // workspaces and keys: the same rows on every node
			if !strings.HasPrefix(m[1], "Replicated") || !strings.Contains(m[2], "/clickhouse/tables/all/shop/") {
				t.Errorf("%s has engine %s(%s), want one replica set across the cluster", name, m[1], m[2])
			}
		}
	}
	for _, table := range []string{"events", "event_ids", "message_facts_state", "order_facts_state", "conversation_facts_state",
		"message_facts", "order_facts", "conversation_facts"} {
		args, ok := distributed[table]
		if !ok {
			t.Errorf("no Distributed table %s", table)
			continue
		}
		if !strings.HasPrefix(args, "prod, 'shop', "+table+"_local, cityHash64(workspace") {
			t.Errorf("Distributed %s(%s): want cluster prod, database shop, %s_local, a hash starting with the workspace", table, args, table)
		}
	}
}
