package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/audit"
)

// runUsers manages the dashboard users of a workspace. A password is read
// from the first line of standard input, never from a flag, so it stays out
// of shell histories and process lists.
func runUsers(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "list" && args[0] != "remove") {
		fmt.Fprintln(e.stderr, "Usage: omnikpi users add|list|remove --workspace W [--user NAME] [--db F]  (add reads the password from stdin)")
		return errUsage
	}
	fs := newFlags(e, "users "+args[0], "--workspace W [--user NAME] [--db F]")
	db := fs.String("db", DefaultDB, dbUsage)
	workspace := fs.String("workspace", "", "workspace the user signs in to (required)")
	name := fs.String("user", "", "the user's name (required for add and remove)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *workspace == "" || (args[0] != "list" && *name == "") {
		fmt.Fprintf(e.stderr, "omnikpi users %s: --workspace%s required\n", args[0], map[bool]string{true: " is", false: " and --user are"}[args[0] == "list"])
		return errUsage
	}
	var password string
	if args[0] == "add" {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		password = strings.TrimRight(line, "\r\n")
		if password == "" {
			return fmt.Errorf("no password on standard input (%v): pipe it in, as in: printf '%%s\\n' \"$PASSWORD\" | omnikpi users add …", err)
		}
	}
	done := func() error {
		fmt.Fprintf(e.stderr, "%s user %s of workspace %s\n", map[string]string{"add": "Saved", "remove": "Removed"}[args[0]], *name, *workspace)
		return nil
	}
	c, err := viaServer(ctx, e, *db)
	if err != nil {
		return err
	}
	if c != nil {
		c = c.WithWorkspace(*workspace)
		switch args[0] {
		case "list":
			users, err := c.Users(ctx)
			if err != nil {
				return err
			}
			for _, u := range users {
				fmt.Fprintln(e.stdout, u.Name)
			}
			return nil
		case "add":
			err = c.PutUser(ctx, *name, password)
		case "remove":
			err = c.DeleteUser(ctx, *name)
		}
		if err != nil {
			return err
		}
		return done()
	}
	open := openExistingWorkspace
	if args[0] == "add" {
		open = openWorkspace
	}
	s, ws, err := open(ctx, *db, *workspace)
	if err != nil {
		return err
	}
	defer s.Close()
	switch args[0] {
	case "list":
		for _, u := range ws.Users {
			fmt.Fprintln(e.stdout, u.Name)
		}
		return nil
	case "add":
		err = api.AddUser(&ws, *name, password)
	case "remove":
		err = api.RemoveUser(&ws, *name)
	}
	if err != nil {
		return err
	}
	if err := s.PutWorkspace(ctx, ws); err != nil {
		return err
	}
	action := audit.UserPut
	if args[0] == "remove" {
		action = audit.UserRemove
	}
	if err := audit.Record(ctx, s, ws.Name, action, *name, nil); err != nil {
		return err
	}
	return done()
}
