package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/storetest"
)

// token marks the routes only the server's admin token may use, whatever
// a key's scopes.
const token = "admin token"

// scopeRequests says, for every route that takes a key, the scope it
// needs and a harmless request to it: one that names nothing stored, or
// changes only what the test made. A route the server registers and this
// table does not list fails the test, so each new route is given its
// scope here.
var scopeRequests = map[string]struct {
	scope, path, body string
}{
	"POST /v1/events":                {store.ScopeIngest, "/v1/events", `[{"id":"s1","ts":"2026-01-05T10:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m1","customer":"c1"}]`},
	"GET /v1/catalogue":              {store.ScopeRead, "/v1/catalogue", ""},
	"GET /v1/workspace":              {store.ScopeRead, "/v1/workspace", ""},
	"GET /v1/tracker":                {store.ScopeRead, "/v1/tracker", ""},
	"PUT /v1/tracker":                {store.ScopeAdmin, "/v1/tracker", `{}`},
	"PUT /v1/alerts/{id}":            {store.ScopeAdmin, "/v1/alerts/scope-test", `{"kpi":"ctr","condition":"above","value":1,"window":"24h"}`},
	"DELETE /v1/alerts/{id}":         {store.ScopeAdmin, "/v1/alerts/no-such-rule", ""},
	"DELETE /v1/session":             {"", "/v1/session", ""},
	"PATCH /v1/session":              {"", "/v1/session", `{"language":"id"}`},
	"GET /v1/workspaces":             {token, "/v1/workspaces", ""},
	"PATCH /v1/workspace":            {store.ScopeAdmin, "/v1/workspace", `{}`},
	"GET /v1/keys":                   {store.ScopeAdmin, "/v1/keys", ""},
	"POST /v1/keys":                  {store.ScopeAdmin, "/v1/keys", `{"name":"scope-test","scopes":["read"]}`},
	"POST /v1/keys/{prefix}/rotate":  {store.ScopeAdmin, "/v1/keys/ok_nothing/rotate", ""},
	"DELETE /v1/keys/{prefix}":       {store.ScopeAdmin, "/v1/keys/ok_nothing", ""},
	"GET /v1/users":                  {store.ScopeAdmin, "/v1/users", ""},
	"PUT /v1/users/{name}":           {store.ScopeAdmin, "/v1/users/scope-test", `{"password":"correct horse battery"}`},
	"DELETE /v1/users/{name}":        {store.ScopeAdmin, "/v1/users/nobody", ""},
	"GET /v1/audit":                  {store.ScopeAdmin, "/v1/audit", ""},
	"GET /v1/quarantine":             {token, "/v1/quarantine", ""},
	"POST /v1/quarantine/ingest":     {token, "/v1/quarantine/ingest", `{}`},
	"DELETE /v1/customers/{id}":      {store.ScopeAdmin, "/v1/customers/nobody", ""},
	"DELETE /v1/workspace":           {store.ScopeAdmin, "/v1/workspace", ""}, // without ?confirm= it erases nothing
	"GET /v1/retention":              {store.ScopeAdmin, "/v1/retention", ""},
	"PUT /v1/retention":              {store.ScopeAdmin, "/v1/retention", `{"nonsense":1}`},
	"POST /v1/retention/apply":       {store.ScopeAdmin, "/v1/retention/apply?nonsense=1", ""},
	"GET /v1/campaigns/recipients":   {store.ScopeRead, "/v1/campaigns/recipients", ""},
	"GET /v1/conversations/unclosed": {store.ScopeRead, "/v1/conversations/unclosed", ""},
	"GET /v1/links":                  {store.ScopeRead, "/v1/links", ""},
	"POST /v1/links":                 {store.ScopeAdmin, "/v1/links", `{"channel":"sms"}`}, // refused: nothing made
	"POST /v1/meta/analytics":        {store.ScopeIngest, "/v1/meta/analytics", `{}`},
}

// unkeyed routes take no key: probes, the document, signing in, the
// dashboard, the webhooks (signed by their platforms) and the site
// tracker's script and endpoint (a public id).
func unkeyed(pattern string) bool {
	for _, p := range []string{"GET /healthz", "GET /readyz", "GET /metrics", "GET /v1/openapi.json", "POST /v1/session", "GET /v1/session", "GET /{$}", "GET /static/", "/v1/",
		"GET /t.js"} {
		if pattern == p {
			return true
		}
	}
	return strings.Contains(pattern, "/webhooks/") || strings.Contains(pattern, " /track/")
}

// TestScopes_EveryRoute asks every route with a key of each scope alone,
// a key made before scopes (all three) and the admin token: a key
// without the route's scope is answered 403 naming it, one with it is
// served (whatever the answer, not 401 or 403).
func TestScopes_EveryRoute(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := startWith(t, open, api.Options{AdminToken: adminToken})
		ctx := context.Background()
		keys := map[string]string{"legacy": s.keyA}
		for _, scope := range store.AllScopes {
			plain, _, err := api.CreateKey(ctx, s.store, "a", api.KeyRequest{Name: scope + "-only", Scopes: []string{scope}})
			if err != nil {
				t.Fatal(err)
			}
			keys[scope] = plain
		}
		for _, pattern := range api.Routes(api.Options{}) {
			if unkeyed(pattern) {
				continue
			}
			method, _, _ := strings.Cut(pattern, " ")
			req, ok := scopeRequests[pattern]
			if !ok && method == "GET" && isView(pattern) {
				req, ok = scopeRequests["GET /v1/campaigns/recipients"], true
				req.path = strings.TrimPrefix(pattern, "GET ")
			}
			if !ok {
				t.Errorf("%s: not in scopeRequests; give it its scope there", pattern)
				continue
			}
			if got := api.RouteScope(pattern); req.scope != token && got != req.scope {
				t.Errorf("%s needs %q, want %q", pattern, got, req.scope)
			}
			for who, key := range keys {
				allowed := req.scope == "" || who == "legacy" || who == req.scope
				if req.scope == token {
					allowed = false
				}
				status, msg, _ := send(t, s, method, key, "", req.path, req.body)
				switch {
				case allowed && (status == http.StatusUnauthorized || status == http.StatusForbidden):
					t.Errorf("%s with the %s key: %d %s, want it served", pattern, who, status, msg)
				case !allowed && req.scope == token && (status != http.StatusForbidden || !strings.Contains(msg, "admin token")):
					t.Errorf("%s with the %s key: %d %s, want 403 asking for the admin token", pattern, who, status, msg)
				case !allowed && req.scope != token && (status != http.StatusForbidden || !strings.HasPrefix(msg, "insufficient_scope: ") || !strings.Contains(msg, "needs the "+req.scope+" scope")):
					t.Errorf("%s with the %s key: %d %s, want 403 naming the %s scope", pattern, who, status, msg, req.scope)
				}
			}
			ws := "a"
			if req.scope == token {
				ws = ""
			}
			if status, msg, _ := send(t, s, method, adminToken, ws, req.path, req.body); status == http.StatusUnauthorized || status == http.StatusForbidden {
				t.Errorf("%s with the admin token: %d %s", pattern, status, msg)
			}
		}
	})
}

func isView(pattern string) bool {
	for _, v := range kpi.Views() {
		if pattern == "GET "+v.Path {
			return true
		}
	}
	return false
}

// TestScopes_Sessions: a session signed in with a key has the key's
// scopes; a dashboard user's has read and admin, not ingest.
func TestScopes_Sessions(t *testing.T) {
	s := startWith(t, duckdbStore, api.Options{})
	ctx := context.Background()
	ingestOnly, _, err := api.CreateKey(ctx, s.store, "a", api.KeyRequest{Scopes: []string{store.ScopeIngest}})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := s.store.Workspace(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := api.AddUser(&ws, "alice", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if err := s.store.PutWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, signIn      string
		kpis, events, put int
	}{
		{"ingest key", `{"key":"` + ingestOnly + `"}`, 403, 200, 403},
		{"user", `{"workspace":"a","user":"alice","password":"correct horse battery"}`, 200, 403, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, s.url)
			status, info, _ := b.signIn(tc.signIn)
			if status != http.StatusOK {
				t.Fatalf("sign-in: %d", status)
			}
			h := map[string]string{api.CSRFHeader: info.CSRFToken}
			if status, body, _ := b.do(http.MethodGet, "/v1/kpis", "", nil); status != tc.kpis {
				t.Errorf("GET /v1/kpis: %d %s, want %d", status, body, tc.kpis)
			}
			if status, body, _ := b.do(http.MethodPost, "/v1/events", scopeRequests["POST /v1/events"].body, h); status != tc.events {
				t.Errorf("POST /v1/events: %d %s, want %d", status, body, tc.events)
			}
			if status, body, _ := b.do(http.MethodPut, "/v1/alerts/r1", `{"kpi":"ctr","condition":"above","value":1,"window":"24h"}`, h); status != tc.put {
				t.Errorf("PUT /v1/alerts/r1: %d %s, want %d", status, body, tc.put)
			}
		})
	}
}

// TestKeys_NamesScopesExpiryRotation: keys made with a name, scopes and an
// expiry are listed with them and their last use; an expired key is
// refused; a rotated key's successor has its name and scopes, and the old
// one is refused at once or works through its grace period; wrong
// requests are 400 naming the field.
func TestKeys_NamesScopesExpiryRotation(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := startWith(t, open, api.Options{AdminToken: adminToken})
		ctx := context.Background()
		admin := client.New(s.url, adminToken, nil).WithWorkspace("a")

		hook, err := admin.CreateKeyWith(ctx, client.KeyRequest{Name: "shopify", Scopes: []string{"ingest"}, ExpiresIn: client.Duration(90 * 24 * time.Hour)})
		if err != nil || hook.Name != "shopify" || strings.Join(hook.Scopes, ",") != "ingest" || hook.Expires.Before(time.Now().Add(89*24*time.Hour)) {
			t.Fatalf("create: %+v, %v", hook, err)
		}
		dash, err := admin.CreateKey(ctx) // no request: the default scopes
		if err != nil || strings.Join(dash.Scopes, ",") != "ingest,read" || !dash.Expires.IsZero() {
			t.Fatalf("create with the defaults: %+v, %v", dash, err)
		}
		if _, status, err := client.New(s.url, hook.Key, nil).SendEvents(ctx, []byte(scopeRequests["POST /v1/events"].body), "application/json"); err != nil || status != http.StatusOK {
			t.Fatalf("the ingest key ingests: %d %v", status, err)
		}
		keys, err := admin.Keys(ctx)
		if err != nil || len(keys) != 3 {
			t.Fatalf("keys = %+v, %v", keys, err)
		}
		byPrefix := map[string]client.Key{}
		for _, k := range keys {
			byPrefix[k.Prefix] = k
		}
		if k := byPrefix[hook.Prefix]; k.LastUsed.IsZero() || k.Name != "shopify" || k.Expires.IsZero() {
			t.Errorf("the used key as listed: %+v", k)
		}
		if k := byPrefix[dash.Prefix]; !k.LastUsed.IsZero() {
			t.Errorf("an unused key as listed: %+v", k)
		}
		if k := byPrefix[s.keyA[:10]]; strings.Join(k.Scopes, ",") != "ingest,read,admin" {
			t.Errorf("a key made before scopes: %+v", k)
		}

		for _, tc := range []struct {
			name, body, field string
		}{
			{"unknown scope", `{"scopes":["write"]}`, "scopes"},
			{"no scope", `{"scopes":[]}`, "scopes"},
			{"past expiry", `{"expires":"2001-01-01T00:00:00Z"}`, "expires"},
			{"both expiries", `{"expires":"2999-01-01T00:00:00Z","expires_in":"7d"}`, "expires"},
			{"negative expiry", `{"expires_in":"-7d"}`, "expires_in"},
			{"unknown field", `{"scope":["read"]}`, ""},
		} {
			status, msg, b := send(t, s, http.MethodPost, adminToken, "a", "/v1/keys", tc.body)
			var e struct {
				Error struct{ Field string } `json:"error"`
			}
			json.Unmarshal(b, &e)
			if status != http.StatusBadRequest || e.Error.Field != tc.field {
				t.Errorf("%s: %d %s (field %q), want 400 naming %q", tc.name, status, msg, e.Error.Field, tc.field)
			}
		}

		// Rotation without grace: the old key is refused at once.
		rotated, err := admin.RotateKey(ctx, hook.Prefix, 0)
		if err != nil || rotated.Name != "shopify" || strings.Join(rotated.Scopes, ",") != "ingest" || rotated.Key.Key == "" || rotated.Old.Prefix != hook.Prefix {
			t.Fatalf("rotate: %+v, %v", rotated, err)
		}
		if status, msg, _ := send(t, s, http.MethodPost, hook.Key, "", "/v1/events", scopeRequests["POST /v1/events"].body); status != http.StatusUnauthorized {
			t.Errorf("the rotated key: %d %s, want 401", status, msg)
		}
		if status, msg, _ := send(t, s, http.MethodPost, rotated.Key.Key, "", "/v1/events", scopeRequests["POST /v1/events"].body); status != http.StatusOK {
			t.Errorf("its successor: %d %s", status, msg)
		}
		// With a grace period the old key works until it ends.
		graced, err := admin.RotateKey(ctx, dash.Prefix, 24*time.Hour)
		if err != nil || graced.Old.Expires.IsZero() || graced.Old.Expires.After(time.Now().Add(25*time.Hour)) {
			t.Fatalf("rotate with grace: %+v, %v", graced, err)
		}
		for _, k := range []string{dash.Key, graced.Key.Key} {
			if status, msg, _ := send(t, s, http.MethodGet, k, "", "/v1/workspace", ""); status != http.StatusOK {
				t.Errorf("key %s during the grace period: %d %s", k[:10], status, msg)
			}
		}
		// Ending the grace period by hand, as time would: refused.
		old := graced.Old
		if err := s.store.SetKeySettings(ctx, api.HashKey(dash.Key), store.KeySettings{Name: old.Name, Scopes: old.Scopes, Expires: time.Now().Add(-time.Second)}); err != nil {
			t.Fatal(err)
		}
		fresh := startAgain(t, s, api.Options{AdminToken: adminToken}) // a server that has not cached the key
		if status, msg, _ := send(t, fresh, http.MethodGet, dash.Key, "", "/v1/workspace", ""); status != http.StatusUnauthorized || !strings.HasPrefix(msg, "key_expired: ") {
			t.Errorf("an expired key: %d %s, want 401 key_expired", status, msg)
		}
		for _, tc := range []struct{ path, body string }{
			{"/v1/keys/" + dash.Prefix + "/rotate", ""},                   // expired
			{"/v1/keys/" + graced.Prefix + "/rotate", `{"grace":"60d"}`},  // too long
			{"/v1/keys/" + graced.Prefix + "/rotate", `{"grace":"soon"}`}, // not a duration
		} {
			if status, msg, _ := send(t, s, http.MethodPost, adminToken, "a", tc.path, tc.body); status != http.StatusBadRequest {
				t.Errorf("POST %s %s: %d %s, want 400", tc.path, tc.body, status, msg)
			}
		}
		if status, _, _ := send(t, s, http.MethodPost, adminToken, "a", "/v1/keys/ok_nothing/rotate", ""); status != http.StatusNotFound {
			t.Errorf("rotating a key that is not there: %d, want 404", status)
		}
	})
}

// startAgain serves s's store from a second server, with caches of its
// own.
func startAgain(t *testing.T, s *server, opts api.Options) *server {
	t.Helper()
	return startWith(t, func(*testing.T) storetest.Store { return s.store }, opts)
}

// TestAudit_RecordsChanges: each change through the API is in the trail,
// newest first, with who made it; the trail filters by action and time,
// and names a wrong parameter.
func TestAudit_RecordsChanges(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := startWith(t, open, api.Options{AdminToken: adminToken})
		ctx := context.Background()
		admin := client.New(s.url, adminToken, nil).WithWorkspace("a")
		start := time.Now().UTC().Add(-time.Second)

		k, err := admin.CreateKeyWith(ctx, client.KeyRequest{Name: "ops", Scopes: []string{"admin"}})
		if err != nil {
			t.Fatal(err)
		}
		ops := client.New(s.url, k.Key, nil)
		steps := []struct {
			action, target, actor string
			do                    func() error
		}{
			{"user.put", "alice", "key " + k.Prefix + " (ops)", func() error { return ops.PutUser(ctx, "alice", "correct horse battery") }},
			{"workspace.update", "a", "key " + k.Prefix + " (ops)", func() error {
				_, err := ops.ChangeWorkspace(ctx, client.WorkspaceChange{TimeZone: "Asia/Jakarta", RateCard: &client.RateCard{Currency: "USD", Prices: []client.RatePrice{{Category: "marketing", Country: "ID", Price: "0.0411"}}}})
				return err
			}},
			{"alert.put", "optout", "admin token", func() error {
				status, msg, _ := send(t, s, http.MethodPut, adminToken, "a", "/v1/alerts/optout", `{"kpi":"opt_out_rate","condition":"above","value":1,"window":"24h"}`)
				if status != 200 {
					t.Errorf("put alert: %d %s", status, msg)
				}
				return nil
			}},
			{"alert.remove", "optout", "admin token", func() error {
				send(t, s, http.MethodDelete, adminToken, "a", "/v1/alerts/optout", "")
				return nil
			}},
			{"user.remove", "alice", "admin token", func() error { return admin.DeleteUser(ctx, "alice") }},
			{"key.rotate", k.Prefix, "admin token", func() error { _, err := admin.RotateKey(ctx, k.Prefix, time.Hour); return err }},
			{"key.revoke", k.Prefix, "admin token", func() error { return admin.RevokeKey(ctx, k.Prefix) }},
		}
		for _, st := range steps {
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.action, err)
			}
		}
		entries, err := admin.Audit(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"key.create " + k.Prefix + " admin token"}
		for _, st := range steps {
			want = append(want, st.action+" "+st.target+" "+st.actor)
		}
		var got []string
		for i := len(entries) - 1; i >= 0; i-- { // oldest first, as want
			e := entries[i]
			got = append(got, e.Action+" "+e.Target+" "+e.Actor)
			if e.Workspace != "a" || e.Time.Before(start) || len(e.Details) == 0 || e.Details[0] != '{' {
				t.Errorf("entry %+v", e)
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("trail:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, e := range entries {
			if e.Action == "workspace.update" && !strings.Contains(string(e.Details), `"fields":["rate_card","time_zone"]`) {
				t.Errorf("workspace.update details: %s", e.Details)
			}
			if strings.Contains(string(e.Details), "correct horse") {
				t.Errorf("a password in the trail: %s", e.Details)
			}
		}
		keysOnly, err := admin.Audit(ctx, url.Values{"action": {"key"}, "limit": {"2"}})
		if err != nil || len(keysOnly) != 2 || keysOnly[0].Action != "key.revoke" || keysOnly[1].Action != "key.rotate" {
			t.Errorf("action=key&limit=2: %+v, %v", keysOnly, err)
		}
		if later, err := admin.Audit(ctx, url.Values{"from": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}}); err != nil || len(later) != 0 {
			t.Errorf("from an hour ahead: %+v, %v", later, err)
		}
		// The other workspace's trail is its own.
		if other, err := client.New(s.url, adminToken, nil).WithWorkspace("b").Audit(ctx, nil); err != nil || len(other) != 0 {
			t.Errorf("b's trail: %+v, %v", other, err)
		}
		for _, q := range []string{"limit=0", "limit=x", "from=yesterday", "to=2026-13-01", "from=2026-02-01&to=2026-01-01", "actions=key"} {
			status, msg, _ := send(t, s, http.MethodGet, adminToken, "a", "/v1/audit?"+q, "")
			field, _, _ := strings.Cut(q, "=")
			if q == "from=2026-02-01&to=2026-01-01" {
				field = "to"
			}
			if status != http.StatusBadRequest || !strings.Contains(msg, field) {
				t.Errorf("?%s: %d %s, want 400 naming %s", q, status, msg, field)
			}
		}
	})
}

// TestRateLimit_PerKey: a key past its burst is answered 429 with
// Retry-After while another key of the same workspace and the admin token
// are served.
func TestRateLimit_PerKey(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		// One request a thousand seconds: the burst is all a key has in
		// this test.
		s := startWith(t, open, api.Options{AdminToken: adminToken, RateLimit: 0.001, RateBurst: 3})
		for i := range 3 {
			if status, msg, _ := send(t, s, http.MethodGet, s.keyA, "", "/v1/workspace", ""); status != http.StatusOK {
				t.Fatalf("request %d within the burst: %d %s", i+1, status, msg)
			}
		}
		req, _ := http.NewRequest(http.MethodGet, s.url+"/v1/workspace", nil)
		req.Header.Set("Authorization", "Bearer "+s.keyA)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != http.StatusTooManyRequests || err != nil || retry < 1 || retry > 1000 {
			t.Errorf("past the burst: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if status, msg, _ := send(t, s, http.MethodGet, s.keyB, "", "/v1/workspace", ""); status != http.StatusOK {
			t.Errorf("another key: %d %s", status, msg)
		}
		for range 5 {
			if status, msg, _ := send(t, s, http.MethodGet, adminToken, "a", "/v1/workspace", ""); status != http.StatusOK {
				t.Fatalf("the admin token: %d %s", status, msg)
			}
		}
	})
}
