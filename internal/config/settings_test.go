package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/store"
)

// TestBuild_Precedence: the defaults, then the file, then the
// environment, then the flags, each over the one before.
func TestBuild_Precedence(t *testing.T) {
	file := write(t, `{"addr": "127.0.0.1:1001", "max_inflight": 5, "journal": {"max_lag": "2m"}}`)
	env := []string{"OMNIKPI_ADDR=127.0.0.1:1002", "OMNIKPI_MAX_INFLIGHT=6", "PATH=/bin"}
	flags := []Flag{{"config", file}, {"addr", "127.0.0.1:1003"}}
	for _, tc := range []struct {
		name        string
		src         Sources
		addr        string
		inflight    int
		maxLag      time.Duration
		addrFrom    string
		inflightWas string
	}{
		{"defaults", Sources{}, "127.0.0.1:8080", 64, time.Minute, "addr", "max_inflight"},
		{"file", Sources{Flags: flags[:1]}, "127.0.0.1:1001", 5, 2 * time.Minute, "addr in " + file, "max_inflight in " + file},
		{"file named by the environment", Sources{Environ: []string{EnvConfig + "=" + file}}, "127.0.0.1:1001", 5, 2 * time.Minute, "addr in " + file, "max_inflight in " + file},
		{"environment over file", Sources{Flags: flags[:1], Environ: env}, "127.0.0.1:1002", 6, 2 * time.Minute, "$OMNIKPI_ADDR", "$OMNIKPI_MAX_INFLIGHT"},
		{"an empty variable is unset", Sources{Flags: flags[:1], Environ: []string{"OMNIKPI_ADDR="}}, "127.0.0.1:1001", 5, 2 * time.Minute, "addr in " + file, "max_inflight in " + file},
		{"flags over environment", Sources{Flags: flags, Environ: env}, "127.0.0.1:1003", 6, 2 * time.Minute, "--addr", "$OMNIKPI_MAX_INFLIGHT"},
		{"flags alone", Sources{Flags: flags[1:]}, "127.0.0.1:1003", 64, time.Minute, "--addr", "max_inflight"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Build(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if c.Addr != tc.addr || c.MaxInFlight != tc.inflight || time.Duration(c.Journal.MaxLag) != tc.maxLag {
				t.Errorf("addr %s, max_inflight %d, max_lag %v; want %s, %d, %v", c.Addr, c.MaxInFlight, time.Duration(c.Journal.MaxLag), tc.addr, tc.inflight, tc.maxLag)
			}
			if c.Name("addr") != tc.addrFrom || c.Name("max_inflight") != tc.inflightWas {
				t.Errorf("given as %q and %q, want %q and %q", c.Name("addr"), c.Name("max_inflight"), tc.addrFrom, tc.inflightWas)
			}
		})
	}
}

// TestBuild_Mappings: --whatsapp-number adds to the file's numbers, and
// wins over it for the same number.
func TestBuild_Mappings(t *testing.T) {
	file := write(t, `{"whatsapp": {"app_secret": "s", "verify_token": "v", "phone_numbers": {"1001": "shop", "1002": "old"}}}`)
	c, err := Build(Sources{Flags: []Flag{{"config", file}, {"whatsapp-number", "1002=new"}, {"whatsapp-number", "1003=brand"}},
		Environ: []string{EnvWhatsAppVerifyToken + "=from-env"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := Mapping(c.WhatsApp.PhoneNumbers).String(); got != "1001=shop,1002=new,1003=brand" || c.WhatsApp.VerifyToken != "from-env" {
		t.Errorf("numbers %s, verify token %q", got, c.WhatsApp.VerifyToken)
	}
}

// TestBuild_UnknownKey: a key or variable omnikpi does not know is an
// error naming it and where it is.
func TestBuild_UnknownKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  func(t *testing.T) Sources
		want []string
	}{
		{"top-level key", func(t *testing.T) Sources {
			return Sources{Flags: []Flag{{"config", write(t, `{"adr": "127.0.0.1:1"}`)}}}
		}, []string{`unknown key "adr"`, "omnikpi.json"}},
		{"nested key", func(t *testing.T) Sources {
			return Sources{Flags: []Flag{{"config", write(t, `{"journal": {"max_lagg": "1m"}}`)}}}
		}, []string{`unknown key "journal.max_lagg"`, "omnikpi.json"}},
		{"key of an alert rule", func(t *testing.T) Sources {
			return Sources{Flags: []Flag{{"config", write(t, `{"alerts": {"shop": [{"id": "x", "kpi": "ctr", "condition": "below", "window": "1h", "windw": "2h"}]}}`)}}}
		}, []string{`unknown key "alerts.shop[0].windw"`, "omnikpi.json"}},
		{"a key's case", func(t *testing.T) Sources {
			return Sources{Flags: []Flag{{"config", write(t, `{"whatsapp": {"App_Secret": "s"}}`)}}}
		}, []string{`unknown key "whatsapp.App_Secret"`}},
		{"variable", func(t *testing.T) Sources {
			return Sources{Environ: []string{"OMNIKPI_ADR=127.0.0.1:1"}}
		}, []string{"environment", "unknown variable OMNIKPI_ADR"}},
		{"flag", func(t *testing.T) Sources {
			return Sources{Flags: []Flag{{"adr", "127.0.0.1:1"}}}
		}, []string{"unknown flag --adr"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(tc.src(t))
			for _, want := range tc.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%v, want it to say %s", err, want)
				}
			}
		})
	}
	// The variables of the tests and scripts are not serve's, and not errors.
	if _, err := Build(Sources{Environ: []string{"OMNIKPI_CLICKHOUSE=clickhouse://127.0.0.1:9000", "OMNIKPI_TEST_RUN_AS_OMNIKPI=1", "OMNIKPIX=1"}}); err != nil {
		t.Error(err)
	}
}

// TestBuild_Invalid: a wrong value is named as it was given.
func TestBuild_Invalid(t *testing.T) {
	file := func(t *testing.T, text string) Flag { return Flag{"config", write(t, text)} }
	for _, tc := range []struct {
		name string
		src  func(t *testing.T) Sources
		want string
	}{
		{"not a number", func(t *testing.T) Sources { return Sources{Environ: []string{"OMNIKPI_MAX_BODY=16MB"}} }, "OMNIKPI_MAX_BODY"},
		{"not a duration", func(t *testing.T) Sources { return Sources{Flags: []Flag{{"max-lag", "soon"}}} }, "--max-lag"},
		{"negative in the file", func(t *testing.T) Sources { return Sources{Flags: []Flag{file(t, `{"max_body": -1}`)}} }, "max_body in "},
		{"zero lag from a flag", func(t *testing.T) Sources { return Sources{Flags: []Flag{{"max-lag", "0s"}}} }, "--max-lag must be a positive duration"},
		{"log level", func(t *testing.T) Sources { return Sources{Flags: []Flag{file(t, `{"log": "loud"}`)}} }, `log in `},
		{"half of TLS", func(t *testing.T) Sources { return Sources{Environ: []string{"OMNIKPI_TLS_CERT=cert.pem"}} }, "$OMNIKPI_TLS_CERT and tls.key go together"},
		{"TLS files", func(t *testing.T) Sources {
			return Sources{Flags: []Flag{{"tls-cert", "missing.pem"}, {"tls-key", "missing.key"}}}
		}, "--tls-cert missing.pem, --tls-key missing.key"},
		{"ClickHouse without a journal", func(t *testing.T) Sources {
			return Sources{Flags: []Flag{{"db", "clickhouse://127.0.0.1:9000/omnikpi"}}}
		}, "--db clickhouse://127.0.0.1:9000/omnikpi needs a journal directory"},
		{"the WhatsApp webhook", func(t *testing.T) Sources {
			return Sources{Environ: []string{EnvWhatsAppAppSecret + "=s"}}
		}, "verify_token"},
		{"an alert rule", func(t *testing.T) Sources {
			return Sources{Flags: []Flag{file(t, `{"alerts": {"shop": [{"id": "x", "kpi": "happiness", "condition": "above", "window": "1h"}]}}`)},
				CheckAlert: func(r store.AlertRule) error { return errors.New("no KPI " + r.KPI) }}
		}, `alerts.shop[0] (id "x"): no KPI happiness`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Build(tc.src(t)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want it to say %s", err, tc.want)
			}
		})
	}
}

// TestBuild_StoreDefaults: the journal's directory and apply interval
// follow the store unless given.
func TestBuild_StoreDefaults(t *testing.T) {
	c, err := Build(Sources{Flags: []Flag{{"db", "/data/shop.duckdb"}}})
	if err != nil || c.Journal.Dir != "/data/shop.duckdb.journal" || c.Journal.ApplyInterval != 0 {
		t.Errorf("DuckDB: %+v, %v", c.Journal, err)
	}
	c, err = Build(Sources{Flags: []Flag{{"db", "clickhouse://127.0.0.1:9000/omnikpi"}, {"journal", "/var/lib/omnikpi"}}})
	if err != nil || c.Journal.Dir != "/var/lib/omnikpi" || time.Duration(c.Journal.ApplyInterval) != time.Second {
		t.Errorf("ClickHouse: %+v, %v", c.Journal, err)
	}
}

// TestSettings_InTheREADME: the README's table documents every setting
// with its flag, file key and environment variable.
func TestSettings_InTheREADME(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "| ") {
			rows[line] = true
		}
	}
	cell := func(s string) string {
		if s == "" {
			return "—"
		}
		return "`" + s + "`"
	}
	for _, s := range Settings() {
		flag := ""
		if s.Flag != "" {
			flag = "--" + s.Flag
		}
		prefix := "| " + cell(flag) + " | " + cell(s.Key) + " | " + cell(s.Env) + " | " + cell(s.Default()) + " | "
		found := false
		for row := range rows {
			found = found || strings.HasPrefix(row, prefix)
		}
		if !found {
			t.Errorf("the README's configuration table has no row %s…", prefix)
		}
	}
}

// TestBuild_Conversions: a workspace's Conversions API settings are read
// from the file, and a bad endpoint, an unknown event or key is named.
func TestBuild_Conversions(t *testing.T) {
	file := write(t, `{"conversions": {"shop": {"endpoint": "https://graph.facebook.com/v21.0/123/events", "access_token": "t", "events": ["purchase"]}}}`)
	c, err := Build(Sources{Flags: []Flag{{"config", file}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Conversions["shop"]; got.Endpoint != "https://graph.facebook.com/v21.0/123/events" || got.AccessToken != "t" || len(got.Events) != 1 {
		t.Errorf("conversions %+v", c.Conversions)
	}
	for body, want := range map[string]string{
		`{"conversions": {"shop": {"endpoint": "graph.facebook.com/events"}}}`:                 `conversions.shop.endpoint: "graph.facebook.com/events" is not an http or https URL`,
		`{"conversions": {"shop": {"endpoint": "https://x.example/e", "events": ["signup"]}}}`: `conversions.shop.events: unknown event "signup"`,
		`{"conversions": {"shop": {"endpoint": "https://x.example/e", "acces_token": "t"}}}`:   `unknown key "conversions.shop.acces_token"`,
	} {
		if _, err := Build(Sources{Flags: []Flag{{"config", write(t, body)}}}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
}
