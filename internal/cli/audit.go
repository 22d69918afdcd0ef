package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/api"
)

// runAudit prints a workspace's audit trail, newest first, as a table or
// JSON lines.
func runAudit(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "audit", "--workspace W [--db F] [--from 2026-01-01] [--to 2026-02-01] [--action key] [--limit 100] [--format table|json]")
	db := fs.String("db", DefaultDB, dbUsage)
	workspace := fs.String("workspace", "", "workspace whose trail to print (required)")
	from := fs.String("from", "", "first `time`: a date (UTC) or an RFC 3339 time")
	to := fs.String("to", "", "`time` to stop before: a date (UTC) or an RFC 3339 time")
	action := fs.String("action", "", "only this `action` (key.create), or those of a kind (key)")
	limit := fs.String("limit", "", "the newest `n` entries (default 100, at most 10000)")
	format := fs.String("format", "table", "table, or json (one entry a line)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *workspace == "" || fs.NArg() > 0 {
		fmt.Fprintln(e.stderr, "omnikpi audit: --workspace is required, and nothing else")
		fs.Usage()
		return errUsage
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("--format: %q is neither table nor json", *format)
	}
	query := url.Values{}
	for name, v := range map[string]string{"from": *from, "to": *to, "action": *action, "limit": *limit} {
		if v != "" {
			query.Set(name, v)
		}
	}
	q, err := api.AuditQueryOf(query)
	if err != nil {
		return fmt.Errorf("--%v", err)
	}
	var entries []client.AuditEntry
	c, err := viaServer(ctx, e, *db)
	if err != nil {
		return err
	}
	if c != nil {
		if entries, err = c.WithWorkspace(*workspace).Audit(ctx, query); err != nil {
			return err
		}
	} else {
		s, _, err := openExistingWorkspace(ctx, *db, *workspace)
		if err != nil {
			return err
		}
		defer s.Close()
		q.Workspace = *workspace
		stored, err := s.Audit(ctx, q)
		if err != nil {
			return err
		}
		for _, st := range stored {
			entries = append(entries, client.AuditEntry{Time: st.Time, Workspace: st.Workspace, Actor: st.Actor, Action: st.Action,
				Target: st.Target, Details: json.RawMessage(st.Details)})
		}
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	for _, en := range entries {
		if *format == "json" {
			if err := enc.Encode(en); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(e.stdout, "%s\t%s\t%s\t%s\t%s\n", en.Time.UTC().Format(time.RFC3339), en.Actor, en.Action, en.Target, en.Details)
	}
	return nil
}
