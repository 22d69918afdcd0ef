package ingest

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Source is a platform that posts its own webhooks to omnikpi, such as the
// WhatsApp Cloud API (package whatsapp). omnikpi serve answers every source
// at /webhooks/NAME with one handler: it reads the body, has the source
// verify and parse it, keeps the parts no workspace maps in the
// quarantine, hashes phone numbers and journals the events.
//
// A source is a package under internal/ingest with its settings (server
// wide, under its name in serve's configuration file) and a constructor
// from them; config.Config.Webhooks lists every source, configured or not.
// Settings of a workspace (its stop words, for instance) come from the
// workspace itself, at each parse.
type Source interface {
	// Name names the source in its address (/webhooks/NAME), in its
	// settings, in the quarantine and in metrics: "whatsapp".
	Name() string
	// Configured is nil when the settings let the source take webhooks,
	// else an error saying what to configure; an unconfigured source still
	// parses its quarantined parts.
	Configured() error
	// Verify checks that the platform signed the request, as received:
	// the body's exact bytes and the headers. A *VerifyError says why not;
	// nothing of the request is stored.
	Verify(header http.Header, body []byte) error
	// Parse reads a verified body into events, each with its workspace,
	// found by the source's own keys. It fails only on a body that is not
	// this platform's webhook at all; a part that cannot be read is a
	// Problem, and a part no workspace maps is Unrouted, both in the Batch.
	// settings gives each workspace's settings; it is called only for
	// workspaces the source routes to.
	Parse(body []byte, settings func(workspace string) store.Workspace) (Batch, error)
	// Route names the workspace of a part by its keys under the source's
	// settings; false when none maps it.
	Route(keys Keys) (workspace string, ok bool)
	// ParsePart reads a part kept in the quarantine into events of
	// workspace, as Parse would have read it in its webhook: the same
	// events with the same ids.
	ParsePart(part Part, workspace string, settings store.Workspace) ([]event.Event, error)
	// Mappings lists the keys the settings map to workspaces, in a stable
	// order; serve creates their workspaces and logs them at start.
	Mappings() []Mapping
	// LogAttrs summarise the settings for the log at start, without any
	// secret.
	LogAttrs() []slog.Attr
}

// Handshaker is a source that answers a verification handshake on GET
// /webhooks/NAME, as Meta's platforms do (hub.mode, hub.verify_token,
// hub.challenge).
type Handshaker interface {
	// Handshake returns the body that answers the query, or a
	// *VerifyError when the query is not one the settings accept.
	Handshake(query url.Values) (string, error)
}

// HeaderParser is a source whose webhooks say in their headers what the
// body is and whom it is for, as Shopify's (X-Shopify-Topic and
// X-Shopify-Shop-Domain) and WooCommerce's do: the handler calls
// ParseWebhook, with the request's headers, instead of Parse.
type HeaderParser interface {
	// ParseWebhook is Parse with the headers of the request; an error
	// names a header that is missing or wrong, or what is wrong with the
	// body.
	ParseWebhook(header http.Header, body []byte, settings func(workspace string) store.Workspace) (Batch, error)
}

// VerifyError is a webhook request that its platform did not sign, or a
// handshake the settings refuse. The answer names Field (a header or a
// query parameter).
type VerifyError struct {
	Field   string
	Reason  string
	Missing bool // the signature is absent rather than wrong
}

func (e *VerifyError) Error() string { return e.Reason }

// Keys are what a source routes a part of a webhook by. Key is the part's
// own (WhatsApp's business phone number id); Account the account it
// belongs to (WhatsApp's business account id), which maps the parts whose
// Key no workspace maps. The quarantine keeps them as its phone_number_id
// and business_account.
type Keys struct {
	Key     string
	Account string
}

// Mapping is one key that a source's settings map to a workspace.
type Mapping struct {
	Kind      string // what the key is, as logged: "phone_number_id", "business_account"
	ID        string
	Workspace string
}

// Batch is what a webhook body holds: valid events, each with its
// workspace, in payload order, the parts that were skipped, and the parts
// no workspace maps.
type Batch struct {
	Events   []event.Event
	Problems []Problem // parts not stored, and why; Unrouted ones included
	Unrouted []Part
}

// Problem is a part of a webhook that was not stored, and why. The rest of
// the batch is stored all the same.
type Problem struct {
	Where  string `json:"where"` // such as "entry 0, change 1, statuses[2]"
	Reason string `json:"reason"`
}

func (p Problem) String() string { return p.Where + ": " + p.Reason }

// Part is a part of a webhook that no workspace maps, kept in the
// quarantine as it was sent until one does.
type Part struct {
	ID    string // from the content, so that a re-sent part is kept once
	Keys  Keys
	Where string          // where it was in its webhook, for the log
	Raw   json.RawMessage // as sent
}

// Rerouted is src with route tried before its own Route: the quarantine
// is ingested with the mappings of a command or request beside the
// settings'.
func Rerouted(src Source, route func(Keys) (string, bool)) Source {
	return rerouted{src, route}
}

type rerouted struct {
	Source
	route func(Keys) (string, bool)
}

func (r rerouted) Route(k Keys) (string, bool) {
	if ws, ok := r.route(k); ok {
		return ws, true
	}
	return r.Source.Route(k)
}
