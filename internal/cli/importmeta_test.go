package cli

import (
	"strings"
	"testing"
)

// metaTemplates is a template_analytics answer of the Graph API (GET
// /WABA_ID/template_analytics?start=…&end=…&granularity=DAILY
// &metric_types=[SENT,DELIVERED,READ,CLICKED,COST]&template_ids=[…]), as
// Meta's reference documents it: 5 January 2026, UTC.
const metaTemplates = `{
  "data": [
    {
      "granularity": "DAILY",
      "product_type": "CLOUD_API",
      "data_points": [
        {
          "template_id": "1421988012088524",
          "start": 1767571200,
          "end": 1767657600,
          "sent": 2,
          "delivered": 2,
          "read": 1,
          "clicked": [
            {"type": "url_button", "button_content": "Shop now", "count": 1}
          ],
          "cost": [
            {"type": "amount_spent", "value": 0.05},
            {"type": "cost_per_delivered", "value": 0.025}
          ]
        }
      ]
    }
  ],
  "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}}
}`

const metaMessages = `{"id":"s1","ts":"2026-01-05T10:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m1","customer":"c1","template":"promo"}
{"id":"s2","ts":"2026-01-05T10:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m2","customer":"c2","template":"promo"}
{"id":"d1","ts":"2026-01-05T10:00:02Z","kind":"message_delivered","channel":"whatsapp","message":"m1","customer":"c1","props":{"pricing_category":"marketing","pricing_type":"regular","customer_country":"DE"}}
{"id":"r1","ts":"2026-01-05T11:00:00Z","kind":"message_read","channel":"whatsapp","message":"m1","customer":"c1"}
`

// TestImportMeta: 'omnikpi import-meta' stores Meta's answer in the file,
// and again through omnikpi serve while it has the file, once however
// often it is imported; 'omnikpi report --view reconciliation' sets it
// beside omnikpi's messages. A wrong answer is refused, naming the file,
// the place and what is wrong, and nothing of it is stored.
func TestImportMeta(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		if code, _, errOut := run(t, "import", "--db", db, "--workspace", "shop", writeFile(t, "m.jsonl", metaMessages)); code != 0 {
			t.Fatal(errOut)
		}
		if code, _, errOut := run(t, "workspace", "--db", db, "--workspace", "shop", "--rate-card", writeFile(t, "card.csv", "category,country,price\nmarketing,DE,0.025\n"), "--rate-card-currency", "USD"); code != 0 {
			t.Fatal(errOut)
		}
		file := writeFile(t, "templates.json", metaTemplates)
		args := []string{"import-meta", "--db", db, "--workspace", "shop", "--currency", "USD", "--template", "1421988012088524=promo", file}
		code, out, errOut := run(t, args...)
		if code != 0 || !strings.Contains(out, "1 accepted, 0 duplicates") || !strings.Contains(out, "0 pricing and 1 template data points") {
			t.Fatalf("import-meta: exit %d\n%s%s", code, out, errOut)
		}
		report := []string{"report", "--db", db, "--workspace", "shop", "--view", "reconciliation", "--from", "2026-01-01", "--to", "2026-02-01", "--format", "csv"}
		want := []string{
			"2026-01-05,promo,1421988012088524,,,,sent,2,2,0,,",
			"2026-01-05,promo,1421988012088524,,,,delivered,1,2,-1,,",
			"2026-01-05,promo,1421988012088524,,,,read,1,1,0,,",
			"2026-01-05,promo,1421988012088524,,,,clicked,0,1,-1,,",
			"2026-01-05,promo,1421988012088524,,,,cost,0.025,0.05,-0.025,USD,",
		}
		check := func(when string) {
			t.Helper()
			code, out, errOut := run(t, report...)
			if code != 0 || strings.Count(out, "\n") != 1+len(want) {
				t.Fatalf("%s: report: exit %d\n%s%s", when, code, out, errOut)
			}
			for _, w := range want {
				if !strings.Contains(out, w+"\n") {
					t.Errorf("%s: no row %s in\n%s", when, w, out)
				}
			}
		}
		check("imported into the store")

		bad := writeFile(t, "bad.json", strings.Replace(metaTemplates, `"end": 1767657600`, `"end": 1770249600`, 1))
		code, _, errOut = run(t, "import-meta", "--db", db, "--workspace", "shop", "--currency", "USD", bad)
		if code != 1 || !strings.Contains(errOut, bad+": data[0].data_points[0].end (line 10): the bucket 2026-01-05T00:00:00Z to 2026-02-05T00:00:00Z is not within one UTC day") {
			t.Fatalf("a monthly bucket: exit %d: %s", code, errOut)
		}
		if code, _, errOut := run(t, "import-meta", "--db", db, "--workspace", "shop", writeFile(t, "t.json", metaTemplates)); code != 1 || !strings.Contains(errOut, "--currency") {
			t.Fatalf("no currency: exit %d: %s", code, errOut)
		}

		if strings.Contains(db, "://") {
			return // ClickHouse: every command opens the database itself
		}
		cmd, _ := startServer(t, db)
		defer stopServer(cmd)
		code, out, errOut = run(t, args...)
		if code != 0 || !strings.Contains(errOut, "going through its API") || !strings.Contains(out, "0 accepted, 1 duplicates") {
			t.Fatalf("import-meta through the server: exit %d\n%s%s", code, out, errOut)
		}
		check("imported again through the server")
	})
}
