package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// receiver is a web hook on loopback that fails its first failures
// requests and keeps the notices it accepts.
type receiver struct {
	mu       sync.Mutex
	failures int
	attempts int
	notices  []Notice
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.attempts++
	if rc.failures > 0 {
		rc.failures--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	var n Notice
	b, _ := io.ReadAll(r.Body)
	json.Unmarshal(b, &n)
	rc.notices = append(rc.notices, n)
}

func (rc *receiver) state() (int, []Notice) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.attempts, append([]Notice(nil), rc.notices...)
}

// TestEvaluator_FiresOnceRetriesAndResolves: three failed deliveries at
// 10:00 put messages_failed above 2 for a 24 h window. The rule fires at
// 11:00 (the hook fails twice, then accepts), stays quiet at 12:00 while
// still firing, and resolves the next day, once the failures left the
// window.
func TestEvaluator_FiresOnceRetriesAndResolves(t *testing.T) {
	ctx := context.Background()
	s, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "alerts.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var events []event.Event
	for i := range 3 {
		e, err := event.ParseJSON([]byte(fmt.Sprintf(`{"id":"f%d","ts":"2026-01-05T10:00:00Z","kind":"message_failed","channel":"whatsapp","message":"m%d","props":{"error_code":"131026"}}`, i, i)))
		if err != nil {
			t.Fatal(err)
		}
		e.Workspace = "shop"
		events = append(events, e)
	}
	if _, err := s.Insert(ctx, events); err != nil {
		t.Fatal(err)
	}
	hook := &receiver{failures: 2}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	ws := store.NewWorkspace("shop")
	ws.Alerts = []store.AlertRule{{ID: "failed", Name: "Failed deliveries", KPI: "messages_failed", Condition: "above", Value: 2,
		Window: store.Duration(24 * time.Hour), Webhook: srv.URL}}
	if err := s.PutWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	engine, err := kpi.New(s)
	if err != nil {
		t.Fatal(err)
	}
	ev := &Evaluator{Store: s, Engine: engine, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Backoff: time.Millisecond, Retries: 3}
	at := func(clock string) time.Time {
		tm, _ := time.Parse(time.RFC3339, clock)
		return tm
	}

	if err := ev.EvaluateOnce(ctx, at("2026-01-05T11:00:00Z")); err != nil {
		t.Fatal(err)
	}
	attempts, notices := hook.state()
	if attempts != 3 || len(notices) != 1 || notices[0].Status != "firing" || *notices[0].Value != 3 || notices[0].Workspace != "shop" {
		t.Fatalf("firing: %d attempts, notices %+v", attempts, notices)
	}
	stored, _ := s.Workspace(ctx, "shop")
	if f := stored.Alerts[0].Firing; f == nil || !f.Notified || len(stored.AlertHistory) != 1 {
		t.Fatalf("state after firing: %+v, history %+v", f, stored.AlertHistory)
	}

	if err := ev.EvaluateOnce(ctx, at("2026-01-05T12:00:00Z")); err != nil {
		t.Fatal(err)
	}
	if attempts, notices = hook.state(); attempts != 3 || len(notices) != 1 {
		t.Fatalf("still firing: a notice was sent again (%d attempts)", attempts)
	}

	if err := ev.EvaluateOnce(ctx, at("2026-01-06T11:00:00Z")); err != nil {
		t.Fatal(err)
	}
	attempts, notices = hook.state()
	if len(notices) != 2 || notices[1].Status != "resolved" || notices[1].Resolved.IsZero() {
		t.Fatalf("resolved: notices %+v", notices)
	}
	stored, _ = s.Workspace(ctx, "shop")
	if stored.Alerts[0].Firing != nil || len(stored.AlertHistory) != 1 || stored.AlertHistory[0].Resolved.IsZero() || !stored.AlertHistory[0].Cleared {
		t.Fatalf("state after resolving: %+v %+v", stored.Alerts[0].Firing, stored.AlertHistory)
	}
	if err := ev.EvaluateOnce(ctx, at("2026-01-06T12:00:00Z")); err != nil {
		t.Fatal(err)
	}
	if a, _ := hook.state(); a != attempts {
		t.Errorf("quiet rule sent something: %d attempts, was %d", a, attempts)
	}
}

// emptyShop is a workspace without events whose one rule, posting to
// hook, fires at once (messages sent 0, below 1); muted as asked. The
// evaluator tries each delivery twice.
func emptyShop(t *testing.T, hook *receiver, muted bool) (store.Store, *Evaluator) {
	t.Helper()
	ctx := context.Background()
	s, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "alerts.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv := httptest.NewServer(hook)
	t.Cleanup(srv.Close)
	ws := store.NewWorkspace("shop")
	ws.Alerts = []store.AlertRule{{ID: "quiet", KPI: "messages_sent", Condition: "below", Value: 1, Window: store.Duration(time.Hour), Webhook: srv.URL, Muted: muted}}
	if err := s.PutWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	engine, _ := kpi.New(s)
	return s, &Evaluator{Store: s, Engine: engine, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Backoff: time.Millisecond, Retries: 1}
}

// A hook that fails three times: the firing's two attempts fail and leave
// it undelivered; the next evaluation fails once more, then delivers.
func TestEvaluator_RetriesAnUndeliveredFiring(t *testing.T) {
	ctx := context.Background()
	hook := &receiver{failures: 3}
	s, ev := emptyShop(t, hook, false)
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	ev.EvaluateOnce(ctx, now)
	stored, _ := s.Workspace(ctx, "shop")
	if f := stored.Alerts[0].Firing; f == nil || f.Notified || f.LastError == "" {
		t.Fatalf("after two failed attempts: %+v", f)
	}
	ev.EvaluateOnce(ctx, now.Add(time.Minute))
	stored, _ = s.Workspace(ctx, "shop")
	if attempts, notices := hook.state(); attempts != 4 || len(notices) != 1 || !stored.Alerts[0].Firing.Notified {
		t.Errorf("the next evaluation: %d attempts, %d notices, %+v", attempts, len(notices), stored.Alerts[0].Firing)
	}
}

// A muted rule fires and records its firing, and posts nothing; unmuted
// while still firing, it posts the firing at the next evaluation.
func TestEvaluator_MutedRulePostsNothing(t *testing.T) {
	ctx := context.Background()
	hook := &receiver{}
	s, ev := emptyShop(t, hook, true)
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	ev.EvaluateOnce(ctx, now)
	stored, _ := s.Workspace(ctx, "shop")
	if attempts, _ := hook.state(); attempts != 0 || stored.Alerts[0].Firing == nil || stored.Alerts[0].Firing.Notified {
		t.Fatalf("muted: %d posts, firing %+v", attempts, stored.Alerts[0].Firing)
	}
	stored.Alerts[0].Muted = false
	if err := s.PutWorkspace(ctx, stored); err != nil {
		t.Fatal(err)
	}
	ev.EvaluateOnce(ctx, now.Add(time.Minute))
	stored, _ = s.Workspace(ctx, "shop")
	if attempts, notices := hook.state(); attempts != 1 || len(notices) != 1 || !stored.Alerts[0].Firing.Notified {
		t.Errorf("unmuted: %d posts, %d notices, firing %+v", attempts, len(notices), stored.Alerts[0].Firing)
	}
}

func TestValidate(t *testing.T) {
	good := store.AlertRule{ID: "x", KPI: "opt_out_rate", Condition: "worse_than_band", Window: store.Duration(time.Hour)}
	if err := Validate(good); err != nil {
		t.Fatal(err)
	}
	for field, bad := range map[string]func(*store.AlertRule){
		"id": func(r *store.AlertRule) { r.ID = "" }, "kpi": func(r *store.AlertRule) { r.KPI = "happiness" },
		"condition": func(r *store.AlertRule) { r.Condition = "sideways" }, "window": func(r *store.AlertRule) { r.Window = 0 },
		"webhook": func(r *store.AlertRule) { r.Webhook = "ftp://x" }, "filters": func(r *store.AlertRule) { r.Filters = map[string]string{"mood": "x"} },
	} {
		r := good
		bad(&r)
		var re *kpi.RequestError
		if err := Validate(r); err == nil || !errorsAs(err, &re) || re.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
}

func errorsAs(err error, target **kpi.RequestError) bool {
	re, ok := err.(*kpi.RequestError)
	*target = re
	return ok
}

// TestEvaluator_BandConditions: an opt-out rate of 50 % is worse than its
// band of 0.3–0.6 % although it is above it, and 0 % on another channel is
// better (best: at most 0.2 %). A rule stored under a former name
// (below_band, above_band) fires as its new name does.
func TestEvaluator_BandConditions(t *testing.T) {
	ctx := context.Background()
	s, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "alerts.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var events []event.Event
	for _, line := range []string{
		`{"id":"s1","ts":"2026-01-05T09:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m1","customer":"a","actor":"campaign","campaign":"c"}`,
		`{"id":"s2","ts":"2026-01-05T09:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m2","customer":"b","actor":"campaign","campaign":"c"}`,
		`{"id":"s3","ts":"2026-01-05T09:00:00Z","kind":"message_sent","channel":"sms","message":"m3","customer":"c","actor":"campaign","campaign":"c"}`,
		`{"id":"o1","ts":"2026-01-05T10:00:00Z","kind":"opted_out","channel":"whatsapp","customer":"a"}`,
	} {
		e, err := event.ParseJSON([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		e.Workspace = "shop"
		events = append(events, e)
	}
	if _, err := s.Insert(ctx, events); err != nil {
		t.Fatal(err)
	}
	day := store.Duration(24 * time.Hour)
	wa, sms := map[string]string{"channel": "whatsapp"}, map[string]string{"channel": "sms"}
	want := map[string]bool{
		"worse": true, "worse-old": true, "better": false, "better-old": false,
		"sms-worse": false, "sms-better": true, "sms-better-old": true,
	}
	ws := store.NewWorkspace("shop")
	ws.Alerts = []store.AlertRule{
		{ID: "worse", KPI: "opt_out_rate", Condition: "worse_than_band", Window: day, Filters: wa},
		{ID: "worse-old", KPI: "opt_out_rate", Condition: "below_band", Window: day, Filters: wa},
		{ID: "better", KPI: "opt_out_rate", Condition: "better_than_band", Window: day, Filters: wa},
		{ID: "better-old", KPI: "opt_out_rate", Condition: "above_band", Window: day, Filters: wa},
		{ID: "sms-worse", KPI: "opt_out_rate", Condition: "worse_than_band", Window: day, Filters: sms},
		{ID: "sms-better", KPI: "opt_out_rate", Condition: "better_than_band", Window: day, Filters: sms},
		{ID: "sms-better-old", KPI: "opt_out_rate", Condition: "above_band", Window: day, Filters: sms},
	}
	for _, r := range ws.Alerts {
		if err := Validate(r); err != nil {
			t.Errorf("rule %s (%s): %v", r.ID, r.Condition, err)
		}
	}
	if err := s.PutWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	engine, err := kpi.New(s)
	if err != nil {
		t.Fatal(err)
	}
	ev := &Evaluator{Store: s, Engine: engine, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := ev.EvaluateOnce(ctx, time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	stored, _ := s.Workspace(ctx, "shop")
	for _, r := range stored.Alerts {
		if fires := r.Firing != nil; fires != want[r.ID] {
			t.Errorf("rule %s (%s): firing %v, want %v", r.ID, r.Condition, fires, want[r.ID])
		}
	}
}

func TestNormalize(t *testing.T) {
	for old, now := range map[string]string{"below_band": "worse_than_band", "above_band": "better_than_band",
		"worse_than_band": "worse_than_band", "below": "below", "above": "above", "change_below": "change_below"} {
		if got := Normalize(store.AlertRule{Condition: old}).Condition; got != now {
			t.Errorf("Normalize(%s) = %s, want %s", old, got, now)
		}
	}
}
