// Package duckdb is omnikpi's embedded store: one DuckDB file, no server.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	duckdbdriver "github.com/duckdb/duckdb-go/v2"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

// schemaSQL is the schema, a template that schema renders.
//
//go:embed schema.sql
var schemaSQL string

// stageSQL creates the per-connection staging tables of the write path.
const stageSQL = `
CREATE TEMP TABLE IF NOT EXISTS stage AS SELECT *, 0::BIGINT AS seq FROM events LIMIT 0;
CREATE TEMP TABLE IF NOT EXISTS fresh (seq BIGINT);` + sessionTempSQL

// eventColumns lists the events table's columns (store.EventColumns);
// stage has the same columns followed by seq.
var eventColumns = store.EventColumnNames()

// Store is a DuckDB file. Reads run concurrently; writes are serialised on
// one connection, which is how DuckDB wants a single writer.
type Store struct {
	db   *sql.DB
	path string

	mu      sync.Mutex // guards writer and the staging tables on it
	writer  *sql.Conn
	upserts []upsert // fact maintenance, in order
	now     func() time.Time
	// forgotten holds each workspace's forgotten list (store.Eraser), by
	// hash; expired the time before which its raw events were removed by
	// retention, in Unix ms.
	forgotten map[string]map[string]bool
	expired   map[string]int64
}

// Open opens or creates the DuckDB file at path and applies the schema.
func Open(ctx context.Context, path string) (*Store, error) {
	connector, err := duckdbdriver.NewConnector(path, func(execer driver.ExecerContext) error {
		// Stored times are UTC milliseconds; the session zone only matters
		// for the bucketing fragments, which name their zone explicitly.
		// Bulk batches write tens of MB of log each; checkpointing after
		// every one of them (the 16 MB default) would rewrite the file per
		// batch. The log is still synced on every commit.
		_, err := execer.ExecContext(ctx, "SET TimeZone = 'UTC'; SET checkpoint_threshold = '1GB'", nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open duckdb %s: %w", path, err)
	}
	ddl, err := schema()
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector)
	if _, err := db.ExecContext(ctx, ddl); err != nil {
		db.Close()
		return nil, fmt.Errorf("apply schema to %s: %w", path, err)
	}
	writer, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open writer connection: %w", err)
	}
	// The fact upserts below are planned once, while the staging tables are
	// empty; statistics propagation would plan them for empty tables (an
	// empty result), so it is off on the writer connection.
	if _, err := writer.ExecContext(ctx, "SET disabled_optimizers = 'statistics_propagation'"); err != nil {
		db.Close()
		return nil, fmt.Errorf("configure writer connection: %w", err)
	}
	if _, err := writer.ExecContext(ctx, stageSQL); err != nil {
		db.Close()
		return nil, fmt.Errorf("create staging tables: %w", err)
	}
	s := &Store{db: db, path: path, writer: writer, now: time.Now}
	for _, f := range store.Facts {
		// Prepared once: planning these statements costs more than running
		// them on a small batch.
		stmt, err := writer.PrepareContext(ctx, upsertSQL(f))
		if err != nil {
			for _, u := range s.upserts {
				u.stmt.Close()
			}
			writer.Close()
			db.Close()
			return nil, fmt.Errorf("prepare the %s upsert: %w", f.Name, err)
		}
		s.upserts = append(s.upserts, upsert{table: f, stmt: stmt})
	}
	if err := s.openErase(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.rebuildMissingSessions(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// SetMemoryLimit bounds the memory DuckDB takes for its buffers (cached
// blocks, indexes, query state), such as "512MB"; beyond it DuckDB evicts
// and spills to temporary files.
func (s *Store) SetMemoryLimit(ctx context.Context, limit string) error {
	if _, err := s.db.ExecContext(ctx, "SET memory_limit = '"+strings.ReplaceAll(limit, "'", "")+"'"); err != nil {
		return fmt.Errorf("memory limit %q for %s: %w", limit, s.path, err)
	}
	return nil
}

// upsert is a fact table's prepared maintenance statement.
type upsert struct {
	table store.FactTable
	stmt  *sql.Stmt
}

// Close closes the file.
// Size is the bytes the database file and its write-ahead log take on
// disk.
func (s *Store) Size(ctx context.Context) (int64, error) {
	fi, err := os.Stat(s.path)
	if err != nil {
		return 0, err
	}
	size := fi.Size()
	if wal, err := os.Stat(s.path + ".wal"); err == nil {
		size += wal.Size()
	}
	return size, nil
}

func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The prepared statements hold the database open: close them first,
	// or a later Open of the same file waits on it.
	for _, u := range s.upserts {
		u.stmt.Close()
	}
	s.writer.Close()
	return s.db.Close()
}

// Query runs a read-only KPI query.
func (s *Store) Query(ctx context.Context, query string, args ...any) (store.Rows, error) {
	return s.db.QueryContext(ctx, query, args...)
}

// DB exposes the database for tests and tools that read the tables directly.
func (s *Store) DB() *sql.DB { return s.db }

// insert stores events and updates the facts in one transaction: the batch
// is appended to a staging table, inserted into events where its (workspace,
// id) is new, and only those new rows feed the facts. DuckDB syncs its
// write-ahead log on commit, so a returned nil means the events are durable.
// The caller holds s.mu.
func (s *Store) insert(ctx context.Context, events []event.Event) ([]store.Outcome, error) {
	if len(events) == 0 {
		return nil, nil
	}
	if err := s.stage(ctx, events); err != nil {
		return nil, err
	}
	// The transaction is run as statements on the writer connection rather
	// than through database/sql's Tx, which would prepare the upserts anew
	// in every transaction (they were prepared on the connection).
	if _, err := s.writer.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return nil, fmt.Errorf("begin insert: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			s.writer.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()

	rows, err := s.writer.QueryContext(ctx, `INSERT INTO events SELECT `+eventColumns+` FROM stage
		QUALIFY row_number() OVER (PARTITION BY workspace, id ORDER BY seq) = 1
		ON CONFLICT DO NOTHING RETURNING workspace, id`)
	if err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	inserted := make(map[[2]string]bool, len(events))
	for rows.Next() {
		var ws, id string
		if err := rows.Scan(&ws, &id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read inserted ids: %w", err)
		}
		inserted[[2]string{ws, id}] = true
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}

	outcomes := make([]store.Outcome, len(events))
	var freshSeqs []int64
	for i, e := range events {
		k := [2]string{e.Workspace, e.ID}
		if inserted[k] {
			outcomes[i] = store.Accepted
			freshSeqs = append(freshSeqs, int64(i))
			delete(inserted, k) // a later copy in the same batch is a duplicate
		} else {
			outcomes[i] = store.Duplicate
		}
	}
	if len(freshSeqs) > 0 {
		if err := s.appendFresh(ctx, freshSeqs); err != nil {
			return nil, err
		}
		for _, u := range s.upserts {
			if !u.table.Names(events, freshSeqs) {
				continue // no fresh event feeds this table
			}
			if _, err := u.stmt.ExecContext(ctx); err != nil {
				return nil, fmt.Errorf("update facts: %w", err)
			}
		}
		fresh := make([]event.Event, len(freshSeqs))
		for i, seq := range freshSeqs {
			fresh[i] = events[seq]
		}
		if err := s.updateSessions(ctx, fresh); err != nil {
			return nil, err
		}
	}
	if _, err := s.writer.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, fmt.Errorf("commit insert: %w", err)
	}
	committed = true
	return outcomes, nil
}

// stage replaces the staging table's content with events.
func (s *Store) stage(ctx context.Context, events []event.Event) error {
	if _, err := s.writer.ExecContext(ctx, "DELETE FROM stage; DELETE FROM fresh;"); err != nil {
		return fmt.Errorf("clear staging: %w", err)
	}
	received := s.now().UnixMilli()
	return s.withAppender(ctx, "stage", func(a *duckdbdriver.Appender) error {
		for i := range events {
			if err := a.AppendRow(eventRow(&events[i], received, int64(i))...); err != nil {
				return fmt.Errorf("stage event %s: %w", events[i].ID, err)
			}
		}
		return nil
	})
}

// appendFresh records which staged rows were new. It runs inside the insert
// transaction; fresh is a temporary table, so the appender's rows only need
// to be visible to the statements that follow on this connection.
func (s *Store) appendFresh(ctx context.Context, seqs []int64) error {
	return s.withAppender(ctx, "fresh", func(a *duckdbdriver.Appender) error {
		for _, seq := range seqs {
			if err := a.AppendRow(seq); err != nil {
				return fmt.Errorf("mark new events: %w", err)
			}
		}
		return nil
	})
}

func (s *Store) withAppender(ctx context.Context, table string, fill func(*duckdbdriver.Appender) error) error {
	return s.writer.Raw(func(dc any) error {
		a, err := duckdbdriver.NewAppender(dc.(driver.Conn), "temp", "main", table)
		if err != nil {
			return fmt.Errorf("appender for %s: %w", table, err)
		}
		if err := fill(a); err != nil {
			a.Close()
			return err
		}
		if err := a.CloseWithCancel(ctx); err != nil {
			return fmt.Errorf("flush %s: %w", table, err)
		}
		return nil
	})
}

// eventRow lays e out as store.EventRow does, followed by seq, with tags
// as the list the appender takes.
func eventRow(e *event.Event, received, seq int64) []driver.Value {
	row := make([]driver.Value, 0, len(store.EventColumns)+1)
	for i, v := range store.EventRow(e, received) {
		if store.EventColumns[i].Type == store.TextList {
			v = textList(v.([]string))
		}
		row = append(row, v)
	}
	return append(row, seq)
}

// textList is a list of texts as the appender takes it: null when nil.
func textList(list []string) driver.Value {
	if list == nil {
		return nil
	}
	out := make([]any, len(list))
	for i, t := range list {
		out[i] = t
	}
	return out
}

// Workspace returns a workspace's settings.
func (s *Store) Workspace(ctx context.Context, name string) (store.Workspace, error) {
	return store.ReadWorkspace(ctx, s.db, "SELECT settings FROM workspaces WHERE name = ?", name)
}

// WorkspaceNames lists every workspace.
func (s *Store) WorkspaceNames(ctx context.Context) ([]string, error) {
	return store.ReadNames(ctx, s.db, "SELECT name FROM workspaces ORDER BY name")
}

// PutWorkspace creates or replaces a workspace's settings.
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
	return s.writerTx(ctx, func() error {
		_, err = s.writer.ExecContext(ctx, `INSERT INTO workspaces VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET settings = excluded.settings`, ws.Name, string(b))
		if err != nil {
			return fmt.Errorf("save workspace %q: %w", ws.Name, err)
		}
		if ws.Windows.SessionGap() != oldGap {
			// Sessions split by silence follow the new gap, back to the start.
			return s.rebuildSessions(ctx, ws.Name, ws.Windows.SessionGap())
		}
		return nil
	})
}

// AddKey stores a key's hash.
func (s *Store) AddKey(ctx context.Context, k store.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO api_keys VALUES (?, ?, ?, ?)",
			k.Hash, k.Prefix, k.Workspace, k.Created.UnixMilli())
		if err == nil {
			err = putKeySettings(ctx, tx, k.Hash, k.Settings())
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("save key: %w", err)
	}
	return nil
}

// KeyByHash finds a key by its hash.
func (s *Store) KeyByHash(ctx context.Context, hash string) (store.Key, error) {
	k, err := store.ReadKey(ctx, s.db, "SELECT prefix, workspace, created FROM api_keys WHERE hash = ?", hash)
	return s.keyWithSettings(ctx, k, err)
}

// Keys lists a workspace's keys, oldest first.
func (s *Store) Keys(ctx context.Context, workspace string) ([]store.Key, error) {
	keys, err := store.ReadKeys(ctx, s.db, "SELECT DISTINCT hash, prefix, created FROM api_keys WHERE workspace = ? ORDER BY created, hash", workspace)
	return s.keysWithSettings(ctx, workspace, keys, err)
}

// RevokeKey deletes a key's hash: nothing is left to find it by.
func (s *Store) RevokeKey(ctx context.Context, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"api_keys", "api_key_settings", "api_key_uses"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE hash = ?", hash); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("revoke key: %w", err)
	}
	return nil
}

var _ store.Store = (*Store)(nil)
