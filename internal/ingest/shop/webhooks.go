package shop

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Platform names a shop platform in its settings and messages.
type Platform struct {
	Title    string // in messages: "Shopify"
	Name     string // its object in serve's configuration file: "shopify"
	Field    string // its mapping's key in that object: "shops"
	Kind     string // what a mapping's key is: "shop"
	KeyNoun  string // what a mapping's key is, in messages: "the shop's domain"
	Prefix   string // of the ids of its quarantined parts: "shq_"
	NameType bool   // a body that is not an object is named by its JSON type

	SignatureHeader string // the base64 HMAC-SHA256 of the body
	TopicHeader     string // what the body is: "orders/create"
	KeyHeader       string // whom it is from: the shop's domain, the site's address
}

// Settings are a platform's settings: its secrets and the keys (a shop's
// domain, a site's address) it maps to workspaces.
type Settings struct {
	Platform
	Secret  string
	Secrets []string
	Keys    map[string]string
}

// Enabled reports whether any setting is given.
func (s Settings) Enabled() bool { return s.Secret != "" || len(s.Secrets) > 0 || len(s.Keys) > 0 }

// AllSecrets lists every accepted secret.
func (s Settings) AllSecrets() []string { return Secrets(s.Secret, s.Secrets) }

// Check names what is missing or wrong once any setting is given.
func (s Settings) Check() error {
	if !s.Enabled() {
		return nil
	}
	var missing []string
	if len(s.AllSecrets()) == 0 {
		missing = append(missing, s.Name+".secret")
	}
	if len(s.Keys) == 0 {
		missing = append(missing, s.Name+"."+s.Field)
	}
	if len(missing) > 0 {
		return fmt.Errorf("the %s webhook needs %s", s.Title, strings.Join(missing, ", "))
	}
	for _, k := range slices.Sorted(maps.Keys(s.Keys)) {
		if NormalizeKey(k) == "" || strings.TrimSpace(s.Keys[k]) == "" {
			return fmt.Errorf("%s.%s: %q → %q: both %s and the workspace are required", s.Name, s.Field, k, s.Keys[k], s.KeyNoun)
		}
	}
	return nil
}

// Route names the workspace of a key, compared as NormalizeKey writes it.
func (s Settings) Route(key string) (string, bool) {
	key = NormalizeKey(key)
	if key == "" {
		return "", false
	}
	for k, ws := range s.Keys {
		if NormalizeKey(k) == key {
			return ws, true
		}
	}
	return "", false
}

// Parser reads a webhook body of topic, from the shop or site key, into
// events of workspace.
type Parser func(topic, key, workspace string, body []byte) (ingest.Batch, error)

// Webhooks is a platform's webhooks as an ingest.Source: signed, routed by
// the key in their headers, a key no workspace maps kept in the
// quarantine, the body read by the platform's Parser.
type Webhooks struct {
	Settings Settings
	Events   Parser
}

var (
	_ ingest.Source       = Webhooks{}
	_ ingest.HeaderParser = Webhooks{}
)

// Name is the platform's, as in its settings.
func (w Webhooks) Name() string { return w.Settings.Name }

// Configured is nil once any setting is given (config.Validate checks that
// all that are needed are).
func (w Webhooks) Configured() error {
	if !w.Settings.Enabled() {
		return fmt.Errorf("the %s webhook is not configured: start serve with %s settings in --config or --%[2]s-* flags", w.Settings.Title, w.Settings.Name)
	}
	return nil
}

// Verify checks the signature header against every secret.
func (w Webhooks) Verify(header http.Header, body []byte) error {
	return Verify(header.Get(w.Settings.SignatureHeader), w.Settings.SignatureHeader, body, w.Settings.AllSecrets())
}

// Parse refuses a body alone: the topic and key are in the headers.
func (w Webhooks) Parse([]byte, func(string) store.Workspace) (ingest.Batch, error) {
	return ingest.Batch{}, errors.New("a " + w.Settings.Title + " webhook is read with its " + w.Settings.TopicHeader + " and " + w.Settings.KeyHeader + " headers")
}

// ParseWebhook reads a webhook of the key its headers name, as its topic
// header says, into events of the workspace the key maps, or, for a key no
// workspace maps, into the quarantine.
func (w Webhooks) ParseWebhook(header http.Header, body []byte, _ func(string) store.Workspace) (ingest.Batch, error) {
	topic, key := strings.TrimSpace(header.Get(w.Settings.TopicHeader)), NormalizeKey(header.Get(w.Settings.KeyHeader))
	if topic == "" {
		return ingest.Batch{}, errors.New("missing " + w.Settings.TopicHeader + " header")
	}
	if key == "" {
		return ingest.Batch{}, errors.New("missing " + w.Settings.KeyHeader + " header")
	}
	if err := w.checkObject(body); err != nil {
		return ingest.Batch{}, err
	}
	ws, ok := w.Settings.Route(key)
	if !ok {
		return ingest.Batch{
			Problems: []ingest.Problem{{Where: topic, Reason: fmt.Sprintf("no workspace is configured for %s %q; kept in quarantine until one is", w.Settings.Kind, key)}},
			Unrouted: []ingest.Part{Unrouted(w.Settings.Prefix, topic, key, body)},
		}, nil
	}
	return w.Events(topic, key, ws, body)
}

// checkObject refuses a body that is not one JSON object.
func (w Webhooks) checkObject(body []byte) error {
	what := "not a " + w.Settings.Title + " webhook body: "
	var m map[string]json.RawMessage
	err := json.Unmarshal(body, &m)
	if err == nil && m != nil {
		return nil
	}
	var typ *json.UnmarshalTypeError
	var syntax *json.SyntaxError
	switch {
	case err == nil:
	case w.Settings.NameType && errors.As(err, &typ):
		return errors.New(what + "not a JSON object but " + typ.Value)
	case w.Settings.NameType || errors.As(err, &syntax):
		return errors.New(what + JSONReason(err))
	}
	return errors.New(what + "not a JSON object")
}

// Route maps a part's key.
func (w Webhooks) Route(k ingest.Keys) (string, bool) { return w.Settings.Route(k.Key) }

// ParsePart reads a quarantined webhook into events of workspace.
func (w Webhooks) ParsePart(p ingest.Part, workspace string, _ store.Workspace) ([]event.Event, error) {
	part, err := ReadPart(p.Raw)
	if err != nil {
		return nil, err
	}
	b, err := w.Events(part.Topic, part.Key, workspace, part.Body)
	return b.Events, err
}

// Mappings lists the keys, normalized, in order.
func (w Webhooks) Mappings() []ingest.Mapping {
	var out []ingest.Mapping
	for _, k := range slices.Sorted(maps.Keys(w.Settings.Keys)) {
		out = append(out, ingest.Mapping{Kind: w.Settings.Kind, ID: NormalizeKey(k), Workspace: w.Settings.Keys[k]})
	}
	return out
}

// LogAttrs count the keys and secrets.
func (w Webhooks) LogAttrs() []slog.Attr {
	return []slog.Attr{slog.Int(w.Settings.Field, len(w.Settings.Keys)), slog.Int("secrets", len(w.Settings.AllSecrets()))}
}
