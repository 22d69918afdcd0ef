package woocommerce

import "github.com/omnikpi/omnikpi/internal/ingest/shop"

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

// common are the settings as package shop reads them.
func (s Settings) common() shop.Settings {
	return shop.Settings{Platform: platform, Secret: s.Secret, Secrets: s.Secrets, Keys: s.Sites}
}

// AllSecrets lists every accepted secret.
func (s Settings) AllSecrets() []string { return s.common().AllSecrets() }

// Check names what is missing or wrong once any setting is given.
func (s Settings) Check() error { return s.common().Check() }

// Route names the workspace of a site's address, with or without scheme
// and trailing slash.
func (s Settings) Route(site string) (string, bool) { return s.common().Route(site) }
