package api_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/omnikpi/omnikpi/client"
)

// TestGetKPIs_CustomerFilterOnPhoneNumber: a customer stored as a hashed
// phone number is found by filtering on the number as the sender wrote it,
// in any of its spellings; a workspace that keeps numbers is filtered on
// them as they are.
func TestGetKPIs_CustomerFilterOnPhoneNumber(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		ctx := context.Background()
		body := `{"id":"s1","ts":"2026-01-05T10:00:00Z","kind":"message_sent","channel":"whatsapp","message":"wamid.1","actor":"campaign","campaign":"c","customer":"+62 812-3456-7001"}
{"id":"s2","ts":"2026-01-05T10:00:00Z","kind":"message_sent","channel":"whatsapp","message":"wamid.2","actor":"campaign","campaign":"c","customer":"+6281234567002"}
{"id":"s3","ts":"2026-01-05T10:00:00Z","kind":"message_sent","channel":"whatsapp","message":"wamid.3","actor":"campaign","campaign":"c","customer":"alice"}`
		ws, err := s.store.Workspace(ctx, "b")
		if err != nil {
			t.Fatal(err)
		}
		ws.KeepPhoneNumbers = true
		if err := s.store.PutWorkspace(ctx, ws); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{s.keyA, s.keyB} {
			if _, status, err := applied(s.url, key).SendEvents(ctx, []byte(body), "application/x-ndjson"); err != nil || status != 200 {
				t.Fatalf("status %d, err %v", status, err)
			}
		}
		sent := func(key, customer string) float64 {
			t.Helper()
			rep, err := client.New(s.url, key, nil).KPIs(ctx, url.Values{"from": {"2026-01-01"}, "to": {"2026-02-01"},
				"kpi": {"messages_sent"}, "customer": {customer}})
			if err != nil {
				t.Fatalf("customer=%s: %v", customer, err)
			}
			if len(rep.Rows) == 0 {
				return 0
			}
			v := rep.Rows[0].KPIs[0].Value
			if v == nil {
				return 0
			}
			return *v
		}
		for customer, want := range map[string]float64{
			"+6281234567001":                1,
			"6281234567001":                 1,
			"+62 812 3456 7001":             1,
			"+6281234567001,+6281234567002": 2,
			"alice":                         1,
			"alice,+6281234567002":          2,
			"+6281234567009":                0,
		} {
			if got := sent(s.keyA, customer); got != want {
				t.Errorf("workspace a, customer=%s: %v messages sent, want %v", customer, got, want)
			}
		}
		// Workspace b keeps numbers: they are stored, and matched, as sent.
		for customer, want := range map[string]float64{"+62 812-3456-7001": 1, "+6281234567002": 1, "+6281234567001": 0, "alice": 1} {
			if got := sent(s.keyB, customer); got != want {
				t.Errorf("workspace b, customer=%s: %v messages sent, want %v", customer, got, want)
			}
		}
	})
}
