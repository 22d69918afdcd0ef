package duckdb

import (
	"context"
	"fmt"

	duckdbdriver "github.com/duckdb/duckdb-go/v2"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

// eraseSQL creates the per-connection table an erasure lists its ids in:
// what is customer, message, order or conversation for the customers and
// their entities, or r:message, r:order_id, r:conversation for the
// entities of other customers that removed events fed, whose facts are
// merged anew.
const eraseSQL = `CREATE TEMP TABLE IF NOT EXISTS erase_keys (what VARCHAR, id VARCHAR);`

// whatOf is the forgotten list's name of a fact table's entity.
func whatOf(f store.FactTable) string {
	if f.Source == "order_id" {
		return "order"
	}
	return f.Source
}

// openErase prepares the erasure's table on the writer connection and
// reads the forgotten lists and retention marks: the file is this
// process's alone, so they are kept in memory and checked on every
// insert without a query.
func (s *Store) openErase(ctx context.Context) error {
	if _, err := s.writer.ExecContext(ctx, eraseSQL); err != nil {
		return fmt.Errorf("create the erasure table: %w", err)
	}
	s.forgotten = map[string]map[string]bool{}
	s.expired = map[string]int64{}
	rows, err := s.db.QueryContext(ctx, "SELECT workspace, hash FROM forgotten")
	if err != nil {
		return fmt.Errorf("read the forgotten lists: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ws, h string
		if err := rows.Scan(&ws, &h); err != nil {
			return fmt.Errorf("read the forgotten lists: %w", err)
		}
		s.forget(ws, h)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the forgotten lists: %w", err)
	}
	marks, err := s.db.QueryContext(ctx, "SELECT workspace, events_before FROM retention_marks")
	if err != nil {
		return fmt.Errorf("read the retention marks: %w", err)
	}
	defer marks.Close()
	for marks.Next() {
		var ws string
		var before int64
		if err := marks.Scan(&ws, &before); err != nil {
			return fmt.Errorf("read the retention marks: %w", err)
		}
		s.expired[ws] = before
	}
	return marks.Err()
}

func (s *Store) forget(workspace, hash string) {
	if s.forgotten[workspace] == nil {
		s.forgotten[workspace] = map[string]bool{}
	}
	s.forgotten[workspace][hash] = true
}

func (s *Store) isForgotten(workspace, hash string) bool { return s.forgotten[workspace][hash] }

// Dropped says which events Insert would drop.
func (s *Store) Dropped(ctx context.Context, events []event.Event) ([]store.Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out, _ := store.DropEvents(events, s.isForgotten, s.expired)
	return out, nil
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
	drops, added := store.DropEvents(events, s.isForgotten, s.expired)
	kept := store.Kept(events, drops)
	if len(kept) == len(events) {
		return s.insert(ctx, events)
	}
	if err := s.addForgotten(ctx, added); err != nil {
		return nil, err
	}
	outcomes, err := s.insert(ctx, kept)
	if err != nil {
		return nil, err
	}
	return store.WithDrops(drops, outcomes), nil
}

// addForgotten records hashes in the forgotten lists, by workspace.
func (s *Store) addForgotten(ctx context.Context, hashes map[string][]string) error {
	at := s.now().UnixMilli()
	for ws, list := range hashes {
		for _, h := range list {
			if _, err := s.writer.ExecContext(ctx, "INSERT INTO forgotten VALUES (?, ?, ?) ON CONFLICT DO NOTHING", ws, h, at); err != nil {
				return fmt.Errorf("record forgotten ids: %w", err)
			}
			s.forget(ws, h)
		}
	}
	return nil
}

// writerTx runs fn in one transaction on the writer connection, with s.mu
// held by the caller.
func (s *Store) writerTx(ctx context.Context, fn func() error) error {
	if _, err := s.writer.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		s.writer.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	_, err := s.writer.ExecContext(ctx, "COMMIT")
	return err
}

// exec runs a statement on the writer and returns the rows it changed.
func (s *Store) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.writer.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// count runs a query of one number on the writer.
func (s *Store) count(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := s.writer.QueryRowContext(ctx, query, args...).Scan(&n)
	return n, err
}

// Forget erases customers of a workspace (see store.Eraser).
func (s *Store) Forget(ctx context.Context, workspace string, customers, phones []string) (store.Erasure, error) {
	er := store.Erasure{Workspace: workspace, Customers: customers}
	s.mu.Lock()
	defer s.mu.Unlock()
	var hashes []string
	err := s.writerTx(ctx, func() error {
		if _, err := s.writer.ExecContext(ctx, "DELETE FROM erase_keys"); err != nil {
			return err
		}
		if err := s.withAppender(ctx, "erase_keys", func(a *duckdbdriver.Appender) error {
			for _, c := range customers {
				if err := a.AppendRow("customer", c); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		// The customers' entities are those their facts name.
		for _, f := range store.Facts {
			n, err := s.exec(ctx, fmt.Sprintf(`INSERT INTO erase_keys SELECT '%s', %s FROM %s
				WHERE workspace = ? AND customer IN (SELECT id FROM erase_keys WHERE what = 'customer')`, whatOf(f), f.Key, f.Name), workspace)
			if err != nil {
				return fmt.Errorf("find the customers' %s: %w", f.Name, err)
			}
			er.CountFacts(f.Name, n)
		}
		// Their events: those of the customers and those naming their
		// entities (statuses name only the message).
		if _, err := s.writer.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE erase_events AS
			SELECT id, message, order_id, conversation FROM events
			WHERE workspace = ? AND (customer IN (SELECT id FROM erase_keys WHERE what = 'customer')
				OR message IN (SELECT id FROM erase_keys WHERE what = 'message')
				OR order_id IN (SELECT id FROM erase_keys WHERE what = 'order')
				OR conversation IN (SELECT id FROM erase_keys WHERE what = 'conversation'))`, workspace); err != nil {
			return fmt.Errorf("find the customers' events: %w", err)
		}
		// Other entities the removed events fed are merged anew.
		for _, f := range store.Facts {
			if _, err := s.writer.ExecContext(ctx, fmt.Sprintf(`INSERT INTO erase_keys
				SELECT DISTINCT 'r:%[1]s', %[2]s FROM erase_events
				WHERE %[2]s IS NOT NULL AND %[2]s NOT IN (SELECT id FROM erase_keys WHERE what = '%[1]s')`, whatOf(f), f.Source)); err != nil {
				return fmt.Errorf("find the facts to merge anew: %w", err)
			}
		}
		erased, err := store.ReadSessionEvents(s.writer.QueryContext(ctx, `SELECT `+sessionEventCols+` FROM events e
			WHERE e.workspace = ? AND e.id IN (SELECT id FROM erase_events)`, workspace))
		if err != nil {
			return err
		}
		n, err := s.exec(ctx, "DELETE FROM events WHERE workspace = ? AND id IN (SELECT id FROM erase_events)", workspace)
		if err != nil {
			return fmt.Errorf("remove the customers' events: %w", err)
		}
		er.Events = n
		// The sessions the removed events were part of are split anew
		// from the events left.
		if err := s.resplitSessions(ctx, workspace, erased); err != nil {
			return err
		}
		for _, f := range store.Facts {
			if _, err := s.writer.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE workspace = ?
				AND %s IN (SELECT id FROM erase_keys WHERE what IN ('%[3]s', 'r:%[3]s'))`, f.Name, f.Key, whatOf(f)), workspace); err != nil {
				return fmt.Errorf("remove the customers' %s: %w", f.Name, err)
			}
		}
		if er.Recomputed, err = s.recompute(ctx, workspace); err != nil {
			return err
		}
		for _, phone := range phones {
			n, err := s.exec(ctx, "DELETE FROM quarantine WHERE contains(part, ?)", `"`+phone+`"`)
			if err != nil {
				return fmt.Errorf("remove quarantined parts: %w", err)
			}
			er.Quarantined += n
		}
		rows, err := s.writer.QueryContext(ctx, "SELECT what, id FROM erase_keys WHERE what NOT LIKE 'r:%'")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var what, id string
			if err := rows.Scan(&what, &id); err != nil {
				return err
			}
			hashes = append(hashes, store.ForgottenHash(what, id))
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		return s.addForgotten(ctx, map[string][]string{workspace: hashes})
	})
	if err != nil {
		// The cache may hold hashes the rollback undid: read it again.
		if rerr := s.openErase(context.WithoutCancel(ctx)); rerr != nil {
			return er, fmt.Errorf("forget customers: %w (and reading the forgotten lists again: %v)", err, rerr)
		}
		return er, fmt.Errorf("forget customers: %w", err)
	}
	return er, nil
}

// recompute merges anew, from the events left, the fact rows of the
// entities listed as r:WHAT in erase_keys, one table at a time: the staged
// events of one table's entities may name other tables' entities, whose
// rows must not take them twice.
func (s *Store) recompute(ctx context.Context, workspace string) (int64, error) {
	var total int64
	for _, u := range s.upserts {
		f := u.table
		if _, err := s.writer.ExecContext(ctx, "DELETE FROM stage; DELETE FROM fresh;"); err != nil {
			return 0, fmt.Errorf("clear staging: %w", err)
		}
		if _, err := s.writer.ExecContext(ctx, fmt.Sprintf(`INSERT INTO stage (%[1]s, seq)
			SELECT %[1]s, row_number() OVER () FROM events
			WHERE workspace = ? AND %[2]s IN (SELECT id FROM erase_keys WHERE what = 'r:%[3]s')`, eventColumns, f.Source, whatOf(f)), workspace); err != nil {
			return 0, fmt.Errorf("stage %s to merge anew: %w", f.Name, err)
		}
		if _, err := s.writer.ExecContext(ctx, "INSERT INTO fresh SELECT seq FROM stage"); err != nil {
			return 0, err
		}
		if _, err := u.stmt.ExecContext(ctx); err != nil {
			return 0, fmt.Errorf("merge %s anew: %w", f.Name, err)
		}
		n, err := s.count(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE workspace = ? AND %s IN (SELECT id FROM erase_keys WHERE what = 'r:%s')", f.Name, f.Key, whatOf(f)), workspace)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// ForgetWorkspace removes a workspace and everything of it but its audit
// trail.
func (s *Store) ForgetWorkspace(ctx context.Context, workspace string) (store.Erasure, error) {
	er := store.Erasure{Workspace: workspace}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.writerTx(ctx, func() error {
		var err error
		if er.Events, err = s.exec(ctx, "DELETE FROM events WHERE workspace = ?", workspace); err != nil {
			return err
		}
		if _, err := s.exec(ctx, "DELETE FROM session_facts WHERE workspace = ?", workspace); err != nil {
			return err
		}
		for _, f := range store.Facts {
			n, err := s.exec(ctx, "DELETE FROM "+f.Name+" WHERE workspace = ?", workspace)
			if err != nil {
				return err
			}
			er.CountFacts(f.Name, n)
		}
		if er.Quarantined, err = s.exec(ctx, "DELETE FROM quarantine WHERE workspace = ?", workspace); err != nil {
			return err
		}
		if er.Keys, err = s.exec(ctx, "DELETE FROM api_keys WHERE workspace = ?", workspace); err != nil {
			return err
		}
		for _, q := range []string{"DELETE FROM forgotten WHERE workspace = ?", "DELETE FROM retention_marks WHERE workspace = ?", "DELETE FROM workspaces WHERE name = ?"} {
			if _, err := s.writer.ExecContext(ctx, q, workspace); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return er, fmt.Errorf("forget workspace %s: %w", workspace, err)
	}
	delete(s.forgotten, workspace)
	delete(s.expired, workspace)
	return er, nil
}

// ApplyRetention deletes what the cutoffs no longer keep, day by day
// rows of the events table rather than a rewrite of the file: DuckDB
// marks the rows deleted and reuses their space.
func (s *Store) ApplyRetention(ctx context.Context, workspace string, cut store.Cutoffs) (store.RetentionRun, error) {
	run := store.RetentionRun{Workspace: workspace, Cutoffs: cut}
	s.mu.Lock()
	defer s.mu.Unlock()
	mark := s.expired[workspace]
	err := s.writerTx(ctx, func() error {
		var err error
		if !cut.Texts.IsZero() {
			if run.Texts, err = s.exec(ctx, "UPDATE events SET text = NULL WHERE workspace = ? AND ts < ? AND text IS NOT NULL",
				workspace, cut.Texts.UnixMilli()); err != nil {
				return fmt.Errorf("clear old texts: %w", err)
			}
		}
		if !cut.Events.IsZero() {
			if run.Events, err = s.exec(ctx, "DELETE FROM events WHERE workspace = ? AND ts < ?", workspace, cut.Events.UnixMilli()); err != nil {
				return fmt.Errorf("remove old events: %w", err)
			}
			mark = max(mark, cut.Events.UnixMilli())
			if _, err := s.writer.ExecContext(ctx, `INSERT INTO retention_marks VALUES (?, ?)
				ON CONFLICT (workspace) DO UPDATE SET events_before = greatest(events_before, excluded.events_before)`, workspace, mark); err != nil {
				return fmt.Errorf("record the retention mark: %w", err)
			}
		}
		if !cut.Facts.IsZero() {
			for _, f := range store.Facts {
				n, err := s.exec(ctx, "DELETE FROM "+f.Name+" WHERE workspace = ? AND first_ms < ?", workspace, cut.Facts.UnixMilli())
				if err != nil {
					return fmt.Errorf("remove old %s: %w", f.Name, err)
				}
				run.Facts += n
			}
			n, err := s.exec(ctx, "DELETE FROM session_facts WHERE workspace = ? AND start_ms < ?", workspace, cut.Facts.UnixMilli())
			if err != nil {
				return fmt.Errorf("remove old sessions: %w", err)
			}
			run.Facts += n
		}
		return nil
	})
	if err != nil {
		return run, fmt.Errorf("apply retention to %s: %w", workspace, err)
	}
	if mark > 0 {
		s.expired[workspace] = mark
	}
	return run, nil
}

var _ store.Eraser = (*Store)(nil)
