// Package clickhouse is omnikpi's scale-out store: a ClickHouse server (18.16
// or later) over the native protocol, on one server or sharded.
package clickhouse

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"text/template"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

//go:embed schema.sql
var schemaSQL string

// eventColumns lists the events table's columns (store.EventColumns) for
// the INSERT: the old servers need the column list on every one.
var eventColumns = store.EventColumnNames()

// Store is a ClickHouse database.
type Store struct {
	db        *sql.DB
	refreshes []factRefresh // one per store.Facts table, built once

	mu      sync.Mutex // one insert at a time, so the duplicate check and the insert are atomic for this process
	updated uint64     // last workspaces.updated written
	now     func() time.Time
	layout  Layout
	cfg     Config // the database and user that erasure and retention reach each node of a cluster with
}

// IsURL reports whether a --db value names a ClickHouse server.
func IsURL(db string) bool { return strings.HasPrefix(db, "clickhouse://") }

// Redacted is a --db value fit to print: a URL's password is masked.
func Redacted(db string) string {
	if u, err := url.Parse(db); err == nil && IsURL(db) {
		return u.Redacted()
	}
	return db
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Config is what a clickhouse:// URL says.
type Config struct {
	Addr     string // host:port of the native protocol
	Database string
	User     string
	Password string
	Layout   Layout
}

// ParseURL reads clickhouse://[user[:password]@]host[:port]/database
// [?cluster=NAME].
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "clickhouse" || u.Host == "" {
		return Config{}, fmt.Errorf("--db %s: want clickhouse://host:9000/database", Redacted(raw))
	}
	c := Config{Addr: u.Host, Database: strings.Trim(u.Path, "/"), User: "default"}
	if u.Port() == "" {
		c.Addr += ":9000"
	}
	if c.Database == "" {
		c.Database = "omnikpi"
	}
	if !identRE.MatchString(c.Database) {
		return Config{}, fmt.Errorf("--db %s: database name %q must be letters, digits and _", Redacted(raw), c.Database)
	}
	if u.User != nil {
		c.User = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	if name := q.Get("cluster"); name != "" {
		if !identRE.MatchString(name) {
			return Config{}, fmt.Errorf("--db %s: cluster name %q must be letters, digits and _", Redacted(raw), name)
		}
		c.Layout = Layout{Cluster: name, Replicated: true}
	}
	return c, nil
}

// Open connects to the server named by a clickhouse:// URL, creates the
// database if needed and applies the schema.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	c, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return OpenConfig(ctx, c)
}

// OpenConfig is Open with the URL already read.
func OpenConfig(ctx context.Context, c Config) (*Store, error) {
	admin := connect(c, "default")
	defer admin.Close()
	if err := admin.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("connect to clickhouse at %s: %w", c.Addr, err)
	}
	for _, name := range append([]string{c.Database}, c.Layout.ShardDatabases...) {
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+name+c.Layout.onCluster()); err != nil {
			return nil, fmt.Errorf("create database %s: %w", name, err)
		}
	}
	db := connect(c, c.Database)
	s := &Store{db: db, now: time.Now, layout: c.Layout, cfg: c}
	stmts, err := c.Layout.Schema(c.Database)
	if err == nil {
		err = s.addMissingFactColumns(ctx)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			db.Close()
			return nil, fmt.Errorf("apply schema to %s: %w\n%s", c.Database, err, q)
		}
	}
	for _, f := range store.Facts {
		r := factRefresh{table: f, kinds: map[string]bool{}, sql: newFactDDL(f).Refresh()}
		for _, k := range f.Kinds {
			r.kinds[k] = true
		}
		s.refreshes = append(s.refreshes, r)
	}
	if err := s.rebuildMissingSessions(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("build the sessions of %s: %w", c.Database, err)
	}
	return s, nil
}

func connect(c Config, database string) *sql.DB {
	return ch.OpenDB(&ch.Options{
		Addr: []string{c.Addr},
		Auth: ch.Auth{Database: database, Username: c.User, Password: c.Password},
		Settings: ch.Settings{
			// Push the KPI queries' workspace and time conditions into the
			// FINAL subqueries they read facts through.
			"enable_optimize_predicate_expression": 1,
			// An insert through a Distributed table returns once every
			// shard has written its part, not when it is queued: events
			// are acknowledged only once stored.
			"insert_distributed_sync": 1,
		},
		DialTimeout: 10 * time.Second,
	})
}

// Layout says how the tables are laid out: on one server, or sharded behind
// Distributed tables.
type Layout struct {
	// Cluster is the cluster of remote_servers the Distributed tables
	// spread over; empty for one server.
	Cluster string
	// Replicated makes the shards' tables ReplicatedMergeTree, kept in
	// ZooKeeper under /clickhouse/tables/{shard}/DATABASE/TABLE, and runs
	// every statement ON CLUSTER, so each node holds its shard's tables
	// beside the Distributed tables. This is the production
	// layout, asked for with ?cluster=NAME in the URL.
	Replicated bool
	// ShardDatabases, for a test cluster on one host without ZooKeeper,
	// are the databases that the cluster's replicas name as their
	// default_database: each gets the shards' tables as plain MergeTree,
	// and the Distributed tables reach them with an empty database name.
	ShardDatabases []string
}

func (l Layout) onCluster() string {
	if l.Cluster != "" && l.Replicated {
		return " ON CLUSTER " + l.Cluster
	}
	return ""
}

// shardDB stands for the shard's database in rendered statements.
const shardDB = "omnikpi_shard_database"

// Schema renders schema.sql for the layout: the statements to run, in
// order, from a connection to the front database.
func (l Layout) Schema(database string) ([]string, error) {
	local := func(name string) string {
		if l.Cluster == "" {
			return name
		}
		return shardDB + "." + name + "_local"
	}
	// ON CLUSTER statements run in each node's default database, so the
	// replicated layout names every table with its database.
	front := func(name string) string {
		if l.Replicated {
			return database + "." + name
		}
		return name
	}
	funcs := template.FuncMap{
		"table": local,
		"local": local,
		"front": front,
		"engine": func(engine, name string, args ...string) string {
			if l.Replicated {
				args = append([]string{fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s'", database, name), "'{replica}'"}, args...)
				engine = "Replicated" + engine
			}
			return engine + "(" + strings.Join(args, ", ") + ")"
		},
		// everywhere is the engine of a small table every node holds
		// whole: one replica set across the cluster.
		"everywhere": func(engine, name string) string {
			if !l.Replicated {
				return engine
			}
			args := strings.TrimPrefix(strings.TrimPrefix(engine, "ReplacingMergeTree"), "(")
			if args = strings.TrimSuffix(args, ")"); args != "" {
				args = ", " + args
			}
			return fmt.Sprintf("ReplicatedReplacingMergeTree('/clickhouse/tables/all/%s/%s', '{replica}'%s)", database, name, args)
		},
		"distributed": func(name, shardKey string) string {
			if l.Cluster == "" {
				return ""
			}
			db := "'" + database + "'"
			if len(l.ShardDatabases) > 0 {
				db = "''" // each replica's default_database
			}
			return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s AS %s ENGINE = Distributed(%s, %s, %s_local, %s);",
				front(name), local(name), l.Cluster, db, name, shardKey)
		},
		"join": strings.Join,
	}
	t, err := template.New("schema.sql").Funcs(funcs).Parse(schemaSQL)
	if err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	var facts []factDDL
	for _, f := range store.Facts {
		facts = append(facts, newFactDDL(f))
	}
	var events []string
	for _, c := range store.EventColumns {
		events = append(events, c.Name+" "+sqlType(c))
	}
	var b bytes.Buffer
	var sessions []string
	for _, c := range store.SessionColumns {
		sessions = append(sessions, c.Name+" "+sqlType(c))
	}
	if err := t.Execute(&b, map[string]any{"Events": events, "Facts": facts, "Sessions": sessions}); err != nil {
		return nil, fmt.Errorf("render schema: %w", err)
	}
	shards := l.ShardDatabases
	if len(shards) == 0 {
		shards = []string{database}
	}
	var stmts []string
	for _, part := range strings.Split(b.String(), ";\n") {
		q := stripComments(part)
		if q == "" {
			continue
		}
		q = addOnCluster(q, l.onCluster())
		if !strings.Contains(q, shardDB+".") {
			stmts = append(stmts, q)
			continue
		}
		// A shard's table or materialized view: once per shard database.
		for _, name := range shards {
			stmts = append(stmts, strings.ReplaceAll(q, shardDB+".", name+"."))
		}
	}
	return stmts, nil
}

// stripComments drops whole-line comments and blank lines.
func stripComments(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
			keep = append(keep, line)
		}
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}

var createRE = regexp.MustCompile(`^(CREATE (?:MATERIALIZED VIEW|TABLE) IF NOT EXISTS [A-Za-z0-9_.]+)`)

// addOnCluster runs a CREATE on every node of the cluster.
func addOnCluster(q, on string) string {
	if on == "" {
		return q
	}
	return createRE.ReplaceAllString(q, "${1}"+on)
}

// Config is the configuration the store was opened with.
func (s *Store) Config() Config { return s.cfg }

// Close closes the connections.
func (s *Store) Close() error { return s.db.Close() }

// Size is the compressed bytes of the database's active parts on this
// server (a cluster's other shards and replicas hold their own).
func (s *Store) Size(ctx context.Context) (int64, error) {
	var size uint64
	err := s.db.QueryRowContext(ctx, "SELECT sum(bytes) FROM system.parts WHERE active AND database = currentDatabase()").Scan(&size)
	return int64(size), err
}

// DB exposes the database for tests and tools that read the tables directly.
func (s *Store) DB() *sql.DB { return s.db }

// Query runs a read-only KPI query.
func (s *Store) Query(ctx context.Context, query string, args ...any) (store.Rows, error) {
	return s.db.QueryContext(ctx, query, args...)
}

// insert stores the events that are new and reports which were. Ids seen
// before are found in event_ids; the new events go in one INSERT (one
// block), whose materialized views add their states to the fact states;
// then the rows of the entities the batch names are merged anew. It
// returns once the server has written both to its parts. The caller holds
// s.mu.
func (s *Store) insert(ctx context.Context, events []event.Event) ([]store.Outcome, error) {
	if len(events) == 0 {
		return nil, nil
	}
	seen, err := s.storedIDs(ctx, events)
	if err != nil {
		return nil, err
	}
	outcomes := make([]store.Outcome, len(events))
	var fresh []*event.Event
	for i := range events {
		k := [2]string{events[i].Workspace, events[i].ID}
		if seen[k] {
			outcomes[i] = store.Duplicate
			continue
		}
		seen[k] = true // a later copy in the same batch is a duplicate
		outcomes[i] = store.Accepted
		fresh = append(fresh, &events[i])
	}
	if len(fresh) > 0 {
		received := s.now().UnixMilli()
		err = s.insertRows(ctx, "INSERT INTO events ("+eventColumns+")", len(fresh), func(i int) []any {
			return eventRow(fresh[i], received)
		})
		if err != nil {
			return nil, fmt.Errorf("insert events: %w", err)
		}
	}
	// Duplicates' entities are merged again too: if a crash came between
	// the events and their facts, the client's retry mends the facts.
	if err := s.refreshFacts(ctx, events); err != nil {
		return nil, fmt.Errorf("update facts: %w", err)
	}
	if err := s.updateSessions(ctx, events); err != nil {
		return nil, err
	}
	return outcomes, nil
}

// factRefresh merges a fact table's rows from its states.
type factRefresh struct {
	table store.FactTable
	kinds map[string]bool // the event kinds that feed the table
	sql   string          // factDDL.Refresh
}

// refreshFacts writes, for each fact table, the merged rows of the
// entities the events name.
func (s *Store) refreshFacts(ctx context.Context, events []event.Event) error {
	for _, r := range s.refreshes {
		var entities [][2]string
		seen := map[[2]string]bool{}
		for j := range events {
			e := &events[j]
			k := [2]string{e.Workspace, entityOf(e, r.table.Source)}
			if k[1] != "" && r.kinds[string(e.Kind)] && !seen[k] {
				seen[k] = true
				entities = append(entities, k)
			}
		}
		if len(entities) == 0 {
			continue
		}
		batch, err := pairTable("batch_entities", "entity", entities)
		if err != nil {
			return err
		}
		if _, err := s.db.ExecContext(ch.Context(ctx, ch.WithExternalTable(batch)), r.sql); err != nil {
			return fmt.Errorf("%s: %w", r.table.Name, err)
		}
	}
	return nil
}

// pairTable is an external table of (workspace, second) rows, sent with a
// query for the server to read like a table of its own.
func pairTable(name, second string, rows [][2]string) (*ext.Table, error) {
	t, err := ext.NewTable(name, ext.Column("workspace", "String"), ext.Column(second, "String"))
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if err := t.Append(r[0], r[1]); err != nil {
			return nil, fmt.Errorf("external table %s: %w", name, err)
		}
	}
	return t, nil
}

// entityOf is the event's value of a fact table's entity column.
func entityOf(e *event.Event, source string) string {
	switch source {
	case "message":
		return e.Message
	case "order_id":
		return e.Order
	case "conversation":
		return e.Conversation
	}
	panic("unknown fact entity " + source)
}

// storedIDs returns the (workspace, id) pairs of events already stored.
// The batch's ids travel as an external table, which the server reads like
// a table of its own, rather than as a literal list in the query.
func (s *Store) storedIDs(ctx context.Context, events []event.Event) (map[[2]string]bool, error) {
	ids := make([][2]string, len(events))
	for i := range events {
		ids[i] = [2]string{events[i].Workspace, events[i].ID}
	}
	batch, err := pairTable("batch_ids", "id", ids)
	if err != nil {
		return nil, fmt.Errorf("look up stored events: %w", err)
	}
	rows, err := s.db.QueryContext(ch.Context(ctx, ch.WithExternalTable(batch)),
		`SELECT DISTINCT workspace, id FROM event_ids
		WHERE workspace GLOBAL IN (SELECT workspace FROM batch_ids) AND (workspace, id) GLOBAL IN (SELECT workspace, id FROM batch_ids)`)
	if err != nil {
		return nil, fmt.Errorf("look up stored events: %w", err)
	}
	defer rows.Close()
	seen := make(map[[2]string]bool, len(events))
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return nil, fmt.Errorf("look up stored events: %w", err)
		}
		seen[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up stored events: %w", err)
	}
	return seen, nil
}

// insertRows sends n rows as one block.
func (s *Store) insertRows(ctx context.Context, insert string, n int, row func(i int) []any) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, insert)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if _, err := stmt.ExecContext(ctx, row(i)...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// eventRow lays e out as store.EventRow does, with tags as an array,
// which is never null.
func eventRow(e *event.Event, received int64) []any {
	row := store.EventRow(e, received)
	for i, c := range store.EventColumns {
		if c.Type == store.TextList && row[i].([]string) == nil {
			row[i] = []string{}
		}
	}
	return row
}

// Workspace returns a workspace's newest settings.
func (s *Store) Workspace(ctx context.Context, name string) (store.Workspace, error) {
	return store.ReadWorkspace(ctx, s.db, "SELECT argMax(settings, updated) FROM workspaces WHERE name = ? GROUP BY name", name)
}

// WorkspaceNames lists every workspace.
func (s *Store) WorkspaceNames(ctx context.Context) ([]string, error) {
	return store.ReadNames(ctx, s.db, "SELECT DISTINCT name FROM workspaces ORDER BY name")
}

// PutWorkspace creates or replaces a workspace's settings: a newer row wins.
func (s *Store) PutWorkspace(ctx context.Context, ws store.Workspace) error {
	b, err := json.Marshal(ws)
	if err != nil {
		return fmt.Errorf("encode workspace: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	oldGap, err := store.SessionGapOf(ctx, s, ws.Name)
	if err != nil {
		return err
	}
	s.updated = max(s.updated+1, uint64(s.now().UnixNano()))
	err = s.insertRows(ctx, "INSERT INTO workspaces (name, settings, updated)", 1, func(int) []any {
		return []any{ws.Name, string(b), s.updated}
	})
	if err != nil {
		return fmt.Errorf("save workspace %q: %w", ws.Name, err)
	}
	if ws.Windows.SessionGap() != oldGap {
		// Sessions split by silence follow the new gap, back to the start.
		return s.rebuildSessions(ctx, ws.Name)
	}
	return nil
}

// AddKey stores a key's hash.
func (s *Store) AddKey(ctx context.Context, k store.Key) error {
	err := s.insertRows(ctx, "INSERT INTO api_keys (hash, prefix, workspace, created)", 1, func(int) []any {
		return []any{k.Hash, k.Prefix, k.Workspace, k.Created.UnixMilli()}
	})
	if err != nil {
		return fmt.Errorf("save key: %w", err)
	}
	return s.SetKeySettings(ctx, k.Hash, k.Settings())
}

// KeyByHash finds a key by its hash.
func (s *Store) KeyByHash(ctx context.Context, hash string) (store.Key, error) {
	k, err := store.ReadKey(ctx, s.db, "SELECT prefix, workspace, created FROM api_keys WHERE hash = ? AND hash NOT IN (SELECT hash FROM api_key_revocations) LIMIT 1", hash)
	return s.keyWithSettings(ctx, k, err)
}

// Keys lists a workspace's keys, oldest first.
func (s *Store) Keys(ctx context.Context, workspace string) ([]store.Key, error) {
	keys, err := store.ReadKeys(ctx, s.db, "SELECT DISTINCT hash, prefix, created FROM api_keys WHERE workspace = ? AND hash NOT IN (SELECT hash FROM api_key_revocations) ORDER BY created, hash", workspace)
	return s.keysWithSettings(ctx, workspace, keys, err)
}

// RevokeKey records the key's hash as revoked. Rows of a MergeTree table
// are not deleted at once (a DELETE is an asynchronous mutation), so the
// key stays in api_keys and every read leaves revoked hashes out.
func (s *Store) RevokeKey(ctx context.Context, hash string) error {
	err := s.insertRows(ctx, "INSERT INTO api_key_revocations (hash, revoked)", 1, func(int) []any {
		return []any{hash, s.now().UnixMilli()}
	})
	if err != nil {
		return fmt.Errorf("revoke key: %w", err)
	}
	return nil
}

var _ store.Store = (*Store)(nil)

// DatabaseExists reports whether the database named by a clickhouse:// URL
// exists, without creating it as Open does.
func DatabaseExists(ctx context.Context, rawURL string) (bool, error) {
	c, err := ParseURL(rawURL)
	if err != nil {
		return false, err
	}
	admin := connect(c, "default")
	defer admin.Close()
	var n uint64
	if err := admin.QueryRowContext(ctx, "SELECT count() FROM system.databases WHERE name = ?", c.Database).Scan(&n); err != nil {
		return false, fmt.Errorf("connect to clickhouse at %s: %w", c.Addr, err)
	}
	return n > 0, nil
}
