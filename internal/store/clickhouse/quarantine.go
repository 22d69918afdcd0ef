package clickhouse

import (
	"context"
	"fmt"

	"github.com/omnikpi/omnikpi/internal/store"
)

// Quarantine keeps webhook parts. A part kept twice collapses into one
// row (ReplacingMergeTree, read with FINAL); one marked ingested keeps
// that mark, its row being of a higher version.
func (s *Store) Quarantine(ctx context.Context, parts []store.QuarantinedPart) error {
	err := s.insertRows(ctx, "INSERT INTO quarantine ("+store.QuarantineColumns+", version)", len(parts), func(i int) []any {
		return append(store.QuarantineRow(parts[i]), uint64(0))
	})
	if err != nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	return nil
}

// QuarantinedParts lists the parts kept, oldest first.
func (s *Store) QuarantinedParts(ctx context.Context) ([]store.QuarantinedPart, error) {
	return store.ReadQuarantine(ctx, s.db, "SELECT "+store.QuarantineColumns+" FROM quarantine FINAL ORDER BY received, id")
}

// MarkIngested adds each part's row again, ingested, at a higher version.
func (s *Store) MarkIngested(ctx context.Context, parts []store.QuarantinedPart) error {
	err := s.insertRows(ctx, "INSERT INTO quarantine ("+store.QuarantineColumns+", version)", len(parts), func(i int) []any {
		return append(store.QuarantineRow(parts[i]), uint64(parts[i].Ingested.UnixMilli()))
	})
	if err != nil {
		return fmt.Errorf("mark quarantined parts ingested: %w", err)
	}
	return nil
}

var _ store.Quarantine = (*Store)(nil)
