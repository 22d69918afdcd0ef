package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

func runKeys(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list") {
		fmt.Fprintln(e.stderr, "Usage: omnikpi keys create|list --workspace W [--db F]")
		return errUsage
	}
	fs := newFlags(e, "keys "+args[0], "--workspace W [--db F]")
	db := fs.String("db", DefaultDB, "DuckDB file")
	workspace := fs.String("workspace", "", "workspace the key writes and reads (required)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *workspace == "" {
		fmt.Fprintln(e.stderr, "omnikpi keys: --workspace is required")
		return errUsage
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	if args[0] == "list" {
		d, ok := s.(*duckdb.Store)
		if !ok {
			return fmt.Errorf("keys list is available on DuckDB files")
		}
		rows, err := d.DB().QueryContext(ctx, "SELECT prefix, created FROM api_keys WHERE workspace = ? ORDER BY created", *workspace)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var prefix string
			var created int64
			if err := rows.Scan(&prefix, &created); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s…\tcreated %s\n", prefix, time.UnixMilli(created).UTC().Format(time.RFC3339))
		}
		return rows.Err()
	}
	if _, err := workspaceOrNew(ctx, s, *workspace); err != nil {
		return err
	}
	plain, key := api.NewKey(*workspace)
	if err := s.AddKey(ctx, key); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, plain)
	fmt.Fprintf(e.stderr, "A key for workspace %s. It is shown only now; omnikpi keeps only its hash.\n", *workspace)
	return nil
}
