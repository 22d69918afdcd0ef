package whatsapp

import (
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Source is the WhatsApp Cloud API webhook as an ingest.Source: signed
// with X-Hub-Signature-256, verified by Meta's GET handshake, routed by
// business phone number id, else by business account.
type Source struct{ settings Settings }

// New returns the source with its settings.
func New(s Settings) *Source { return &Source{settings: s} }

var (
	_ ingest.Source     = (*Source)(nil)
	_ ingest.Handshaker = (*Source)(nil)
)

// Name is the source's name, and its address /webhooks/whatsapp.
func (s *Source) Name() string { return Channel }

// Configured is nil once any setting is given (config.Validate checks that
// all that are needed are).
func (s *Source) Configured() error {
	if !s.settings.Enabled() {
		return errors.New("the WhatsApp webhook is not configured: start serve with --config or --whatsapp-* flags")
	}
	return nil
}

// Verify checks X-Hub-Signature-256 against every app secret.
func (s *Source) Verify(header http.Header, body []byte) error {
	return VerifyHubSignature(header, body, s.settings.Secrets()...)
}

// VerifyHubSignature checks X-Hub-Signature-256, with which Meta signs its
// webhooks (WhatsApp's, Messenger's and Instagram's), against every app
// secret.
func VerifyHubSignature(header http.Header, body []byte, secrets ...string) error {
	sig := header.Get(SignatureHeader)
	if sig == "" {
		return &ingest.VerifyError{Field: SignatureHeader, Reason: "missing " + SignatureHeader + " header", Missing: true}
	}
	if !ValidSignature(body, sig, secrets...) {
		return &ingest.VerifyError{Field: SignatureHeader, Reason: SignatureHeader + " is not the HMAC-SHA256 of this body under the app secret"}
	}
	return nil
}

// Handshake answers Meta's subscription handshake: the challenge is
// echoed only for the configured verify token.
func (s *Source) Handshake(q url.Values) (string, error) {
	return AnswerHandshake(q, s.settings.VerifyToken)
}

// AnswerHandshake answers Meta's subscription handshake for any of its
// webhooks: the challenge is echoed only for the configured verify token.
func AnswerHandshake(q url.Values, verifyToken string) (string, error) {
	if q.Get("hub.mode") != "subscribe" || !ValidVerifyToken(q.Get("hub.verify_token"), verifyToken) {
		return "", &ingest.VerifyError{Field: "hub.verify_token", Reason: "hub.mode must be subscribe and hub.verify_token the configured verify token"}
	}
	return q.Get("hub.challenge"), nil
}

// Parse reads a webhook body (see the package function Parse), with each
// workspace's stop words.
func (s *Source) Parse(body []byte, settings func(workspace string) store.Workspace) (ingest.Batch, error) {
	res, err := Parse(body, Options{
		Route:     s.settings.Route,
		StopWords: func(name string) *StopWords { return workspaceStopWords(settings(name)) },
	})
	if err != nil {
		return ingest.Batch{}, err
	}
	b := ingest.Batch{Events: res.Events, Problems: res.Problems}
	for _, u := range res.Unrouted {
		b.Unrouted = append(b.Unrouted, ingest.Part{ID: u.ID(), Keys: ingest.Keys{Key: u.PhoneNumberID, Account: u.AccountID}, Where: u.Where, Raw: u.Change})
	}
	return b, nil
}

// Route maps a change's phone number id and business account.
func (s *Source) Route(k ingest.Keys) (string, bool) { return s.settings.Route(k.Key, k.Account) }

// ParsePart reads a quarantined change into events of workspace.
func (s *Source) ParsePart(p ingest.Part, workspace string, settings store.Workspace) ([]event.Event, error) {
	res, err := Parse(Body(p.Keys.Account, p.Raw), Options{
		Route:     func(string, string) (string, bool) { return workspace, true },
		StopWords: func(string) *StopWords { return workspaceStopWords(settings) },
	})
	return res.Events, err
}

// Mappings lists the phone number ids, then the business accounts, each
// by id.
func (s *Source) Mappings() []ingest.Mapping {
	var out []ingest.Mapping
	for _, m := range []struct {
		kind string
		ids  map[string]string
	}{{"phone_number_id", s.settings.PhoneNumbers}, {"business_account", s.settings.BusinessAccounts}} {
		for _, id := range slices.Sorted(maps.Keys(m.ids)) {
			out = append(out, ingest.Mapping{Kind: m.kind, ID: id, Workspace: m.ids[id]})
		}
	}
	return out
}

// LogAttrs count the mappings and secrets.
func (s *Source) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.Int("phone_numbers", len(s.settings.PhoneNumbers)), slog.Int("business_accounts", len(s.settings.BusinessAccounts)),
		slog.Int("app_secrets", len(s.settings.Secrets())), slog.Bool("verify_token_set", s.settings.VerifyToken != "")}
}

// workspaceStopWords are a workspace's own opt-out words; nil for the
// defaults.
func workspaceStopWords(ws store.Workspace) *StopWords {
	if len(ws.StopWords) > 0 {
		return NewStopWords(ws.StopWords)
	}
	return nil
}
