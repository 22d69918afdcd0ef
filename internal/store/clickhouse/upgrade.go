package clickhouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/omnikpi/omnikpi/internal/store"
)

// addMissingFactColumns brings the fact tables of a database made by an
// earlier version up to store.Facts: a column added since (a new dimension
// such as the pricing type) is added to the state table and the fact
// table, and the materialized view that fills the states is dropped, for
// the schema to create it anew with the column. ClickHouse 18.16 has no
// ADD COLUMN IF NOT EXISTS, so the columns are compared first. Rows stored
// before have no value in the new columns, as in the DuckDB store. Run it
// before the schema's statements, which make the view again.
func (s *Store) addMissingFactColumns(ctx context.Context) error {
	for _, f := range store.Facts {
		d := newFactDDL(f)
		for _, t := range []struct {
			name    string
			columns []string // "name Type"
		}{{d.State, d.StateColumns}, {d.Name, d.Columns}} {
			have, err := s.columnsOf(ctx, s.copies(t.name)[0])
			if err != nil || have == nil {
				return err // no table yet: the schema makes it whole
			}
			var missing []string
			for _, col := range t.columns {
				if !have[strings.Fields(col)[0]] {
					missing = append(missing, col)
				}
			}
			if len(missing) == 0 {
				continue
			}
			if t.name == d.State {
				if err := s.dropStateView(ctx, d.State); err != nil {
					return err
				}
			}
			for _, col := range missing {
				for _, c := range s.copies(t.name) {
					if _, err := s.db.ExecContext(ctx, s.alter(t.name, c, "ADD COLUMN "+col)); err != nil {
						return fmt.Errorf("add column %s to %s: %w", col, c, err)
					}
				}
			}
			if s.layout.Cluster != "" {
				// The Distributed table in front lists the columns too; the
				// schema makes it again from its shards' table. (18.16
				// refuses an ALTER ON CLUSTER of a table that is not
				// replicated on a cluster whose shards are.)
				front := s.cfg.Database + "." + t.name
				if _, err := s.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+front+s.layout.onCluster()); err != nil {
					return fmt.Errorf("drop %s: %w", front, err)
				}
			}
		}
	}
	return nil
}

// columnsOf is the set of c's columns; nil when c does not exist.
func (s *Store) columnsOf(ctx context.Context, c copyOf) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT name FROM system.columns WHERE database = ? AND table = ?", c.database, c.table)
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", c, err)
	}
	defer rows.Close()
	var have map[string]bool
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		if have == nil {
			have = map[string]bool{}
		}
		have[name] = true
	}
	return have, rows.Err()
}

// dropStateView drops the materialized view that fills state table
// state, in every shard database.
func (s *Store) dropStateView(ctx context.Context, state string) error {
	for _, c := range s.copies(state) {
		view := c.database + "." + state + "_mv"
		if s.layout.Cluster != "" {
			view += "_local"
		}
		if _, err := s.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+view+s.layout.onCluster()); err != nil {
			return fmt.Errorf("drop %s: %w", view, err)
		}
	}
	return nil
}
