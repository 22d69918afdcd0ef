package store

import (
	"context"
	"database/sql"
	"time"
)

// QuarantineColumns are the columns of the quarantine table, in the order
// ReadQuarantine scans them.
const QuarantineColumns = "id, source, phone_number_id, account_id, received, part, ingested, workspace"

// QuarantineRow lays p out in QuarantineColumns order.
func QuarantineRow(p QuarantinedPart) []any {
	var ingested int64
	if !p.Ingested.IsZero() {
		ingested = p.Ingested.UnixMilli()
	}
	return []any{p.ID, p.Source, p.PhoneNumberID, p.AccountID, p.Received.UnixMilli(), string(p.Part), ingested, p.Workspace}
}

// ReadQuarantine runs a query selecting QuarantineColumns.
func ReadQuarantine(ctx context.Context, db *sql.DB, query string, args ...any) ([]QuarantinedPart, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []QuarantinedPart
	for rows.Next() {
		var p QuarantinedPart
		var received, ingested int64
		var part string
		if err := rows.Scan(&p.ID, &p.Source, &p.PhoneNumberID, &p.AccountID, &received, &part, &ingested, &p.Workspace); err != nil {
			return nil, err
		}
		p.Received, p.Part = time.UnixMilli(received).UTC(), []byte(part)
		if ingested != 0 {
			p.Ingested = time.UnixMilli(ingested).UTC()
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
