package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"strings"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/session"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Session facts on ClickHouse have no transaction to replace a key's rows
// in: every write of a key's sessions is a new version of each row (by
// its key and start), and a start that no longer begins a session gets a
// deleted row. Reads pick each row's newest version with argMax, grouped
// by key and start, which spreads over the server's cores where FINAL
// would read in one thread.

// sessionKeyColumns identify a session row.
var sessionKeyColumns = []string{"workspace", "key_conversation", "key_customer", "key_channel", "start_ms"}

// sessionsCurrent is the session table as its newest live rows. The
// newest version is picked as one tuple: argMax of a Nullable column
// alone would skip a newer null for an older value. The tuple holds no
// null (a Nullable column is there as isNull and assumeNotNull): 18.16
// crashes when a shard sends the initiator an argMax state whose tuple
// holds one, as the sharded layout's Distributed table has each shard do.
func sessionsCurrent() string {
	var values, cols []string
	for _, c := range store.SessionColumns {
		if slices.Contains(sessionKeyColumns, c.Name) {
			cols = append(cols, c.Name)
			continue
		}
		if c.Nullable {
			values = append(values, "isNull("+c.Name+")", "assumeNotNull("+c.Name+")")
			cols = append(cols, fmt.Sprintf("if(tupleElement(newest, %d) = 1, NULL, tupleElement(newest, %d)) AS %s", len(values)-1, len(values), c.Name))
			continue
		}
		values = append(values, c.Name)
		cols = append(cols, fmt.Sprintf("tupleElement(newest, %d) AS %s", len(values), c.Name))
	}
	values = append(values, "deleted")
	return fmt.Sprintf("(SELECT %[1]s FROM (SELECT %[2]s, argMax(tuple(%[3]s), version) AS newest FROM %[4]s GROUP BY %[2]s) WHERE tupleElement(newest, %[5]d) = 0)",
		strings.Join(cols, ", "), strings.Join(sessionKeyColumns, ", "), strings.Join(values, ", "), store.SessionFactsTable, len(values))
}

// sessionEventCols are the columns store.ScanSessionEvent reads.
var sessionEventCols = store.SessionEventSelect("e", "nullIf("+dialect{}.Prop("e", "goal")+", '')")

// sessionReads reads for the session upkeep.
type sessionReads struct{ s *Store }

func (r sessionReads) SessionEventsOfMessages(ctx context.Context, workspace string, messages []string) ([]*session.Event, error) {
	if len(messages) == 0 {
		return nil, nil
	}
	t, err := ext.NewTable("sess_messages", ext.Column("message", "String"))
	if err != nil {
		return nil, err
	}
	for _, m := range messages {
		if err := t.Append(m); err != nil {
			return nil, err
		}
	}
	return store.ReadSessionEvents(r.s.db.QueryContext(ch.Context(ctx, ch.WithExternalTable(t)), `SELECT `+sessionEventCols+`
		FROM events AS e
		WHERE e.workspace = ? AND e.kind IN ('message_received', 'message_sent') AND isNotNull(e.message)
		  AND assumeNotNull(e.message) GLOBAL IN (SELECT message FROM sess_messages)`, workspace))
}

// keyTable is an external table of session keys.
func keyTable(keys []session.Key) (*ext.Table, error) {
	t, err := ext.NewTable("sess_keys", ext.Column("key_conversation", "String"), ext.Column("key_customer", "String"), ext.Column("key_channel", "String"))
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if err := t.Append(k.Conversation, k.Customer, k.Channel); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (r sessionReads) SessionStarts(ctx context.Context, workspace string, keys []session.Key) (map[session.Key][]int64, error) {
	t, err := keyTable(keys)
	if err != nil {
		return nil, err
	}
	return store.ReadSessionStarts(r.s.db.QueryContext(ch.Context(ctx, ch.WithExternalTable(t)), `SELECT key_conversation, key_customer, key_channel, start_ms
		FROM `+store.SessionFactsTable+`
		WHERE workspace = ? AND (key_conversation, key_customer, key_channel) GLOBAL IN (SELECT key_conversation, key_customer, key_channel FROM sess_keys)
		GROUP BY key_conversation, key_customer, key_channel, start_ms
		HAVING argMax(deleted, version) = 0`, workspace))
}

func (r sessionReads) SessionEventsOfKeys(ctx context.Context, workspace string, from map[session.Key]int64) ([]*session.Event, error) {
	var convs, people []session.Key
	since := int64(-1)
	for k, t := range from {
		if k.Named() {
			convs = append(convs, k)
		} else {
			people = append(people, k)
		}
		if since < 0 || t < since {
			since = t
		}
	}
	t, err := keyTable(append(convs, people...))
	if err != nil {
		return nil, err
	}
	// Each key's own lower bound is applied by the caller; the earliest
	// one lets the server skip older partitions.
	return store.ReadSessionEvents(r.s.db.QueryContext(ch.Context(ctx, ch.WithExternalTable(t)), `SELECT `+sessionEventCols+`
		FROM events AS e
		WHERE e.workspace = ? AND e.ts >= ? AND e.kind IN (`+store.SQLList(session.Kinds)+`)
		  AND (assumeNotNull(e.conversation) GLOBAL IN (SELECT key_conversation FROM sess_keys WHERE key_conversation != '')
		    OR (isNull(e.conversation) AND (ifNull(e.customer, ''), ifNull(e.channel, '')) GLOBAL IN
		        (SELECT key_customer, key_channel FROM sess_keys WHERE key_conversation = '')))`, workspace, max(since, 0)))
}

// updateSessions splits anew the sessions the events touch. Duplicates
// count too: a retry after a crash between the events and their sessions
// mends the sessions.
func (s *Store) updateSessions(ctx context.Context, events []event.Event) error {
	for workspace, evs := range store.SessionEvents(events) {
		if err := s.resplitSessions(ctx, workspace, evs); err != nil {
			return err
		}
	}
	return nil
}

// resplitSessions splits anew the sessions a workspace's events (added or
// just removed) touch.
func (s *Store) resplitSessions(ctx context.Context, workspace string, events []*session.Event) error {
	gap, err := store.SessionGapOf(ctx, s, workspace)
	if err != nil {
		return err
	}
	up, err := store.UpdateSessions(ctx, sessionReads{s}, workspace, events, gap)
	if err != nil {
		return fmt.Errorf("sessions of %s: %w", workspace, err)
	}
	return s.writeSessions(ctx, up)
}

// writeSessions writes the new sessions, and a deleted row for each
// stored start from a key's time on that begins no session now.
func (s *Store) writeSessions(ctx context.Context, up store.SessionUpdate) error {
	version := uint64(s.now().UnixNano())
	type rowKey struct {
		key   session.Key
		start int64
	}
	kept := map[rowKey]bool{}
	var rows [][]any
	for _, sess := range up.Sessions {
		kept[rowKey{sess.Key, sess.Start}] = true
		rows = append(rows, append(store.SessionRow(up.Workspace, sess), version, uint8(0)))
	}
	for k, starts := range up.Starts {
		from, ok := up.From[k]
		if !ok {
			continue
		}
		for _, start := range starts {
			if start >= from && !kept[rowKey{k, start}] {
				rows = append(rows, tombstone(up.Workspace, k, start, version))
			}
		}
	}
	if len(rows) == 0 {
		return nil
	}
	err := s.insertRows(ctx, "INSERT INTO "+store.SessionFactsTable+" ("+store.SessionColumnNames()+", version, deleted)", len(rows),
		func(i int) []any { return rows[i] })
	if err != nil {
		return fmt.Errorf("write sessions: %w", err)
	}
	return nil
}

// tombstone is the deleted row of a start that begins no session.
func tombstone(workspace string, k session.Key, start int64, version uint64) []any {
	row := make([]any, 0, len(store.SessionColumns)+2)
	for _, c := range store.SessionColumns {
		switch {
		case c.Name == "workspace":
			row = append(row, workspace)
		case c.Name == "key_conversation":
			row = append(row, k.Conversation)
		case c.Name == "key_customer":
			row = append(row, k.Customer)
		case c.Name == "key_channel":
			row = append(row, k.Channel)
		case c.Name == "start_ms":
			row = append(row, start)
		case c.Nullable:
			row = append(row, nil)
		case c.Type == store.Int:
			row = append(row, int64(0))
		default:
			row = append(row, "")
		}
	}
	return append(row, version, uint8(1))
}

// rebuildSessions splits every session of a workspace anew from its
// events, when its session gap changes or for a database whose events
// predate sessions.
func (s *Store) rebuildSessions(ctx context.Context, workspace string) error {
	gap, err := store.SessionGapOf(ctx, s, workspace)
	if err != nil {
		return err
	}
	events, err := store.ReadSessionEvents(s.db.QueryContext(ctx, `SELECT `+sessionEventCols+` FROM events AS e
		WHERE e.workspace = ? AND e.kind IN (`+store.SQLList(session.Kinds)+`)`, workspace))
	if err != nil {
		return err
	}
	up := store.SessionUpdate{Workspace: workspace, From: map[session.Key]int64{}}
	for k, evs := range session.Group(events) {
		up.From[k] = 0
		up.Sessions = append(up.Sessions, session.Split(k, evs, gap)...)
	}
	// Every stored session of the workspace is replaced or deleted.
	if up.Starts, err = s.allSessionStarts(ctx, workspace); err != nil {
		return err
	}
	for k := range up.Starts {
		up.From[k] = 0
	}
	return s.writeSessions(ctx, up)
}

func (s *Store) allSessionStarts(ctx context.Context, workspace string) (map[session.Key][]int64, error) {
	return store.ReadSessionStarts(s.db.QueryContext(ctx, `SELECT key_conversation, key_customer, key_channel, start_ms
		FROM `+store.SessionFactsTable+` WHERE workspace = ?
		GROUP BY key_conversation, key_customer, key_channel, start_ms
		HAVING argMax(deleted, version) = 0`, workspace))
}

// rebuildMissingSessions fills the session facts of a database whose
// events predate them.
func (s *Store) rebuildMissingSessions(ctx context.Context) error {
	kept, err := s.count(ctx, "SELECT count() FROM (SELECT 1 FROM "+store.SessionFactsTable+" LIMIT 1)")
	if err != nil || kept > 0 {
		return err
	}
	names, err := s.strs(ctx, "SELECT DISTINCT workspace FROM events WHERE kind IN ('message_received', 'message_sent')")
	if err != nil {
		return err
	}
	for _, ws := range names {
		if err := s.rebuildSessions(ctx, ws); err != nil {
			return err
		}
	}
	return nil
}
