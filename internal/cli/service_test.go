package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/kpi"
)

const serviceEvents = `{"id":"1","ts":"2026-01-09T16:50:00Z","kind":"message_received","channel":"whatsapp","conversation":"c1","customer":"k1","message":"m1","text":"Apakah baju batik ini masih ada?"}
{"id":"2","ts":"2026-01-12T09:10:00Z","kind":"message_sent","channel":"whatsapp","conversation":"c1","customer":"k1","message":"m2","actor":"agent","agent":"ana"}
{"id":"3","ts":"2026-01-12T10:00:00Z","kind":"conversation_resolved","channel":"whatsapp","conversation":"c1","customer":"k1","agent":"ana"}
{"id":"4","ts":"2026-01-13T11:00:00Z","kind":"message_received","channel":"web","conversation":"c2","customer":"k2","message":"m3","text":"baju batik size XL?"}
{"id":"5","ts":"2026-01-13T11:00:40Z","kind":"message_sent","channel":"web","conversation":"c2","customer":"k2","message":"m4","actor":"agent","agent":"bob"}
{"id":"6","ts":"2026-01-13T11:05:00Z","kind":"message_received","channel":"web","conversation":"c2","customer":"k2","message":"m5","text":"请问这件衣服还有货吗"}
`

// TestReport_ServiceViews reaches the service KPIs from the command line:
// per agent, in business hours once the workspace has them, and the
// unclosed-conversation and keyword views.
func TestReport_ServiceViews(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		if code, _, errOut := run(t, "import", "--db", db, "--workspace", "shop", writeFile(t, "chat.jsonl", serviceEvents)); code != 0 {
			t.Fatalf("import: %s", errOut)
		}
		period := []string{"--workspace", "shop", "--from", "2026-01-01", "--to", "2026-02-01"}
		frt := func(extra ...string) map[string]float64 {
			rep := reportJSON(t, db, append(append(period, "--kpi", "first_response_time", "--group-by", "agent"), extra...)...)
			out := map[string]float64{}
			for _, row := range rep.Rows {
				out[*row.Group["agent"]] = *row.KPIs[0].Value
			}
			return out
		}
		if got := frt(); got["ana"] != 231600 || got["bob"] != 40 {
			t.Errorf("wall-clock FRT per agent: %v", got)
		}
		if code, _, errOut := run(t, append(append([]string{"report", "--db", db}, period...), "--hours", "business")...); code == 0 || !strings.Contains(errOut, "no business hours") {
			t.Errorf("business time without hours: exit %d, %q", code, errOut)
		}
		if code, _, errOut := run(t, "workspace", "--db", db, "--workspace", "shop", "--business-hours", "mon-fri 09:00-17:00", "--holidays", "2026-01-01"); code != 0 {
			t.Fatalf("workspace: %s", errOut)
		}
		// Friday 16:50 → Monday 09:10: 20 minutes open.
		if got := frt("--hours", "business"); got["ana"] != 1200 || got["bob"] != 40 {
			t.Errorf("business FRT per agent: %v", got)
		}
		code, out, errOut := run(t, append(append([]string{"report", "--db", db}, period...), "--view", "unclosed", "--format", "csv")...)
		if code != 0 {
			t.Fatalf("unclosed: %s", errOut)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) != 2 || rows[1][0] != "c2" || rows[1][6] != "customer" {
			t.Errorf("unclosed CSV: %v %q", err, out)
		}
		code, out, errOut = run(t, append(append([]string{"report", "--db", db}, period...), "--view", "keywords", "--format", "json", "--limit", "3")...)
		if code != 0 {
			t.Fatalf("keywords: %s", errOut)
		}
		var kw kpi.KeywordReport
		if err := json.Unmarshal([]byte(out), &kw); err != nil || len(kw.Keywords) != 3 || kw.Keywords[0] != (kpi.Keyword{Term: "baju", Messages: 2}) {
			t.Errorf("keywords: %v %s", err, out)
		}
		if code, _, errOut := run(t, "workspace", "--db", db, "--workspace", "shop", "--business-hours", "someday 09:00-17:00"); code == 0 || !strings.Contains(errOut, "someday") {
			t.Errorf("bad hours: exit %d, %q", code, errOut)
		}
	})
}

// TestReport_FunnelAndAttributionViews reaches the funnel views from the
// command line.
func TestReport_FunnelAndAttributionViews(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		events := `{"id":"v","ts":"2026-01-05T10:00:00Z","kind":"site_session","channel":"web","customer":"k1","duration_ms":60000,"url":"https://shop.example.com/?gclid=abc"}
{"id":"m","ts":"2026-01-06T10:00:00Z","kind":"message_received","channel":"whatsapp","customer":"k1","message":"m1"}
{"id":"o","ts":"2026-01-06T12:00:00Z","kind":"order_placed","channel":"whatsapp","customer":"k1","order":"o1","amount":"30","currency":"EUR"}
`
		if code, _, errOut := run(t, "import", "--db", db, "--workspace", "shop", writeFile(t, "j.jsonl", events)); code != 0 {
			t.Fatalf("import: %s", errOut)
		}
		period := []string{"report", "--db", db, "--workspace", "shop", "--from", "2026-01-01", "--to", "2026-02-01"}
		code, out, errOut := run(t, append(period, "--view", "attribution", "--by", "channel,source", "--format", "csv")...)
		if code != 0 {
			t.Fatalf("attribution: %s", errOut)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) != 3 || rows[0][3] != "first_touch_revenue (currency)" {
			t.Fatalf("attribution CSV: %v %q", err, out)
		}
		for _, r := range rows[1:] {
			if r[0] == "web" && (r[1] != "google" || r[3] != "30" || r[5] != "0" || r[7] != "15") {
				t.Errorf("web row %v", r)
			}
		}
		code, out, errOut = run(t, append(period, "--view", "funnel", "--steps", "site_session,message_received,order_placed", "--within", "2d")...)
		if code != 0 || !strings.Contains(strings.Join(strings.Fields(out), " "), "order_placed 1 100.0 % 100.0 %") {
			t.Errorf("ordered funnel: %d %s %s", code, out, errOut)
		}
		code, out, _ = run(t, append(period, "--view", "funnel", "--format", "json")...)
		var stages kpi.StagesReport
		if code != 0 || json.Unmarshal([]byte(out), &stages) != nil || len(stages.Stages) == 0 {
			t.Errorf("stages: %d %s", code, out)
		}
	})
}

// TestServe_ConfigAlerts: alert rules of the configuration file join the
// workspace's, marked as such; a bad rule stops serve with its reason.
func TestServe_ConfigAlerts(t *testing.T) {
	db := filepath.Join(t.TempDir(), "alerts.duckdb")
	code, key, errOut := run(t, "keys", "create", "--db", db, "--workspace", "shop")
	if code != 0 {
		t.Fatal(errOut)
	}
	config := writeFile(t, "omnikpi.json", `{"alerts": {"shop": [{"id": "optout", "kpi": "opt_out_rate", "condition": "below_band", "window": "168h"}]}}`)
	cmd, base := startServer(t, db, "--config", config, "--alert-interval", "50ms")
	defer cmd.Process.Kill()
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/alerts", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(key))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Alerts []struct{ ID, Source string } }
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Alerts) != 1 || list.Alerts[0].ID != "optout" || list.Alerts[0].Source != "config" {
		t.Errorf("rules %+v", list)
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	bad := writeFile(t, "bad.json", `{"alerts": {"shop": [{"id": "x", "kpi": "happiness", "condition": "above", "window": "1h"}]}}`)
	if code, _, errOut := run(t, "serve", "--db", db, "--config", bad, "--addr", "127.0.0.1:0"); code == 0 || !strings.Contains(errOut, "happiness") {
		t.Errorf("a bad rule: exit %d, %q", code, errOut)
	}
}

// TestReport_AnalysisViews runs each analysis view from the command line.
func TestReport_AnalysisViews(t *testing.T) {
	db := filepath.Join(t.TempDir(), "analysis.duckdb")
	var lines []string
	for i, v := range []string{"A", "B", "A", "B"} {
		lines = append(lines,
			`{"id":"s`+v+string(rune('0'+i))+`","ts":"2026-01-05T10:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m`+string(rune('0'+i))+`","customer":"k`+string(rune('0'+i))+`","actor":"campaign","campaign":"spring","template":"promo","variant":"`+v+`"}`,
			`{"id":"r`+string(rune('0'+i))+`","ts":"2026-01-05T10:05:00Z","kind":"message_read","channel":"whatsapp","message":"m`+string(rune('0'+i))+`","customer":"k`+string(rune('0'+i))+`"}`,
			`{"id":"o`+string(rune('0'+i))+`","ts":"2026-01-06T10:00:00Z","kind":"order_placed","order":"o`+string(rune('0'+i))+`","customer":"k`+string(rune('0'+i))+`","amount":"10","currency":"EUR"}`)
	}
	if code, _, errOut := run(t, "import", "--db", db, "--workspace", "shop", writeFile(t, "a.jsonl", strings.Join(lines, "\n"))); code != 0 {
		t.Fatal(errOut)
	}
	period := []string{"report", "--db", db, "--workspace", "shop", "--from", "2026-01-01", "--to", "2026-02-01"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--view", "abtest", "--template", "promo"}, "no difference between B and A on open rate so far"},
		{[]string{"--view", "sendtime", "--tz", "Europe/Berlin"}, "mon  11:00"},
		{[]string{"--view", "cohorts"}, "2026-01-01T00:00:00Z  4"},
		{[]string{"--view", "segments", "--family", "rfm", "--kpi", "transactions"}, "rfm:"},
		{[]string{"--kpi", "transactions", "--compare", "previous,last_year"}, "PREVIOUS"},
		{[]string{"--kpi", "transactions", "--segment", "rfm:new"}, "Transactions"},
	} {
		code, out, errOut := run(t, append(period, tc.args...)...)
		if code != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, %s%s", tc.args, code, out, errOut)
		}
	}
}

// TestServe_TLS: with --tls-cert and --tls-key serve answers HTTPS and
// the sign-in cookies are Secure; a key file that does not fit stops serve
// naming the files.
func TestServe_TLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	db := filepath.Join(dir, "tls.duckdb")
	code, key, errOut := run(t, "keys", "create", "--db", db, "--workspace", "shop")
	if code != 0 {
		t.Fatal(errOut)
	}
	cmd, base := startServer(t, db, "--tls-cert", certFile, "--tls-key", keyFile)
	defer cmd.Process.Kill()
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("base URL %s", base)
	}
	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(certFile)
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Post(base+"/v1/session", "application/json", strings.NewReader(`{"key":"`+strings.TrimSpace(key)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(resp.Cookies()) != 2 {
		t.Fatalf("sign-in over HTTPS: %d %v", resp.StatusCode, resp.Cookies())
	}
	for _, c := range resp.Cookies() {
		if !c.Secure || c.SameSite != http.SameSiteStrictMode {
			t.Errorf("cookie %s: Secure %v SameSite %v", c.Name, c.Secure, c.SameSite)
		}
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if code, _, errOut := run(t, "serve", "--db", db, "--addr", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", certFile); code == 0 || !strings.Contains(errOut, "--tls-key "+certFile) {
		t.Errorf("a certificate as key: exit %d, %q", code, errOut)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(priv)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}
