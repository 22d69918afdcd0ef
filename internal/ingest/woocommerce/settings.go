package woocommerce

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/omnikpi/omnikpi/internal/ingest/shop"
)

// Settings configure WooCommerce's webhooks at /webhooks/woocommerce: the
// "woocommerce" object of serve's configuration file.
type Settings struct {
	// Secret signs the webhooks (X-WC-Webhook-Signature): the secret typed
	// into each webhook of WooCommerce > Settings > Advanced > Webhooks.
	// Several may be given, for webhooks or sites with secrets of their
	// own, or while one is being rotated.
	Secret  string   `json:"secret"`
	Secrets []string `json:"secrets,omitempty"`
	// Sites maps a site's address (X-WC-Webhook-Source, such as
	// https://shop.example.com/) to the workspace its orders belong to.
	Sites map[string]string `json:"sites"`
}

// Enabled reports whether any setting is given.
func (s Settings) Enabled() bool { return s.Secret != "" || len(s.Secrets) > 0 || len(s.Sites) > 0 }

// AllSecrets lists every accepted secret.
func (s Settings) AllSecrets() []string { return shop.Secrets(s.Secret, s.Secrets) }

// Check names what is missing or wrong once any setting is given.
func (s Settings) Check() error {
	if !s.Enabled() {
		return nil
	}
	var missing []string
	if len(s.AllSecrets()) == 0 {
		missing = append(missing, "woocommerce.secret")
	}
	if len(s.Sites) == 0 {
		missing = append(missing, "woocommerce.sites")
	}
	if len(missing) > 0 {
		return fmt.Errorf("the WooCommerce webhook needs %s", strings.Join(missing, ", "))
	}
	for _, site := range slices.Sorted(maps.Keys(s.Sites)) {
		if shop.NormalizeKey(site) == "" || strings.TrimSpace(s.Sites[site]) == "" {
			return fmt.Errorf("woocommerce.sites: %q → %q: both the site's address and the workspace are required", site, s.Sites[site])
		}
	}
	return nil
}

// Route names the workspace of a site's address, with or without scheme
// and trailing slash.
func (s Settings) Route(site string) (string, bool) {
	key := shop.NormalizeKey(site)
	if key == "" {
		return "", false
	}
	for a, ws := range s.Sites {
		if shop.NormalizeKey(a) == key {
			return ws, true
		}
	}
	return "", false
}
