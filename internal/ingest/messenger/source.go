package messenger

import (
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Source is the Messenger and Instagram messaging webhook as an
// ingest.Source: signed with X-Hub-Signature-256, verified by Meta's GET
// handshake, routed by the entry's Page or Instagram account id.
type Source struct{ settings Settings }

// New returns the source with its settings.
func New(s Settings) *Source { return &Source{settings: s} }

var (
	_ ingest.Source     = (*Source)(nil)
	_ ingest.Handshaker = (*Source)(nil)
)

// Name is the source's name, and its address /webhooks/messenger.
func (s *Source) Name() string { return Name }

// Configured is nil once any setting is given (config.Validate checks that
// all that are needed are).
func (s *Source) Configured() error {
	if !s.settings.Enabled() {
		return errors.New("the Messenger webhook is not configured: start serve with messenger settings in --config or --messenger-* flags")
	}
	return nil
}

// Verify checks X-Hub-Signature-256 against every app secret.
func (s *Source) Verify(header http.Header, body []byte) error {
	return whatsapp.VerifyHubSignature(header, body, s.settings.Secrets()...)
}

// Handshake answers Meta's subscription handshake, as WhatsApp's: the
// challenge is echoed only for the configured verify token.
func (s *Source) Handshake(q url.Values) (string, error) {
	return whatsapp.AnswerHandshake(q, s.settings.VerifyToken)
}

// Parse reads a webhook body (see the package function Parse), with each
// workspace's stop words.
func (s *Source) Parse(body []byte, settings func(workspace string) store.Workspace) (ingest.Batch, error) {
	return Parse(body, s.options(s.settings.Route, func(name string) *whatsapp.StopWords { return workspaceStopWords(settings(name)) }))
}

func (s *Source) options(route func(string) (string, bool), stop func(string) *whatsapp.StopWords) Options {
	return Options{Route: route, Actor: s.actor, StopWords: stop}
}

// actor is the author of a message the app with this id sent.
func (s *Source) actor(appID string) event.Actor {
	switch {
	case appID == "":
	case slices.Contains(s.settings.BotApps, appID):
		return event.ActorBot
	case slices.Contains(s.settings.CampaignApps, appID):
		return event.ActorCampaign
	}
	return event.ActorAgent
}

// Route maps an entry's Page or Instagram account id.
func (s *Source) Route(k ingest.Keys) (string, bool) { return s.settings.Route(k.Key) }

// ParsePart reads a quarantined entry into events of workspace.
func (s *Source) ParsePart(p ingest.Part, workspace string, settings store.Workspace) ([]event.Event, error) {
	b, err := Parse(p.Raw, s.options(func(string) (string, bool) { return workspace, true },
		func(string) *whatsapp.StopWords { return workspaceStopWords(settings) }))
	return b.Events, err
}

// Mappings lists the Pages, then the Instagram accounts, each by id.
func (s *Source) Mappings() []ingest.Mapping {
	var out []ingest.Mapping
	for _, m := range []struct {
		kind string
		ids  map[string]string
	}{{"page", s.settings.Pages}, {"instagram_account", s.settings.InstagramAccounts}} {
		for _, id := range slices.Sorted(maps.Keys(m.ids)) {
			out = append(out, ingest.Mapping{Kind: m.kind, ID: id, Workspace: m.ids[id]})
		}
	}
	return out
}

// LogAttrs count the mappings and secrets.
func (s *Source) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.Int("pages", len(s.settings.Pages)), slog.Int("instagram_accounts", len(s.settings.InstagramAccounts)),
		slog.Int("app_secrets", len(s.settings.Secrets())), slog.Bool("verify_token_set", s.settings.VerifyToken != ""),
		slog.Int("bot_apps", len(s.settings.BotApps)), slog.Int("campaign_apps", len(s.settings.CampaignApps))}
}

// workspaceStopWords are a workspace's own opt-out words; nil for the
// defaults.
func workspaceStopWords(ws store.Workspace) *whatsapp.StopWords {
	if len(ws.StopWords) > 0 {
		return whatsapp.NewStopWords(ws.StopWords)
	}
	return nil
}
