package api_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/config"
	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
	"github.com/omnikpi/omnikpi/internal/store"
)

// toySource is a webhook source written for this test alone, as a new
// platform's package would be: a body {"shop": KEY, "orders": [...]}
// signed with a base64 HMAC in X-Toy-Hmac, routed by shop; each order is
// a part of its own.
type toySource struct {
	secret string
	shops  map[string]string // shop → workspace
}

const toyHeader = "X-Toy-Hmac"

func toySign(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func (s toySource) Name() string { return "toy" }

func (s toySource) Configured() error {
	if s.secret == "" {
		return errors.New("the toy webhook is not configured")
	}
	return nil
}

func (s toySource) Verify(h http.Header, body []byte) error {
	got, err := base64.StdEncoding.DecodeString(h.Get(toyHeader))
	if h.Get(toyHeader) == "" {
		return &ingest.VerifyError{Field: toyHeader, Reason: "missing " + toyHeader, Missing: true}
	}
	want, _ := base64.StdEncoding.DecodeString(toySign(body, s.secret))
	if err != nil || !hmac.Equal(got, want) {
		return &ingest.VerifyError{Field: toyHeader, Reason: toyHeader + " is wrong"}
	}
	return nil
}

func (s toySource) Parse(body []byte, settings func(string) store.Workspace) (ingest.Batch, error) {
	var b struct {
		Shop   string            `json:"shop"`
		Orders []json.RawMessage `json:"orders"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return ingest.Batch{}, fmt.Errorf("not a toy webhook: %w", err)
	}
	var out ingest.Batch
	for i, raw := range b.Orders {
		part := ingest.Part{ID: "tq_" + b.Shop + "_" + fmt.Sprint(i), Keys: ingest.Keys{Key: b.Shop}, Where: fmt.Sprintf("orders[%d]", i), Raw: raw}
		ws, ok := s.Route(part.Keys)
		if !ok {
			out.Unrouted = append(out.Unrouted, part)
			out.Problems = append(out.Problems, ingest.Problem{Where: part.Where, Reason: "no workspace for shop " + b.Shop + "; kept in quarantine"})
			continue
		}
		events, err := s.ParsePart(part, ws, settings(ws))
		if err != nil {
			out.Problems = append(out.Problems, ingest.Problem{Where: part.Where, Reason: err.Error()})
			continue
		}
		out.Events = append(out.Events, events...)
	}
	return out, nil
}

func (s toySource) Route(k ingest.Keys) (string, bool) {
	ws, ok := s.shops[k.Key]
	return ws, ok
}

func (s toySource) ParsePart(p ingest.Part, workspace string, _ store.Workspace) ([]event.Event, error) {
	var o struct{ ID, Phone, Amount string }
	if err := json.Unmarshal(p.Raw, &o); err != nil {
		return nil, err
	}
	e, err := event.ParseJSON([]byte(order("toy-"+o.ID, o.ID, o.Amount)))
	if err != nil {
		return nil, err
	}
	e.Workspace, e.Customer = workspace, o.Phone
	return []event.Event{e}, e.Validate()
}

func (s toySource) Mappings() []ingest.Mapping {
	var out []ingest.Mapping
	for shop, ws := range s.shops {
		out = append(out, ingest.Mapping{Kind: "shop", ID: shop, Workspace: ws})
	}
	return out
}

func (s toySource) LogAttrs() []slog.Attr { return []slog.Attr{slog.Int("shops", len(s.shops))} }

func postToy(t *testing.T, s *server, body []byte, signature string) (int, api.WebhookResult, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/webhooks/toy?wait=applied", bytes.NewReader(body))
	if signature != "" {
		req.Header.Set(toyHeader, signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var res api.WebhookResult
	json.Unmarshal(raw, &res)
	return resp.StatusCode, res, string(raw)
}

// TestWebhooks_NewSource: a source is served at /webhooks/NAME by the one
// webhook handler once it is among the options' sources: verified its own
// way, its events stored with phone numbers hashed, its unmapped parts
// kept in the quarantine under its name and ingested once mapped; WhatsApp
// stays served beside it.
func TestWebhooks_NewSource(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		toy := toySource{secret: "toy-secret", shops: map[string]string{"k1": "a"}}
		s := startWith(t, open, api.Options{AdminToken: adminToken, Sources: []ingest.Source{toy},
			WhatsApp: config.WhatsApp{AppSecret: appSecret, PhoneNumbers: map[string]string{numberA: "a"}}})
		body := []byte(`{"shop": "k1", "orders": [{"id": "o1", "phone": "+62 812 3456 0001", "amount": "10.50"}, {"id": "o2", "phone": "c2", "amount": "4"}]}`)
		for name, sig := range map[string]string{"missing": "", "wrong": toySign(body, "another"), "garbage": "%%"} {
			if status, _, raw := postToy(t, s, body, sig); status != http.StatusUnauthorized || !strings.Contains(raw, toyHeader) {
				t.Errorf("%s signature: %d %s", name, status, raw)
			}
		}
		if n := s.count(t, "1 = 1"); n != 0 {
			t.Fatalf("%d events stored from refused requests", n)
		}
		if status, _, _ := postToy(t, s, []byte("{"), toySign([]byte("{"), toy.secret)); status != http.StatusBadRequest {
			t.Errorf("a body that is not the platform's: %d, want 400", status)
		}
		for try := 1; try <= 2; try++ {
			status, res, raw := postToy(t, s, body, toySign(body, toy.secret))
			want := api.Submitted{Accepted: 2}
			if try == 2 {
				want = api.Submitted{Duplicates: 2}
			}
			if status != http.StatusOK || res.Submitted != want || res.Quarantined != 0 || len(res.Skipped) != 0 {
				t.Fatalf("try %d: %d %s", try, status, raw)
			}
		}
		if n := s.count(t, "workspace = 'a' AND kind = 'order_placed' AND customer LIKE 'ph_%'"); n != 1 {
			t.Errorf("%d orders with a hashed phone number, want 1", n)
		}
		// No handshake: GET is not served.
		if resp, err := http.Get(s.url + "/webhooks/toy"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET: %v %v, want 405", resp.StatusCode, err)
		}

		// A shop no workspace maps: kept, under the source's name.
		other := []byte(`{"shop": "k2", "orders": [{"id": "o3", "phone": "c3", "amount": "7"}]}`)
		status, res, raw := postToy(t, s, other, toySign(other, toy.secret))
		if status != http.StatusOK || res.Quarantined != 1 || len(res.Skipped) != 1 || res.Submitted != (api.Submitted{}) {
			t.Fatalf("unmapped shop: %d %s", status, raw)
		}
		parts, err := s.store.(store.Quarantine).QuarantinedParts(context.Background())
		if err != nil || len(parts) != 1 || parts[0].Source != "toy" || parts[0].PhoneNumberID != "k2" || parts[0].ID != "tq_k2_0" {
			t.Fatalf("quarantine: %+v %v", parts, err)
		}
		// The WhatsApp mapping of the admin route maps none of the toy's keys.
		if status, _, b := send(t, s, http.MethodPost, adminToken, "", "/v1/quarantine/ingest", `{"phone_numbers": {"k2": "b"}}`); status != http.StatusOK || !strings.Contains(string(b), `"waiting":1`) {
			t.Errorf("ingest with a WhatsApp mapping: %d %s", status, b)
		}
		// Once the source's settings map the shop, serve's start ingests it.
		var submitted []event.Event
		insert := func(ctx context.Context, events []event.Event) error {
			submitted = append(submitted, events...)
			_, err := s.store.Insert(ctx, events)
			return err
		}
		var logs bytes.Buffer
		mapped := toySource{secret: toy.secret, shops: map[string]string{"k1": "a", "k2": "b"}}
		if err := api.StartSources(context.Background(), s.store, []ingest.Source{mapped}, insert, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
			t.Fatal(err)
		}
		if len(submitted) != 1 || submitted[0].Workspace != "b" || submitted[0].ID != "toy-o3" {
			t.Errorf("ingested at start: %+v", submitted)
		}
		for _, want := range []string{`msg="toy webhook: shop maps to a workspace" shop=k2 workspace=b`, `msg="toy webhook configured" shops=2`, "parts=1 events=1 waiting=0"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("the log lacks %q:\n%s", want, logs.String())
			}
		}

		// WhatsApp is served beside it.
		wa := campaignDay(t)
		if status, res := postWebhook(t, s, wa, whatsapp.Sign(wa, appSecret)); status != http.StatusOK || res.Accepted != 11 {
			t.Errorf("whatsapp beside the toy: %d %+v", status, res)
		}
	})
}

// TestWebhooks_SourceNotConfigured: a source without its settings answers
// 404 with what to configure.
func TestWebhooks_SourceNotConfigured(t *testing.T) {
	s := startWith(t, duckdbOnly, api.Options{Sources: []ingest.Source{toySource{}}})
	resp, err := http.Post(s.url+"/webhooks/toy", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(b), "the toy webhook is not configured") {
		t.Errorf("%d %s", resp.StatusCode, b)
	}
	if routes := strings.Join(api.Routes(api.Options{Sources: []ingest.Source{toySource{secret: "s"}}}), " "); !strings.Contains(routes, "POST /webhooks/toy") ||
		strings.Contains(routes, "GET /webhooks/toy") || !strings.Contains(routes, "/webhooks/whatsapp") {
		t.Errorf("routes: %s", routes)
	}
}

// TestWebhookResult_JSON: the answers of a webhook and of POST /v1/events
// share their counts and keep their fields' names and order.
func TestWebhookResult_JSON(t *testing.T) {
	n := api.Submitted{Accepted: 1, Duplicates: 2, Queued: 3}
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"webhook", api.WebhookResult{Submitted: n, Quarantined: 4, Skipped: []ingest.Problem{{Where: "w", Reason: "r"}}},
			`{"accepted":1,"duplicates":2,"queued":3,"quarantined":4,"skipped":[{"where":"w","reason":"r"}]}`},
		{"events", api.IngestResult{Submitted: n, Rejected: []ingest.Rejected{}, Results: []api.EventResult{}},
			`{"accepted":1,"duplicates":2,"queued":3,"rejected":[],"results":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.v)
			if err != nil || string(b) != tc.want {
				t.Errorf("%s, %v\nwant %s", b, err, tc.want)
			}
		})
	}
}
