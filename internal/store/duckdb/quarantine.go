package duckdb

import (
	"context"
	"fmt"

	"github.com/omnikpi/omnikpi/internal/store"
)

// Quarantine keeps webhook parts; one kept already is left as it is.
func (s *Store) Quarantine(ctx context.Context, parts []store.QuarantinedPart) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, p := range parts {
		if _, err := tx.ExecContext(ctx, "INSERT INTO quarantine ("+store.QuarantineColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
			store.QuarantineRow(p)...); err != nil {
			return fmt.Errorf("quarantine: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	return nil
}

// QuarantinedParts lists the parts kept, oldest first.
func (s *Store) QuarantinedParts(ctx context.Context) ([]store.QuarantinedPart, error) {
	return store.ReadQuarantine(ctx, s.db, "SELECT "+store.QuarantineColumns+" FROM quarantine ORDER BY received, id")
}

// MarkIngested records parts as ingested.
func (s *Store) MarkIngested(ctx context.Context, parts []store.QuarantinedPart) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range parts {
		if _, err := s.writer.ExecContext(ctx, "UPDATE quarantine SET ingested = ?, workspace = ? WHERE id = ?",
			p.Ingested.UnixMilli(), p.Workspace, p.ID); err != nil {
			return fmt.Errorf("mark quarantined part ingested: %w", err)
		}
	}
	return nil
}

var _ store.Quarantine = (*Store)(nil)
