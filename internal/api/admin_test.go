package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/store"
)

const adminToken = "okadmin_0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"

// send makes a request with a Bearer token and, when workspace is not
// empty, the workspace header; it returns the status and the error code of
// an error answer.
func send(t *testing.T, s *server, method, token, workspace, path, body string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if workspace != "" {
		req.Header.Set(api.WorkspaceHeader, workspace)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	json.Unmarshal(b, &e)
	return resp.StatusCode, e.Error.Code + ": " + e.Error.Message, b
}

// TestAdmin_TokenActsForTheNamedWorkspace: the admin token with the
// workspace header reads and writes that workspace on the ordinary routes;
// without the header it is refused there, saying why; an unknown
// workspace is a 404 naming it; a wrong token is a 401.
func TestAdmin_TokenActsForTheNamedWorkspace(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := startWith(t, open, api.Options{AdminToken: adminToken})

		status, _, b := send(t, s, http.MethodPost, adminToken, "a", "/v1/events", order("e1", "o1", "10"))
		if status != http.StatusOK && status != http.StatusAccepted {
			t.Fatalf("events with the admin token: %d %s", status, b)
		}
		status, _, b = send(t, s, http.MethodGet, adminToken, "a", "/v1/workspace", "")
		var ws store.Workspace
		if status != 200 || json.Unmarshal(b, &ws) != nil || ws.Name != "a" {
			t.Errorf("GET /v1/workspace as a: %d %s", status, b)
		}

		status, msg, _ := send(t, s, http.MethodGet, adminToken, "", "/v1/kpis", "")
		if status != http.StatusForbidden || !strings.Contains(msg, api.WorkspaceHeader) {
			t.Errorf("the admin token without the header on /v1/kpis: %d %q", status, msg)
		}
		status, msg, _ = send(t, s, http.MethodGet, adminToken, "nosuch", "/v1/kpis", "")
		if status != http.StatusNotFound || !strings.Contains(msg, "nosuch") {
			t.Errorf("an unknown workspace: %d %q", status, msg)
		}
		for _, path := range []string{"/v1/kpis", "/v1/keys", "/v1/workspaces"} {
			status, msg, _ = send(t, s, http.MethodGet, adminToken+"x", "a", path, "")
			if status != http.StatusUnauthorized {
				t.Errorf("a wrong token on %s: %d %q", path, status, msg)
			}
		}
		// An API key names no other workspace in the header, and has no
		// admin routes beyond its own workspace's (see scopes_test.go).
		if status, msg, _ = send(t, s, http.MethodGet, s.keyA, "b", "/v1/kpis", ""); status != http.StatusForbidden {
			t.Errorf("key of a naming b: %d %q", status, msg)
		}
		if status, msg, _ = send(t, s, http.MethodGet, s.keyA, "b", "/v1/keys", ""); status != http.StatusForbidden {
			t.Errorf("an API key of a on GET /v1/keys of b: %d %q", status, msg)
		}
		if status, msg, _ = send(t, s, http.MethodGet, s.keyA, "", "/v1/workspaces", ""); status != http.StatusForbidden || !strings.Contains(msg, "admin token") {
			t.Errorf("an API key on GET /v1/workspaces: %d %q", status, msg)
		}
		if status, msg, _ = send(t, s, http.MethodGet, "", "a", "/v1/keys", ""); status != http.StatusUnauthorized {
			t.Errorf("no token on GET /v1/keys: %d %q", status, msg)
		}
		// Without the header the admin token is good for the workspace list.
		names, err := client.New(s.url, adminToken, nil).Workspaces(context.Background())
		if err != nil || strings.Join(names, ",") != "a,b" {
			t.Errorf("workspaces = %v, %v", names, err)
		}
		if status, msg, _ = send(t, s, http.MethodGet, adminToken, "", "/v1/keys", ""); status != http.StatusForbidden || !strings.Contains(msg, api.WorkspaceHeader) {
			t.Errorf("GET /v1/keys without the header: %d %q", status, msg)
		}
	})
}

// TestAdmin_NoTokenNoAdmin: a server started without an admin token
// takes no token as one, not even an empty one.
func TestAdmin_NoTokenNoAdmin(t *testing.T) {
	s := start(t, duckdbStore, 0)
	for _, token := range []string{"", " ", adminToken} {
		if status, msg, _ := send(t, s, http.MethodGet, token, "a", "/v1/keys", ""); status != http.StatusUnauthorized {
			t.Errorf("token %q: %d %q", token, status, msg)
		}
	}
}

// TestAdmin_KeysCreateListRevoke: a key made through the API works at
// once, is listed by its prefix, and once revoked is refused at once,
// though the server had just cached it.
func TestAdmin_KeysCreateListRevoke(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := startWith(t, open, api.Options{AdminToken: adminToken})
		ctx := context.Background()
		admin := client.New(s.url, adminToken, nil).WithWorkspace("new")

		k, err := admin.CreateKey(ctx)
		if err != nil || !strings.HasPrefix(k.Key, api.KeyPrefix) || k.Prefix != k.Key[:10] || k.Workspace != "new" {
			t.Fatalf("create key: %+v, %v", k, err)
		}
		keys, err := admin.Keys(ctx)
		if err != nil || len(keys) != 1 || keys[0].Prefix != k.Prefix || keys[0].Key != "" {
			t.Fatalf("keys = %+v, %v", keys, err)
		}
		user := client.New(s.url, k.Key, nil)
		ws, err := user.Workspace(ctx)
		if err != nil || ws.Name != "new" {
			t.Fatalf("the new key: %+v, %v", ws, err)
		}

		if err := admin.RevokeKey(ctx, k.Prefix+"…"); err != nil {
			t.Fatal(err)
		}
		var apiErr *client.APIError
		if _, err := user.Workspace(ctx); !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
			t.Errorf("the revoked key right after: %v", err)
		}
		if keys, err := admin.Keys(ctx); err != nil || len(keys) != 0 {
			t.Errorf("keys after revoking = %+v, %v", keys, err)
		}
		if err := admin.RevokeKey(ctx, k.Prefix); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound || !strings.Contains(apiErr.Message, k.Prefix) {
			t.Errorf("revoking it again: %v", err)
		}
		// Revoking by the whole key works too, and keys of other
		// workspaces are not this workspace's to revoke.
		if err := admin.RevokeKey(ctx, s.keyA); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
			t.Errorf("revoking a key of workspace a as new: %v", err)
		}
		if err := admin.WithWorkspace("a").RevokeKey(ctx, s.keyA); err != nil {
			t.Errorf("revoking by the whole key: %v", err)
		}
		if status, _, _ := send(t, s, http.MethodGet, s.keyA, "", "/v1/kpis", ""); status != http.StatusUnauthorized {
			t.Errorf("key of a after revoking: %d", status)
		}
	})
}

// TestAdmin_WorkspaceAndUsers: PATCH /v1/workspace changes settings as the
// workspace command does and refuses a bad change naming the field; users
// are added, listed without their password hashes, and removed.
func TestAdmin_WorkspaceAndUsers(t *testing.T) {
	s := startWith(t, duckdbStore, api.Options{AdminToken: adminToken})
	ctx := context.Background()
	admin := client.New(s.url, adminToken, nil).WithWorkspace("a")

	keep := true
	ws, err := admin.ChangeWorkspace(ctx, client.WorkspaceChange{TimeZone: "Europe/Berlin", KeepPhoneNumbers: &keep,
		BusinessHours: map[string][]string{"mon": {"09:00-17:00"}}, Holidays: []string{"2026-12-25"}})
	if err != nil || ws.TimeZone != "Europe/Berlin" || !ws.KeepPhoneNumbers || ws.BusinessHours == nil || ws.BusinessHours.Holidays[0] != "2026-12-25" {
		t.Fatalf("change: %+v, %v", ws, err)
	}
	got, err := client.New(s.url, s.keyA, nil).Workspace(ctx)
	if err != nil || got.TimeZone != "Europe/Berlin" {
		t.Errorf("GET /v1/workspace after the change: %+v, %v", got, err)
	}
	// Receipt settings merge by channel; null restores a channel's default.
	ws, err = admin.ChangeWorkspace(ctx, client.WorkspaceChange{Receipts: map[string]*client.Receipts{"web": {Read: true}, "email": {Delivered: true}}})
	if err != nil || receiptsOf(ws, "web") != (store.Receipts{Read: true}) || receiptsOf(ws, "email") != (store.Receipts{Delivered: true}) {
		t.Fatalf("receipts: %+v, %v", ws.Receipts, err)
	}
	ws, err = admin.ChangeWorkspace(ctx, client.WorkspaceChange{Receipts: map[string]*client.Receipts{"email": nil}})
	if err != nil || receiptsOf(ws, "web") != (store.Receipts{Read: true}) || receiptsOf(ws, "email") != (store.Receipts{Delivered: true, Read: true}) {
		t.Fatalf("receipts after restoring e-mail's default: %+v, %v", ws.Receipts, err)
	}
	var apiErr *client.APIError
	for change, field := range map[string]string{`{"time_zone":"Mars/Olympus"}`: "time_zone", `{"holidays":["2026-01-01"],"remove_business_hours":true}`: "holidays",
		`{"business_hours":{"mon":["18:00-09:00"]}}`: "business_hours", `{"session_gap":"-1h"}`: "session_gap",
		`{"receipts":{"Web":{"read":true}}}`: "receipts"} {
		status, _, b := send(t, s, http.MethodPatch, adminToken, "a", "/v1/workspace", change)
		if status != http.StatusBadRequest || !strings.Contains(string(b), `"field":"`+field+`"`) {
			t.Errorf("%s: %d %s", change, status, b)
		}
	}
	if status, _, b := send(t, s, http.MethodPatch, adminToken, "a", "/v1/workspace", `{"zone":"UTC"}`); status != http.StatusBadRequest {
		t.Errorf("an unknown field: %d %s", status, b)
	}
	// PATCH creates a new workspace, as the workspace command does.
	if ws, err := admin.WithWorkspace("fresh").ChangeWorkspace(ctx, client.WorkspaceChange{}); err != nil || ws.Name != "fresh" || ws.TimeZone != "UTC" {
		t.Errorf("a new workspace: %+v, %v", ws, err)
	}

	if err := admin.PutUser(ctx, "alice", "correct horse"); err != nil {
		t.Fatal(err)
	}
	users, err := admin.Users(ctx)
	if err != nil || len(users) != 1 || users[0].Name != "alice" || users[0].PasswordHash != "" {
		t.Errorf("users = %+v, %v", users, err)
	}
	stored, _ := s.store.Workspace(ctx, "a")
	if u, ok := stored.User("alice"); !ok || !api.CheckPassword(u.PasswordHash, "correct horse") {
		t.Errorf("stored user %+v", u)
	}
	if err := admin.PutUser(ctx, "bob", ""); !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest || apiErr.Field != "password" {
		t.Errorf("no password: %v", err)
	}
	if err := admin.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := admin.DeleteUser(ctx, "alice"); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound || !strings.Contains(apiErr.Message, "alice") {
		t.Errorf("removing her again: %v", err)
	}
}

// receiptsOf says which statuses channel reports in the workspace as the
// server answered it, the server's defaults included.
func receiptsOf(ws *client.Workspace, channel string) store.Receipts {
	stored := store.Workspace{Receipts: map[string]store.Receipts{}}
	for ch, r := range ws.Receipts {
		stored.Receipts[ch] = store.Receipts(r)
	}
	return stored.ReceiptsOf(channel)
}
