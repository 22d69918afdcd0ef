package cli

import (
	"context"
	"fmt"
	"io"
	"os/user"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/audit"
	"github.com/omnikpi/omnikpi/internal/store"
)

// listFlag is a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return fmt.Sprint(*l) }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// asCommand acts, for the audit trail, as the system user who runs the
// command.
func asCommand(ctx context.Context) context.Context {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return audit.As(ctx, "cli "+name)
}

func runForget(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "forget", "--workspace W (--customer ID … | --all --confirm W) [--db F]")
	db := fs.String("db", DefaultDB, dbUsage)
	workspace := fs.String("workspace", "", "the workspace (required)")
	var customers listFlag
	fs.Var(&customers, "customer", "a customer to erase, by `id` or phone number (repeatable)")
	all := fs.Bool("all", false, "erase the whole workspace: its events, facts, keys, users and settings")
	confirm := fs.String("confirm", "", "with --all, the workspace's `name` again")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *workspace == "" || fs.NArg() > 0 || (*all == (len(customers) > 0)) {
		fmt.Fprintln(e.stderr, "omnikpi forget: give --workspace and either --customer ID (repeatable) or --all --confirm W")
		return errUsage
	}
	if *all && *confirm != *workspace {
		return fmt.Errorf("--all erases every event, fact, key, user and setting of %s for good: repeat its name as --confirm %s", *workspace, *workspace)
	}
	ctx = asCommand(ctx)
	c, err := viaServer(ctx, e, *db)
	if err != nil {
		return err
	}
	if c != nil {
		c = c.WithWorkspace(*workspace)
		if *all {
			er, err := c.ForgetWorkspace(ctx, *confirm)
			if err != nil {
				return err
			}
			printErasure(e.stdout, erasureOfClient(er))
			return nil
		}
		for _, id := range customers {
			er, err := c.ForgetCustomer(ctx, id)
			if err != nil {
				return err
			}
			printErasure(e.stdout, erasureOfClient(er))
		}
		return nil
	}
	s, _, err := openExistingWorkspace(ctx, *db, *workspace)
	if err != nil {
		return err
	}
	defer s.Close()
	var er store.Erasure
	if *all {
		er, err = api.ForgetWorkspace(ctx, s, *workspace)
	} else {
		er, err = api.ForgetCustomers(ctx, s, *workspace, customers)
	}
	if err != nil {
		return err
	}
	printErasure(e.stdout, er)
	return nil
}

func erasureOfClient(er *client.Erasure) store.Erasure {
	return store.Erasure{Workspace: er.Workspace, Customers: er.Customers, Events: er.Events, Messages: er.Messages,
		Orders: er.Orders, Conversations: er.Conversations, Recomputed: er.Recomputed, Quarantined: er.Quarantined, Keys: er.Keys}
}

// printErasure says what an erasure removed.
func printErasure(w io.Writer, er store.Erasure) {
	if len(er.Customers) == 0 {
		fmt.Fprintf(w, "Erased workspace %s:", er.Workspace)
	} else {
		fmt.Fprintf(w, "Erased from workspace %s customer %v:", er.Workspace, er.Customers)
	}
	fmt.Fprintf(w, " %d events, %d messages, %d orders, %d conversations, %d quarantined webhook parts",
		er.Events, er.Messages, er.Orders, er.Conversations, er.Quarantined)
	if er.Keys > 0 {
		fmt.Fprintf(w, ", %d keys", er.Keys)
	}
	if er.Recomputed > 0 {
		fmt.Fprintf(w, "; %d facts of others merged anew", er.Recomputed)
	}
	fmt.Fprintln(w)
}
