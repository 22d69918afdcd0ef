package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse"
)

func runKeys(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list" && args[0] != "rotate" && args[0] != "revoke") {
		fmt.Fprintln(e.stderr, "Usage: omnikpi keys create|list|rotate|revoke --workspace W [--db F] [PREFIX]")
		return errUsage
	}
	verb := args[0]
	synopsis := "--workspace W [--db F]"
	switch verb {
	case "create":
		synopsis += " [--name NAME] [--scopes ingest,read,admin] [--expires 90d | --expires 2026-12-31T00:00:00Z]"
	case "rotate":
		synopsis += " [--grace 24h] PREFIX  (as keys list shows it, or the whole key)"
	case "revoke":
		synopsis += " PREFIX  (as keys list shows it, or the whole key)"
	}
	fs := newFlags(e, "keys "+verb, synopsis)
	db := fs.String("db", DefaultDB, dbUsage)
	workspace := fs.String("workspace", "", "workspace the key writes and reads (required)")
	var name, scopes, expires *string
	var grace time.Duration
	if verb == "create" {
		name = fs.String("name", "", "what the key is for, such as shopify-webhook")
		scopes = fs.String("scopes", strings.Join(api.DefaultScopes, ","), "what the key may do: ingest (send events), read (reports), admin (keys, users, settings, alert rules, the audit trail), comma-separated")
		expires = fs.String("expires", "", "when the key stops working: a `duration` from now (90d) or an RFC 3339 time; default never")
	}
	if verb == "rotate" {
		fs.Var(durationValue{d: &grace}, "grace", "how long the old key keeps working, a `duration` such as 24h (at most 30d); default 0s: revoked at once")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *workspace == "" {
		fmt.Fprintln(e.stderr, "omnikpi keys: --workspace is required")
		return errUsage
	}
	if needsPrefix := verb == "revoke" || verb == "rotate"; needsPrefix != (fs.NArg() == 1) || fs.NArg() > 1 {
		fs.Usage()
		return errUsage
	}
	var req api.KeyRequest
	if verb == "create" {
		var err error
		if req, err = keyRequest(*name, *scopes, *expires); err != nil {
			return err
		}
	}
	c, err := viaServer(ctx, e, *db)
	if err != nil {
		return err
	}
	if c != nil {
		c = c.WithWorkspace(*workspace)
		switch verb {
		case "list":
			keys, err := c.Keys(ctx)
			if err != nil {
				return err
			}
			for _, k := range keys {
				printKey(e.stdout, k)
			}
			return nil
		case "revoke":
			if err := c.RevokeKey(ctx, fs.Arg(0)); err != nil {
				return err
			}
			return revoked(e, *workspace, fs.Arg(0), true)
		case "rotate":
			k, err := c.RotateKey(ctx, fs.Arg(0), grace)
			if err != nil {
				return err
			}
			return rotated(e, *workspace, k.Key.Key, fs.Arg(0), grace, true)
		}
		k, err := c.CreateKeyWith(ctx, client.KeyRequest{Name: req.Name, Scopes: req.Scopes, Expires: req.Expires, ExpiresIn: client.Duration(req.ExpiresIn)})
		if err != nil {
			return err
		}
		return created(e, *workspace, k.Key)
	}
	var s store.Store
	if verb == "create" {
		s, err = openStore(ctx, *db)
	} else {
		s, _, err = openExistingWorkspace(ctx, *db, *workspace)
	}
	if err != nil {
		return err
	}
	defer s.Close()
	switch verb {
	case "list":
		keys, err := s.Keys(ctx, *workspace)
		if err != nil {
			return err
		}
		for _, k := range keys {
			info := api.KeyInfoOf(k)
			printKey(e.stdout, client.Key{Prefix: info.Prefix, Created: info.Created, Name: info.Name, Scopes: info.Scopes,
				Expires: info.Expires, Expired: info.Expired, LastUsed: info.LastUsed})
		}
		return nil
	case "revoke":
		if _, err := api.RevokeKey(ctx, s, *workspace, fs.Arg(0)); err != nil {
			return err
		}
		return revoked(e, *workspace, fs.Arg(0), !clickhouse.IsURL(*db))
	case "rotate":
		plain, _, _, err := api.RotateKey(ctx, s, *workspace, fs.Arg(0), grace)
		if err != nil {
			return keyError(err)
		}
		return rotated(e, *workspace, plain, fs.Arg(0), grace, !clickhouse.IsURL(*db))
	}
	plain, _, err := api.CreateKey(ctx, s, *workspace, req)
	if err != nil {
		return keyError(err)
	}
	return created(e, *workspace, plain)
}

// keyRequest reads the flags of keys create.
func keyRequest(name, scopes, expires string) (api.KeyRequest, error) {
	req := api.KeyRequest{Name: name}
	list, err := store.ParseScopes(scopes)
	if err != nil {
		return req, fmt.Errorf("--scopes: %w", err)
	}
	req.Scopes = list
	if expires != "" {
		if t, err := time.Parse(time.RFC3339, expires); err == nil {
			req.Expires = t
		} else if d, err := store.ParseDuration(expires); err == nil && d > 0 {
			req.ExpiresIn = store.Duration(d)
		} else {
			return req, fmt.Errorf("--expires: %q is neither a positive duration (90d) nor an RFC 3339 time (2026-12-31T00:00:00Z)", expires)
		}
	}
	return req, nil
}

// keyError names the flag of a refused key request.
func keyError(err error) error {
	var bad *api.ChangeError
	if errors.As(err, &bad) {
		flag := map[string]string{"name": "--name", "scopes": "--scopes", "expires": "--expires", "expires_in": "--expires", "grace": "--grace", "prefix": "PREFIX"}[bad.Field]
		return fmt.Errorf("%s: %s", flag, bad.Reason)
	}
	return err
}

// printKey writes one line of keys list: prefix, creation, name, scopes,
// expiry and last use.
func printKey(w io.Writer, k client.Key) {
	name := k.Name
	if name == "" {
		name = "-"
	}
	expires, used := "never", "never"
	if !k.Expires.IsZero() {
		expires = k.Expires.UTC().Format(time.RFC3339)
		if k.Expired {
			expires += " (expired)"
		}
	}
	if !k.LastUsed.IsZero() {
		used = k.LastUsed.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "%s…\tcreated %s\t%s\t%s\texpires %s\tlast used %s\n", k.Prefix, k.Created.UTC().Format(time.RFC3339),
		name, strings.Join(k.Scopes, ","), expires, used)
}

func created(e *env, workspace, plain string) error {
	fmt.Fprintln(e.stdout, plain)
	fmt.Fprintf(e.stderr, "A key for workspace %s. It is shown only now; omnikpi keeps only its hash.\n", workspace)
	return nil
}

// rotated prints the new key and says what became of the old one.
func rotated(e *env, workspace, plain, old string, grace time.Duration, atOnce bool) error {
	fmt.Fprintln(e.stdout, plain)
	fmt.Fprintf(e.stderr, "A new key for workspace %s, with the name and scopes of %s. It is shown only now; omnikpi keeps only its hash.\n", workspace, old)
	if grace > 0 {
		fmt.Fprintf(e.stderr, "Key %s keeps working for %s.\n", old, store.FormatDuration(grace))
		return nil
	}
	return revoked(e, workspace, old, atOnce)
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
