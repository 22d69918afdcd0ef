package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/web"
)

func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestHandler_HashedAssets(t *testing.T) {
	h := web.Handler()
	res, index := get(t, h, "/")
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("GET / = %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	m := regexp.MustCompile(`src="(/static/[0-9a-f]{12})/js/main\.js"`).FindStringSubmatch(index)
	if m == nil {
		t.Fatalf("index.html names no hashed script:\n%s", index)
	}
	prefix := m[1]
	if !strings.Contains(index, `href="`+prefix+`/app.css"`) {
		t.Errorf("the stylesheet is not under %s", prefix)
	}

	tests := []struct {
		name, path string
		status     int
		cache      string
		body       string
	}{
		{"hashed script", prefix + "/js/main.js", 200, "public, max-age=31536000, immutable", "import"},
		{"hashed module", prefix + "/js/chart.js", 200, "public, max-age=31536000, immutable", "export function sparkline"},
		{"hashed style", prefix + "/app.css", 200, "public, max-age=31536000, immutable", ":root"},
		{"unhashed", "/static/app.css", 200, "no-cache", ":root"},
		{"stale hash", "/static/000000000000/app.css", 404, "", ""},
		{"missing", prefix + "/nothing.js", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, h, tt.path)
			if res.StatusCode != tt.status {
				t.Fatalf("GET %s = %d", tt.path, res.StatusCode)
			}
			cc := res.Header.Get("Cache-Control")
			if tt.status == http.StatusOK && cc != tt.cache {
				t.Errorf("Cache-Control = %q, want %q", cc, tt.cache)
			}
			if tt.status != http.StatusOK && strings.Contains(cc, "immutable") {
				t.Errorf("a missing file is kept: Cache-Control %q", cc)
			}
			if !strings.Contains(body, tt.body) {
				t.Errorf("body does not contain %q", tt.body)
			}
		})
	}
}
