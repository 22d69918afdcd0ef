package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Both stores keep workspaces as JSON settings and keys as rows of hash,
// prefix, workspace and creation time in Unix ms; these read them through
// each store's own SQL.

// ReadWorkspace runs query, which selects the settings JSON of the
// workspace named by its one parameter, and decodes them over the
// defaults.
func ReadWorkspace(ctx context.Context, db *sql.DB, query, name string) (Workspace, error) {
	var settings string
	err := db.QueryRowContext(ctx, query, name).Scan(&settings)
	if errors.Is(err, sql.ErrNoRows) {
		return Workspace{}, fmt.Errorf("workspace %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return Workspace{}, fmt.Errorf("read workspace %q: %w", name, err)
	}
	ws := NewWorkspace(name)
	if err := json.Unmarshal([]byte(settings), &ws); err != nil {
		return Workspace{}, fmt.Errorf("decode workspace %q: %w", name, err)
	}
	ws.Name = name
	return ws, nil
}

// ReadKey runs query, which selects prefix, workspace and created of the
// key whose hash is its one parameter.
func ReadKey(ctx context.Context, db *sql.DB, query, hash string) (Key, error) {
	k := Key{Hash: hash}
	var created int64
	err := db.QueryRowContext(ctx, query, hash).Scan(&k.Prefix, &k.Workspace, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, ErrNotFound
	}
	if err != nil {
		return Key{}, fmt.Errorf("read key: %w", err)
	}
	k.Created = time.UnixMilli(created).UTC()
	return k, nil
}

// ReadKeys runs query, which selects hash, prefix and created of the keys
// of the workspace that is its one parameter.
func ReadKeys(ctx context.Context, db *sql.DB, query, workspace string) ([]Key, error) {
	rows, err := db.QueryContext(ctx, query, workspace)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var keys []Key
	for rows.Next() {
		k := Key{Workspace: workspace}
		var created int64
		if err := rows.Scan(&k.Hash, &k.Prefix, &created); err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		k.Created = time.UnixMilli(created).UTC()
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// ReadNames runs query, which selects one string column, and returns its
// values.
func ReadNames(ctx context.Context, db *sql.DB, query string) ([]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
