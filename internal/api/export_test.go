package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/kpi"
)

// campaignEvents: campaign c1 sends to three customers; m1 is read, m2
// fails with a WhatsApp error (its status arriving before the send), m3
// fails with another; campaign c2 sends m4, delivered.
const campaignEvents = `{"id":"e2","ts":"2026-03-02T10:01:00Z","kind":"message_failed","channel":"whatsapp","message":"m2","props":{"error_code":"131026","error_title":"Message undeliverable"}}
{"id":"e1","ts":"2026-03-02T10:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m1","customer":"k1","actor":"campaign","campaign":"c1","template":"t1","variant":"A"}
{"id":"e3","ts":"2026-03-02T10:00:01Z","kind":"message_sent","channel":"whatsapp","message":"m2","customer":"k2","actor":"campaign","campaign":"c1","template":"t1","variant":"B"}
{"id":"e4","ts":"2026-03-02T10:00:02Z","kind":"message_sent","channel":"whatsapp","message":"m3","customer":"k3","actor":"campaign","campaign":"c1","template":"t1","variant":"A"}
{"id":"e5","ts":"2026-03-02T10:05:00Z","kind":"message_read","channel":"whatsapp","message":"m1"}
{"id":"e6","ts":"2026-03-02T10:06:00Z","kind":"message_failed","channel":"whatsapp","message":"m3","props":{"error_code":"131049","error_title":"Ecosystem engagement"}}
{"id":"e7","ts":"2026-03-02T11:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m4","customer":"k4","actor":"campaign","campaign":"c2","template":"t2"}
{"id":"e8","ts":"2026-03-02T11:01:00Z","kind":"message_delivered","channel":"whatsapp","message":"m4"}`

func getCSV(t *testing.T, s *server, path string) (int, http.Header, [][]string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.keyA)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return resp.StatusCode, resp.Header, nil
	}
	records, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return resp.StatusCode, resp.Header, records
}

// column returns the CSV's column named name, a value per row.
func column(t *testing.T, records [][]string, name string) []string {
	t.Helper()
	for i, h := range records[0] {
		if h == name {
			var out []string
			for _, r := range records[1:] {
				out = append(out, r[i])
			}
			return out
		}
	}
	t.Fatalf("no column %s in %v", name, records[0])
	return nil
}

func TestRecipientsFailuresAndCSV(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		if _, status, err := applied(s.url, s.keyA).SendEvents(context.Background(), []byte(campaignEvents), "application/x-ndjson"); err != nil || status != 200 {
			t.Fatalf("events: %d %v", status, err)
		}
		period := "from=2026-03-01&to=2026-04-01&tz=Europe/Berlin"

		var rec kpi.RecipientReport
		if status := getJSON(t, s, s.keyA, "/v1/campaigns/recipients?"+period+"&campaign=c1", &rec); status != 200 {
			t.Fatalf("recipients: %d", status)
		}
		got := map[string]string{}
		for _, r := range rec.Recipients {
			got[r.Message] = r.Status + "|" + r.FailureCode + "|" + r.FailureReason
		}
		want := map[string]string{"m1": "read||", "m2": "failed|131026|Message undeliverable", "m3": "failed|131049|Ecosystem engagement"}
		if rec.Total != 3 || len(got) != 3 || got["m1"] != want["m1"] || got["m2"] != want["m2"] || got["m3"] != want["m3"] {
			t.Fatalf("recipients of c1: total %d %v", rec.Total, got)
		}
		if rec.Recipients[0].Sent != "2026-03-02T11:00:00+01:00" || *rec.Recipients[0].Customer != "k1" {
			t.Errorf("first recipient in the workspace's zone: %+v", rec.Recipients[0])
		}
		if status := getJSON(t, s, s.keyA, "/v1/campaigns/recipients?"+period+"&campaign=c1&limit=2", &rec); status != 200 || len(rec.Recipients) != 2 || !rec.Truncated || rec.Total != 3 {
			t.Fatalf("limit 2: %d %+v", status, rec)
		}
		if status, b := call(t, s, http.MethodGet, s.keyA, "/v1/campaigns/recipients?"+period+"&limit=0", ""); status != 400 || !strings.Contains(string(b), `"field":"limit"`) {
			t.Fatalf("limit 0: %d %s", status, b)
		}

		var fail kpi.FailureReport
		if status := getJSON(t, s, s.keyA, "/v1/failures?"+period, &fail); status != 200 {
			t.Fatalf("failures: %d", status)
		}
		if fail.Sent != 4 || fail.Failed != 2 || len(fail.Reasons) != 2 || fail.Reasons[0].Code != "131026" || fail.Reasons[0].Messages != 1 {
			t.Fatalf("failures: %+v", fail)
		}

		// CSV: the same recipients, a row each.
		status, header, records := getCSV(t, s, "/v1/campaigns/recipients?"+period+"&campaign=c1&format=csv")
		if status != 200 || !strings.HasPrefix(header.Get("Content-Type"), "text/csv") || !strings.Contains(header.Get("Content-Disposition"), `filename="campaigns-recipients.csv"`) {
			t.Fatalf("recipients CSV: %d %v", status, header)
		}
		if msgs := column(t, records, "message"); strings.Join(msgs, ",") != "m1,m2,m3" {
			t.Fatalf("CSV messages: %v", msgs)
		}
		if codes := column(t, records, "failure_code"); strings.Join(codes, ",") != ",131026,131049" {
			t.Fatalf("CSV failure codes: %v", codes)
		}

		// The KPI report as CSV: a row per campaign, a column per KPI, the
		// same figures as its JSON.
		var rep kpi.Report
		path := "/v1/kpis?" + period + "&group_by=campaign&kpi=messages_sent,delivery_rate,open_rate"
		if status := getJSON(t, s, s.keyA, path, &rep); status != 200 {
			t.Fatalf("kpis: %d", status)
		}
		_, _, records = getCSV(t, s, path+"&format=csv")
		if len(records) != len(rep.Rows)+1 {
			t.Fatalf("KPI CSV has %d rows for %d groups: %v", len(records)-1, len(rep.Rows), records)
		}
		campaigns, sent := column(t, records, "campaign"), column(t, records, "messages_sent")
		for i, row := range rep.Rows {
			if campaigns[i] != *row.Group["campaign"] {
				t.Fatalf("row %d: %s, JSON %s", i, campaigns[i], *row.Group["campaign"])
			}
			for _, v := range row.KPIs {
				if v.ID == "messages_sent" {
					b, _ := json.Marshal(*v.Value)
					if sent[i] != string(b) {
						t.Errorf("%s messages_sent: CSV %s, JSON %s", campaigns[i], sent[i], b)
					}
				}
			}
		}

		// A cohort gives a row per period, its unit in each header.
		_, _, records = getCSV(t, s, "/v1/cohorts?"+period+"&format=csv")
		if len(records) < 2 || !strings.Contains(strings.Join(records[0], ","), "cohort,customers,period,active,buyers,retained (%),bought (%)") {
			t.Fatalf("cohorts CSV: %v", records)
		}
		if status, b := call(t, s, http.MethodGet, s.keyA, "/v1/kpis?"+period+"&format=xml", ""); status != 400 || !strings.Contains(string(b), `"field":"format"`) {
			t.Fatalf("format=xml: %d %s", status, b)
		}
	})
}

func TestCurrencyFilter(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		events := order("o1", "o1", "10") + "\n" + strings.ReplaceAll(strings.ReplaceAll(order("o2", "o2", "150000"), "EUR", "IDR"), `"o2"`, `"o2"`)
		if _, status, err := applied(s.url, s.keyA).SendEvents(context.Background(), []byte(events), "application/x-ndjson"); err != nil || status != 200 {
			t.Fatalf("events: %d %v", status, err)
		}
		currencies := func(path string) string {
			var rep kpi.Report
			if status := getJSON(t, s, s.keyA, path, &rep); status != 200 {
				t.Fatalf("%s: %d", path, status)
			}
			var out []string
			for _, v := range rep.Rows[0].KPIs {
				out = append(out, v.ID+":"+v.Currency)
			}
			return strings.Join(out, ",")
		}
		base := "/v1/kpis?from=2026-01-01&to=2026-02-01&kpi=gross_revenue,transactions"
		if got := currencies(base); got != "gross_revenue:EUR,gross_revenue:IDR,transactions:" {
			t.Fatalf("all currencies: %s", got)
		}
		if got := currencies(base + "&currency=eur"); got != "gross_revenue:EUR,transactions:" {
			t.Fatalf("currency=eur: %s", got)
		}
		if status, b := call(t, s, http.MethodGet, s.keyA, base+"&currency=EURO", ""); status != 400 || !strings.Contains(string(b), `"field":"currency"`) {
			t.Fatalf("currency=EURO: %d %s", status, b)
		}
	})
}
