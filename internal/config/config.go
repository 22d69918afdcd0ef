// Package config is the configuration of 'omnikpi serve': defaults, then a
// JSON file, then the environment, then flags, validated once.
package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/omnikpi/omnikpi/internal/conversions"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/ingest/messenger"
	"github.com/omnikpi/omnikpi/internal/ingest/shopify"
	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
	"github.com/omnikpi/omnikpi/internal/ingest/woocommerce"
	"github.com/omnikpi/omnikpi/internal/store"
)

// Config is everything serve needs. Settings lists each with its flag,
// key in the file and environment variable.
type Config struct {
	DB          string `json:"db,omitempty"`           // a DuckDB file, or a clickhouse:// URL
	Addr        string `json:"addr,omitempty"`         // HOST:PORT to listen on
	MaxBody     int64  `json:"max_body,omitempty"`     // largest accepted request body, in bytes
	MaxInFlight int    `json:"max_inflight,omitempty"` // ingestion requests served at once
	// RateLimit is the requests a second each API key (and each signed-in
	// dashboard user) may make on average; 0 turns the limit off.
	RateLimit float64 `json:"rate_limit,omitempty"`
	RateBurst int     `json:"rate_burst,omitempty"` // requests a key may make at once, above its rate
	// MemoryLimit is the memory DuckDB may take for its buffers, such as
	// 512MB.
	MemoryLimit string `json:"memory_limit,omitempty"`
	// AlertInterval is how often alert rules are evaluated; 0 turns
	// evaluation off.
	AlertInterval store.Duration `json:"alert_interval,omitempty"`
	Journal       Journal        `json:"journal,omitzero"`
	TLS           TLS            `json:"tls,omitzero"`  // none: HTTP
	Log           string         `json:"log,omitempty"` // info or debug
	// DumpSQL prints each KPI query with its arguments on standard
	// error.
	DumpSQL bool `json:"dump_sql,omitempty"`
	// RetentionInterval is how often the workspaces' retention policies
	// are applied; 0 turns the schedule off.
	RetentionInterval store.Duration `json:"retention_interval,omitempty"`

	WhatsApp WhatsApp `json:"whatsapp"`
	// Shopify configures Shopify's order webhooks at /webhooks/shopify.
	Shopify shopify.Settings `json:"shopify,omitzero"`
	// WooCommerce configures WooCommerce's order webhooks at
	// /webhooks/woocommerce.
	WooCommerce woocommerce.Settings `json:"woocommerce,omitzero"`
	// Messenger configures the Messenger and Instagram messaging webhook
	// at /webhooks/messenger.
	Messenger messenger.Settings `json:"messenger,omitzero"`
	// Alerts are alert rules by workspace; serve adds them to the
	// workspaces' own rules (marked as from the configuration) at start.
	Alerts map[string][]store.AlertRule `json:"alerts,omitempty"`
	// Conversions configure, by workspace, the sending of click-to-WhatsApp
	// chats' purchases and leads to Meta's Conversions API.
	Conversions map[string]conversions.Settings `json:"conversions,omitempty"`

	file   string            // the file read, if any
	origin map[string]string // where each setting given was given, by key (see Name)
}

// WhatsApp configures the Cloud API webhook at /webhooks/whatsapp; its
// settings are the source's own (package whatsapp).
type WhatsApp = whatsapp.Settings

// Webhooks lists every webhook source with its settings, configured or
// not (see ingest.Source): a new source is its package, its settings in
// Config (their keys in Settings) and its line here.
func (c Config) Webhooks() []ingest.Source {
	return []ingest.Source{whatsapp.New(c.WhatsApp), shopify.New(c.Shopify), woocommerce.New(c.WooCommerce), messenger.New(c.Messenger)}
}

// Load reads a JSON config file over the defaults, without the
// environment or flags (see Build); unknown keys are errors, so a misspelt
// setting is not silently ignored. An empty path gives the defaults.
func Load(path string) (Config, error) {
	c := Default()
	if path == "" {
		return c, nil
	}
	err := c.loadFile(path)
	return c, err
}

// Validate checks the settings together and names the first one wrong.
func (c *Config) Validate() error {
	if err := c.validateServe(); err != nil {
		return err
	}
	if err := c.Shopify.Check(); err != nil {
		return err
	}
	if err := c.WooCommerce.Check(); err != nil {
		return err
	}
	if err := c.Messenger.Check(); err != nil {
		return err
	}
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
