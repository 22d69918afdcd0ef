package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/omnikpi/omnikpi/internal/event"
)

// HashPhoneCustomers replaces customer ids that are phone numbers with a
// salted hash, so numbers are not stored (EVENTS.md). The hash is stable for
// a salt, so the same number is the same customer across events.
func HashPhoneCustomers(events []event.Event, salt string) {
	for i := range events {
		if digits, ok := phoneDigits(events[i].Customer); ok {
			events[i].Customer = HashPhone(digits, salt)
		}
	}
}

// HashPhone returns the stored id for the phone number with these digits.
func HashPhone(digits, salt string) string {
	sum := sha256.Sum256([]byte(salt + ":" + digits))
	return "ph_" + hex.EncodeToString(sum[:])[:24]
}

// phoneDigits recognises an E.164-like number: an optional +, then 7 to 15
// digits, with spaces, dashes, dots and parentheses allowed between them.
func phoneDigits(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	s = strings.TrimPrefix(s, "+")
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "", false
		}
	}
	n := b.Len()
	return b.String(), n >= 7 && n <= 15
}

// CustomerID is the id a customer is stored under: a phone number is
// hashed as HashPhoneCustomers does, anything else is left as it is.
func CustomerID(id, salt string) string {
	if digits, ok := phoneDigits(id); ok {
		return HashPhone(digits, salt)
	}
	return id
}
