package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store/duckdb"
)

// viewEvents give every view something to show: a campaign with two
// variants, reads, a failure, replies, an open conversation, orders, an
// opt-out, pricing (one utility template billed as marketing), Meta's
// figures of a template, a button click and a chat from an ad.
const viewEvents = `{"id":"s1","ts":"2026-01-05T10:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m1","customer":"k1","actor":"campaign","campaign":"spring","template":"promo","variant":"A"}
{"id":"s2","ts":"2026-01-05T10:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m2","customer":"k2","actor":"campaign","campaign":"spring","template":"promo","variant":"B","props":{"template_category":"utility"}}
{"id":"s3","ts":"2026-01-05T10:00:00Z","kind":"message_sent","channel":"whatsapp","message":"m3","customer":"k3","actor":"campaign","campaign":"spring","template":"promo","variant":"A"}
{"id":"r1","ts":"2026-01-05T10:05:00Z","kind":"message_read","channel":"whatsapp","message":"m1","props":{"pricing_category":"marketing","pricing_type":"regular","customer_country":"ID"}}
{"id":"r2","ts":"2026-01-05T11:05:00Z","kind":"message_read","channel":"whatsapp","message":"m2","props":{"pricing_category":"marketing","pricing_type":"regular","customer_country":"ID"}}
{"id":"f3","ts":"2026-01-05T10:01:00Z","kind":"message_failed","channel":"whatsapp","message":"m3","props":{"error_code":"131026","error_title":"Message undeliverable"}}
{"id":"i1","ts":"2026-01-05T12:00:00Z","kind":"message_received","channel":"whatsapp","conversation":"c1","customer":"k1","message":"m4","text":"ada baju merah?"}
{"id":"o1","ts":"2026-01-06T10:00:00Z","kind":"order_placed","channel":"whatsapp","customer":"k1","order":"o1","amount":"25.50","currency":"EUR"}
{"id":"o2","ts":"2026-01-20T10:00:00Z","kind":"order_placed","channel":"web","customer":"k2","order":"o2","amount":"150000","currency":"IDR"}
{"id":"v1","ts":"2026-01-04T10:00:00Z","kind":"site_session","channel":"web","customer":"k2","duration_ms":60000,"props":{"url":"https://shop.example.com/?utm_source=instagram"}}
{"id":"b1","ts":"2026-01-05T10:06:00Z","kind":"button_clicked","channel":"whatsapp","message":"m1","props":{"title":"Shop now","payload":"SHOP"}}
{"id":"ad1","ts":"2026-01-05T11:30:00Z","kind":"lead_created","channel":"whatsapp","customer":"k1","source":"ad","medium":"click_to_whatsapp","props":{"ad_id":"120210000000001","ctwa_clid":"CLID1","referral":{"source_id":"120210000000001","headline":"Spring sale"}}}
{"id":"x3","ts":"2026-01-05T10:30:00Z","kind":"opted_out","channel":"whatsapp","customer":"k3","props":{"reason":"stop_word"}}
{"id":"wa:q1","ts":"2026-01-06T08:00:00Z","kind":"channel_event","channel":"whatsapp","props":{"type":"phone_number_quality_update","display_phone_number":"6221500100","event":"FLAGGED","current_limit":"TIER_10K","health_signal":"quality_drop"}}
{"id":"meta1","ts":"2026-01-05T00:00:00Z","kind":"channel_event","channel":"whatsapp","template":"promo","props":{"type":"meta_template_analytics","key":"t1","template_id":"1421988012088524","fetched_ms":1767700000000,"sent":3,"delivered":2}}`

// viewArgs are the parameters each view is asked with, as flags and as a
// query; the A/B test needs a campaign.
var viewArgs = map[string][]string{
	"kpis":        {"group_by", "campaign,variant", "kpi", "messages_sent,open_rate,gross_revenue,first_response_time,frt_distribution", "compare", "previous"},
	"abtest":      {"campaign", "spring"},
	"attribution": {"by", "channel,source"},
	"funnel":      {"steps", "message_read,order_placed"},
	"cohorts":     {"period", "week"},
	"segments":    {"kpi", "transactions,gross_revenue"},
	// Ages and states are measured at a moment: the same for both.
	"unclosed": {"at", "2026-02-01T09:00:00Z"},
	"abtests":  {"at", "2026-02-01T09:00:00Z"},
}

// TestViews_CSVSameFromCLIAndAPI: for every registered view, 'omnikpi
// report --view V --format csv' on the file and GET V's route with
// format=csv over the same file answer byte for byte the same CSV.
func TestViews_CSVSameFromCLIAndAPI(t *testing.T) {
	db := filepath.Join(t.TempDir(), "views.duckdb")
	if code, _, errOut := run(t, "import", "--db", db, "--workspace", "shop", writeFile(t, "v.jsonl", viewEvents)); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := run(t, "workspace", "--db", db, "--workspace", "shop", "--timezone", "Europe/Berlin"); code != 0 {
		t.Fatal(errOut)
	}
	period := []string{"from", "2026-01-01", "to", "2026-02-01"}
	cli := map[string][]byte{}
	for _, v := range kpi.Views() {
		args := []string{"report", "--db", db, "--workspace", "shop", "--view", v.Name, "--format", "csv"}
		pairs := viewArgs[v.Name]
		if v.Request {
			pairs = append(append([]string{}, period...), pairs...)
		}
		for i := 0; i < len(pairs); i += 2 {
			args = append(args, "--"+strings.ReplaceAll(pairs[i], "_", "-"), pairs[i+1])
		}
		code, out, errOut := run(t, args...)
		if code != 0 {
			t.Fatalf("report --view %s: exit %d: %s", v.Name, code, errOut)
		}
		if strings.Count(out, "\n") < 2 && v.Name != "alerts" && v.Name != "firings" {
			t.Errorf("report --view %s: no rows:\n%s", v.Name, out)
		}
		cli[v.Name] = []byte(out)
	}

	ctx := context.Background()
	s, err := duckdb.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	engine, err := kpi.New(s)
	if err != nil {
		t.Fatal(err)
	}
	plain, key := api.NewKey("shop")
	if err := s.AddKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(s, nil, engine, slog.New(slog.NewTextHandler(io.Discard, nil)), api.Options{}))
	defer srv.Close()
	for _, v := range kpi.Views() {
		q := url.Values{"format": {"csv"}}
		pairs := viewArgs[v.Name]
		if v.Request {
			pairs = append(append([]string{}, period...), pairs...)
		}
		for i := 0; i < len(pairs); i += 2 {
			q.Set(pairs[i], pairs[i+1])
		}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+v.Path+"?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+plain)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d %s", v.Path, resp.StatusCode, body)
			continue
		}
		if !bytes.Equal(body, cli[v.Name]) {
			t.Errorf("--view %s: the CLI's CSV\n%s\nis not the API's\n%s", v.Name, cli[v.Name], body)
		}
	}
	// The money of the report is raw, its currency in the header.
	if !bytes.Contains(cli["kpis"], []byte("gross_revenue (EUR)")) || !bytes.Contains(cli["kpis"], []byte(",25.5,")) {
		t.Errorf("KPI CSV:\n%s", cli["kpis"])
	}
}

// TestViews_InOpenAPIAndCLI: every registered view is a path of the
// OpenAPI document with each of its parameters, and a --view of 'omnikpi
// report' with a flag per parameter.
func TestViews_InOpenAPIAndCLI(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Description string
			Parameters  []struct {
				Ref  string `json:"$ref"`
				Name string
			}
		}
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	_, _, usage := run(t, "report", "--help")
	views := kpi.Views()
	if len(views) < 13 {
		t.Fatalf("only %d views registered", len(views))
	}
	for _, v := range views {
		op, ok := doc.Paths[v.Path]["get"]
		if !ok {
			t.Errorf("view %s: GET %s is not in the OpenAPI document", v.Name, v.Path)
			continue
		}
		documented := map[string]bool{}
		for _, p := range op.Parameters {
			documented[p.Name+strings.TrimPrefix(p.Ref, "#/components/parameters/")] = true
		}
		if v.Request && !documented["from"] {
			t.Errorf("view %s: from= is not documented", v.Name)
		}
		for _, p := range v.Params {
			if !documented[p.Name] {
				t.Errorf("view %s: %s= is not documented", v.Name, p.Name)
			}
			if !p.InRequest && !strings.Contains(usage, "-"+strings.ReplaceAll(p.Name, "_", "-")+" ") {
				t.Errorf("view %s: no --%s in report's usage", v.Name, p.Name)
			}
		}
		for _, c := range v.Columns {
			if !strings.Contains(op.Description, c.Header()) {
				t.Errorf("view %s: the CSV column %s is not described", v.Name, c.Header())
			}
		}
		if !strings.Contains(usage, v.Name+" ("+v.Summary+")") {
			t.Errorf("view %s is not in report's --view usage", v.Name)
		}
	}
	// A view's flag given to a view that does not take it is an error
	// naming it.
	if code, _, errOut := run(t, "report", "--db", filepath.Join(t.TempDir(), "x.duckdb"), "--workspace", "shop", "--view", "cohorts", "--family", "rfm"); code == 0 || !strings.Contains(errOut, "--family") {
		t.Errorf("--family with --view cohorts: exit %d, %q", code, errOut)
	}
}
