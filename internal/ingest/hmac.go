package ingest

import (
	"crypto/hmac"
	"crypto/sha256"
)

// HMACSHA256 is the HMAC-SHA256 of body under secret, the signature every
// webhook source here checks (each writes it in its own header encoding).
func HMACSHA256(body []byte, secret string) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return mac.Sum(nil)
}

// SignedByAny reports whether sum is body's HMAC-SHA256 under one of
// secrets (empty ones skipped). Every secret is tried and compared in
// constant time, so the answer's timing does not tell which one matched.
func SignedByAny(body, sum []byte, secrets []string) bool {
	if len(sum) != sha256.Size {
		return false
	}
	valid := false
	for _, secret := range secrets {
		if secret != "" && hmac.Equal(HMACSHA256(body, secret), sum) {
			valid = true
		}
	}
	return valid
}
