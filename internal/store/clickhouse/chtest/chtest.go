// Package chtest opens throw-away ClickHouse stores for tests, on the server
// that scripts/test starts and names in OMNIKPI_CLICKHOUSE.
package chtest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/store/clickhouse"
)

// EnvURL names the variable holding the test server's URL, such as
// clickhouse://127.0.0.1:19000.
const EnvURL = "OMNIKPI_CLICKHOUSE"

// URL returns the test server's URL. Without one the test is skipped,
// saying how to run it, except under CI, where the server is required and
// the test fails.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: scripts/test starts ClickHouse and sets it", EnvURL)
		}
		t.Skipf("no ClickHouse server: run ./scripts/test, or set %s=clickhouse://127.0.0.1:9000", EnvURL)
	}
	return u
}

// Database returns the URL of a new, empty database on the test server,
// dropped when the test ends (kept with OMNIKPI_KEEP_DB=1 for a look).
func Database(t testing.TB) string {
	t.Helper()
	base := URL(t)
	cfg, err := clickhouse.ParseURL(base)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("omnikpi_test_%d_%d", time.Now().UnixNano(), rand.IntN(1_000_000))
	cfg.Database = name
	t.Cleanup(func() {
		if os.Getenv("OMNIKPI_KEEP_DB") != "" {
			t.Logf("kept database %s", name)
			return
		}
		Drop(t, cfg, name)
	})
	return fmt.Sprintf("clickhouse://%s/%s", cfg.Addr, name)
}

// Drop removes a database of the test server.
func Drop(t testing.TB, cfg clickhouse.Config, name string) {
	db, err := sql.Open("clickhouse", fmt.Sprintf("clickhouse://%s/default", cfg.Addr))
	if err != nil {
		t.Errorf("drop %s: %v", name, err)
		return
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name); err != nil {
		t.Errorf("drop %s: %v", name, err)
	}
}

// Open opens a store on a new, empty database.
func Open(t testing.TB) *clickhouse.Store {
	t.Helper()
	s, err := clickhouse.Open(context.Background(), Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TwoShards is the cluster of the test server's config
// (scripts/clickhouse/config.xml): two shards on the one server, whose
// replicas keep their tables in ShardDatabases.
const TwoShards = "omnikpi_two_shards"

// ShardDatabases are the default_database of TwoShards' two replicas.
var ShardDatabases = []string{"omnikpi_shard1", "omnikpi_shard2"}

// OpenTwoShards opens a store in the sharded layout on TwoShards, its shard
// tables in ShardDatabases (emptied first: only one such store can be open
// at a time, so a test waits for another package's, which go test runs at
// the same time, to finish with them). The test is skipped when the server
// has no such cluster, except under CI.
func OpenTwoShards(t testing.TB) *clickhouse.Store {
	t.Helper()
	cfg := needCluster(t, TwoShards, 2, "")
	lockShards(t, cfg.Addr)
	for _, name := range ShardDatabases {
		Drop(t, cfg, name)
	}
	front := Database(t)
	cfg.Database = front[strings.LastIndex(front, "/")+1:]
	cfg.Layout = clickhouse.Layout{Cluster: TwoShards, ShardDatabases: ShardDatabases}
	t.Cleanup(func() {
		for _, name := range ShardDatabases {
			Drop(t, cfg, name)
		}
	})
	s, err := clickhouse.OpenConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Replicated is the cluster of the test server's config with one shard of
// one replica, the server itself, whose tables ZooKeeper replicates.
const Replicated = "omnikpi_replicated"

// OpenReplicated opens a store in the replicated layout (ReplicatedMergeTree
// tables, DDL ON CLUSTER) on a new database of the Replicated cluster. The
// test is skipped when the server has no such cluster or no ZooKeeper,
// except under CI.
func OpenReplicated(t testing.TB) *clickhouse.Store {
	t.Helper()
	needCluster(t, Replicated, 1, "SELECT count() FROM system.zookeeper WHERE path = '/'")
	s, err := clickhouse.Open(context.Background(), Database(t)+"?cluster="+Replicated)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// needCluster returns the test server's config if it has the cluster with
// that many shards and, when given, the probe query answers; otherwise the
// test is skipped, or fails under CI.
func needCluster(t testing.TB, cluster string, shards int, probe string) clickhouse.Config {
	t.Helper()
	cfg, err := clickhouse.ParseURL(URL(t))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("clickhouse", fmt.Sprintf("clickhouse://%s/default", cfg.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	err = db.QueryRow("SELECT count() FROM system.clusters WHERE cluster = ?", cluster).Scan(&n)
	if err == nil && n != shards {
		err = fmt.Errorf("the server has no cluster %s of %d shards", cluster, shards)
	}
	if err == nil && probe != "" {
		err = db.QueryRow(probe).Scan(&n)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v: scripts/test starts a server that has it", err)
		}
		t.Skipf("%v: run ./scripts/test, which starts a server that has it", err)
	}
	return cfg
}

// lockShards holds ShardDatabases of the server at addr for the test, until
// its end: an exclusive lock on a file named after the server, which every
// test process on this machine takes before it empties them.
func lockShards(t testing.TB, addr string) {
	t.Helper()
	path := filepath.Join(os.TempDir(), "omnikpi-two-shards-"+strings.NewReplacer(":", "_", "/", "_").Replace(addr)+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("lock the shard databases: %v", err)
	}
	// Registered first, so it runs after the cleanups that drop them.
	t.Cleanup(func() { f.Close() })
}
