package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/journal"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// BenchmarkPostEvents_SingleEvent: requests of one event each from 64
// clients, acknowledged once journaled (b.N requests).
func BenchmarkPostEvents_SingleEvent(b *testing.B) { benchmarkPostEvents(b, 1) }

// BenchmarkPostEvents_Batch100: requests of 100 events each from 64
// clients (b.N requests).
func BenchmarkPostEvents_Batch100(b *testing.B) { benchmarkPostEvents(b, 100) }

func benchmarkPostEvents(b *testing.B, batch int) {
	ctx := context.Background()
	s, err := duckdb.Open(ctx, filepath.Join(b.TempDir(), "bench.duckdb"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.PutWorkspace(ctx, store.NewWorkspace("a")); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ingester, err := journal.OpenIngester(b.TempDir(), s, log, journal.Options{}, journal.ApplyOptions{Interval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer ingester.Close(time.Minute)
	engine, _ := kpi.New(s)
	srv := httptest.NewServer(api.New(s, ingester, engine, log, api.Options{MaxInFlight: 256, Journal: ingester.Journal()}))
	defer srv.Close()
	plain, key := api.NewKey("a")
	if err := s.AddKey(ctx, key); err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				var body strings.Builder
				for j := range batch {
					fmt.Fprintf(&body, `{"id":"e%d-%d","ts":"2026-01-05T10:00:00Z","kind":"message_read","channel":"whatsapp","message":"m%d-%d"}`+"\n", i, j, i, j)
				}
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/events", strings.NewReader(body.String()))
				req.Header.Set("Authorization", "Bearer "+plain)
				resp, err := hc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
}
