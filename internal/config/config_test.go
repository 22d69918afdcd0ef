package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "omnikpi.json")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoad(t *testing.T) {
	c, err := Load(write(t, `{"whatsapp": {"app_secret": "s", "verify_token": "v", "phone_numbers": {"1001": "shop"}, "business_accounts": {"2001": "brand"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ phone, account, want string }{
		{"1001", "2001", "shop"}, // the number wins over its account
		{"1002", "2001", "brand"},
		{"", "2001", "brand"},
		{"1002", "2002", ""},
	} {
		got, ok := c.WhatsApp.Route(tc.phone, tc.account)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("Route(%s, %s) = %q %v, want %q", tc.phone, tc.account, got, ok, tc.want)
		}
	}
	if err := c.ApplyEnviron([]string{EnvWhatsAppAppSecret + "=from-env"}); err != nil {
		t.Fatal(err)
	}
	if c.WhatsApp.AppSecret != "from-env" || c.WhatsApp.VerifyToken != "v" {
		t.Errorf("environment: %+v", c.WhatsApp)
	}
}

func TestLoad_Errors(t *testing.T) {
	if _, err := Load(write(t, `{"whatsapp": {"app_secret": "s", "verfy_token": "v"}}`)); err == nil || !strings.Contains(err.Error(), "verfy_token") {
		t.Errorf("a misspelt key: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file loads")
	}
	for text, want := range map[string]string{
		`{"whatsapp": {"verify_token": "v", "phone_numbers": {"1": "a"}}}`:                   "app_secret",
		`{"whatsapp": {"app_secret": "s", "phone_numbers": {"1": "a"}}}`:                     "verify_token",
		`{"whatsapp": {"app_secret": "s", "verify_token": "v"}}`:                             "phone_numbers",
		`{"whatsapp": {"app_secret": "s", "verify_token": "v", "phone_numbers": {"1": ""}}}`: "workspace are required",
	} {
		c, err := Load(write(t, text))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want it to name %s", text, err, want)
		}
	}
	empty := Default()
	if err := empty.Validate(); err != nil || empty.WhatsApp.Enabled() {
		t.Errorf("no configuration is valid and leaves the webhook off: %v", err)
	}
}

func TestMapping(t *testing.T) {
	m := Mapping{}
	if err := m.Set(" 1001 = shop "); err != nil || m["1001"] != "shop" {
		t.Errorf("%v %v", err, m)
	}
	for _, bad := range []string{"1001", "=shop", "1001="} {
		if err := m.Set(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestLoad_AlertWindowInDays(t *testing.T) {
	c, err := Load(write(t, `{"alerts": {"shop": [{"id": "w", "kpi": "opt_out_rate", "condition": "above_band", "window": "7d"}, {"id": "h", "kpi": "ctr", "condition": "below", "value": 1, "window": "36h"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Alerts["shop"]; len(got) != 2 || time.Duration(got[0].Window) != 7*24*time.Hour || time.Duration(got[1].Window) != 36*time.Hour {
		t.Errorf("alerts: %+v", got)
	}
}

func TestLoad_MessengerWebhook(t *testing.T) {
	c, err := Build(Sources{
		Flags: []Flag{{"config", write(t, `{"messenger": {"verify_token": "vt", "pages": {"104652048544312": "shop"}, "bot_apps": ["1517776481860111"]}}`)},
			{"messenger-instagram", "17841405309211844=shop"}, {"messenger-campaign-app", "880011223344556"}, {"messenger-bot-app", "1517776481860111"}},
		Environ: []string{EnvMessengerAppSecret + "=s"},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := c.Messenger
	for _, tc := range []struct{ got, want string }{
		{route(m.Route("104652048544312")), "shop"},
		{route(m.Route("17841405309211844")), "shop"},
		{route(m.Route("1")), ""},
		{strings.Join(m.Secrets(), ","), "s"},
		{strings.Join(m.BotApps, ","), "1517776481860111"},
		{strings.Join(m.CampaignApps, ","), "880011223344556"},
		{c.Name("messenger.app_secret"), "$" + EnvMessengerAppSecret},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	for _, src := range c.Webhooks() {
		if err := src.Configured(); (err == nil) != (src.Name() == "messenger") {
			t.Errorf("%s configured: %v", src.Name(), err)
		}
	}
	for text, want := range map[string]string{
		`{"messenger": {"pages": {"1": "a"}, "verify_token": "v"}}`:                   "messenger.app_secret",
		`{"messenger": {"pages": {"1": "a"}, "app_secret": "s"}}`:                     "messenger.verify_token",
		`{"messenger": {"app_secret": "s", "verify_token": "v"}}`:                     "messenger.pages or messenger.instagram_accounts",
		`{"messenger": {"app_secret": "s", "verify_token": "v", "pages": {"1": ""}}}`: "both the id and the workspace",
		`{"messenger": {"app_secret": "s", "verify_token": "v", "page": {"1": "a"}}}`: `unknown key "messenger.page"`,
	} {
		if _, err := Build(Sources{Flags: []Flag{{"config", write(t, text)}}}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", text, err, want)
		}
	}
}

func TestLoad_ShopWebhooks(t *testing.T) {
	c, err := Build(Sources{
		Flags: []Flag{{"config", write(t, `{"shopify": {"secret": "s", "shops": {"Batik-Sari.myshopify.com": "shop"}},
			"woocommerce": {"secrets": ["w1", "w2"], "sites": {"https://kedai.example.com/": "shop"}}}`)},
			{"shopify-shop", "other.myshopify.com=brand"}, {"woocommerce-site", "https://toko.example.com=brand"}},
		Environ: []string{EnvWooCommerceSecret + "=w0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ got, want string }{
		{route(c.Shopify.Route("batik-sari.myshopify.com")), "shop"},
		{route(c.Shopify.Route("other.myshopify.com")), "brand"},
		{route(c.WooCommerce.Route("https://kedai.example.com")), "shop"},
		{route(c.WooCommerce.Route("toko.example.com/")), "brand"},
		{route(c.WooCommerce.Route("https://elsewhere.example.com/")), ""},
		{strings.Join(c.WooCommerce.AllSecrets(), ","), "w0,w1,w2"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	var names []string
	for _, src := range c.Webhooks() {
		names = append(names, src.Name())
		if err := src.Configured(); (err == nil) != (src.Name() != "whatsapp" && src.Name() != "messenger") {
			t.Errorf("%s configured: %v", src.Name(), err)
		}
	}
	if strings.Join(names, ",") != "whatsapp,shopify,woocommerce,messenger" {
		t.Errorf("webhooks %v", names)
	}
	for text, want := range map[string]string{
		`{"shopify": {"shops": {"a.myshopify.com": "a"}}}`:         "shopify.secret",
		`{"shopify": {"secret": "s"}}`:                             "shopify.shops",
		`{"woocommerce": {"secret": "s", "sites": {"x.com": ""}}}`: "workspace are required",
		`{"woocommerce": {"sites": {"x.com": "a"}}}`:               "woocommerce.secret",
	} {
		if _, err := Build(Sources{Flags: []Flag{{"config", write(t, text)}}}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want it to name %s", text, err, want)
		}
	}
}

func route(ws string, _ bool) string { return ws }
