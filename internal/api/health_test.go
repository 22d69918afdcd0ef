package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/alerts"
	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/config"
	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
)

// healthAccount is the WhatsApp Business Account whose health webhooks go
// to workspace a.
const healthAccount = "310000000000009"

// healthWebhook is a signed-to-be body of one account-health change at
// time at, as Meta's webhook reference writes them.
func healthWebhook(at time.Time, field, value string) []byte {
	return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":%q,"time":%d,"changes":[{"value":%s,"field":%q}]}]}`,
		healthAccount, at.Unix(), value, field))
}

// noticeHook is a web hook that keeps the notices it is sent.
type noticeHook struct {
	mu      sync.Mutex
	notices []alerts.Notice
}

func (h *noticeHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var n alerts.Notice
	b, _ := io.ReadAll(r.Body)
	json.Unmarshal(b, &n)
	h.mu.Lock()
	h.notices = append(h.notices, n)
	h.mu.Unlock()
}

func (h *noticeHook) got() []alerts.Notice {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]alerts.Notice(nil), h.notices...)
}

// TestHealth_QualityDropFiresAnAlert: a workspace switches the built-in
// quality-drop rule on by its id alone; a signed webhook of a template
// whose quality improved fires nothing; Meta flags the number, and sends
// the webhook twice: the rule fires once, with one drop, stays quiet while
// it fires, and resolves once the drop has left the rule's day. The
// account-health view shows the number flagged.
func TestHealth_QualityDropFiresAnAlert(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := startWith(t, open, api.Options{WhatsApp: config.WhatsApp{AppSecret: appSecret, VerifyToken: "verify-me",
			BusinessAccounts: map[string]string{healthAccount: "a"}}})
		hook := &noticeHook{}
		hookSrv := httptest.NewServer(hook)
		defer hookSrv.Close()

		status, b := call(t, s, http.MethodPut, s.keyA, "/v1/alerts/quality-drop", `{"webhook":"`+hookSrv.URL+`"}`)
		var rule store.AlertRule
		if err := json.Unmarshal(b, &rule); status != http.StatusOK || err != nil || rule.KPI != "quality_drops" ||
			rule.Condition != "above" || rule.Value != 0 || time.Duration(rule.Window) != 24*time.Hour {
			t.Fatalf("switching the built-in on: %d %s", status, b)
		}

		engine, err := kpi.New(s.store)
		if err != nil {
			t.Fatal(err)
		}
		ev := &alerts.Evaluator{Store: s.store, Engine: engine, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Backoff: time.Millisecond}
		post := func(body []byte) {
			t.Helper()
			for range 2 { // Meta re-sends a webhook it got no answer for in time
				if status, res := postWebhook(t, s, body, whatsapp.Sign(body, appSecret)); status != http.StatusOK || len(res.Skipped) > 0 {
					t.Fatalf("webhook: %d %+v", status, res)
				}
			}
		}

		t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		post(healthWebhook(t0, "message_template_quality_update", `{"previous_quality_score":"YELLOW","new_quality_score":"GREEN",
			"message_template_id":806312974732579,"message_template_name":"welcome_template","message_template_language":"en_US"}`))
		if err := ev.EvaluateOnce(ctx, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if n := hook.got(); len(n) != 0 {
			t.Fatalf("a quality that improved fired %+v", n)
		}

		t1 := t0.Add(6 * time.Hour)
		post(healthWebhook(t1, "phone_number_quality_update", `{"display_phone_number":"6221500100","event":"FLAGGED","current_limit":"TIER_10K"}`))
		for _, at := range []time.Time{t1.Add(time.Minute), t1.Add(2 * time.Hour)} {
			if err := ev.EvaluateOnce(ctx, at); err != nil {
				t.Fatal(err)
			}
		}
		n := hook.got()
		if len(n) != 1 || n[0].Status != "firing" || n[0].Rule != "quality-drop" || n[0].KPI != "quality_drops" ||
			n[0].Value == nil || *n[0].Value != 1 || n[0].Workspace != "a" {
			t.Fatalf("notices after the flag %+v", n)
		}
		if err := ev.EvaluateOnce(ctx, t1.Add(25*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if n = hook.got(); len(n) != 2 || n[1].Status != "resolved" {
			t.Fatalf("notices a day later %+v", n)
		}

		status, b = call(t, s, http.MethodGet, s.keyA, "/v1/whatsapp/health?from=2026-03-01&to=2026-04-01", "")
		var rep kpi.HealthReport
		if err := json.Unmarshal(b, &rep); status != http.StatusOK || err != nil {
			t.Fatalf("health: %d %s", status, b)
		}
		if len(rep.PhoneNumbers) != 1 || deref(rep.PhoneNumbers[0].Quality) != "FLAGGED" || deref(rep.PhoneNumbers[0].MessagingLimit) != "TIER_10K" ||
			len(rep.Templates) != 1 || deref(rep.Templates[0].Quality) != "GREEN" || len(rep.Changes) != 2 || deref(rep.Changes[0].Signal) != "quality_drop" {
			t.Fatalf("health %s", b)
		}
	})
}
