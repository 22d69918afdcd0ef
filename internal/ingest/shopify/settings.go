package shopify

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/omnikpi/omnikpi/internal/ingest/shop"
)

// Settings configure Shopify's webhooks at /webhooks/shopify: the
// "shopify" object of serve's configuration file.
type Settings struct {
	// Secret signs the webhooks (X-Shopify-Hmac-Sha256): the app's client
	// secret, or for webhooks made in the shop's admin (Settings >
	// Notifications > Webhooks) the key shown there. Several may be given,
	// for several shops or while one is being rotated.
	Secret  string   `json:"secret"`
	Secrets []string `json:"secrets,omitempty"`
	// Shops maps a shop's myshopify.com domain (X-Shopify-Shop-Domain) to
	// the workspace its orders belong to.
	Shops map[string]string `json:"shops"`
}

// Enabled reports whether any setting is given.
func (s Settings) Enabled() bool { return s.Secret != "" || len(s.Secrets) > 0 || len(s.Shops) > 0 }

// AllSecrets lists every accepted secret.
func (s Settings) AllSecrets() []string { return shop.Secrets(s.Secret, s.Secrets) }

// Check names what is missing or wrong once any setting is given.
func (s Settings) Check() error {
	if !s.Enabled() {
		return nil
	}
	var missing []string
	if len(s.AllSecrets()) == 0 {
		missing = append(missing, "shopify.secret")
	}
	if len(s.Shops) == 0 {
		missing = append(missing, "shopify.shops")
	}
	if len(missing) > 0 {
		return fmt.Errorf("the Shopify webhook needs %s", strings.Join(missing, ", "))
	}
	for _, domain := range slices.Sorted(maps.Keys(s.Shops)) {
		if shop.NormalizeKey(domain) == "" || strings.TrimSpace(s.Shops[domain]) == "" {
			return fmt.Errorf("shopify.shops: %q → %q: both the shop's domain and the workspace are required", domain, s.Shops[domain])
		}
	}
	return nil
}

// Route names the workspace of a shop's domain, written in any case, with
// or without https://.
func (s Settings) Route(domain string) (string, bool) {
	key := shop.NormalizeKey(domain)
	if key == "" {
		return "", false
	}
	for d, ws := range s.Shops {
		if shop.NormalizeKey(d) == key {
			return ws, true
		}
	}
	return "", false
}
