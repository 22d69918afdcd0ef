package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/config"
	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
	"github.com/omnikpi/omnikpi/internal/store"
)

// TestWhatsApp_QuarantineUnmappedNumber: a webhook for a number no
// workspace maps is answered 200 and kept, whole, in the quarantine (once
// however often Meta re-sends it), listed for the admin token, and
// ingested once the number is mapped, each event counted once.
func TestWhatsApp_QuarantineUnmappedNumber(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := startWith(t, open, api.Options{AdminToken: adminToken, WhatsApp: config.WhatsApp{
			AppSecret: appSecret, PhoneNumbers: map[string]string{numberB: "b"}, // numberA is not mapped
		}})
		body := campaignDay(t)
		for try := 1; try <= 2; try++ {
			status, res := postWebhook(t, s, body, whatsapp.Sign(body, appSecret))
			if status != http.StatusOK || res.Accepted != 0 || res.Quarantined != 4 || len(res.Skipped) != 4 ||
				!strings.Contains(res.Skipped[0].Reason, "kept in quarantine") {
				t.Fatalf("try %d: status %d, %+v", try, status, res)
			}
		}
		if n := s.count(t, "1 = 1"); n != 0 {
			t.Fatalf("%d events stored for an unmapped number", n)
		}
		list := func() api.QuarantineList {
			t.Helper()
			status, _, b := send(t, s, http.MethodGet, adminToken, "", "/v1/quarantine", "")
			var l api.QuarantineList
			if status != http.StatusOK || json.Unmarshal(b, &l) != nil {
				t.Fatalf("GET /v1/quarantine: %d %s", status, b)
			}
			return l
		}
		l := list()
		if len(l.Parts) != 4 || l.Waiting != 4 {
			t.Fatalf("quarantine holds %d parts, %d waiting, want 4 and 4: %+v", len(l.Parts), l.Waiting, l)
		}
		for _, p := range l.Parts {
			if p.PhoneNumberID != numberA || p.Source != "whatsapp" || !strings.Contains(string(p.Part), numberA) || !p.Ingested.IsZero() {
				t.Errorf("part %+v", p)
			}
		}
		if status, _, _ := send(t, s, http.MethodGet, s.keyA, "", "/v1/quarantine", ""); status != http.StatusForbidden {
			t.Errorf("an API key: %d, want 403", status)
		}
		if status, _, _ := send(t, s, http.MethodGet, "", "", "/v1/quarantine", ""); status != http.StatusUnauthorized {
			t.Errorf("no token: %d, want 401", status)
		}

		// Nothing maps numberA yet: nothing is ingested.
		ingestWith := func(query, body string) api.QuarantineResult {
			t.Helper()
			status, _, b := send(t, s, http.MethodPost, adminToken, "", "/v1/quarantine/ingest"+query, body)
			var res api.QuarantineResult
			if status != http.StatusOK || json.Unmarshal(b, &res) != nil {
				t.Fatalf("POST /v1/quarantine/ingest %s: %d %s", body, status, b)
			}
			return res
		}
		if res := ingestWith("", ""); res != (api.QuarantineResult{Waiting: 4}) {
			t.Errorf("unmapped: %+v", res)
		}
		if status, _, _ := send(t, s, http.MethodPost, adminToken, "", "/v1/quarantine/ingest", `{"numbers":{}}`); status != http.StatusBadRequest {
			t.Errorf("an unknown field: %d, want 400", status)
		}
		// With wait=applied the answer comes once the events are in the store.
		if res := ingestWith("?wait=applied", `{"phone_numbers":{"`+numberA+`":"a"}}`); res != (api.QuarantineResult{Parts: 4, Events: 11}) {
			t.Errorf("mapped: %+v", res)
		}
		if n := s.count(t, "workspace = 'a'"); n != 11 {
			t.Fatalf("%d events of the quarantine in the store, want 11", n)
		}
		// Ingested once: again, and after Meta re-sends the webhook, nothing
		// more is ingested, and the figures are the webhook's.
		if res := ingestWith("", `{"phone_numbers":{"`+numberA+`":"a"}}`); res != (api.QuarantineResult{}) {
			t.Errorf("again: %+v", res)
		}
		postWebhook(t, s, body, whatsapp.Sign(body, appSecret))
		l = list()
		if len(l.Parts) != 4 || l.Waiting != 0 || l.Parts[0].Workspace != "a" || l.Parts[0].Ingested.IsZero() {
			t.Errorf("after ingestion: %+v", l)
		}
		want := map[string]float64{"messages_sent": 4, "messages_delivered": 3, "messages_read": 2, "messages_failed": 1, "messages_received": 2}
		got := figures(t, s, s.keyA, url.Values{"kpi": {strings.Join(keys(want), ",")}})[""]
		for id, v := range want {
			if got[id] != v {
				t.Errorf("%s = %v, want %v", id, got[id], v)
			}
		}
		if n := s.count(t, "customer = '6281234567001'"); n != 0 {
			t.Errorf("a phone number is stored in %d events", n)
		}
	})
}

// TestStartWhatsApp_IngestsMappedQuarantine: at serve's start the parts of
// numbers the configuration now maps are ingested; others keep waiting.
func TestStartWhatsApp_IngestsMappedQuarantine(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := startWith(t, open, api.Options{WhatsApp: config.WhatsApp{AppSecret: appSecret}})
		body := campaignDay(t)
		if status, res := postWebhook(t, s, body, whatsapp.Sign(body, appSecret)); status != http.StatusOK || res.Quarantined != 4 {
			t.Fatalf("status %d, %+v", status, res)
		}
		ctx := context.Background()
		var submitted int
		insert := func(ctx context.Context, events []event.Event) error {
			submitted += len(events)
			_, err := s.store.Insert(ctx, events)
			return err
		}
		if err := api.StartWhatsApp(ctx, s.store, config.WhatsApp{AppSecret: appSecret, PhoneNumbers: map[string]string{numberB: "b"}}, insert, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil || submitted != 0 {
			t.Fatalf("unmapped: %v, %d events", err, submitted)
		}
		var logs bytes.Buffer
		cfg := config.WhatsApp{AppSecret: appSecret, VerifyToken: "verify-me", PhoneNumbers: map[string]string{numberA: "a"}, BusinessAccounts: map[string]string{"102290129340398": "b"}}
		if err := api.StartWhatsApp(ctx, s.store, cfg, insert, slog.New(slog.NewTextHandler(&logs, nil))); err != nil || submitted != 11 {
			t.Fatalf("mapped: %v, %d events", err, submitted)
		}
		// The configuration is logged, without its secrets.
		for _, want := range []string{"phone_number_id=" + numberA + " workspace=a", "business_account=102290129340398 workspace=b", "parts=4 events=11 waiting=0"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("the log lacks %q:\n%s", want, logs.String())
			}
		}
		if strings.Contains(logs.String(), appSecret) || strings.Contains(logs.String(), "verify-me") {
			t.Errorf("the log shows a secret:\n%s", logs.String())
		}
		if n := s.count(t, "workspace = 'a'"); n != 11 {
			t.Errorf("%d events stored, want 11", n)
		}
		parts, err := s.store.(store.Quarantine).QuarantinedParts(ctx)
		if err != nil || len(parts) != 4 || parts[0].Workspace != "a" {
			t.Errorf("%+v, %v", parts, err)
		}
	})
}
