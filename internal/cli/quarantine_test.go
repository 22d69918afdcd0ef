package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
	"github.com/omnikpi/omnikpi/internal/store"
)

const unmappedNumber = "410000000000001" // the campaign day's number

func campaignDayBody(t *testing.T) []byte {
	t.Helper()
	body, err := os.ReadFile("../ingest/whatsapp/testdata/campaign_day.json")
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func sentInJanuary(t *testing.T, db string) float64 {
	t.Helper()
	rep := reportJSON(t, db, "--workspace", "shop", "--from", "2026-01-01", "--to", "2026-01-02", "--kpi", "messages_sent")
	if v := kpiValue(t, rep, "messages_sent", ""); v.Value != nil {
		return *v.Value
	}
	return 0
}

// TestQuarantine_ListAndIngest lists the quarantine of a store and ingests
// the parts of a number mapped on the command line, once.
func TestQuarantine_ListAndIngest(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		ctx := context.Background()
		s, err := openStore(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		res, err := whatsapp.Parse(campaignDayBody(t), whatsapp.Options{})
		if err != nil || len(res.Unrouted) != 4 {
			t.Fatalf("%d unrouted parts, %v", len(res.Unrouted), err)
		}
		var parts []store.QuarantinedPart
		for _, u := range res.Unrouted {
			parts = append(parts, store.QuarantinedPart{ID: u.ID(), Source: "whatsapp", PhoneNumberID: u.PhoneNumberID, AccountID: u.AccountID, Part: u.Change})
		}
		if err := s.(store.Quarantine).Quarantine(ctx, parts); err != nil {
			t.Fatal(err)
		}
		s.Close()

		code, out, errOut := run(t, "quarantine", "list", "--db", db)
		if code != 0 || !strings.Contains(out, "4 parts, 4 waiting") || strings.Count(out, unmappedNumber) != 4 {
			t.Fatalf("list: exit %d, %q, %q", code, out, errOut)
		}
		code, out, _ = run(t, "quarantine", "ingest", "--db", db, "--whatsapp-number", "410000000000999=shop")
		if code != 0 || !strings.Contains(out, "0 quarantined parts ingested (0 events; an event stored before counts once), 4 still wait") {
			t.Errorf("ingest of another number: exit %d, %q", code, out)
		}
		for range 2 {
			code, out, errOut = run(t, "quarantine", "ingest", "--db", db, "--whatsapp-number", unmappedNumber+"=shop")
			if code != 0 || !strings.Contains(out, "quarantined parts ingested") || !strings.Contains(out, ", 0 still wait") {
				t.Errorf("ingest: exit %d, %q, %q", code, out, errOut)
			}
		}
		if got := sentInJanuary(t, db); got != 4 {
			t.Errorf("messages_sent = %v, want 4", got)
		}
		code, out, _ = run(t, "quarantine", "list", "--db", db, "--format", "json")
		if code != 0 || !strings.Contains(out, `"waiting": 0`) || !strings.Contains(out, `"workspace": "shop"`) {
			t.Errorf("list after ingestion: exit %d, %q", code, out)
		}
	})
}

// TestServe_QuarantineIngestedAtStart: a real omnikpi serve keeps the
// webhook of a number it does not map, the commands list it through its
// API, and the next serve whose configuration maps the number ingests it
// at start.
func TestServe_QuarantineIngestedAtStart(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		config := writeFile(t, "omnikpi.json", `{"whatsapp": {"app_secret": "s3cret", "verify_token": "vt", "phone_numbers": {"410000000000777": "other"}}}`)
		cmd, base := startServer(t, db, "--config", config)
		defer cmd.Process.Kill()
		body := campaignDayBody(t)
		for range 2 { // Meta re-sends: kept once
			req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/whatsapp", bytes.NewReader(body))
			req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(body, "s3cret"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(answer), `"quarantined":4`) {
				t.Fatalf("webhook: %d %s", resp.StatusCode, answer)
			}
		}
		code, out, errOut := run(t, "quarantine", "list", "--db", db)
		if code != 0 || !strings.Contains(out, "4 parts, 4 waiting") {
			t.Fatalf("list: exit %d, %q, %q", code, out, errOut)
		}
		if code, out, _ := run(t, "quarantine", "ingest", "--db", db); code != 0 || !strings.Contains(out, "0 quarantined parts ingested") {
			t.Errorf("ingest without a mapping: exit %d, %q", code, out)
		}
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()

		cmd, _ = startServer(t, db, "--config", config, "--whatsapp-number", unmappedNumber+"=shop")
		defer cmd.Process.Kill()
		cmd.Process.Signal(os.Interrupt) // a clean stop applies the journal
		cmd.Wait()
		if got := sentInJanuary(t, db); got != 4 {
			t.Errorf("messages_sent = %v, want 4", got)
		}
		if code, out, _ := run(t, "quarantine", "list", "--db", db); code != 0 || !strings.Contains(out, "4 parts, 0 waiting") {
			t.Errorf("list after the start: exit %d, %q", code, out)
		}
	})
}
