package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/store"
)

// The settings, uses and audit trail of keys: the tables api_key_settings,
// api_key_uses and audit of schema.sql.

// keySettingsSQL selects the settings of the keys whose hashes the
// condition that follows picks.
const keySettingsSQL = "SELECT hash, name, scopes, expires FROM api_key_settings WHERE "

// inTx runs fn in one transaction on the writer; the caller holds s.mu.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func putKeySettings(ctx context.Context, tx *sql.Tx, hash string, ks store.KeySettings) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO api_key_settings (hash, name, scopes, expires) VALUES (?, ?, ?, ?)
		ON CONFLICT (hash) DO UPDATE SET name = excluded.name, scopes = excluded.scopes, expires = excluded.expires`,
		hash, ks.Name, strings.Join(ks.Scopes, ","), store.Millis(ks.Expires))
	return err
}

// SetKeySettings replaces a key's name, scopes and expiry.
func (s *Store) SetKeySettings(ctx context.Context, hash string, ks store.KeySettings) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.inTx(ctx, func(tx *sql.Tx) error { return putKeySettings(ctx, tx, hash, ks) }); err != nil {
		return fmt.Errorf("save key settings: %w", err)
	}
	return nil
}

// keyWithSettings reads the settings of the key found by KeyByHash.
func (s *Store) keyWithSettings(ctx context.Context, k store.Key, err error) (store.Key, error) {
	if err != nil {
		return k, err
	}
	settings, err := store.ReadKeySettings(ctx, s.db, keySettingsSQL+"hash = ?", k.Hash)
	if err != nil {
		return store.Key{}, err
	}
	return store.WithSettings([]store.Key{k}, settings, nil)[0], nil
}

// keysWithSettings reads the settings and last uses of a workspace's keys.
func (s *Store) keysWithSettings(ctx context.Context, workspace string, keys []store.Key, err error) ([]store.Key, error) {
	if err != nil || len(keys) == 0 {
		return keys, err
	}
	ofWorkspace := "hash IN (SELECT hash FROM api_keys WHERE workspace = ?)"
	settings, err := store.ReadKeySettings(ctx, s.db, keySettingsSQL+ofWorkspace, workspace)
	if err != nil {
		return nil, err
	}
	uses, err := store.ReadKeyUses(ctx, s.db, "SELECT hash, used FROM api_key_uses WHERE "+ofWorkspace, workspace)
	if err != nil {
		return nil, err
	}
	return store.WithSettings(keys, settings, uses), nil
}

// RecordKeyUses stores the keys' last uses in one transaction.
func (s *Store) RecordKeyUses(ctx context.Context, uses map[string]time.Time) error {
	if len(uses) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for hash, used := range uses {
			_, err := tx.ExecContext(ctx, `INSERT INTO api_key_uses (hash, used) VALUES (?, ?)
				ON CONFLICT (hash) DO UPDATE SET used = greatest(api_key_uses.used, excluded.used)`, hash, used.UnixMilli())
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record key uses: %w", err)
	}
	return nil
}

// AddAudit appends entries to the audit trail.
func (s *Store) AddAudit(ctx context.Context, entries ...store.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, e := range entries {
			_, err := tx.ExecContext(ctx, "INSERT INTO audit (id, ts, workspace, actor, action, target, details) VALUES (?, ?, ?, ?, ?, ?, ?)",
				e.ID, e.Time.UnixMilli(), e.Workspace, e.Actor, e.Action, e.Target, e.Details)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record audit entry: %w", err)
	}
	return nil
}

// Audit reads a workspace's trail, newest first.
func (s *Store) Audit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error) {
	where, args := q.Where()
	return store.ReadAudit(ctx, s.db, "SELECT id, ts, workspace, actor, action, target, details FROM audit WHERE "+where+
		fmt.Sprintf(" ORDER BY ts DESC, id DESC LIMIT %d", q.N()), args...)
}
