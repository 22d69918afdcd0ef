package api_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/api"
)

// TestForget_ThroughTheAPI: DELETE /v1/customers/{id} erases a customer
// named by phone number; her late events are
// answered as forgotten, while the events still in the journal when she
// was erased do not bring her back.
func TestForget_ThroughTheAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) { forgetThroughTheAPI(t, open) })
}

func forgetThroughTheAPI(t *testing.T, open opener) {
	s := startWith(t, open, api.Options{AdminToken: adminToken})
	ctx := context.Background()
	c := applied(s.url, s.keyA)
	body := `{"id":"s1","ts":"2026-01-10T12:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m1","customer":"+62 812 3456 7890"}
{"id":"r1","ts":"2026-01-10T12:01:00Z","kind":"message_read","channel":"whatsapp","message":"m1"}
{"id":"s2","ts":"2026-01-10T12:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m2","customer":"bob"}`
	if _, status, err := c.PostEvents(ctx, []byte(body), "application/x-ndjson"); err != nil || status != http.StatusOK {
		t.Fatalf("%d %v", status, err)
	}
	var apiErr *client.APIError
	// Queued in the journal, not yet waited for: the erasure waits for it.
	if _, status, err := client.New(s.url, s.keyA, nil).PostEvents(ctx, []byte(`{"id":"d1","ts":"2026-01-10T12:02:00Z","kind":"message_delivered","channel":"whatsapp","message":"m1"}`), "application/json"); err != nil || status != http.StatusOK {
		t.Fatalf("%d %v", status, err)
	}
	admin := client.New(s.url, adminToken, nil).WithWorkspace("a")
	er, err := admin.ForgetCustomer(ctx, "+6281234567890")
	if err != nil {
		t.Fatal(err)
	}
	if er.Events != 3 || er.Messages != 1 {
		t.Errorf("erasure %+v, want 3 events and 1 message", er)
	}
	if n := s.count(t, "workspace = 'a'"); n != 1 {
		t.Errorf("%d events left, want bob's 1", n)
	}
	res, _, err := c.PostEvents(ctx, []byte(`{"id":"late","ts":"2026-01-11T12:00:00Z","kind":"message_received","channel":"whatsapp","message":"m9","customer":"+6281234567890","text":"hi"}
{"id":"s3","ts":"2026-01-11T12:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m3","customer":"bob"}`), "application/x-ndjson")
	if err != nil {
		t.Fatal(err)
	}
	if res.Forgotten != 1 || res.Accepted != 1 || res.Results[0].Status != "forgotten" {
		t.Errorf("late events answered %+v, want one forgotten and bob's accepted", res)
	}
	if n := s.count(t, "workspace = 'a'"); n != 2 {
		t.Errorf("%d events stored, want bob's 2", n)
	}
	if _, err := admin.ForgetWorkspace(ctx, "b"); !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
		t.Errorf("a workspace erased without its name as confirmation: %v", err)
	}
}
