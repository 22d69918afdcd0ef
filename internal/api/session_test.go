package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/store"
)

// browser is an HTTP client with a cookie jar, as a browser signs in.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar}}
}

func (b *browser) do(method, path, body string, header map[string]string) (int, string, *http.Response) {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.base+path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out), resp
}

func (b *browser) signIn(body string) (int, api.SessionInfo, *http.Response) {
	b.t.Helper()
	status, out, resp := b.do(http.MethodPost, "/v1/session", body, nil)
	var info api.SessionInfo
	if status == http.StatusOK {
		if err := json.Unmarshal([]byte(out), &info); err != nil {
			b.t.Fatalf("%v in %s", err, out)
		}
	}
	return status, info, resp
}

func TestSession_KeySignInCookiesCSRFAndSignOut(t *testing.T) {
	s := start(t, duckdbStore, 0)
	b := newBrowser(t, s.url)

	if status, _, _ := b.do(http.MethodGet, "/v1/workspace", "", nil); status != http.StatusUnauthorized {
		t.Fatalf("before sign-in: %d, want 401", status)
	}
	if status, body, _ := b.do(http.MethodPost, "/v1/session", `{"key":"ok_wrong"}`, nil); status != http.StatusUnauthorized || !strings.Contains(body, `"field":"key"`) {
		t.Fatalf("wrong key: %d %s", status, body)
	}
	if status, body, _ := b.do(http.MethodPost, "/v1/session", `{"kee":"x"}`, nil); status != http.StatusBadRequest || !strings.Contains(body, "kee") {
		t.Fatalf("unknown field: %d %s", status, body)
	}

	status, info, resp := b.signIn(`{"key":"` + s.keyA + `"}`)
	if status != http.StatusOK || info.Workspace != "a" || info.CSRFToken == "" || info.TimeZone != "UTC" {
		t.Fatalf("sign-in: %d %+v", status, info)
	}
	cookies := map[string]*http.Cookie{}
	for _, c := range resp.Cookies() {
		cookies[c.Name] = c
	}
	sc, cc := cookies[api.SessionCookie], cookies[api.CSRFCookie]
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Secure {
		t.Fatalf("session cookie over plain HTTP: %+v", sc)
	}
	if cc == nil || cc.HttpOnly || cc.Value != info.CSRFToken {
		t.Fatalf("CSRF cookie must be readable and carry the token: %+v", cc)
	}

	// Reads with the cookie see the session's workspace only.
	if status, body, _ := b.do(http.MethodGet, "/v1/workspace", "", nil); status != 200 || !strings.Contains(body, `"name":"a"`) {
		t.Fatalf("workspace by cookie: %d %s", status, body)
	}
	if status, _, _ := b.do(http.MethodGet, "/v1/kpis?workspace=b", "", nil); status != http.StatusForbidden {
		t.Fatalf("other workspace by cookie: %d, want 403", status)
	}
	// A change needs the CSRF token; a wrong one is refused.
	rule := `{"kpi":"ctr","condition":"above","value":1,"window":"24h"}`
	for _, token := range []string{"", "forged"} {
		status, body, _ := b.do(http.MethodPut, "/v1/alerts/r1", rule, map[string]string{api.CSRFHeader: token})
		if status != http.StatusForbidden || !strings.Contains(body, `"code":"csrf"`) {
			t.Fatalf("change with CSRF token %q: %d %s", token, status, body)
		}
	}
	if status, body, _ := b.do(http.MethodPut, "/v1/alerts/r1", rule, map[string]string{api.CSRFHeader: info.CSRFToken}); status != 200 {
		t.Fatalf("change with the token: %d %s", status, body)
	}
	if status, _, _ := b.do(http.MethodDelete, "/v1/session", "", nil); status != http.StatusForbidden {
		t.Fatalf("sign-out without the token: %d, want 403", status)
	}
	if status, _, _ := b.do(http.MethodDelete, "/v1/session", "", map[string]string{api.CSRFHeader: info.CSRFToken}); status != http.StatusNoContent {
		t.Fatalf("sign-out: %d", status)
	}
	if status, _, _ := b.do(http.MethodGet, "/v1/session", "", nil); status != http.StatusUnauthorized {
		t.Fatalf("after sign-out: %d, want 401", status)
	}
	// The old cookie, replayed, no longer works.
	req, _ := http.NewRequest(http.MethodGet, s.url+"/v1/workspace", nil)
	req.AddCookie(sc)
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusUnauthorized {
		t.Fatalf("replayed cookie after sign-out: %d, want 401", r2.StatusCode)
	}
}

func TestSession_UserPassword(t *testing.T) {
	s := start(t, duckdbStore, 0)
	ctx := context.Background()
	ws, err := s.store.Workspace(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	hash, err := api.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	ws.PutUser(store.User{Name: "alice", PasswordHash: hash})
	if err := s.store.PutWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, s.url)
	for _, bad := range []string{
		`{"workspace":"b","user":"alice","password":"wrong horse"}`,
		`{"workspace":"b","user":"bob","password":"correct horse battery"}`,
		`{"workspace":"a","user":"alice","password":"correct horse battery"}`,
	} {
		if status, _, _ := b.signIn(bad); status != http.StatusUnauthorized {
			t.Fatalf("%s: %d, want 401", bad, status)
		}
	}
	status, info, _ := b.signIn(`{"workspace":"b","user":"alice","password":"correct horse battery"}`)
	if status != 200 || info.Workspace != "b" || info.User != "alice" {
		t.Fatalf("sign-in: %d %+v", status, info)
	}
	status, body, _ := b.do(http.MethodGet, "/v1/workspace", "", nil)
	if status != 200 || !strings.Contains(body, `"name":"alice"`) || strings.Contains(body, "pbkdf2") {
		t.Fatalf("the workspace lists its users without their hashes: %d %s", status, body)
	}
}

func TestPasswordHash(t *testing.T) {
	h1, err := api.HashPassword("s3cret-pass")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := api.HashPassword("s3cret-pass")
	if h1 == h2 || !strings.HasPrefix(h1, "pbkdf2-sha256$600000$") {
		t.Fatalf("salted hashes expected: %s %s", h1, h2)
	}
	if !api.CheckPassword(h1, "s3cret-pass") || api.CheckPassword(h1, "s3cret-pasS") || api.CheckPassword("garbage", "s3cret-pass") {
		t.Fatal("password check")
	}
	if _, err := api.HashPassword("short"); err == nil {
		t.Fatal("a short password must be refused")
	}
}

func TestSession_SecureCookiesOverTLS(t *testing.T) {
	s := start(t, duckdbStore, 0)
	srv := httptest.NewTLSServer(s.handler)
	defer srv.Close()
	b := newBrowser(t, srv.URL)
	b.c.Transport = srv.Client().Transport
	status, _, resp := b.signIn(`{"key":"` + s.keyA + `"}`)
	if status != 200 {
		t.Fatalf("sign-in over TLS: %d", status)
	}
	if len(resp.Cookies()) != 2 {
		t.Fatalf("cookies: %v", resp.Cookies())
	}
	for _, c := range resp.Cookies() {
		if !c.Secure {
			t.Errorf("cookie %s over TLS is not Secure", c.Name)
		}
	}
}

// TestSession_SeveralWorkspacesAndLanguage: a provider's staff signs in to
// a second workspace without leaving the first; each request names its
// workspace, one the session does not hold is refused, and the language a
// user chooses is kept with the user.
func TestSession_SeveralWorkspacesAndLanguage(t *testing.T) {
	s := start(t, duckdbStore, 0)
	ctx := context.Background()
	hash, err := api.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := s.store.Workspace(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	ws.PutUser(store.User{Name: "alice", PasswordHash: hash})
	ws.TimeZone = "Asia/Jakarta"
	if err := s.store.PutWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, s.url)
	status, first, _ := b.signIn(`{"key":"` + s.keyA + `"}`)
	if status != 200 || len(first.Workspaces) != 1 || first.Workspaces[0].Workspace != "a" {
		t.Fatalf("first sign-in: %d %+v", status, first)
	}
	// Adding a workspace needs the session's token: without it a sign-in
	// opens a session of its own, as another site's form would.
	body := `{"workspace":"b","user":"alice","password":"correct horse battery"}`
	other := newBrowser(t, s.url)
	other.signIn(`{"key":"` + s.keyA + `"}`)
	if status, alone, _ := other.signIn(body); status != 200 || len(alone.Workspaces) != 1 || alone.Workspace != "b" {
		t.Fatalf("second sign-in without the token: %d %+v", status, alone)
	}
	// A key's sign-in names no user, whatever the body says.
	if status, k, _ := newBrowser(t, s.url).signIn(`{"key":"` + s.keyB + `","user":"alice"}`); status != 200 || k.User != "" || k.Language != "" {
		t.Fatalf("a key's sign-in claiming a user: %d %+v", status, k)
	}
	status, out, _ := b.do(http.MethodPost, "/v1/session", body, map[string]string{api.CSRFHeader: first.CSRFToken})
	var both api.SessionInfo
	json.Unmarshal([]byte(out), &both)
	if status != 200 || both.Workspace != "b" || both.TimeZone != "Asia/Jakarta" || len(both.Workspaces) != 2 || both.CSRFToken != first.CSRFToken {
		t.Fatalf("second sign-in: %d %s", status, out)
	}
	tz := map[string]string{}
	for _, w := range both.Workspaces {
		tz[w.Workspace] = w.TimeZone
	}
	if tz["a"] != "UTC" || tz["b"] != "Asia/Jakarta" {
		t.Fatalf("the session's workspaces and their zones: %+v", both.Workspaces)
	}
	// Each request is for the workspace its header names; the session's
	// latest sign-in without one.
	for name, want := range map[string]string{"a": `"name":"a"`, "b": `"name":"b"`, "": `"name":"b"`} {
		h := map[string]string{}
		if name != "" {
			h[api.WorkspaceHeader] = name
		}
		if status, out, _ := b.do(http.MethodGet, "/v1/workspace", "", h); status != 200 || !strings.Contains(out, want) {
			t.Fatalf("workspace %q: %d %.200s", name, status, out)
		}
	}
	if status, out, _ := b.do(http.MethodGet, "/v1/kpis", "", map[string]string{api.WorkspaceHeader: "c"}); status != http.StatusForbidden || !strings.Contains(out, `"field":"`+api.WorkspaceHeader+`"`) {
		t.Fatalf("a workspace the session does not hold: %d %s", status, out)
	}
	// A link (a CSV download) names its workspace in workspace=.
	for name, want := range map[string]string{"a": `"name":"a"`, "b": `"name":"b"`} {
		if status, out, _ := b.do(http.MethodGet, "/v1/workspace?workspace="+name, "", nil); status != 200 || !strings.Contains(out, want) {
			t.Fatalf("workspace=%s: %d %.200s", name, status, out)
		}
	}
	if status, out, _ := b.do(http.MethodGet, "/v1/workspace?workspace=c", "", nil); status != http.StatusForbidden || !strings.Contains(out, `"field":"workspace"`) {
		t.Fatalf("workspace=c: %d %s", status, out)
	}
	// Alice chooses Bahasa Indonesia: kept with her in b, and the next
	// session of hers starts in it. An unknown language is named.
	csrf := map[string]string{api.CSRFHeader: first.CSRFToken, api.WorkspaceHeader: "b"}
	if status, out, _ := b.do(http.MethodPatch, "/v1/session", `{"language":"klingon"}`, csrf); status != 400 || !strings.Contains(out, `"field":"language"`) {
		t.Fatalf("unknown language: %d %s", status, out)
	}
	if status, out, _ := b.do(http.MethodPatch, "/v1/session", `{"language":"id"}`, nil); status != http.StatusForbidden {
		t.Fatalf("language without the token: %d %s", status, out)
	}
	if status, out, _ := b.do(http.MethodPatch, "/v1/session", `{"language":"id"}`, map[string]string{"Authorization": "Bearer " + s.keyB}); status != http.StatusBadRequest {
		t.Fatalf("language with a key beside the session: %d %s", status, out)
	}
	if status, out, _ := b.do(http.MethodPatch, "/v1/session", `{"language":"id"}`, csrf); status != 200 || !strings.Contains(out, `"language":"id"`) {
		t.Fatalf("choose a language: %d %s", status, out)
	}
	b2 := newBrowser(t, s.url)
	if status, again, _ := b2.signIn(body); status != 200 || again.Language != "id" {
		t.Fatalf("alice's next session: %d %+v", status, again)
	}
	// A key's session has no user to keep a language with.
	if status, out, _ := b.do(http.MethodGet, "/v1/session", "", map[string]string{api.WorkspaceHeader: "a"}); status != 200 || strings.Contains(out, `"language"`) {
		t.Fatalf("the key's session: %d %s", status, out)
	}
}

// TestCatalogue_InEveryLanguage: the catalogue answers in each language,
// names an unknown one, and translates the band texts answers carry.
func TestCatalogue_InEveryLanguage(t *testing.T) {
	s := start(t, duckdbStore, 0)
	var en struct {
		KPIs []struct{ ID, Name string } `json:"kpis"`
	}
	if status := getJSON(t, s, s.keyA, "/v1/catalogue", &en); status != 200 || len(en.KPIs) == 0 {
		t.Fatalf("catalogue: %d", status)
	}
	for _, lang := range []string{"id", "ms", "zh-HK"} {
		var c struct {
			Language string                      `json:"language"`
			KPIs     []struct{ ID, Name string } `json:"kpis"`
			Sources  map[string]string           `json:"band_sources"`
		}
		if status := getJSON(t, s, s.keyA, "/v1/catalogue?lang="+lang, &c); status != 200 || c.Language != lang || len(c.KPIs) != len(en.KPIs) {
			t.Fatalf("catalogue in %s: %d %s %d", lang, status, c.Language, len(c.KPIs))
		}
		same := 0
		for i, k := range c.KPIs {
			if k.ID != en.KPIs[i].ID {
				t.Fatalf("%s: KPI %d is %s, in English %s", lang, i, k.ID, en.KPIs[i].ID)
			}
			if k.Name == en.KPIs[i].Name {
				same++
			}
		}
		if same > len(c.KPIs)/4 {
			t.Errorf("%s: %d of %d KPI names are the English ones", lang, same, len(c.KPIs))
		}
		if src := c.Sources["Instagram 0.47 % per post"]; src == "" || src == "Instagram 0.47 % per post" {
			t.Errorf("%s: a platform's band text is not translated: %q", lang, src)
		}
	}
	if status, body := call(t, s, http.MethodGet, s.keyA, "/v1/catalogue?lang=fr", ""); status != 400 || !strings.Contains(string(body), `"field":"lang"`) {
		t.Fatalf("unknown language: %d %s", status, body)
	}
}
