package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse"
)

func runKeys(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list" && args[0] != "revoke") {
		fmt.Fprintln(e.stderr, "Usage: omnikpi keys create|list|revoke --workspace W [--db F] [PREFIX]")
		return errUsage
	}
	synopsis := "--workspace W [--db F]"
	if args[0] == "revoke" {
		synopsis += " PREFIX  (as keys list shows it, or the whole key)"
	}
	fs := newFlags(e, "keys "+args[0], synopsis)
	db := fs.String("db", DefaultDB, dbUsage)
	workspace := fs.String("workspace", "", "workspace the key writes and reads (required)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *workspace == "" {
		fmt.Fprintln(e.stderr, "omnikpi keys: --workspace is required")
		return errUsage
	}
	if (args[0] == "revoke") != (fs.NArg() == 1) || fs.NArg() > 1 {
		fs.Usage()
		return errUsage
	}
	c, err := viaServer(ctx, e, *db)
	if err != nil {
		return err
	}
	if c != nil {
		c = c.WithWorkspace(*workspace)
		switch args[0] {
		case "list":
			keys, err := c.Keys(ctx)
			if err != nil {
				return err
			}
			for _, k := range keys {
				printKey(e.stdout, k.Prefix, k.Created)
			}
			return nil
		case "revoke":
			if err := c.RevokeKey(ctx, fs.Arg(0)); err != nil {
				return err
			}
			return revoked(e, *workspace, fs.Arg(0), true)
		}
		k, err := c.CreateKey(ctx)
		if err != nil {
			return err
		}
		return created(e, *workspace, k.Key)
	}
	var s store.Store
	if args[0] == "create" {
		s, err = openStore(ctx, *db)
	} else {
		s, _, err = openExistingWorkspace(ctx, *db, *workspace)
	}
	if err != nil {
		return err
	}
	defer s.Close()
	switch args[0] {
	case "list":
		keys, err := s.Keys(ctx, *workspace)
		if err != nil {
			return err
		}
		for _, k := range keys {
			printKey(e.stdout, k.Prefix, k.Created)
		}
		return nil
	case "revoke":
		if _, err := api.RevokeKey(ctx, s, *workspace, fs.Arg(0)); err != nil {
			return err
		}
		return revoked(e, *workspace, fs.Arg(0), !clickhouse.IsURL(*db))
	}
	plain, _, err := api.CreateKey(ctx, s, *workspace)
	if err != nil {
		return err
	}
	return created(e, *workspace, plain)
}

func printKey(w io.Writer, prefix string, created time.Time) {
	fmt.Fprintf(w, "%s…\tcreated %s\n", prefix, created.UTC().Format(time.RFC3339))
}

func created(e *env, workspace, plain string) error {
	fmt.Fprintln(e.stdout, plain)
	fmt.Fprintf(e.stderr, "A key for workspace %s. It is shown only now; omnikpi keeps only its hash.\n", workspace)
	return nil
}

// revoked says what became of the key. Servers of a ClickHouse database
// other than the one that revoked it know it for up to 10 s more.
func revoked(e *env, workspace, prefix string, atOnce bool) error {
	fmt.Fprintf(e.stderr, "Revoked key %s of workspace %s", prefix, workspace)
	if !atOnce {
		fmt.Fprint(e.stderr, "; servers of this database that used it in the last 10 s accept it until then")
	}
	fmt.Fprintln(e.stderr)
	return nil
}
