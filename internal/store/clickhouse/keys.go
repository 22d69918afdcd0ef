package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/store"
)

// The settings, uses and audit trail of keys: the tables api_key_settings,
// api_key_uses and audit of schema.sql. Rows are only ever added; reads
// take each key's newest settings and latest use.

// keySettingsSQL selects the newest settings of the keys whose hashes the
// condition between it and keySettingsEnd picks.
const (
	keySettingsSQL = "SELECT hash, argMax(name, updated), argMax(scopes, updated), argMax(expires, updated) FROM api_key_settings WHERE "
	keySettingsEnd = " GROUP BY hash"
)

// SetKeySettings replaces a key's name, scopes and expiry: a newer row
// wins.
func (s *Store) SetKeySettings(ctx context.Context, hash string, ks store.KeySettings) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updated = max(s.updated+1, uint64(s.now().UnixNano()))
	err := s.insertRows(ctx, "INSERT INTO api_key_settings (hash, name, scopes, expires, updated)", 1, func(int) []any {
		return []any{hash, ks.Name, strings.Join(ks.Scopes, ","), store.Millis(ks.Expires), s.updated}
	})
	if err != nil {
		return fmt.Errorf("save key settings: %w", err)
	}
	return nil
}

// keyWithSettings reads the settings of the key found by KeyByHash.
func (s *Store) keyWithSettings(ctx context.Context, k store.Key, err error) (store.Key, error) {
	if err != nil {
		return k, err
	}
	settings, err := store.ReadKeySettings(ctx, s.db, keySettingsSQL+"hash = ?"+keySettingsEnd, k.Hash)
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
	settings, err := store.ReadKeySettings(ctx, s.db, keySettingsSQL+ofWorkspace+keySettingsEnd, workspace)
	if err != nil {
		return nil, err
	}
	uses, err := store.ReadKeyUses(ctx, s.db, "SELECT hash, max(used) FROM api_key_uses WHERE "+ofWorkspace+" GROUP BY hash", workspace)
	if err != nil {
		return nil, err
	}
	return store.WithSettings(keys, settings, uses), nil
}

// RecordKeyUses stores the keys' last uses in one insert.
func (s *Store) RecordKeyUses(ctx context.Context, uses map[string]time.Time) error {
	if len(uses) == 0 {
		return nil
	}
	hashes := make([]string, 0, len(uses))
	for h := range uses {
		hashes = append(hashes, h)
	}
	err := s.insertRows(ctx, "INSERT INTO api_key_uses (hash, used)", len(hashes), func(i int) []any {
		return []any{hashes[i], uses[hashes[i]].UnixMilli()}
	})
	if err != nil {
		return fmt.Errorf("record key uses: %w", err)
	}
	return nil
}

// AddAudit appends entries to the audit trail.
func (s *Store) AddAudit(ctx context.Context, entries ...store.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	err := s.insertRows(ctx, "INSERT INTO audit (id, ts, workspace, actor, action, target, details)", len(entries), func(i int) []any {
		e := entries[i]
		return []any{e.ID, e.Time.UnixMilli(), e.Workspace, e.Actor, e.Action, e.Target, e.Details}
	})
	if err != nil {
		return fmt.Errorf("record audit entry: %w", err)
	}
	return nil
}

// Audit reads a workspace's trail, newest first. An entry inserted twice
// (a retried insert) has the same sorting key and is read once.
func (s *Store) Audit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error) {
	where, args := q.Where()
	return store.ReadAudit(ctx, s.db, "SELECT id, ts, workspace, actor, action, target, details FROM audit FINAL WHERE "+where+
		fmt.Sprintf(" ORDER BY ts DESC, id DESC LIMIT %d", q.N()), args...)
}
