package cli

import (
	"os/user"
	"strings"
	"testing"
)

// TestKeys_ScopesRotateAudit: keys create takes a name, scopes and an
// expiry, keys list shows them, keys rotate gives a new key of the same
// name and scopes, and omnikpi audit prints each change with the system
// user who made it; wrong flags are named.
func TestKeys_ScopesRotateAudit(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		code, plain, errOut := run(t, "keys", "create", "--db", db, "--workspace", "shop", "--name", "shopify", "--scopes", "ingest", "--expires", "90d")
		if code != 0 {
			t.Fatalf("keys create: exit %d, %q", code, errOut)
		}
		prefix := strings.TrimSpace(plain)[:10]
		code, out, _ := run(t, "keys", "list", "--db", db, "--workspace", "shop")
		if code != 0 || !strings.HasPrefix(out, prefix+"…\tcreated ") || !strings.Contains(out, "\tshopify\tingest\texpires 20") || !strings.Contains(out, "last used never") {
			t.Fatalf("keys list: exit %d, %q", code, out)
		}
		code, next, errOut := run(t, "keys", "rotate", "--db", db, "--workspace", "shop", "--grace", "1h", prefix)
		if code != 0 || !strings.HasPrefix(next, "ok_") || !strings.Contains(errOut, "keeps working for 1h") {
			t.Fatalf("keys rotate: exit %d, %q, %q", code, next, errOut)
		}
		code, out, _ = run(t, "keys", "list", "--db", db, "--workspace", "shop")
		if code != 0 || strings.Count(out, "\tshopify\tingest\t") != 2 {
			t.Errorf("keys list after rotation: %q", out)
		}
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"keys", "create", "--scopes", "write"}, `--scopes: "write" is not a scope`},
			{[]string{"keys", "create", "--expires", "soon"}, `--expires: "soon" is neither`},
			{[]string{"keys", "rotate", "--grace", "90d", prefix}, "--grace: must be between 0s and 30d"},
			{[]string{"audit", "--limit", "0"}, `--limit: "0" is not a number`},
		} {
			n := 1 // the command, and the verb of keys
			if tc.args[0] == "keys" {
				n = 2
			}
			args := append(append(append([]string{}, tc.args[:n]...), "--db", db, "--workspace", "shop"), tc.args[n:]...)
			if code, _, errOut := run(t, args...); code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("%v: exit %d, %q, want %q", tc.args, code, errOut, tc.want)
			}
		}
		code, out, errOut = run(t, "audit", "--db", db, "--workspace", "shop")
		u, _ := user.Current()
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 0 || len(lines) != 2 || !strings.Contains(lines[0], "\tcli "+u.Username+"\tkey.rotate\t"+prefix+"\t") ||
			!strings.Contains(lines[1], "\tkey.create\t"+prefix+"\t") || !strings.Contains(lines[1], `"scopes":["ingest"]`) {
			t.Errorf("audit: exit %d, %q, %q", code, out, errOut)
		}
	})
}
