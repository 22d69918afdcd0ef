package config

import (
	"bytes"
	"crypto/tls"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/store"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse"
)

// DefaultDB is the store used when none is named.
const DefaultDB = "./omnikpi.duckdb"

// Journal configures serve's write-ahead journal of ingestion requests.
type Journal struct {
	// Dir is the journal's directory: by default the DuckDB file's name
	// with .journal; required with ClickHouse.
	Dir string `json:"dir,omitempty"`
	// MaxBytes is how many journaled bytes may wait for the store before
	// ingestion answers 503.
	MaxBytes int64 `json:"max_bytes,omitempty"`
	// ApplyInterval is how long requests gather before they are written
	// to the store: by default none for DuckDB, 1 s for ClickHouse.
	ApplyInterval store.Duration `json:"apply_interval,omitempty"`
	// MaxLag is the age of the oldest request not yet in the store past
	// which /readyz says not ready.
	MaxLag store.Duration `json:"max_lag,omitempty"`
}

// TLS names the certificate and key of an HTTPS server.
type TLS struct {
	Cert string `json:"cert,omitempty"` // PEM file
	Key  string `json:"key,omitempty"`  // PEM file
}

// Default returns the configuration before any file, environment
// variable or flag.
func Default() Config {
	return Config{
		DB:                DefaultDB,
		Addr:              "127.0.0.1:8080",
		MaxBody:           16 << 20,
		MaxInFlight:       64,
		RateLimit:         100,
		RateBurst:         200,
		MemoryLimit:       "512MB",
		AlertInterval:     store.Duration(time.Minute),
		RetentionInterval: store.Duration(24 * time.Hour),
		Journal:           Journal{MaxBytes: 1 << 30, MaxLag: store.Duration(time.Minute)},
		Log:               "info",
	}
}

// Setting is one setting of serve: how a flag, the configuration file
// and the environment name it. The README's table lists them all.
type Setting struct {
	Key   string // in the file, dotted: journal.dir; "" when the file cannot set it
	Flag  string // serve's flag, without dashes; "" for none
	Env   string // the environment variable; "" for none
	Usage string
	// IsBool is a flag given alone, as --dump-sql for --dump-sql=true.
	IsBool bool
	// set reads the setting from the text of a flag or variable; nil
	// for a setting only the file holds.
	set func(c *Config, v string) error
}

// EnvConfig names the configuration file when --config does not.
const EnvConfig = "OMNIKPI_CONFIG"

// Environment variables of settings that are secrets, better kept out of
// files and command lines.
const (
	EnvWhatsAppAppSecret    = "OMNIKPI_WHATSAPP_APP_SECRET"
	EnvWhatsAppVerifyToken  = "OMNIKPI_WHATSAPP_VERIFY_TOKEN"
	EnvShopifySecret        = "OMNIKPI_SHOPIFY_SECRET"
	EnvWooCommerceSecret    = "OMNIKPI_WOOCOMMERCE_SECRET"
	EnvMessengerAppSecret   = "OMNIKPI_MESSENGER_APP_SECRET"
	EnvMessengerVerifyToken = "OMNIKPI_MESSENGER_VERIFY_TOKEN"
)

// Settings lists every setting, in the order of the README's table.
func Settings() []Setting {
	str := func(field func(*Config) *string) func(*Config, string) error {
		return func(c *Config, v string) error { *field(c) = v; return nil }
	}
	return []Setting{
		{Flag: "config", Env: EnvConfig, Usage: "the JSON configuration `file`"},
		{Key: "db", Flag: "db", Env: "OMNIKPI_DB", Usage: "the store: a DuckDB `file`, or a ClickHouse server as clickhouse://host:9000/database",
			set: str(func(c *Config) *string { return &c.DB })},
		{Key: "addr", Flag: "addr", Env: "OMNIKPI_ADDR", Usage: "address to listen on, as `HOST:PORT`",
			set: str(func(c *Config) *string { return &c.Addr })},
		{Key: "max_body", Flag: "max-body", Env: "OMNIKPI_MAX_BODY", Usage: "largest accepted request body, in `bytes`",
			set: func(c *Config, v string) error { return parseInt(v, &c.MaxBody) }},
		{Key: "max_inflight", Flag: "max-inflight", Env: "OMNIKPI_MAX_INFLIGHT", Usage: "ingestion `requests` served at once; more are answered 503 with Retry-After",
			set: func(c *Config, v string) error {
				var n int64
				err := parseInt(v, &n)
				c.MaxInFlight = int(n)
				return err
			}},
		{Key: "rate_limit", Flag: "rate-limit", Env: "OMNIKPI_RATE_LIMIT", Usage: "`requests` a second each API key may make on average; beyond its burst they are answered 429 with Retry-After; 0 turns the limit off",
			set: func(c *Config, v string) error {
				n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					return fmt.Errorf("%q is not a number", v)
				}
				c.RateLimit = n
				return nil
			}},
		{Key: "rate_burst", Flag: "rate-burst", Env: "OMNIKPI_RATE_BURST", Usage: "`requests` each API key may make at once, above its rate limit",
			set: func(c *Config, v string) error {
				var n int64
				err := parseInt(v, &n)
				c.RateBurst = int(n)
				return err
			}},
		{Key: "memory_limit", Flag: "memory-limit", Env: "OMNIKPI_MEMORY_LIMIT", Usage: "`memory` DuckDB may take for its buffers (cached blocks, indexes, queries), such as 512MB; beyond it, it evicts and spills to disk",
			set: str(func(c *Config) *string { return &c.MemoryLimit })},
		{Key: "alert_interval", Flag: "alert-interval", Env: "OMNIKPI_ALERT_INTERVAL", Usage: "how often alert rules are evaluated, a `duration` such as 30s or 5m; 0 turns evaluation off",
			set: func(c *Config, v string) error { return parseDuration(v, &c.AlertInterval) }},
		{Key: "retention_interval", Flag: "retention-interval", Env: "OMNIKPI_RETENTION_INTERVAL", Usage: "how often the workspaces' retention policies are applied, a `duration` such as 24h; 0 turns the schedule off",
			set: func(c *Config, v string) error { return parseDuration(v, &c.RetentionInterval) }},
		{Key: "journal.dir", Flag: "journal", Env: "OMNIKPI_JOURNAL", Usage: "`directory` of the ingestion journal (default: the DuckDB file's name with .journal; required with ClickHouse)",
			set: str(func(c *Config) *string { return &c.Journal.Dir })},
		{Key: "journal.max_bytes", Flag: "journal-max-bytes", Env: "OMNIKPI_JOURNAL_MAX_BYTES", Usage: "journal `bytes` not yet in the store past which ingestion answers 503 with Retry-After",
			set: func(c *Config, v string) error { return parseInt(v, &c.Journal.MaxBytes) }},
		{Key: "journal.apply_interval", Flag: "apply-interval", Env: "OMNIKPI_APPLY_INTERVAL", Usage: "how long (a `duration`) journaled requests gather before they are written to the store (default: none for DuckDB, 1s for ClickHouse)",
			set: func(c *Config, v string) error { return parseDuration(v, &c.Journal.ApplyInterval) }},
		{Key: "journal.max_lag", Flag: "max-lag", Env: "OMNIKPI_MAX_LAG", Usage: "/readyz reports not ready while the oldest journaled request not yet in the store is older than this `duration`",
			set: func(c *Config, v string) error { return parseDuration(v, &c.Journal.MaxLag) }},
		{Key: "tls.cert", Flag: "tls-cert", Env: "OMNIKPI_TLS_CERT", Usage: "PEM certificate `file`: serve HTTPS (with the key); session cookies are then Secure",
			set: str(func(c *Config) *string { return &c.TLS.Cert })},
		{Key: "tls.key", Flag: "tls-key", Env: "OMNIKPI_TLS_KEY", Usage: "PEM private key `file` of the certificate",
			set: str(func(c *Config) *string { return &c.TLS.Key })},
		{Key: "log", Flag: "log", Env: "OMNIKPI_LOG", Usage: "log `level`: info, or debug for more detail",
			set: func(c *Config, v string) error { return parseLevel(v, &c.Log) }},
		{Key: "dump_sql", Flag: "dump-sql", Env: "OMNIKPI_DUMP_SQL", Usage: "print each KPI query with its arguments on standard error, to replay one by hand", IsBool: true,
			set: func(c *Config, v string) error {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return errors.New("want true or false (1 or 0)")
				}
				c.DumpSQL = b
				return nil
			}},
		{Key: "whatsapp.app_secret", Flag: "whatsapp-app-secret", Env: EnvWhatsAppAppSecret, Usage: "Meta app `secret` that signs WhatsApp webhooks",
			set: str(func(c *Config) *string { return &c.WhatsApp.AppSecret })},
		{Key: "whatsapp.app_secrets", Usage: "further accepted app secrets, while one is being rotated"},
		{Key: "whatsapp.verify_token", Flag: "whatsapp-verify-token", Env: EnvWhatsAppVerifyToken, Usage: "verify `token` of the WhatsApp webhook handshake",
			set: str(func(c *Config) *string { return &c.WhatsApp.VerifyToken })},
		{Key: "whatsapp.phone_numbers", Flag: "whatsapp-number", Usage: "`PHONE_NUMBER_ID=WORKSPACE`: a WhatsApp business number's events go to the workspace (repeatable)",
			set: func(c *Config, v string) error { return addMapping(&c.WhatsApp.PhoneNumbers, v) }},
		{Key: "whatsapp.business_accounts", Flag: "whatsapp-account", Usage: "`WABA_ID=WORKSPACE`: a WhatsApp Business Account's events go to the workspace (repeatable)",
			set: func(c *Config, v string) error { return addMapping(&c.WhatsApp.BusinessAccounts, v) }},
		{Key: "shopify.secret", Flag: "shopify-secret", Env: EnvShopifySecret, Usage: "`secret` that signs Shopify webhooks: the app's client secret, or the key of the shop's admin webhooks",
			set: str(func(c *Config) *string { return &c.Shopify.Secret })},
		{Key: "shopify.secrets", Usage: "further accepted Shopify secrets, for several apps or while one is being rotated"},
		{Key: "shopify.shops", Flag: "shopify-shop", Usage: "`DOMAIN=WORKSPACE`: a Shopify shop's orders (by its myshopify.com domain) go to the workspace (repeatable)",
			set: func(c *Config, v string) error { return addMapping(&c.Shopify.Shops, v) }},
		{Key: "woocommerce.secret", Flag: "woocommerce-secret", Env: EnvWooCommerceSecret, Usage: "`secret` of the WooCommerce webhooks, which signs them",
			set: str(func(c *Config) *string { return &c.WooCommerce.Secret })},
		{Key: "woocommerce.secrets", Usage: "further accepted WooCommerce secrets, for webhooks or sites with secrets of their own"},
		{Key: "woocommerce.sites", Flag: "woocommerce-site", Usage: "`URL=WORKSPACE`: a WooCommerce site's orders (by its address) go to the workspace (repeatable)",
			set: func(c *Config, v string) error { return addMapping(&c.WooCommerce.Sites, v) }},
		{Key: "messenger.app_secret", Flag: "messenger-app-secret", Env: EnvMessengerAppSecret, Usage: "Meta app `secret` that signs Messenger and Instagram webhooks",
			set: str(func(c *Config) *string { return &c.Messenger.AppSecret })},
		{Key: "messenger.app_secrets", Usage: "further accepted app secrets, for several apps or while one is being rotated"},
		{Key: "messenger.verify_token", Flag: "messenger-verify-token", Env: EnvMessengerVerifyToken, Usage: "verify `token` of the Messenger webhook handshake",
			set: str(func(c *Config) *string { return &c.Messenger.VerifyToken })},
		{Key: "messenger.pages", Flag: "messenger-page", Usage: "`PAGE_ID=WORKSPACE`: a Facebook Page's Messenger conversations go to the workspace (repeatable)",
			set: func(c *Config, v string) error { return addMapping(&c.Messenger.Pages, v) }},
		{Key: "messenger.instagram_accounts", Flag: "messenger-instagram", Usage: "`IG_ID=WORKSPACE`: an Instagram professional account's conversations go to the workspace (repeatable)",
			set: func(c *Config, v string) error { return addMapping(&c.Messenger.InstagramAccounts, v) }},
		{Key: "messenger.bot_apps", Flag: "messenger-bot-app", Usage: "`APP_ID` of an app whose Messenger and Instagram messages are a bot's (repeatable); other apps' are an agent's",
			set: func(c *Config, v string) error { return addID(&c.Messenger.BotApps, v) }},
		{Key: "messenger.campaign_apps", Flag: "messenger-campaign-app", Usage: "`APP_ID` of an app that sends campaigns on Messenger and Instagram (repeatable)",
			set: func(c *Config, v string) error { return addID(&c.Messenger.CampaignApps, v) }},
		{Key: "alerts", Usage: "alert rules by workspace, added to the workspaces' own at start"},
		{Key: "conversions", Usage: "by workspace, the Conversions API endpoint that purchases and leads of click-to-WhatsApp chats are sent to"},
	}
}

// Default returns the setting's value in Default, as a flag or variable
// writes it; "" when it has none.
func (s Setting) Default() string {
	c := Default()
	switch s.Key {
	case "db":
		return c.DB
	case "addr":
		return c.Addr
	case "max_body":
		return strconv.FormatInt(c.MaxBody, 10)
	case "max_inflight":
		return strconv.Itoa(c.MaxInFlight)
	case "rate_limit":
		return strconv.FormatFloat(c.RateLimit, 'f', -1, 64)
	case "rate_burst":
		return strconv.Itoa(c.RateBurst)
	case "memory_limit":
		return c.MemoryLimit
	case "alert_interval":
		return store.FormatDuration(time.Duration(c.AlertInterval))
	case "retention_interval":
		return store.FormatDuration(time.Duration(c.RetentionInterval))
	case "journal.max_bytes":
		return strconv.FormatInt(c.Journal.MaxBytes, 10)
	case "journal.max_lag":
		return store.FormatDuration(time.Duration(c.Journal.MaxLag))
	case "log":
		return c.Log
	case "dump_sql":
		return "false"
	}
	return ""
}

func parseInt(v string, into *int64) error {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", v)
	}
	*into = n
	return nil
}

func parseDuration(v string, into *store.Duration) error {
	d, err := store.ParseDuration(v)
	if err != nil {
		return err
	}
	*into = store.Duration(d)
	return nil
}

func parseLevel(v string, into *string) error {
	switch l := strings.ToLower(strings.TrimSpace(v)); l {
	case "info", "debug":
		*into = l
		return nil
	}
	return fmt.Errorf("%q: want info or debug", v)
}

// addID adds an id given by a repeatable flag, once.
func addID(ids *[]string, v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return errors.New("want an id")
	}
	if !slices.Contains(*ids, v) {
		*ids = append(*ids, v)
	}
	return nil
}

func addMapping(m *map[string]string, v string) error {
	if *m == nil {
		*m = map[string]string{}
	}
	return Mapping(*m).Set(v)
}

// Flag is a flag given to serve.
type Flag struct{ Name, Value string }

// Sources are where a configuration is read from, besides the defaults.
type Sources struct {
	// Environ is the environment, as os.Environ gives it.
	Environ []string
	// Flags are the flags given, in order. --config names the file;
	// without it, EnvConfig does.
	Flags []Flag
	// CheckAlert checks an alert rule of the file; nil checks none.
	CheckAlert func(store.AlertRule) error
}

// Build makes serve's configuration: the defaults, then the file, then
// the environment, then the flags, each over the one before; then checks
// it once. An unknown key of the file, or an unknown OMNIKPI_ variable, is
// an error naming it and where it is.
func Build(src Sources) (Config, error) {
	c := Default()
	file := lookup(src.Environ, EnvConfig)
	for _, f := range src.Flags {
		if f.Name == "config" {
			file = f.Value
		}
	}
	if file != "" {
		if err := c.loadFile(file); err != nil {
			return c, err
		}
	}
	if err := c.ApplyEnviron(src.Environ); err != nil {
		return c, err
	}
	for _, f := range src.Flags {
		if f.Name == "config" {
			continue
		}
		if err := c.Set(f.Name, f.Value); err != nil {
			return c, err
		}
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	if src.CheckAlert != nil {
		if err := c.checkAlerts(src.CheckAlert); err != nil {
			return c, err
		}
	}
	if err := c.checkConversions(); err != nil {
		return c, err
	}
	c.Resolve()
	return c, nil
}

// Environment reads the environment over the defaults, for the commands
// other than serve, which take Log and DumpSQL from it.
func Environment(environ []string) (Config, error) {
	c := Default()
	err := c.ApplyEnviron(environ)
	return c, err
}

// CheckFlag reports why v is not a valid value of serve's flag name, so
// that a bad one is refused as the flags are read.
func CheckFlag(name, v string) error {
	c := Default()
	for _, s := range Settings() {
		if s.Flag == name && s.set != nil {
			return s.set(&c, v)
		}
	}
	return nil
}

// Set sets the setting of serve's flag name.
func (c *Config) Set(name, v string) error {
	for _, s := range Settings() {
		if s.Flag == name && s.set != nil {
			if err := s.set(c, v); err != nil {
				return fmt.Errorf("--%s: %w", name, err)
			}
			c.setFrom(s.Key, "--"+name)
			return nil
		}
	}
	return fmt.Errorf("unknown flag --%s", name)
}

// otherVariables are OMNIKPI_ variables that the tests, scripts/test and
// the benchmark read; serve ignores them.
var otherVariables = map[string]bool{"OMNIKPI_CLICKHOUSE": true, "OMNIKPI_KEEP_DB": true, "OMNIKPI_CHROMIUM": true, "OMNIKPI_ARTIFACTS": true}

// ApplyEnviron sets what the OMNIKPI_ variables of environ say; an empty
// one is unset. A variable omnikpi does not know is an error, so that a
// misspelt one is not silently ignored.
func (c *Config) ApplyEnviron(environ []string) error {
	known := map[string]Setting{EnvConfig: {}}
	for _, s := range Settings() {
		if s.Env != "" {
			known[s.Env] = s
		}
	}
	for _, kv := range environ {
		name, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "OMNIKPI_") || otherVariables[name] || strings.HasPrefix(name, "OMNIKPI_TEST_") {
			continue
		}
		s, ok := known[name]
		if !ok {
			return fmt.Errorf("environment: unknown variable %s (the README's 'Configuring serve' lists those omnikpi reads)", name)
		}
		if v == "" || s.set == nil {
			continue
		}
		if err := s.set(c, v); err != nil {
			return fmt.Errorf("environment: %s: %w", name, err)
		}
		c.setFrom(s.Key, "$"+name)
	}
	return nil
}

func lookup(environ []string, name string) string {
	v := ""
	for _, kv := range environ {
		if k, val, _ := strings.Cut(kv, "="); k == name {
			v = val
		}
	}
	return v
}

// setFrom records where the setting key was last set.
func (c *Config) setFrom(key, where string) {
	if c.origin == nil {
		c.origin = map[string]string{}
	}
	c.origin[key] = where
}

// Name names the setting key as it was given: "--tls-key",
// "$OMNIKPI_TLS_KEY" or "tls.key in omnikpi.json"; key itself for a
// default.
func (c *Config) Name(key string) string {
	if where, ok := c.origin[key]; ok {
		return where
	}
	return key
}

// loadFile reads the JSON file at path over c. Unknown keys are errors
// naming the key and the file, so a misspelt setting is not silently
// ignored.
func (c *Config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	var raw any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	var given []string
	if err := knownKeys(raw, reflect.TypeOf(*c), "", &given); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	d = json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(c); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	for _, key := range given {
		c.setFrom(key, key+" in "+path)
	}
	c.file = path
	return nil
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// knownKeys checks that every key of the JSON value v names a field of t,
// exactly, and lists the keys given (dotted, to the setting's depth).
func knownKeys(v any, t reflect.Type, path string, given *[]string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return nil
	}
	join := func(key string) string {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil // the decoder names what is wrong
		}
		fields := map[string]reflect.StructField{}
		for i := range t.NumField() {
			f := t.Field(i)
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); f.IsExported() && name != "-" {
				fields[cmpOr(name, f.Name)] = f
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f, ok := fields[k]
			if !ok {
				return fmt.Errorf("unknown key %q", join(k))
			}
			if given != nil {
				*given = append(*given, join(k))
			}
			if err := knownKeys(obj[k], f.Type, join(k), given); err != nil {
				return err
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for k, e := range obj {
			if err := knownKeys(e, t.Elem(), join(k), nil); err != nil {
				return err
			}
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, e := range list {
			if err := knownKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// validateServe checks serve's own settings, naming each wrong one as it
// was given.
func (c *Config) validateServe() error {
	for _, s := range []struct {
		key string
		ok  bool
		why string
	}{
		{"db", c.DB != "", "names no store"},
		{"addr", c.Addr != "", "names no address"},
		{"max_body", c.MaxBody > 0, "must be a positive number of bytes"},
		{"max_inflight", c.MaxInFlight > 0, "must be a positive number of requests"},
		{"rate_limit", c.RateLimit >= 0 && !math.IsInf(c.RateLimit, 0), "must be a number of requests a second, 0 for no limit"},
		{"rate_burst", c.RateBurst > 0, "must be a positive number of requests"},
		{"memory_limit", c.MemoryLimit != "", "names no memory limit"},
		{"alert_interval", c.AlertInterval >= 0, "must not be negative"},
		{"retention_interval", c.RetentionInterval >= 0, "must not be negative"},
		{"journal.max_bytes", c.Journal.MaxBytes > 0, "must be a positive number of bytes"},
		{"journal.apply_interval", c.Journal.ApplyInterval >= 0, "must not be negative"},
		{"journal.max_lag", c.Journal.MaxLag > 0, "must be a positive duration"},
	} {
		if !s.ok {
			return fmt.Errorf("%s %s", c.Name(s.key), s.why)
		}
	}
	if err := parseLevel(c.Log, &c.Log); err != nil {
		return fmt.Errorf("%s: %w", c.Name("log"), err)
	}
	if clickhouse.IsURL(c.DB) && c.Journal.Dir == "" {
		return fmt.Errorf("%s %s needs a journal directory (--journal DIR, journal.dir or $OMNIKPI_JOURNAL): a local directory where requests are journaled before ClickHouse has them",
			c.Name("db"), clickhouse.Redacted(c.DB))
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		return fmt.Errorf("%s and %s go together", c.Name("tls.cert"), c.Name("tls.key"))
	}
	if c.TLS.Cert != "" {
		if _, err := tls.LoadX509KeyPair(c.TLS.Cert, c.TLS.Key); err != nil {
			return fmt.Errorf("%s %s, %s %s: %w", c.Name("tls.cert"), c.TLS.Cert, c.Name("tls.key"), c.TLS.Key, err)
		}
	}
	return nil
}

// checkAlerts checks every alert rule of the file.
func (c *Config) checkAlerts(check func(store.AlertRule) error) error {
	names := make([]string, 0, len(c.Alerts))
	for name := range c.Alerts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for i, rule := range c.Alerts[name] {
			if err := check(rule); err != nil {
				return fmt.Errorf("config %s: alerts.%s[%d] (id %q): %w", c.file, name, i, rule.ID, err)
			}
		}
	}
	return nil
}

// checkConversions checks each workspace's conversions settings.
func (c *Config) checkConversions() error {
	for _, name := range slices.Sorted(maps.Keys(c.Conversions)) {
		if err := c.Conversions[name].Check(); err != nil {
			return fmt.Errorf("config %s: conversions.%s.%w", c.file, name, err)
		}
	}
	return nil
}

// Resolve fills in the defaults that depend on the store: the journal's
// directory beside a DuckDB file, and ClickHouse's apply interval. Build
// calls it.
func (c *Config) Resolve() {
	if clickhouse.IsURL(c.DB) {
		if c.Journal.ApplyInterval == 0 {
			c.Journal.ApplyInterval = store.Duration(time.Second) // ClickHouse wants large, infrequent inserts
		}
	} else if c.Journal.Dir == "" {
		c.Journal.Dir = c.DB + ".journal"
	}
}
