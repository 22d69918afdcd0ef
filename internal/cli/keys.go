package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/omnikpi/omnikpi/internal/api"
)

func runKeys(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list") {
		fmt.Fprintln(e.stderr, "Usage: omnikpi keys create|list --workspace W [--db F]")
		return errUsage
	}
	fs := newFlags(e, "keys "+args[0], "--workspace W [--db F]")
	db := fs.String("db", DefaultDB, dbUsage)
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
		keys, err := s.Keys(ctx, *workspace)
		if err != nil {
			return err
		}
		for _, k := range keys {
			fmt.Fprintf(e.stdout, "%s…\tcreated %s\n", k.Prefix, k.Created.Format(time.RFC3339))
		}
		return nil
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
