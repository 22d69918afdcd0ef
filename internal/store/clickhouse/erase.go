package clickhouse

import (
	"context"
	"errors"
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

// errCluster refuses erasure and retention on a sharded layout, whose
// mutations would have to run ON CLUSTER against every shard's tables.
var errCluster = errors.New("erasure and retention are not supported on a sharded ClickHouse layout yet: run them on a single server")

// bigQueries lets a statement carry long literal lists of ids.
func bigQueries(ctx context.Context) context.Context {
	return ch.Context(ctx, ch.WithSettings(ch.Settings{
		"max_query_size":            1 << 30,
		"max_ast_elements":          100_000_000,
		"max_expanded_ast_elements": 100_000_000,
	}))
}

// literals writes ids as a ClickHouse IN list: ('a', 'b').
func literals(ids []string) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('\'')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(id))
		b.WriteByte('\'')
	}
	b.WriteByte(')')
	return b.String()
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

// mutate runs ALTER TABLE table cmd and waits until the server has
// applied it.
func (s *Store) mutate(ctx context.Context, table, cmd string, args ...any) error {
	if _, err := s.db.ExecContext(bigQueries(ctx), "ALTER TABLE "+table+" "+cmd, args...); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	for {
		var pending uint64
		if err := s.db.QueryRowContext(ctx, "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND table = ? AND is_done = 0", table).Scan(&pending); err != nil {
			return fmt.Errorf("wait for the change of %s: %w", table, err)
		}
		if pending == 0 {
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
	if s.layout.Cluster != "" {
		return er, errCluster
	}
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
		switch f.Name {
		case store.MessageFacts.Name:
			er.Messages = int64(len(ids))
		case store.OrderFacts.Name:
			er.Orders = int64(len(ids))
		case store.ConversationFacts.Name:
			er.Conversations = int64(len(ids))
		}
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
		if err := s.mutate(ctx, "events", "DELETE WHERE "+cond, workspace); err != nil {
			return fmt.Errorf("remove the customers' events: %w", err)
		}
		if err := s.mutate(ctx, "event_ids", "DELETE WHERE workspace = ? AND id IN "+literals(ids), workspace); err != nil {
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
		if err := s.mutate(ctx, f.Name+"_state", "DELETE WHERE workspace = ? AND entity IN "+literals(gone), workspace); err != nil {
			return err
		}
		if err := s.mutate(ctx, f.Name, "DELETE WHERE workspace = ? AND "+f.Key+" IN "+literals(gone), workspace); err != nil {
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
	if err := s.mutate(ctx, store.SessionFactsTable, "DELETE WHERE workspace = ? AND "+anyIn(sessionsOf), workspace); err != nil {
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
			if err := s.mutate(ctx, "quarantine", "DELETE WHERE position(part, ?) > 0", quoted); err != nil {
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
	if s.layout.Cluster != "" {
		return er, errCluster
	}
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
		switch f.Name {
		case store.MessageFacts.Name:
			er.Messages = n
		case store.OrderFacts.Name:
			er.Orders = n
		case store.ConversationFacts.Name:
			er.Conversations = n
		}
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
		if err := s.mutate(ctx, t, "DELETE WHERE workspace = ?", workspace); err != nil {
			return er, fmt.Errorf("forget workspace %s: %w", workspace, err)
		}
	}
	if err := s.mutate(ctx, "workspaces", "DELETE WHERE name = ?", workspace); err != nil {
		return er, fmt.Errorf("forget workspace %s: %w", workspace, err)
	}
	return er, nil
}

// ApplyRetention removes what the cutoffs no longer keep: a month of
// events that this workspace alone has by dropping its partition, the
// rest by mutations.
func (s *Store) ApplyRetention(ctx context.Context, workspace string, cut store.Cutoffs) (store.RetentionRun, error) {
	run := store.RetentionRun{Workspace: workspace, Cutoffs: cut}
	if s.layout.Cluster != "" {
		return run, errCluster
	}
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
			if err := s.mutate(ctx, "events", "UPDATE text = NULL WHERE "+texts, workspace, cut.Texts.UnixMilli()); err != nil {
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
			if _, err := strconv.Atoi(month); err != nil {
				return fmt.Errorf("partition %q", month)
			}
			if _, err := s.db.ExecContext(ctx, "ALTER TABLE events DROP PARTITION "+month); err != nil {
				return fmt.Errorf("drop the events of %s: %w", month, err)
			}
		}
		if rest {
			if err := s.mutate(ctx, "events", "DELETE WHERE workspace = ? AND ts < ?", workspace, before); err != nil {
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
			if err := s.mutate(ctx, f.Name+"_state", "DELETE WHERE workspace = ? AND entity IN "+literals(ids), workspace); err != nil {
				return err
			}
			if err := s.mutate(ctx, f.Name, "DELETE WHERE workspace = ? AND "+f.Key+" IN "+literals(ids), workspace); err != nil {
				return err
			}
			run.Facts += int64(len(ids))
		}
		n, err := s.count(ctx, "SELECT count() FROM "+sessionsCurrent()+" WHERE workspace = ? AND start_ms < ?", workspace, cut.Facts.UnixMilli())
		if err != nil {
			return err
		}
		if n > 0 {
			if err := s.mutate(ctx, store.SessionFactsTable, "DELETE WHERE workspace = ? AND start_ms < ?", workspace, cut.Facts.UnixMilli()); err != nil {
				return fmt.Errorf("remove old sessions: %w", err)
			}
		}
		run.Facts += n
	}
	return nil
}

var _ store.Eraser = (*Store)(nil)
