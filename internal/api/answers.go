package api

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// answerTTL bounds how long a view's answer is reused. Within it an answer
// is dropped as soon as this server applies new events or takes a change
// (the key holds both); the bound covers what the server cannot see: the
// clock moving a default period on, and other writers of a shared
// ClickHouse store.
const answerTTL = time.Minute

// Bounds of the answer cache: answers are small JSON or CSV, and a
// dashboard session asks a few dozen.
const (
	maxAnswers      = 512
	maxAnswerBytes  = 2 << 20
	maxAnswersBytes = 64 << 20
)

// answer is a view's answer as sent.
type answer struct {
	body        []byte
	contentType string
	disposition string
	made        time.Time
}

// answerCache keeps the views' answers per workspace, route and query
// until the data they read changes. Entries go oldest first when the
// cache is full.
type answerCache struct {
	mu      sync.Mutex
	entries map[string]*answer
	order   []string // keys, oldest first
	bytes   int
	now     func() time.Time
	// changes counts the changes this server took (every successful
	// request that is not a read): settings, alert rules, erasures, events.
	changes atomic.Uint64
	// outside counts the changes made beside the requests, such as a
	// scheduled retention run.
	outside *Changes
}

// Changes counts the changes to a store made beside the API's requests
// (a scheduled retention run deleting old events), so that the API's
// answer cache serves nothing computed before them.
type Changes struct{ n atomic.Uint64 }

// Note records a change.
func (c *Changes) Note() { c.n.Add(1) }

func (c *Changes) count() uint64 {
	if c == nil {
		return 0
	}
	return c.n.Load()
}

func newAnswerCache() *answerCache {
	return &answerCache{entries: map[string]*answer{}, now: time.Now}
}

// key names an answer: the workspace, the route, the query with its
// parameters in order, and the state of the data (version).
func (c *answerCache) key(workspace, path, query string, version uint64) string {
	return workspace + "\x00" + path + "\x00" + query + "\x00" + strconv.FormatUint(version, 10) + "." + strconv.FormatUint(c.changes.Load(), 10) +
		"." + strconv.FormatUint(c.outside.count(), 10)
}

func (c *answerCache) get(key string) (*answer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.entries[key]
	if !ok || c.now().Sub(a.made) > answerTTL {
		return nil, false
	}
	return a, true
}

// touch starts the answer under key afresh, as if made now, and tells
// whether there is one: for an answer known to be still exact.
func (c *answerCache) touch(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.entries[key]
	if ok {
		a.made = c.now()
	}
	return ok
}

func (c *answerCache) put(key string, a *answer) {
	if len(a.body) > maxAnswerBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[key]; ok {
		c.bytes -= len(old.body)
	} else {
		c.order = append(c.order, key)
	}
	c.entries[key] = a
	c.bytes += len(a.body)
	for len(c.order) > 0 && (len(c.entries) > maxAnswers || c.bytes > maxAnswersBytes) {
		oldest := c.order[0]
		c.order = c.order[1:]
		if e, ok := c.entries[oldest]; ok {
			c.bytes -= len(e.body)
			delete(c.entries, oldest)
		}
	}
}

// noteChanges counts each successful request that may change data, so
// that no answer computed before it is served after it.
func (c *answerCache) noteChanges(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Signing in and out change no figure.
		signing := r.URL.Path == "/v1/session" && (r.Method == http.MethodPost || r.Method == http.MethodDelete)
		if r.Method == http.MethodGet || r.Method == http.MethodHead || signing {
			next.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status < 400 {
			c.changes.Add(1)
		}
	})
}

// gzipped compresses next's answers for clients that accept gzip: the
// dashboard's reports and scripts shrink several times.
func gzipped(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !acceptsGzip(r) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Accept-Encoding")
		gw := &gzipWriter{ResponseWriter: w}
		defer gw.Close()
		next.ServeHTTP(gw, r)
	})
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// gzipWriter compresses what is written once the status is set, unless
// the answer has no body or is compressed already.
type gzipWriter struct {
	http.ResponseWriter
	gz      *gzip.Writer
	decided bool
}

func (g *gzipWriter) WriteHeader(code int) {
	if !g.decided {
		g.decided = true
		h := g.Header()
		if code != http.StatusNoContent && code != http.StatusNotModified && h.Get("Content-Encoding") == "" {
			h.Set("Content-Encoding", "gzip")
			h.Del("Content-Length")
			g.gz = gzipPool.Get().(*gzip.Writer)
			g.gz.Reset(g.ResponseWriter)
		}
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if !g.decided {
		g.WriteHeader(http.StatusOK)
	}
	if g.gz == nil {
		return g.ResponseWriter.Write(b)
	}
	return g.gz.Write(b)
}

// Close ends the compressed stream.
func (g *gzipWriter) Close() {
	if g.gz != nil {
		g.gz.Close()
		gzipPool.Put(g.gz)
		g.gz = nil
	}
}

var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression); return w }}

// bufferedAnswer captures a view's answer to keep it.
type bufferedAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedAnswer) Header() http.Header { return b.header }
func (b *bufferedAnswer) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedAnswer) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
