package clickhouse

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/session"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Erasure and retention on ClickHouse 18.16 go through mutations (ALTER
// TABLE … DELETE and UPDATE), which the server applies in the background:
// every one is waited for until system.mutations says it is done. 18.16
// has no TTL, and a mutation's IN (SELECT …) silently matches nothing, so
// the ids travel as literal lists; the server is told to take queries and
// expressions that large. A month of events held by one workspace alone
// is removed by dropping its partition.
//
// On a sharded layout the rows are in each shard's NAME_local tables, as a
// Distributed table takes no mutation: the statements name those. In the
// replicated layout they run ON CLUSTER (18.16 runs them on one replica a
// shard, which needs internal_replication in the cluster's shards, and
// ZooKeeper hands them to the other replicas), and the tables every node
// holds whole are changed on this node, ZooKeeper doing the rest. Every
// node of the cluster is then asked, through remote(), until it has no
// mutation of the table left to do and holds no row the statement
// removes (a replica lists a mutation only once it has pulled it from
// ZooKeeper), or, for a partition drop, no part of the partition. The
// statements of that layout pass through ZooKeeper, whose nodes take at
// most 1 MB, and are parsed again on each node under its own limits, so
// their id lists are cut into statements of at most replicatedIDBytes.
// In the test layout the shards' tables are in databases of this server,
// each changed and waited for here.

// replicatedIDBytes bounds the id lists of one statement in the replicated
// layout: under 18.16's default max_query_size (256 KiB), with room for the
// rest of the statement.
const replicatedIDBytes = 200_000

// bigQueries lets a statement carry long literal lists of ids.
func bigQueries(ctx context.Context) context.Context {
	return ch.Context(ctx, ch.WithSettings(ch.Settings{
		"max_query_size":            1 << 30,
		"max_ast_elements":          100_000_000,
		"max_expanded_ast_elements": 100_000_000,
	}))
}

// quote writes s as a ClickHouse string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// literals writes ids as a ClickHouse IN list: ('a', 'b').
func literals(ids []string) string {
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = quote(id)
	}
	return "(" + strings.Join(quoted, ", ") + ")"
}

// anyIn is "(a IN (…) OR b IN (…))" over the columns whose lists are not
// empty, or "" when all are.
func anyIn(lists map[string][]string) string {
	cols := make([]string, 0, len(lists))
	for c, ids := range lists {
		if len(ids) > 0 {
			cols = append(cols, c)
		}
	}
	if len(cols) == 0 {
		return ""
	}
	sort.Strings(cols)
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c + " IN " + literals(lists[c])
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// where is each of conds after the same prefix.
func where(prefix string, conds []string) []string {
	out := make([]string, len(conds))
	for i, c := range conds {
		out[i] = prefix + c
	}
	return out
}

// anyInParts is anyIn cut into conditions whose ids take at most limit
// bytes each (one condition when limit is 0); none when every list is
// empty.
func anyInParts(lists map[string][]string, limit int) []string {
	cols := make([]string, 0, len(lists))
	for c := range lists {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	var out []string
	part, size := map[string][]string{}, 0
	for _, c := range cols {
		for _, id := range lists[c] {
			n := len(id) + 4 // quotes, comma and space
			if limit > 0 && size > 0 && size+n > limit {
				out = append(out, anyIn(part))
				part, size = map[string][]string{}, 0
			}
			part[c] = append(part[c], id)
			size += n
		}
	}
	if size > 0 {
		out = append(out, anyIn(part))
	}
	return out
}

// inParts is "col IN (…)" over ids, cut as anyInParts cuts.
func (s *Store) inParts(col string, ids []string) []string {
	return anyInParts(map[string][]string{col: ids}, s.idBytes())
}

// idBytes is the most bytes of ids one statement takes; 0 for no bound.
func (s *Store) idBytes() int {
	if s.layout.Cluster != "" && s.layout.Replicated {
		return replicatedIDBytes
	}
	return 0
}

// shardTable reports whether each shard holds part of a table's rows, in
// NAME_local behind a Distributed NAME; the other tables are held whole.
func shardTable(table string) bool {
	switch table {
	case "events", "event_ids", store.SessionFactsTable:
		return true
	}
	for _, f := range store.Facts {
		if table == f.Name || table == f.Name+"_state" {
			return true
		}
	}
	return false
}

// copyOf is a table that holds rows of a table the queries name.
type copyOf struct{ database, table string }

func (c copyOf) String() string { return c.database + "." + c.table }

// copies are the tables that hold a table's rows, as ALTER TABLE names
// them: one per shard database in the test layout; in the replicated
// layout the one name that each node of the cluster has.
func (s *Store) copies(table string) []copyOf {
	if s.layout.Cluster == "" || !shardTable(table) {
		return []copyOf{{s.cfg.Database, table}}
	}
	if s.layout.Replicated {
		return []copyOf{{s.cfg.Database, table + "_local"}}
	}
	dbs := s.layout.ShardDatabases
	if len(dbs) == 0 {
		dbs = []string{s.cfg.Database}
	}
	out := make([]copyOf, len(dbs))
	for i, db := range dbs {
		out[i] = copyOf{db, table + "_local"}
	}
	return out
}

// alter is the ALTER TABLE of a copy: ON CLUSTER for a shard table of the
// replicated layout.
func (s *Store) alter(table string, c copyOf, cmd string) string {
	on := ""
	if shardTable(table) {
		on = s.layout.onCluster()
	}
	return "ALTER TABLE " + c.String() + on + " " + cmd
}

// nodes is the remote() address of every node of the replicated layout's
// cluster: every replica of every shard, each as a shard of its own.
func (s *Store) nodes(ctx context.Context) (string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT DISTINCT host_name, port FROM system.clusters WHERE cluster = ? ORDER BY host_name, port", s.layout.Cluster)
	if err != nil {
		return "", fmt.Errorf("list the nodes of cluster %s: %w", s.layout.Cluster, err)
	}
	defer rows.Close()
	var addrs []string
	for rows.Next() {
		var host string
		var port uint16
		if err := rows.Scan(&host, &port); err != nil {
			return "", err
		}
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		addrs = append(addrs, fmt.Sprintf("%s:%d", host, port))
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(addrs) == 0 {
		return "", fmt.Errorf("cluster %s is not in system.clusters", s.layout.Cluster)
	}
	return strings.Join(addrs, ","), nil
}

// everyNode is a table of every node of the cluster, read with this
// store's user.
func (s *Store) everyNode(nodes string, c copyOf) string {
	return fmt.Sprintf("remote(%s, %s, %s, %s, %s)", quote(nodes), c.database, c.table, quote(s.cfg.User), quote(s.cfg.Password))
}

// mutate runs ALTER TABLE … DELETE WHERE cond, or UPDATE set WHERE cond,
// for each cond of wheres against every copy of table, and waits until
// every copy has applied them.
func (s *Store) mutate(ctx context.Context, table, set string, wheres []string, args ...any) error {
	if len(wheres) == 0 {
		return nil
	}
	for _, cond := range wheres {
		cmd := "DELETE WHERE " + cond
		if set != "" {
			cmd = "UPDATE " + set + " WHERE " + cond
		}
		for _, c := range s.copies(table) {
			if _, err := s.db.ExecContext(bigQueries(ctx), s.alter(table, c, cmd), args...); err != nil {
				return fmt.Errorf("%s: %w", c, err)
			}
		}
	}
	var nodes string
	if s.layout.Cluster != "" && s.layout.Replicated {
		var err error
		if nodes, err = s.nodes(ctx); err != nil {
			return err
		}
	}
	return s.await(ctx, "the change of "+table, func() (bool, error) {
		for _, c := range s.copies(table) {
			mutations := "system.mutations"
			if nodes != "" {
				mutations = s.everyNode(nodes, copyOf{"system", "mutations"})
			}
			n, err := s.count(ctx, "SELECT count() FROM "+mutations+" WHERE database = ? AND table = ? AND is_done = 0", c.database, c.table)
			if err != nil || n > 0 {
				return false, err
			}
			if nodes == "" {
				continue
			}
			for _, cond := range wheres {
				if n, err := s.count(ctx, "SELECT count() FROM "+s.everyNode(nodes, c)+" WHERE "+cond, args...); err != nil || n > 0 {
					return false, err
				}
			}
		}
		return true, nil
	})
}

// dropPartition drops a month of events from every copy of the table,
// and waits until no node has a part of it.
func (s *Store) dropPartition(ctx context.Context, table, month string) error {
	if _, err := strconv.Atoi(month); err != nil {
		return fmt.Errorf("partition %q", month)
	}
	for _, c := range s.copies(table) {
		if _, err := s.db.ExecContext(ctx, s.alter(table, c, "DROP PARTITION "+month)); err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
	}
	if s.layout.Cluster == "" || !s.layout.Replicated {
		return nil // done when the statement returns
	}
	nodes, err := s.nodes(ctx)
	if err != nil {
		return err
	}
	return s.await(ctx, "the drop of "+table+" "+month, func() (bool, error) {
		for _, c := range s.copies(table) {
			n, err := s.count(ctx, "SELECT count() FROM "+s.everyNode(nodes, copyOf{"system", "parts"})+
				" WHERE database = ? AND table = ? AND partition = ? AND active", c.database, c.table, month)
			if err != nil || n > 0 {
				return false, err
			}
		}
		return true, nil
	})
}

// await asks done until it says so.
func (s *Store) await(ctx context.Context, what string, done func() (bool, error)) error {
	for {
		ok, err := done()
		if err != nil {
			return fmt.Errorf("wait for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// strs runs a query of one text column.
func (s *Store) strs(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := s.db.QueryContext(bigQueries(ctx), query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// count runs a query of one number.
func (s *Store) count(ctx context.Context, query string, args ...any) (int64, error) {
	var n uint64
	err := s.db.QueryRowContext(bigQueries(ctx), query, args...).Scan(&n)
	return int64(n), err
}

// whatOf is the forgotten list's name of a fact table's entity.
func whatOf(f store.FactTable) string {
	if f.Source == "order_id" {
		return "order"
	}
	return f.Source
}

// Dropped says which events Insert would drop: the forgotten lists and
// retention marks are read for the batch, so that every server of the
// database drops the same.
func (s *Store) Dropped(ctx context.Context, events []event.Event) ([]store.Outcome, error) {
	out, _, err := s.dropped(ctx, events)
	return out, err
}

func (s *Store) dropped(ctx context.Context, events []event.Event) ([]store.Outcome, map[string][]string, error) {
	if len(events) == 0 {
		return nil, nil, nil
	}
	var pairs [][2]string
	seen := map[[2]string]bool{}
	workspaces := map[string]bool{}
	for i := range events {
		workspaces[events[i].Workspace] = true
		for _, h := range store.ForgottenHashes(&events[i]) {
			k := [2]string{events[i].Workspace, h}
			if !seen[k] {
				seen[k] = true
				pairs = append(pairs, k)
			}
		}
	}
	forgotten := map[[2]string]bool{}
	if len(pairs) > 0 {
		batch, err := pairTable("batch_hashes", "hash", pairs)
		if err != nil {
			return nil, nil, err
		}
		rows, err := s.db.QueryContext(ch.Context(ctx, ch.WithExternalTable(batch)),
			`SELECT DISTINCT workspace, hash FROM forgotten
			WHERE workspace GLOBAL IN (SELECT workspace FROM batch_hashes) AND (workspace, hash) GLOBAL IN (SELECT workspace, hash FROM batch_hashes)`)
		if err != nil {
			return nil, nil, fmt.Errorf("look up forgotten ids: %w", err)
		}
		for rows.Next() {
			var k [2]string
			if err := rows.Scan(&k[0], &k[1]); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("look up forgotten ids: %w", err)
			}
			forgotten[k] = true
		}
		rows.Close()
	}
	names := make([]string, 0, len(workspaces))
	for ws := range workspaces {
		names = append(names, ws)
	}
	expired := map[string]int64{}
	rows, err := s.db.QueryContext(ctx, "SELECT workspace, max(events_before) FROM retention_marks WHERE workspace IN "+literals(names)+" GROUP BY workspace")
	if err != nil {
		return nil, nil, fmt.Errorf("look up retention marks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ws string
		var before int64
		if err := rows.Scan(&ws, &before); err != nil {
			return nil, nil, fmt.Errorf("look up retention marks: %w", err)
		}
		expired[ws] = before
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	out, added := store.DropEvents(events, func(ws, h string) bool { return forgotten[[2]string{ws, h}] }, expired)
	return out, added, nil
}

// Insert stores the events that name nothing forgotten and are not older
// than what retention removed (see insert); the others are dropped, as
// Forgotten or Expired.
func (s *Store) Insert(ctx context.Context, events []event.Event) ([]store.Outcome, error) {
	if len(events) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	drops, added, err := s.dropped(ctx, events)
	if err != nil {
		return nil, err
	}
	kept := store.Kept(events, drops)
	if len(kept) == len(events) {
		return s.insert(ctx, events)
	}
	for ws, hashes := range added {
		if err := s.addForgotten(ctx, ws, hashes); err != nil {
			return nil, err
		}
	}
	outcomes, err := s.insert(ctx, kept)
	if err != nil {
		return nil, err
	}
	return store.WithDrops(drops, outcomes), nil
}

// addForgotten records hashes in a workspace's forgotten list.
func (s *Store) addForgotten(ctx context.Context, workspace string, hashes []string) error {
	if len(hashes) == 0 {
		return nil
	}
	at := s.now().UnixMilli()
	err := s.insertRows(ctx, "INSERT INTO forgotten (workspace, hash, added)", len(hashes), func(i int) []any {
		return []any{workspace, hashes[i], at}
	})
	if err != nil {
		return fmt.Errorf("record forgotten ids: %w", err)
	}
	return nil
}

// Forget erases customers of a workspace (see store.Eraser).
func (s *Store) Forget(ctx context.Context, workspace string, customers, phones []string) (store.Erasure, error) {
	er := store.Erasure{Workspace: workspace, Customers: customers}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.forget(ctx, &er, workspace, customers, phones); err != nil {
		return er, fmt.Errorf("forget customers: %w", err)
	}
	return er, nil
}

func (s *Store) forget(ctx context.Context, er *store.Erasure, workspace string, customers, phones []string) error {
	if len(customers) == 0 {
		return nil
	}
	// The customers' entities are those their facts name.
	own := map[string][]string{}
	for _, f := range store.Facts {
		ids, err := s.strs(ctx, fmt.Sprintf("SELECT DISTINCT %s FROM %s FINAL WHERE workspace = ? AND customer IN %s", f.Key, f.Name, literals(customers)), workspace)
		if err != nil {
			return fmt.Errorf("find the customers' %s: %w", f.Name, err)
		}
		own[f.Source] = ids
		er.CountFacts(f.Name, int64(len(ids)))
	}
	// Their events: the customers' and those naming their entities
	// (statuses name only the message).
	lists := map[string][]string{"customer": customers}
	for src, ids := range own {
		lists[src] = ids
	}
	cond := "workspace = ? AND " + anyIn(lists)
	rows, err := s.db.QueryContext(bigQueries(ctx), "SELECT id, ifNull(message, ''), ifNull(order_id, ''), ifNull(conversation, '') FROM events WHERE "+cond, workspace)
	if err != nil {
		return fmt.Errorf("find the customers' events: %w", err)
	}
	var ids []string
	fed := map[string]map[string]bool{"message": {}, "order_id": {}, "conversation": {}}
	for rows.Next() {
		var id string
		var ent [3]string
		if err := rows.Scan(&id, &ent[0], &ent[1], &ent[2]); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
		for i, src := range []string{"message", "order_id", "conversation"} {
			if ent[i] != "" {
				fed[src][ent[i]] = true
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Forgotten first: from now on, every server drops their events.
	hashes := make([]string, 0, len(customers))
	for _, c := range customers {
		hashes = append(hashes, store.ForgottenHash("customer", c))
	}
	for _, f := range store.Facts {
		for _, id := range own[f.Source] {
			hashes = append(hashes, store.ForgottenHash(whatOf(f), id))
		}
	}
	if err := s.addForgotten(ctx, workspace, hashes); err != nil {
		return err
	}
	er.Events = int64(len(ids))
	erased, err := store.ReadSessionEvents(s.db.QueryContext(bigQueries(ctx), "SELECT "+sessionEventCols+
		" FROM events AS e WHERE "+cond+" AND kind IN ("+store.SQLList(session.Kinds)+")", workspace))
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		if err := s.mutate(ctx, "events", "", where("workspace = ? AND ", anyInParts(lists, s.idBytes())), workspace); err != nil {
			return fmt.Errorf("remove the customers' events: %w", err)
		}
		if err := s.mutate(ctx, "event_ids", "", where("workspace = ? AND ", s.inParts("id", ids)), workspace); err != nil {
			return fmt.Errorf("remove the customers' event ids: %w", err)
		}
	}
	// Their entities' rows go; other entities the removed events fed are
	// merged anew from the events left.
	for _, r := range s.refreshes {
		f := r.table
		mine := map[string]bool{}
		for _, id := range own[f.Source] {
			mine[id] = true
		}
		var again []string
		for id := range fed[f.Source] {
			if !mine[id] {
				again = append(again, id)
			}
		}
		sort.Strings(again)
		gone := append(append([]string{}, own[f.Source]...), again...)
		if len(gone) == 0 {
			continue
		}
		if err := s.mutate(ctx, f.Name+"_state", "", where("workspace = ? AND ", s.inParts("entity", gone)), workspace); err != nil {
			return err
		}
		if err := s.mutate(ctx, f.Name, "", where("workspace = ? AND ", s.inParts(f.Key, gone)), workspace); err != nil {
			return err
		}
		n, err := s.remerge(ctx, r, workspace, again)
		if err != nil {
			return err
		}
		er.Recomputed += n
	}
	// Every version of the customers' sessions goes; the sessions the
	// removed events were part of are split anew from the events left.
	sessionsOf := map[string][]string{"customer": customers, "key_customer": customers, "key_conversation": own["conversation"]}
	if err := s.mutate(ctx, store.SessionFactsTable, "", where("workspace = ? AND ", anyInParts(sessionsOf, s.idBytes())), workspace); err != nil {
		return err
	}
	if err := s.resplitSessions(ctx, workspace, erased); err != nil {
		return err
	}
	for _, phone := range phones {
		quoted := `"` + phone + `"`
		n, err := s.count(ctx, "SELECT count() FROM quarantine FINAL WHERE position(part, ?) > 0", quoted)
		if err != nil {
			return err
		}
		if n > 0 {
			if err := s.mutate(ctx, "quarantine", "", []string{"position(part, ?) > 0"}, quoted); err != nil {
				return fmt.Errorf("remove quarantined parts: %w", err)
			}
		}
		er.Quarantined += n
	}
	return nil
}

// remerge writes anew the states and the fact rows of the entities ids of
// one fact table, from the events the store holds, and returns how many
// rows it wrote.
func (s *Store) remerge(ctx context.Context, r factRefresh, workspace string, ids []string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	d := newFactDDL(r.table)
	states := make([]string, len(d.Names))
	for i, n := range d.Names {
		states[i] = n + "_state"
	}
	q := fmt.Sprintf(`INSERT INTO %s (workspace, entity, %s)
SELECT workspace, assumeNotNull(%s) AS entity,
    %s
FROM events FINAL
WHERE workspace = ? AND %[3]s IN %s AND kind IN (%s)
GROUP BY workspace, entity`, d.State, strings.Join(states, ", "), d.Source, strings.Join(d.StateExprs, ",\n    "), literals(ids), d.Kinds)
	if _, err := s.db.ExecContext(bigQueries(ctx), q, workspace); err != nil {
		return 0, fmt.Errorf("merge %s anew: %w", d.Name, err)
	}
	pairs := make([][2]string, len(ids))
	for i, id := range ids {
		pairs[i] = [2]string{workspace, id}
	}
	batch, err := pairTable("batch_entities", "entity", pairs)
	if err != nil {
		return 0, err
	}
	if _, err := s.db.ExecContext(ch.Context(ctx, ch.WithExternalTable(batch)), r.sql); err != nil {
		return 0, fmt.Errorf("merge %s anew: %w", d.Name, err)
	}
	return s.count(ctx, fmt.Sprintf("SELECT count() FROM %s FINAL WHERE workspace = ? AND %s IN %s", d.Name, d.Key, literals(ids)), workspace)
}

// ForgetWorkspace removes a workspace and everything of it but its audit
// trail.
func (s *Store) ForgetWorkspace(ctx context.Context, workspace string) (store.Erasure, error) {
	er := store.Erasure{Workspace: workspace}
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if er.Events, err = s.count(ctx, "SELECT count() FROM events FINAL WHERE workspace = ?", workspace); err != nil {
		return er, err
	}
	for _, f := range store.Facts {
		n, err := s.count(ctx, "SELECT count() FROM "+f.Name+" FINAL WHERE workspace = ?", workspace)
		if err != nil {
			return er, err
		}
		er.CountFacts(f.Name, n)
	}
	if er.Quarantined, err = s.count(ctx, "SELECT count() FROM quarantine FINAL WHERE workspace = ?", workspace); err != nil {
		return er, err
	}
	if er.Keys, err = s.count(ctx, "SELECT count(DISTINCT hash) FROM api_keys WHERE workspace = ? AND hash NOT IN (SELECT hash FROM api_key_revocations)", workspace); err != nil {
		return er, err
	}
	// The keys are revoked rather than deleted, as RevokeKey does, so
	// that every server's cache learns of it.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO api_key_revocations (hash, revoked)
		SELECT DISTINCT hash, ? FROM api_keys WHERE workspace = ?`, s.now().UnixMilli(), workspace); err != nil {
		return er, fmt.Errorf("revoke the workspace's keys: %w", err)
	}
	tables := []string{"events", "event_ids"}
	for _, f := range store.Facts {
		tables = append(tables, f.Name+"_state", f.Name)
	}
	tables = append(tables, store.SessionFactsTable, "quarantine", "api_keys", "forgotten", "retention_marks")
	for _, t := range tables {
		if err := s.mutate(ctx, t, "", []string{"workspace = ?"}, workspace); err != nil {
			return er, fmt.Errorf("forget workspace %s: %w", workspace, err)
		}
	}
	if err := s.mutate(ctx, "workspaces", "", []string{"name = ?"}, workspace); err != nil {
		return er, fmt.Errorf("forget workspace %s: %w", workspace, err)
	}
	return er, nil
}

// ApplyRetention removes what the cutoffs no longer keep: a month of
// events that this workspace alone has by dropping its partition, the
// rest by mutations.
func (s *Store) ApplyRetention(ctx context.Context, workspace string, cut store.Cutoffs) (store.RetentionRun, error) {
	run := store.RetentionRun{Workspace: workspace, Cutoffs: cut}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.applyRetention(ctx, &run, workspace, cut); err != nil {
		return run, fmt.Errorf("apply retention to %s: %w", workspace, err)
	}
	return run, nil
}

func (s *Store) applyRetention(ctx context.Context, run *store.RetentionRun, workspace string, cut store.Cutoffs) error {
	if !cut.Texts.IsZero() {
		var err error
		texts := "workspace = ? AND ts < ? AND isNotNull(text)"
		if run.Texts, err = s.count(ctx, "SELECT count() FROM events WHERE "+texts, workspace, cut.Texts.UnixMilli()); err != nil {
			return err
		}
		if run.Texts > 0 {
			if err := s.mutate(ctx, "events", "text = NULL", []string{texts}, workspace, cut.Texts.UnixMilli()); err != nil {
				return fmt.Errorf("clear old texts: %w", err)
			}
		}
	}
	if !cut.Events.IsZero() {
		before := cut.Events.UnixMilli()
		// The mark first: from now on every server drops older events.
		if err := s.insertRows(ctx, "INSERT INTO retention_marks (workspace, events_before)", 1, func(int) []any {
			return []any{workspace, before}
		}); err != nil {
			return fmt.Errorf("record the retention mark: %w", err)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT toString(toYYYYMM(toDateTime(intDiv(ts, 1000), 'UTC'))) AS month,
			countIf(workspace = ?) AS mine, countIf(workspace != ?) AS others
			FROM events WHERE ts < ? GROUP BY month ORDER BY month`, workspace, workspace, before)
		if err != nil {
			return err
		}
		rest := false
		for rows.Next() {
			var month string
			var mine, others uint64
			if err := rows.Scan(&month, &mine, &others); err != nil {
				rows.Close()
				return err
			}
			run.Events += int64(mine)
			switch {
			case mine == 0:
			case others == 0:
				run.Partitions = append(run.Partitions, month)
			default:
				rest = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, month := range run.Partitions {
			if err := s.dropPartition(ctx, "events", month); err != nil {
				return fmt.Errorf("drop the events of %s: %w", month, err)
			}
		}
		if rest {
			if err := s.mutate(ctx, "events", "", []string{"workspace = ? AND ts < ?"}, workspace, before); err != nil {
				return fmt.Errorf("remove old events: %w", err)
			}
		}
	}
	if !cut.Facts.IsZero() {
		for _, f := range store.Facts {
			ids, err := s.strs(ctx, fmt.Sprintf("SELECT %s FROM %s FINAL WHERE workspace = ? AND first_ms < ?", f.Key, f.Name), workspace, cut.Facts.UnixMilli())
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				continue
			}
			if err := s.mutate(ctx, f.Name+"_state", "", where("workspace = ? AND ", s.inParts("entity", ids)), workspace); err != nil {
				return err
			}
			if err := s.mutate(ctx, f.Name, "", where("workspace = ? AND ", s.inParts(f.Key, ids)), workspace); err != nil {
				return err
			}
			run.Facts += int64(len(ids))
		}
		n, err := s.count(ctx, "SELECT count() FROM "+sessionsCurrent()+" WHERE workspace = ? AND start_ms < ?", workspace, cut.Facts.UnixMilli())
		if err != nil {
			return err
		}
		if n > 0 {
			if err := s.mutate(ctx, store.SessionFactsTable, "", []string{"workspace = ? AND start_ms < ?"}, workspace, cut.Facts.UnixMilli()); err != nil {
				return fmt.Errorf("remove old sessions: %w", err)
			}
		}
		run.Facts += n
	}
	return nil
}

var _ store.Eraser = (*Store)(nil)
