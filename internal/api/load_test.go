package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/storetest"
)

// slowStore holds every insert until release is closed, as a store at its
// limit would, and says on entered when an insert arrives.
type slowStore struct {
	storetest.Store
	entered chan struct{}
	release chan struct{}
}

func (s slowStore) Insert(ctx context.Context, events []event.Event) ([]store.Outcome, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.Store.Insert(ctx, events)
}

// TestPostEvents_ShedsLoad: with the one ingestion slot taken by a request
// waiting on the store, the next request is answered 503 with Retry-After
// at once; once the store moves, the held request is acknowledged.
func TestPostEvents_ShedsLoad(t *testing.T) {
	base := duckdbOnly(t)
	s := slowStore{Store: base, entered: make(chan struct{}, 1), release: make(chan struct{})}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	committer := ingest.NewCommitter(s, log, ingest.CommitterOptions{})
	defer committer.Close()
	engine, _ := kpi.New(s)
	srv := httptest.NewServer(api.New(s, committer, engine, log, api.Options{MaxInFlight: 1}))
	defer srv.Close()
	plain, key := api.NewKey("a")
	if err := base.AddKey(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	post := func(id string) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/events", strings.NewReader(order(id, id, "1")))
		req.Header.Set("Authorization", "Bearer "+plain)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}
	held := make(chan int, 1)
	go func() {
		resp, err := post("held")
		if err != nil {
			held <- 0
			return
		}
		held <- resp.StatusCode
	}()
	<-s.entered // the held request has its slot and waits on the store
	shed, err := post("extra")
	if err != nil || shed.StatusCode != http.StatusServiceUnavailable || shed.Header.Get("Retry-After") != "1" {
		t.Fatalf("a request beyond the limit: %v %+v", err, shed)
	}
	close(s.release)
	if status := <-held; status != http.StatusOK {
		t.Errorf("the held request answered %d, want 200 once the store moved", status)
	}
	if resp, err := post("after"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("after the load: %v %+v", err, resp)
	}
}
