package duckdb

import (
	"context"
	"database/sql/driver"
	"fmt"
	"sort"
	"time"

	duckdbdriver "github.com/duckdb/duckdb-go/v2"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/session"
	"github.com/omnikpi/omnikpi/internal/store"
)

// sessionTempSQL creates the writer's tables of keys and messages the
// session upkeep looks up.
const sessionTempSQL = `
CREATE TEMP TABLE IF NOT EXISTS sess_keys (key_conversation VARCHAR, key_customer VARCHAR, key_channel VARCHAR, from_ms BIGINT);
CREATE TEMP TABLE IF NOT EXISTS sess_messages (message VARCHAR);`

// sessionEventCols are the columns store.ScanSessionEvent reads.
var sessionEventCols = store.SessionEventSelect("e", dialect{}.Prop("e", "goal"))

// writerSessions reads for the session upkeep on the writer connection,
// inside the insert's transaction; the caller holds s.mu.
type writerSessions struct{ s *Store }

func (w writerSessions) SessionEventsOfMessages(ctx context.Context, workspace string, messages []string) ([]*session.Event, error) {
	if len(messages) == 0 {
		return nil, nil
	}
	if err := w.s.fillTemp(ctx, "sess_messages", len(messages), func(i int) []any { return []any{messages[i]} }); err != nil {
		return nil, err
	}
	return store.ReadSessionEvents(w.s.writer.QueryContext(ctx, `SELECT `+sessionEventCols+` FROM events e
		WHERE e.workspace = ? AND e.kind IN ('message_received', 'message_sent')
		  AND e.message IN (SELECT message FROM sess_messages)`, workspace))
}

func (w writerSessions) SessionStarts(ctx context.Context, workspace string, keys []session.Key) (map[session.Key][]int64, error) {
	if err := w.s.fillKeys(ctx, keys, nil); err != nil {
		return nil, err
	}
	return store.ReadSessionStarts(w.s.writer.QueryContext(ctx, `SELECT s.key_conversation, s.key_customer, s.key_channel, s.start_ms
		FROM session_facts s JOIN sess_keys k USING (key_conversation, key_customer, key_channel)
		WHERE s.workspace = ?`, workspace))
}

func (w writerSessions) SessionEventsOfKeys(ctx context.Context, workspace string, from map[session.Key]int64) ([]*session.Event, error) {
	keys, since := sortedKeys(from)
	if err := w.s.fillKeys(ctx, keys, from); err != nil {
		return nil, err
	}
	// A conversation's events by its id; a customer's by customer and
	// channel among those naming no conversation. The lower bound on ts
	// lets DuckDB skip row groups of older events.
	return store.ReadSessionEvents(w.s.writer.QueryContext(ctx, `
		SELECT `+sessionEventCols+` FROM events e JOIN sess_keys k ON k.key_conversation = e.conversation
		WHERE e.workspace = ? AND e.ts >= ? AND e.ts >= k.from_ms AND e.kind IN (`+store.SQLList(session.Kinds)+`)
		UNION ALL
		SELECT `+sessionEventCols+` FROM events e JOIN sess_keys k
		  ON k.key_conversation = '' AND k.key_customer = e.customer AND k.key_channel = coalesce(e.channel, '')
		WHERE e.workspace = ? AND e.ts >= ? AND e.ts >= k.from_ms AND e.conversation IS NULL
		  AND e.kind IN ('message_received', 'message_sent')`, workspace, since, workspace, since))
}

// sortedKeys lists the keys of from in a stable order, and the earliest
// time among them.
func sortedKeys(from map[session.Key]int64) ([]session.Key, int64) {
	keys := make([]session.Key, 0, len(from))
	since := int64(-1)
	for k, t := range from {
		keys = append(keys, k)
		if since < 0 || t < since {
			since = t
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.Conversation != b.Conversation {
			return a.Conversation < b.Conversation
		}
		if a.Customer != b.Customer {
			return a.Customer < b.Customer
		}
		return a.Channel < b.Channel
	})
	return keys, max(since, 0)
}

// fillKeys replaces sess_keys with keys, each with its time in from.
func (s *Store) fillKeys(ctx context.Context, keys []session.Key, from map[session.Key]int64) error {
	return s.fillTemp(ctx, "sess_keys", len(keys), func(i int) []any {
		k := keys[i]
		return []any{k.Conversation, k.Customer, k.Channel, from[k]}
	})
}

// fillTemp replaces a temporary table's rows.
func (s *Store) fillTemp(ctx context.Context, table string, n int, row func(i int) []any) error {
	if _, err := s.writer.ExecContext(ctx, "DELETE FROM "+table); err != nil {
		return fmt.Errorf("clear %s: %w", table, err)
	}
	return s.withAppender(ctx, table, func(a *duckdbdriver.Appender) error {
		for i := 0; i < n; i++ {
			if err := a.AppendRow(toDriver(row(i))...); err != nil {
				return fmt.Errorf("fill %s: %w", table, err)
			}
		}
		return nil
	})
}

// resplitSessions splits anew the sessions a workspace's events (added or
// just removed) touch. The caller holds s.mu, inside a transaction.
func (s *Store) resplitSessions(ctx context.Context, workspace string, events []*session.Event) error {
	gap, err := store.SessionGapOf(ctx, s, workspace)
	if err != nil {
		return err
	}
	up, err := store.UpdateSessions(ctx, writerSessions{s}, workspace, events, gap)
	if err != nil {
		return fmt.Errorf("sessions of %s: %w", workspace, err)
	}
	return s.writeSessions(ctx, up)
}

// updateSessions splits anew the sessions the events touch, in the
// insert's transaction. The caller holds s.mu.
func (s *Store) updateSessions(ctx context.Context, events []event.Event) error {
	for workspace, evs := range store.SessionEvents(events) {
		if err := s.resplitSessions(ctx, workspace, evs); err != nil {
			return err
		}
	}
	return nil
}

// writeSessions replaces each key's stored sessions from its time on.
func (s *Store) writeSessions(ctx context.Context, up store.SessionUpdate) error {
	if len(up.From) == 0 {
		return nil
	}
	keys, _ := sortedKeys(up.From)
	if err := s.fillKeys(ctx, keys, up.From); err != nil {
		return err
	}
	if _, err := s.writer.ExecContext(ctx, `DELETE FROM session_facts s USING sess_keys k
		WHERE s.workspace = ? AND s.key_conversation = k.key_conversation AND s.key_customer = k.key_customer
		  AND s.key_channel = k.key_channel AND s.start_ms >= k.from_ms`, up.Workspace); err != nil {
		return fmt.Errorf("replace sessions: %w", err)
	}
	return s.appendSessions(ctx, up.Workspace, up.Sessions)
}

func (s *Store) appendSessions(ctx context.Context, workspace string, sessions []*session.Session) error {
	if len(sessions) == 0 {
		return nil
	}
	return s.writer.Raw(func(dc any) error {
		a, err := duckdbdriver.NewAppender(dc.(driver.Conn), "", "main", store.SessionFactsTable)
		if err != nil {
			return fmt.Errorf("appender for sessions: %w", err)
		}
		for _, sess := range sessions {
			if err := a.AppendRow(toDriver(store.SessionRow(workspace, sess))...); err != nil {
				a.Close()
				return fmt.Errorf("write session %s: %w", sess.Conversation, err)
			}
		}
		if err := a.CloseWithCancel(ctx); err != nil {
			return fmt.Errorf("write sessions: %w", err)
		}
		return nil
	})
}

// rebuildSessions splits every session of a workspace anew from its
// events: when its session gap changes, and for files made before
// sessions were kept. The caller holds s.mu, inside a transaction.
func (s *Store) rebuildSessions(ctx context.Context, workspace string, gap time.Duration) error {
	if _, err := s.writer.ExecContext(ctx, "DELETE FROM session_facts WHERE workspace = ?", workspace); err != nil {
		return fmt.Errorf("clear sessions of %s: %w", workspace, err)
	}
	events, err := store.ReadSessionEvents(s.writer.QueryContext(ctx, `SELECT `+sessionEventCols+` FROM events e
		WHERE e.workspace = ? AND e.kind IN (`+store.SQLList(session.Kinds)+`)`, workspace))
	if err != nil {
		return err
	}
	var all []*session.Session
	for k, evs := range session.Group(events) {
		all = append(all, session.Split(k, evs, gap)...)
	}
	return s.appendSessions(ctx, workspace, all)
}

// rebuildMissingSessions fills the session facts of a file whose events
// predate them.
func (s *Store) rebuildMissingSessions(ctx context.Context) error {
	var kept, needed bool
	if err := s.writer.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM session_facts)").Scan(&kept); err != nil {
		return fmt.Errorf("look for session facts: %w", err)
	}
	if kept {
		return nil
	}
	if err := s.writer.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM events WHERE kind IN ('message_received', 'message_sent'))").Scan(&needed); err != nil {
		return fmt.Errorf("look for conversation events: %w", err)
	}
	if !needed {
		return nil
	}
	names, err := store.ReadNames(ctx, s.db, "SELECT DISTINCT workspace FROM events ORDER BY 1")
	if err != nil {
		return err
	}
	return s.writerTx(ctx, func() error {
		for _, ws := range names {
			gap, err := store.SessionGapOf(ctx, s, ws)
			if err != nil {
				return err
			}
			if err := s.rebuildSessions(ctx, ws, gap); err != nil {
				return err
			}
		}
		return nil
	})
}

// toDriver converts a row for an appender.
func toDriver(row []any) []driver.Value {
	out := make([]driver.Value, len(row))
	for i, v := range row {
		out[i] = v
	}
	return out
}
