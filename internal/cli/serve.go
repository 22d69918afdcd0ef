package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "[--db F] [--addr HOST:PORT]")
	db := fs.String("db", DefaultDB, dbUsage)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	maxBody := fs.Int64("max-body", api.DefaultMaxBodyBytes, "largest accepted request body, in bytes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	return serveHTTP(ctx, e, s, *addr, *maxBody, func(base string) {
		fmt.Fprintf(e.stdout, "omnikpi serving %s on %s\n", clickhouse.Redacted(*db), base)
	})
}

// serveHTTP serves the API on addr until ctx ends, then shuts down in
// order: stop taking requests, finish the writes in flight, close the store
// (by the caller). ready is called with the base URL once listening.
func serveHTTP(ctx context.Context, e *env, s store.Store, addr string, maxBody int64, ready func(baseURL string)) error {
	engine, err := kpi.New(s)
	if err != nil {
		return err
	}
	committer := ingest.NewCommitter(s, e.log, ingest.CommitterOptions{})
	defer committer.Close()
	srv := &http.Server{
		Handler:           api.New(s, committer, engine, e.log, api.Options{MaxBodyBytes: maxBody}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ready("http://" + ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
