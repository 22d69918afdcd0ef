// Package conversions sends the purchases and leads of click-to-WhatsApp
// chats back to Meta's Conversions API, in its event format for business
// messaging (action_source business_messaging, messaging_channel
// whatsapp, the ad click's ctwa_clid in user_data), so that Meta can
// credit the ads that brought them.
//
// Which orders an ad brought is the ads view's attribution rule
// (kpi.Engine.AdConversions). Each conversion is sent until Meta accepts
// it, at most once accepted: its acceptance is recorded durably in the
// store's audit trail (action conversion.sent), read back at every round,
// so a restart sends nothing twice; every attempt and Meta's answer are
// recorded there too (conversion.failed, conversion.rejected), readable
// with GET /v1/audit?action=conversion and omnikpi audit --action
// conversion. A failed attempt is retried with a doubling backoff. The
// event_id is the conversion's own (purchase:ORDER, lead:EVENT), so a
// request that reached Meta whose answer was lost is deduplicated by Meta
// when it is sent again.
package conversions

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/omnikpi/omnikpi/internal/audit"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Settings are a workspace's conversions configuration (serve's
// conversions.WORKSPACE in its file).
type Settings struct {
	// Endpoint is the Conversions API URL of the dataset, such as
	// https://graph.facebook.com/v21.0/DATASET_ID/events.
	Endpoint string `json:"endpoint"`
	// AccessToken is sent as the access_token parameter; never logged.
	AccessToken string `json:"access_token,omitempty"`
	// BusinessAccount is the WhatsApp Business Account id sent in
	// user_data when the chat's own is not known.
	BusinessAccount string `json:"whatsapp_business_account_id,omitempty"`
	// Events are the kinds sent: purchase, lead (default both).
	Events []string `json:"events,omitempty"`
}

// Kinds of conversions a workspace may send, and their event names.
var eventNames = map[string]string{"purchase": kpi.EventPurchase, "lead": kpi.EventLead}

// Check validates the settings, naming the key at fault.
func (s Settings) Check() error {
	u, err := url.Parse(s.Endpoint)
	if s.Endpoint == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("endpoint: %q is not an http or https URL", s.Endpoint)
	}
	for _, e := range s.Events {
		if eventNames[e] == "" {
			return fmt.Errorf("events: unknown event %q: want purchase or lead", e)
		}
	}
	return nil
}

func (s Settings) sends(event string) bool {
	if len(s.Events) == 0 {
		return true
	}
	for _, e := range s.Events {
		if eventNames[e] == event {
			return true
		}
	}
	return false
}

// Audit actions of the sender's log.
const (
	ActionSent     = "conversion.sent"     // Meta accepted it: never sent again
	ActionFailed   = "conversion.failed"   // an attempt failed; it is retried
	ActionRejected = "conversion.rejected" // Meta refused it for good: never sent again
)

// Horizon is how old a conversion may be and still be sent: Meta takes
// events of the last seven days.
const Horizon = 7 * 24 * time.Hour

// Sender sends the configured workspaces' conversions.
type Sender struct {
	Store     store.Store
	Engine    *kpi.Engine
	Workspace map[string]Settings
	Client    *http.Client // default: one with a 30 s timeout
	Log       *slog.Logger
	// Backoff is the wait after a conversion's first failure, doubled
	// after each further one up to MaxBackoff (defaults 30 s and 1 h).
	Backoff, MaxBackoff time.Duration
	Now                 func() time.Time

	mu    sync.Mutex
	retry map[string]retryState // by workspace and event id
	done  map[string]bool       // recorded but perhaps not yet read back
}

type retryState struct {
	attempts int
	next     time.Time
}

// Run sends a round every interval until ctx ends.
func (s *Sender) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.Round(ctx); err != nil && ctx.Err() == nil {
			s.log().Error("conversions round failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Round sends, for each configured workspace, every conversion of the
// last Horizon that Meta has not accepted or refused, and whose backoff
// has passed.
func (s *Sender) Round(ctx context.Context) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(s.Workspace)) {
		if err := s.round(ctx, name, s.Workspace[name]); err != nil {
			errs = append(errs, fmt.Errorf("workspace %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Sender) round(ctx context.Context, workspace string, cfg Settings) error {
	now := s.now()
	from := now.Add(-Horizon)
	list, err := s.Engine.AdConversions(ctx, kpi.Request{Workspace: workspace, From: from.Format(time.RFC3339Nano),
		To: now.Add(time.Millisecond).Format(time.RFC3339Nano)})
	if err != nil {
		return err
	}
	finished, err := s.finished(ctx, workspace, from)
	if err != nil {
		return err
	}
	for _, c := range list {
		if !cfg.sends(c.Event) || c.Time.Before(from) {
			continue
		}
		id := EventID(c)
		key := workspace + "\x00" + id
		s.mu.Lock()
		st, skip := s.retry[key], finished[id] || s.done[key]
		s.mu.Unlock()
		if skip || now.Before(st.next) {
			continue
		}
		if err := s.send(ctx, workspace, cfg, c, st.attempts+1); err != nil {
			return err
		}
	}
	return nil
}

// finished reads the ids of the conversions Meta accepted or refused since
// from (less a day: an acceptance is recorded after the conversion).
func (s *Sender) finished(ctx context.Context, workspace string, from time.Time) (map[string]bool, error) {
	out := map[string]bool{}
	for _, action := range []string{ActionSent, ActionRejected} {
		entries, err := s.Store.Audit(ctx, store.AuditQuery{Workspace: workspace, From: from.Add(-24 * time.Hour), Action: action, Limit: store.MaxAuditLimit})
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			out[e.Target] = true
		}
	}
	return out, nil
}

// EventID is a conversion's event_id: stable, so that Meta deduplicates a
// conversion sent twice.
func EventID(c kpi.AdConversion) string {
	if c.Event == kpi.EventPurchase {
		return "purchase:" + c.ID
	}
	return "lead:" + c.ID
}

// Event is one event of the Conversions API for business messaging.
type Event struct {
	EventName        string         `json:"event_name"`
	EventTime        int64          `json:"event_time"` // Unix seconds
	EventID          string         `json:"event_id"`
	ActionSource     string         `json:"action_source"`
	MessagingChannel string         `json:"messaging_channel"`
	UserData         map[string]any `json:"user_data"`
	CustomData       map[string]any `json:"custom_data,omitempty"`
}

// Payload is the request body for one conversion.
func Payload(c kpi.AdConversion, cfg Settings) map[string]any {
	user := map[string]any{"ctwa_clid": c.CtwaClid}
	if account := cmp.Or(c.Account, cfg.BusinessAccount); account != "" {
		user["whatsapp_business_account_id"] = account
	}
	ev := Event{EventName: c.Event, EventTime: c.Time.Unix(), EventID: EventID(c), ActionSource: "business_messaging",
		MessagingChannel: "whatsapp", UserData: user}
	if c.Event == kpi.EventPurchase {
		ev.CustomData = map[string]any{"currency": c.Currency, "value": c.Value}
	}
	return map[string]any{"data": []Event{ev}}
}

// send makes one attempt and records it with Meta's answer.
func (s *Sender) send(ctx context.Context, workspace string, cfg Settings, c kpi.AdConversion, attempt int) error {
	id := EventID(c)
	body, _ := json.Marshal(Payload(c, cfg))
	endpoint := cfg.Endpoint
	if cfg.AccessToken != "" {
		u, _ := url.Parse(endpoint)
		q := u.Query()
		q.Set("access_token", cfg.AccessToken)
		u.RawQuery = q.Encode()
		endpoint = u.String()
	}
	status, answer, err := s.post(ctx, endpoint, body)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	details := map[string]any{"attempt": attempt, "endpoint": cfg.Endpoint, "request": json.RawMessage(body), "status": status}
	if json.Valid(answer) && len(answer) > 0 {
		details["answer"] = json.RawMessage(answer)
	} else if len(answer) > 0 {
		details["answer"] = string(answer)
	}
	if err != nil {
		details["error"] = err.Error()
	}
	action := ActionSent
	switch {
	case err == nil && status/100 == 2:
	case err == nil && status/100 == 4 && status != http.StatusTooManyRequests && status != http.StatusRequestTimeout:
		action = ActionRejected // a request Meta will never take: not retried
	default:
		action = ActionFailed
	}
	key := workspace + "\x00" + id
	s.mu.Lock()
	if s.retry == nil {
		s.retry, s.done = map[string]retryState{}, map[string]bool{}
	}
	if action == ActionFailed {
		wait := s.backoff(attempt)
		s.retry[key] = retryState{attempts: attempt, next: s.now().Add(wait)}
		details["retry_in"] = store.FormatDuration(wait)
	} else {
		delete(s.retry, key)
		s.done[key] = true // until the record is read back
	}
	s.mu.Unlock()
	log := s.log().With("workspace", workspace, "event_id", id, "attempt", attempt, "status", status)
	switch action {
	case ActionSent:
		log.Info("conversion sent to Meta")
	case ActionRejected:
		log.Warn("conversion refused by Meta", "answer", string(answer))
	default:
		log.Warn("conversion not sent; will retry", "err", err, "answer", string(answer), "retry_in", details["retry_in"])
	}
	// Should the record fail, an accepted conversion stays done in memory;
	// a restart before it is written sends it again, and Meta deduplicates
	// it by its event_id.
	return audit.Record(audit.As(ctx, "conversions sender"), s.Store, workspace, action, id, details)
}

// post sends body and reads the answer (at most 64 KiB of it).
func (s *Sender) post(ctx context.Context, endpoint string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, redact(err)
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, bytes.TrimSpace(answer), err
}

// redact keeps the access token out of an error, which names the URL.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Query().Has("access_token") {
			q := u.Query()
			q.Set("access_token", "REDACTED")
			u.RawQuery = q.Encode()
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}

func (s *Sender) backoff(attempt int) time.Duration {
	wait, most := cmp.Or(s.Backoff, 30*time.Second), cmp.Or(s.MaxBackoff, time.Hour)
	for i := 1; i < attempt && wait < most; i++ {
		wait *= 2
	}
	return min(wait, most)
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
