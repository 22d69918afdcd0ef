package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AuditEntry is one change in the audit trail: who did what to which
// target of a workspace, and when. Both stores keep the trail in a table
// of its own, which erasing a customer does not touch.
type AuditEntry struct {
	ID        string    // random, to tell apart entries of the same millisecond
	Time      time.Time // to the millisecond
	Workspace string    // empty for a change of the whole server
	Actor     string    // who: "key ok_abcdefg", "user alice", "admin token", "cli alice"
	Action    string    // what: key.create, user.remove, workspace.update…
	Target    string    // what it was done to: a key's prefix, a user's name, an alert rule's id…
	Details   string    // JSON object, "{}" when there is nothing more to say
}

// AuditQuery selects entries of the trail.
type AuditQuery struct {
	Workspace string
	From, To  time.Time // To exclusive; zero: unbounded
	Action    string    // only this action, or those starting with it followed by "." (key: key.create, key.revoke…); empty: every action
	Limit     int       // the newest so many; at most MaxAuditLimit
}

// MaxAuditLimit bounds the entries one read returns.
const MaxAuditLimit = 10_000

// Where is the query's WHERE clause over columns ts, workspace and
// action, with its arguments, in the SQL both stores share.
func (q AuditQuery) Where() (string, []any) {
	where, args := "workspace = ?", []any{q.Workspace}
	if !q.From.IsZero() {
		where, args = where+" AND ts >= ?", append(args, q.From.UnixMilli())
	}
	if !q.To.IsZero() {
		where, args = where+" AND ts < ?", append(args, q.To.UnixMilli())
	}
	if q.Action != "" {
		where, args = where+" AND (action = ? OR substring(action, 1, ?) = ?)", append(args, q.Action, int64(len(q.Action)+1), q.Action+".")
	}
	return where, args
}

// ReadAudit runs query, which selects id, ts, workspace, actor, action,
// target and details of entries.
func ReadAudit(ctx context.Context, db *sql.DB, query string, args ...any) ([]AuditEntry, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit trail: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var ts int64
		if err := rows.Scan(&e.ID, &ts, &e.Workspace, &e.Actor, &e.Action, &e.Target, &e.Details); err != nil {
			return nil, fmt.Errorf("read audit trail: %w", err)
		}
		e.Time = time.UnixMilli(ts).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// N is how many entries the query asks for: Limit, 100 when not given,
// at most MaxAuditLimit.
func (q AuditQuery) N() int {
	switch {
	case q.Limit <= 0:
		return 100
	case q.Limit > MaxAuditLimit:
		return MaxAuditLimit
	}
	return q.Limit
}
