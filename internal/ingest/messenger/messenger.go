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
	"crypto/subtle"
	"encoding/hex"
	"strings"

	"github.com/omnikpi/omnikpi/internal/ingest"
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
const SignatureHeader = "X-Hub-Signature-256"

// ValidSignature reports whether header is the signature of body, exactly
// as received, under one of the app secrets, compared in constant time.
func ValidSignature(body []byte, header string, secrets []string) bool {
	hexSum, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return false
	}
	sum, err := hex.DecodeString(hexSum)
	return err == nil && ingest.SignedByAny(body, sum, secrets)
}

// Sign returns the X-Hub-Signature-256 value of body under secret, as Meta
// computes it; for clients and tests.
func Sign(body []byte, secret string) string {
	return "sha256=" + hex.EncodeToString(ingest.HMACSHA256(body, secret))
}

// validVerifyToken reports whether token is the configured verify token,
// in constant time.
func validVerifyToken(token, configured string) bool {
	return configured != "" && subtle.ConstantTimeCompare([]byte(token), []byte(configured)) == 1
}
