// Package messenger reads the messaging webhooks of Meta's Messenger
// Platform, for Facebook Pages (object "page") and Instagram professional
// accounts (object "instagram"), as Meta sends them, and turns them into
// omnikpi events: inbound messages, echoes of the business's own messages,
// postbacks and quick replies as clicks, referrals from ads and m.me or
// ig.me links as leads, reactions, and deliveries and reads, which
// Messenger reports as watermarks. What has no field in the event model
// goes into props.
package messenger

import (
	"encoding/hex"

	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
)

// Name is the source's name, and its address /webhooks/messenger.
const Name = "messenger"

// The objects of the webhooks this source reads, and the channel of each.
const (
	ObjectPage      = "page"
	ObjectInstagram = "instagram"

	ChannelFacebook  = "facebook"
	ChannelInstagram = "instagram"
)

// SignatureHeader carries the HMAC-SHA256 of the body, keyed by the app
// secret, as "sha256=<hex>", as on every Meta webhook.
const SignatureHeader = whatsapp.SignatureHeader

// Sign returns the X-Hub-Signature-256 value of body under secret, as Meta
// computes it; for clients and tests.
func Sign(body []byte, secret string) string {
	return "sha256=" + hex.EncodeToString(ingest.HMACSHA256(body, secret))
}
