// Package config is the configuration of 'omnikpi serve': defaults, then a
// JSON file, then the environment, then flags, validated once.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/omnikpi/omnikpi/internal/store"
)

// Config is everything serve needs besides its store.
type Config struct {
	WhatsApp WhatsApp `json:"whatsapp"`
	// Alerts are alert rules by workspace; serve adds them to the
	// workspaces' own rules (marked as from the configuration) at start.
	Alerts map[string][]store.AlertRule `json:"alerts,omitempty"`
}

// WhatsApp configures the Cloud API webhook at /webhooks/whatsapp.
type WhatsApp struct {
	// AppSecret is the Meta app's secret, the key of X-Hub-Signature-256.
	// Several may be given while a secret is being rotated.
	AppSecret  string   `json:"app_secret"`
	AppSecrets []string `json:"app_secrets,omitempty"`
	// VerifyToken is the token typed into the app's webhook settings,
	// echoed back by the GET handshake.
	VerifyToken string `json:"verify_token"`
	// PhoneNumbers maps a business phone number id (metadata.phone_number_id)
	// to the workspace its events belong to.
	PhoneNumbers map[string]string `json:"phone_numbers"`
	// BusinessAccounts maps a WhatsApp Business Account id (the entry id) to
	// a workspace: for account-level changes, and for numbers not listed.
	BusinessAccounts map[string]string `json:"business_accounts"`
}

// Enabled reports whether the webhook is configured at all.
func (w WhatsApp) Enabled() bool {
	return w.AppSecret != "" || len(w.AppSecrets) > 0 || w.VerifyToken != "" || len(w.PhoneNumbers) > 0 || len(w.BusinessAccounts) > 0
}

// Secrets lists every accepted app secret.
func (w WhatsApp) Secrets() []string {
	out := append([]string{}, w.AppSecrets...)
	if w.AppSecret != "" {
		out = append(out, w.AppSecret)
	}
	return out
}

// Route names the workspace of a change: by its phone number id, else by
// its business account.
func (w WhatsApp) Route(phoneNumberID, accountID string) (string, bool) {
	if ws, ok := w.PhoneNumbers[phoneNumberID]; ok && phoneNumberID != "" {
		return ws, true
	}
	ws, ok := w.BusinessAccounts[accountID]
	return ws, ok && accountID != ""
}

// Load reads a JSON config file; unknown keys are errors, so a misspelt
// setting is not silently ignored. An empty path gives the defaults.
func Load(path string) (Config, error) {
	var c Config
	if path == "" {
		return c, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Environment variables that override the file; secrets are better kept
// out of files and command lines.
const (
	EnvWhatsAppAppSecret   = "OMNIKPI_WHATSAPP_APP_SECRET"
	EnvWhatsAppVerifyToken = "OMNIKPI_WHATSAPP_VERIFY_TOKEN"
)

// ApplyEnv overrides settings from the environment.
func (c *Config) ApplyEnv(getenv func(string) string) {
	if v := getenv(EnvWhatsAppAppSecret); v != "" {
		c.WhatsApp.AppSecret = v
	}
	if v := getenv(EnvWhatsAppVerifyToken); v != "" {
		c.WhatsApp.VerifyToken = v
	}
}

// Validate checks the settings together and names the first one wrong.
func (c *Config) Validate() error {
	w := c.WhatsApp
	if !w.Enabled() {
		return nil
	}
	var missing []string
	if len(w.Secrets()) == 0 {
		missing = append(missing, "whatsapp.app_secret (or "+EnvWhatsAppAppSecret+")")
	}
	if w.VerifyToken == "" {
		missing = append(missing, "whatsapp.verify_token (or "+EnvWhatsAppVerifyToken+")")
	}
	if len(w.PhoneNumbers)+len(w.BusinessAccounts) == 0 {
		missing = append(missing, "whatsapp.phone_numbers or whatsapp.business_accounts")
	}
	if len(missing) > 0 {
		return fmt.Errorf("the WhatsApp webhook needs %s", strings.Join(missing, ", "))
	}
	for _, m := range []struct {
		name string
		ids  map[string]string
	}{{"phone_numbers", w.PhoneNumbers}, {"business_accounts", w.BusinessAccounts}} {
		keys := make([]string, 0, len(m.ids))
		for k := range m.ids {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, id := range keys {
			if id == "" || m.ids[id] == "" {
				return fmt.Errorf("whatsapp.%s: %q → %q: both the id and the workspace are required", m.name, id, m.ids[id])
			}
		}
	}
	return nil
}

// Mapping is a repeatable ID=WORKSPACE flag.
type Mapping map[string]string

func (m Mapping) String() string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// Set adds one ID=WORKSPACE pair.
func (m Mapping) Set(s string) error {
	id, ws, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(id) == "" || strings.TrimSpace(ws) == "" {
		return errors.New("want ID=WORKSPACE")
	}
	m[strings.TrimSpace(id)] = strings.TrimSpace(ws)
	return nil
}
