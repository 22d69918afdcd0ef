package shopify

import "github.com/omnikpi/omnikpi/internal/ingest/shop"

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

// common are the settings as package shop reads them.
func (s Settings) common() shop.Settings {
	return shop.Settings{Platform: platform, Secret: s.Secret, Secrets: s.Secrets, Keys: s.Shops}
}

// AllSecrets lists every accepted secret.
func (s Settings) AllSecrets() []string { return s.common().AllSecrets() }

// Check names what is missing or wrong once any setting is given.
func (s Settings) Check() error { return s.common().Check() }

// Route names the workspace of a shop's domain, written in any case, with
// or without https://.
func (s Settings) Route(domain string) (string, bool) { return s.common().Route(domain) }
