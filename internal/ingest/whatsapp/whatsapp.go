// Package whatsapp reads the webhooks of the WhatsApp Business Platform
// (Cloud API) as Meta sends them and turns them into omnikpi events: message
// statuses, inbound messages of every type, opt-outs, click-to-WhatsApp
// leads and catalog carts. Every part of the payload is kept: what has no
// field in the event model goes into props.
package whatsapp

import (
	"crypto/subtle"
	"encoding/hex"
	"strings"

	"github.com/omnikpi/omnikpi/internal/ingest"
)

// Channel is the channel name of every event from this adapter.
const Channel = "whatsapp"

// SignatureHeader carries the HMAC-SHA256 of the body, keyed by the app
// secret, as "sha256=<hex>".
const SignatureHeader = "X-Hub-Signature-256"

// ValidSignature reports whether header is the signature of body under one
// of the app secrets. The HMAC is taken over the bytes exactly as received:
// Meta signs its own serialisation (with \uXXXX and \/ escapes), which a
// decode and re-encode would not reproduce. Comparison is constant-time.
func ValidSignature(body []byte, header string, secrets ...string) bool {
	hexSum, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	return err == nil && ingest.SignedByAny(body, got, secrets)
}

// Sign returns the X-Hub-Signature-256 value of body under secret, as
// Meta computes it; for clients and tests.
func Sign(body []byte, secret string) string {
	return "sha256=" + hex.EncodeToString(ingest.HMACSHA256(body, secret))
}

// ValidVerifyToken reports whether token matches the configured verify
// token of the GET handshake, in constant time.
func ValidVerifyToken(token, configured string) bool {
	return configured != "" && subtle.ConstantTimeCompare([]byte(token), []byte(configured)) == 1
}
