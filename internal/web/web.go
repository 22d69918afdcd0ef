// Package web is omnikpi's dashboard: static pages embedded in the binary
// that read the /v1 API with the signed-in session.
//
// The page's scripts and styles are served under /static/<hash>/, where
// hash is a digest of every embedded file: a browser keeps them for a year,
// and a new binary with different files changes the address. index.html,
// which names the address, is never cached.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// Handler serves the dashboard: index.html at / and its assets under
// /static/<hash>/ (and, uncached, under /static/).
func Handler() http.Handler {
	root, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	hash := digest(root)
	prefix := "/static/" + hash
	index := renderIndex(root, prefix)
	files := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		switch {
		case r.URL.Path == "/":
			h.Set("Cache-Control", "no-cache")
			h.Set("Content-Type", "text/html; charset=utf-8")
			w.Write(index)
		case strings.HasPrefix(r.URL.Path, prefix+"/"):
			// Only a file that exists is kept: a missing one may come
			// with the next binary.
			if _, err := fs.Stat(root, strings.TrimPrefix(r.URL.Path, prefix+"/")); err == nil {
				h.Set("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				h.Set("Cache-Control", "no-cache")
			}
			http.StripPrefix(prefix, files).ServeHTTP(w, r)
		default:
			h.Set("Cache-Control", "no-cache")
			http.StripPrefix("/static", files).ServeHTTP(w, r)
		}
	})
}

// digest is a short SHA-256 over the names and contents of every file.
func digest(root fs.FS) string {
	sum := sha256.New()
	fs.WalkDir(root, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, path)
		if err != nil {
			return err
		}
		sum.Write([]byte(path))
		sum.Write([]byte{0})
		sum.Write(b)
		return nil
	})
	return hex.EncodeToString(sum.Sum(nil))[:12]
}

// renderIndex fills index.html's {{.Static}} with the hashed address.
func renderIndex(root fs.FS, static string) []byte {
	t := template.Must(template.ParseFS(root, "index.html"))
	var b bytes.Buffer
	if err := t.Execute(&b, struct{ Static string }{static}); err != nil {
		panic(err) // the template and its data are fixed at build time
	}
	return b.Bytes()
}

// TrackerScript is the site tracker's script (static/js/tracker.js), which
// the API serves at /t.js for shops to paste into their pages.
func TrackerScript() []byte {
	b, err := static.ReadFile("static/js/tracker.js")
	if err != nil {
		panic(err) // embedded at build time
	}
	return b
}
