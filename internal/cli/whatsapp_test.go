package cli

import (
	"bytes"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
)

// TestServe_WhatsAppWebhookToReport is the path of a real deployment: a
// rate card set with 'omnikpi workspace', a webhook signed as Meta signs it
// posted to a running 'omnikpi serve' configured by file, and the figures
// read back with 'omnikpi report'.
func TestServe_WhatsAppWebhookToReport(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		card := writeFile(t, "card.csv", "category,country,price\nmarketing,ID,0.0411\nmarketing,MY,0.086\nmarketing,,0.025\nutility,,0.01\n")
		if code, _, errOut := run(t, "workspace", "--db", db, "--workspace", "shop", "--rate-card", card, "--rate-card-currency", "USD"); code != 0 {
			t.Fatalf("workspace: %s", errOut)
		}
		config := writeFile(t, "omnikpi.json", `{"whatsapp": {"app_secret": "s3cret", "verify_token": "vt",
			"phone_numbers": {"410000000000001": "shop"}}}`)
		cmd, base := startServer(t, db, "--config", config)
		defer cmd.Process.Kill()

		resp, err := http.Get(base + "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=42")
		if err != nil {
			t.Fatal(err)
		}
		challenge, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(challenge) != "42" {
			t.Fatalf("handshake: %d %q", resp.StatusCode, challenge)
		}
		body, err := os.ReadFile("../ingest/whatsapp/testdata/campaign_day.json")
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/whatsapp", bytes.NewReader(body))
		req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(body, "s3cret"))
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(answer), `"queued":11`) {
			t.Fatalf("webhook: %d %s", resp.StatusCode, answer)
		}
		cmd.Process.Signal(os.Interrupt) // a clean stop applies the journal and releases the DuckDB file
		cmd.Wait()

		rep := reportJSON(t, db, "--workspace", "shop", "--from", "2026-01-01", "--to", "2026-01-02",
			"--kpi", "messages_sent,messages_delivered,messages_read,messages_failed,ctr,cost_per_recipient")
		for id, want := range map[string]float64{"messages_sent": 4, "messages_delivered": 3, "messages_read": 2, "messages_failed": 1, "ctr": 25} {
			if v := kpiValue(t, rep, id, ""); v.Value == nil || *v.Value != want {
				t.Errorf("%s = %v, want %v", id, v.Value, want)
			}
		}
		// Billable marketing messages to Indonesia, Malaysia and Singapore
		// (the card's other-country price); the failed one has no pricing.
		cost := kpiValue(t, rep, "cost_per_recipient", "USD")
		if math.Abs(cost.Numerator-(0.0411+0.086+0.025)) > 1e-9 || cost.Denominator != 4 {
			t.Errorf("cost per recipient %v/%v, want 0.1521/4", cost.Numerator, cost.Denominator)
		}
	})
}

func TestWorkspace_RateCardAndStopWords(t *testing.T) {
	db := writeFile(t, "x", "")
	os.Remove(db)
	for name, tc := range map[string]struct{ csv, want string }{
		"no header":         {"", "no header"},
		"missing column":    {"country,price\nID,0.1\n", `no "category" column`},
		"unknown column":    {"category,country,prize\nmarketing,ID,0.1\n", `unknown column "prize"`},
		"bad tier":          {"category,price,tier_from\nutility,0.1,many\n", `line 2: tier_from "many" is not a whole number`},
		"overlapping tiers": {"category,price,tier_from,tier_to\nutility,0.02,1,100\nutility,0.01,50,\n", "line 3: utility/ is priced twice"},
		"bad date":          {"from,category,price\n1 April,utility,0.1\n", `line 2: from "1 April" must be a date`},
		"bad price":         {"category,country,price\nmarketing,ID,0.1\nutility,ID,cheap\n", "line 3: price \"cheap\""},
		"bad country":       {"category,country,price\nmarketing,Indonesia,0.1\n", "line 2: country \"INDONESIA\""},
		"priced twice":      {"category,country,price\nmarketing,ID,0.1\nmarketing,id,0.2\n", "line 3: marketing/ID is priced twice"},
		"missing currency":  {"category,country,price\nmarketing,ID,0.1\n", "--rate-card-currency"},
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"workspace", "--db", db, "--workspace", "shop", "--rate-card", writeFile(t, "card.csv", tc.csv)}
			if name != "missing currency" {
				args = append(args, "--rate-card-currency", "USD")
			}
			code, _, errOut := run(t, args...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q, want it to say %q", code, errOut, tc.want)
			}
		})
	}
	// A new quarter's card is added to the history; a corrected one
	// replaces its own date's rows only.
	q1 := writeFile(t, "q1.csv", "category,country,price\nmarketing,ID,0.0411\n")
	q2 := writeFile(t, "q2.csv", "from,category,country,currency,price\n2026-04-01,marketing,ID,USD,0.05\n2026-04-01,utility,ID,USD,0.01\n")
	q2fixed := writeFile(t, "q2b.csv", "from,category,country,price\n2026-04-01,marketing,ID,0.048\n")
	for _, args := range [][]string{{q1, "--rate-card-currency", "USD"}, {q2}, {q2fixed, "--rate-card-currency", "USD"}} {
		if code, _, errOut := run(t, append([]string{"workspace", "--db", db, "--workspace", "shop", "--rate-card"}, args...)...); code != 0 {
			t.Fatalf("rate card %s: %s", args[0], errOut)
		}
	}
	code, out, errOut := run(t, "workspace", "--db", db, "--workspace", "shop")
	if code != 0 || strings.Count(out, `"category"`) != 2 || !strings.Contains(out, `"price": "0.0411"`) ||
		!strings.Contains(out, `"from": "2026-04-01"`) || !strings.Contains(out, `"price": "0.048"`) || strings.Contains(out, "0.05") {
		t.Fatalf("rate card versions: %d %s %s", code, out, errOut)
	}
	code, out, errOut = run(t, "workspace", "--db", db, "--workspace", "shop", "--stop-words", "cukup, sudah")
	if code != 0 || !strings.Contains(out, `"stop_words": [`) || !strings.Contains(out, `"sudah"`) {
		t.Fatalf("stop words: %d %s %s", code, out, errOut)
	}
	code, out, _ = run(t, "workspace", "--db", db, "--workspace", "shop", "--stop-words", "default")
	if code != 0 || strings.Contains(out, "stop_words") {
		t.Errorf("default stop words not restored: %s", out)
	}
}
