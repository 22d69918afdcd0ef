package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/ingest/shop"
	"github.com/omnikpi/omnikpi/internal/ingest/shopify"
	"github.com/omnikpi/omnikpi/internal/ingest/woocommerce"
	"github.com/omnikpi/omnikpi/internal/kpi"
)

// webhook is a request as a shop platform sends it.
type webhook struct {
	path   string
	header http.Header
	body   []byte
}

// fixtureWith reads a source's test body with fields replaced.
func fixtureWith(t *testing.T, path string, fields map[string]any) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		m[k] = v
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func shopifyHook(t *testing.T, topic string, body []byte) webhook {
	h := http.Header{}
	h.Set(shopify.TopicHeader, topic)
	h.Set(shopify.ShopHeader, "batik-sari.myshopify.com")
	h.Set(shopify.WebhookIDHeader, topic+"-"+shop.Sign(body, "id")[:8])
	h.Set(shopify.SignatureHeader, shop.Sign(body, "shpss_s3cret"))
	return webhook{"/webhooks/shopify", h, body}
}

func wooHook(t *testing.T, topic string, body []byte) webhook {
	h := http.Header{}
	h.Set(woocommerce.TopicHeader, topic)
	h.Set(woocommerce.SourceHeader, "https://kedai.example.com/")
	h.Set(woocommerce.SignatureHeader, shop.Sign(body, "wc-s3cret"))
	return webhook{"/webhooks/woocommerce", h, body}
}

func post(t *testing.T, base string, w webhook) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+w.path, bytes.NewReader(w.body))
	req.Header = w.header.Clone()
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// shopWebhooks are a month of two shops: Shopify's in rupiah, WooCommerce's
// in ringgit, with refunds, cancellations, the same order under several
// topics and a test order.
func shopWebhooks(t *testing.T) []webhook {
	const sfy, woo = "../ingest/shopify/testdata/", "../ingest/woocommerce/testdata/order.json"
	orderA := fixtureWith(t, sfy+"orders_create.json", nil) // 459,000 IDR from an Instagram ad
	refundA := fixtureWith(t, sfy+"refunds_create.json", nil)
	var refund any
	d := json.NewDecoder(bytes.NewReader(refundA))
	d.UseNumber()
	if err := d.Decode(&refund); err != nil {
		t.Fatal(err)
	}
	orderB := map[string]any{"id": 5731088765200, "name": "#1043", "created_at": "2026-03-04T09:00:00+07:00", "landing_site": nil, "referring_site": nil,
		"total_price": "300000.00", "total_price_set": map[string]any{"presentment_money": map[string]any{"amount": "300000.00", "currency_code": "IDR"}},
		"customer": map[string]any{"id": 7019283746600, "phone": "+6281234567002"}}
	cancelledB := map[string]any{"cancelled_at": "2026-03-04T12:00:00+07:00", "cancel_reason": "customer"}
	for k, v := range orderB {
		cancelledB[k] = v
	}
	orderC := map[string]any{"id": 5731088765300, "name": "#1044", "created_at": "2026-03-10T20:00:00+07:00",
		"landing_site": "/collections/all", "referring_site": "https://www.google.com/",
		"total_price": "120000.00", "total_price_set": map[string]any{"presentment_money": map[string]any{"amount": "120000.00", "currency_code": "IDR"}},
		"customer": map[string]any{"id": 7019283746700, "email": "budi@example.com"}, "billing_address": nil, "shipping_address": nil}
	testOrder := map[string]any{"id": 820982911946154508, "test": true}

	order2208 := map[string]any{"id": 2208, "number": "2208", "status": "completed", "total": "99.00", "date_created_gmt": "2026-03-12T03:00:00",
		"billing":   map[string]any{"phone": "+60 13-555 0101", "country": "MY", "email": ""},
		"meta_data": []any{map[string]any{"id": 1, "key": "_wc_order_attribution_session_entry", "value": "https://kedai.example.com/?fbclid=IwAR9z"}}}
	order2209 := map[string]any{"id": 2209, "number": "2209", "status": "processing", "total": "50.00", "date_created_gmt": "2026-03-15T03:00:00",
		"billing":   map[string]any{"phone": "", "country": "MY", "email": "nur@example.com"},
		"meta_data": []any{map[string]any{"id": 2, "key": "_wc_order_attribution_utm_source", "value": "(direct)"}}}
	cancelled2209 := map[string]any{"status": "cancelled", "date_modified_gmt": "2026-03-16T03:00:00"}
	for k, v := range order2209 {
		if k != "status" {
			cancelled2209[k] = v
		}
	}
	return []webhook{
		shopifyHook(t, "orders/create", orderA),
		shopifyHook(t, "orders/paid", orderA),
		shopifyHook(t, shopify.RefundTopic, refundA),
		shopifyHook(t, "orders/updated", fixtureWith(t, sfy+"orders_create.json", map[string]any{"refunds": []any{refund}, "financial_status": "partially_refunded"})),
		shopifyHook(t, "orders/create", fixtureWith(t, sfy+"orders_create.json", orderB)),
		shopifyHook(t, "orders/cancelled", fixtureWith(t, sfy+"orders_create.json", cancelledB)),
		shopifyHook(t, "orders/create", fixtureWith(t, sfy+"orders_create.json", orderC)),
		shopifyHook(t, "orders/create", fixtureWith(t, sfy+"orders_create.json", testOrder)),
		wooHook(t, "order.created", fixtureWith(t, woo, map[string]any{"status": "pending"})),
		wooHook(t, "order.updated", fixtureWith(t, woo, nil)), // 137.90 MYR from a TikTok ad
		wooHook(t, "order.updated", fixtureWith(t, woo, map[string]any{"date_modified_gmt": "2026-03-05T01:00:00",
			"refunds": []any{map[string]any{"id": 2215, "reason": "", "total": "-30.00"}}})),
		wooHook(t, "order.created", fixtureWith(t, woo, order2208)),
		wooHook(t, "order.created", fixtureWith(t, woo, order2209)),
		wooHook(t, "order.updated", fixtureWith(t, woo, cancelled2209)),
	}
}

// TestServe_ShopWebhooksToReport: signed Shopify and WooCommerce webhooks
// posted to a running 'omnikpi serve' in shuffled order, each delivered
// twice or more as retries, read back with 'omnikpi report'; bad
// signatures and bodies refused.
func TestServe_ShopWebhooksToReport(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		config := writeFile(t, "omnikpi.json", `{
			"shopify": {"secret": "shpss_s3cret", "shops": {"batik-sari.myshopify.com": "shop"}},
			"woocommerce": {"secret": "wc-s3cret", "sites": {"https://kedai.example.com": "shop"}}}`)
		cmd, base := startServer(t, db, "--config", config)
		defer cmd.Process.Kill()

		hooks := shopWebhooks(t)
		seed := uint64(time.Now().UnixNano())
		t.Logf("shuffled with seed %d", seed)
		rng := rand.New(rand.NewPCG(seed, 1))
		var deliveries []webhook
		for _, h := range hooks {
			for range 2 + rng.IntN(2) {
				deliveries = append(deliveries, h)
			}
		}
		rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
		for _, d := range deliveries {
			if code, answer := post(t, base, d); code != 200 {
				t.Fatalf("%s %s: %d %s", d.path, d.header.Get(shopify.TopicHeader)+d.header.Get(woocommerce.TopicHeader), code, answer)
			}
		}
		// WooCommerce's ping, when a webhook is saved, is answered 200.
		if code, answer := post(t, base, webhook{"/webhooks/woocommerce", http.Header{}, []byte("webhook_id=7")}); code != 200 {
			t.Errorf("ping: %d %s", code, answer)
		}
		refusals(t, base, hooks[0], hooks[9])
		stopServer(cmd)

		rep := reportJSON(t, db, "--workspace", "shop", "--from", "2026-03-01", "--to", "2026-04-01",
			"--kpi", "transactions,gross_revenue,net_revenue,refund_rate")
		// Orders: A, B (cancelled), C in rupiah; 2207 (partly refunded),
		// 2208, 2209 (cancelled) in ringgit; not the test order, nor 2207
		// while it awaited payment.
		if v := kpiValue(t, rep, "transactions", ""); v.Value == nil || *v.Value != 6 {
			t.Errorf("transactions = %+v, want 6", v)
		}
		for _, tc := range []struct {
			id, currency string
			want         float64
		}{
			{"gross_revenue", "IDR", 459000 + 300000 + 120000},
			{"net_revenue", "IDR", 459000 - 150000 + 120000}, // B cancelled
			{"gross_revenue", "MYR", 137.90 + 99 + 50},
			{"net_revenue", "MYR", 137.90 - 30 + 99}, // 2209 cancelled
		} {
			if v := kpiValue(t, rep, tc.id, tc.currency); v.Value == nil || math.Abs(*v.Value-tc.want) > 1e-6 {
				t.Errorf("%s %s = %+v, want %v", tc.id, tc.currency, v.Value, tc.want)
			}
		}
		if v := kpiValue(t, rep, "refund_rate", ""); v.Numerator != 4 || v.Denominator != 6 {
			t.Errorf("refund rate %v/%v, want 4 of 6 orders refunded or cancelled", v.Numerator, v.Denominator)
		}

		code, out, errOut := run(t, "report", "--db", db, "--workspace", "shop", "--from", "2026-03-01", "--to", "2026-04-01",
			"--view", "attribution", "--by", "source", "--format", "json")
		if code != 0 {
			t.Fatalf("attribution: %s", errOut)
		}
		var attr kpi.AttributionReport
		if err := json.Unmarshal([]byte(out), &attr); err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, row := range attr.Rows {
			src := ""
			if row.Source != nil {
				src = *row.Source
			}
			got[src+" "+row.Currency] = row.Credits["last_touch"].Revenue
		}
		want := map[string]float64{"instagram IDR": 459000, "google.com IDR": 120000, " IDR": 300000,
			"tiktok MYR": 137.90, "facebook MYR": 99, " MYR": 50}
		for k, w := range want {
			if math.Abs(got[k]-w) > 1e-6 {
				t.Errorf("attribution by source: %q = %v, want %v (all: %v)", k, got[k], w, got)
			}
		}
		if len(got) != len(want) {
			t.Errorf("attribution rows %v, want %v", got, want)
		}
	})
}

// refusals: a wrong or missing signature is 401 and a bad body 400,
// naming what is wrong, and nothing of them is stored.
func refusals(t *testing.T, base string, sfy, woo webhook) {
	t.Helper()
	for _, tc := range []struct {
		name string
		hook webhook
		edit func(*webhook)
		code int
		want string
	}{
		{"shopify, wrong signature", sfy, func(w *webhook) { w.header.Set(shopify.SignatureHeader, shop.Sign(w.body, "other")) }, 401, shopify.SignatureHeader},
		{"shopify, no signature", sfy, func(w *webhook) { w.header.Del(shopify.SignatureHeader) }, 401, "missing " + shopify.SignatureHeader},
		{"shopify, body changed", sfy, func(w *webhook) { w.body = bytes.Replace(w.body, []byte("459000.00"), []byte("1.00"), 1) }, 401, shopify.SignatureHeader},
		{"shopify, no topic", sfy, func(w *webhook) { w.header.Del(shopify.TopicHeader) }, 400, shopify.TopicHeader},
		{"shopify, not JSON", sfy, func(w *webhook) {
			w.body = []byte("{\"id\":")
			w.header.Set(shopify.SignatureHeader, shop.Sign(w.body, "shpss_s3cret"))
		}, 400, "invalid JSON"},
		{"shopify, no created_at", sfy, func(w *webhook) {
			w.body = bytes.Replace(w.body, []byte(`"created_at":"2026-03-02T14:05:11+07:00"`), []byte(`"created_at":null`), 1)
			w.header.Set(shopify.SignatureHeader, shop.Sign(w.body, "shpss_s3cret"))
		}, 400, "created_at"},
		{"woocommerce, wrong signature", woo, func(w *webhook) { w.header.Set(woocommerce.SignatureHeader, shop.Sign(w.body, "shpss_s3cret")) }, 401, woocommerce.SignatureHeader},
		{"woocommerce, no site", woo, func(w *webhook) { w.header.Del(woocommerce.SourceHeader) }, 400, woocommerce.SourceHeader},
		{"woocommerce, a bad total", woo, func(w *webhook) {
			w.body = bytes.Replace(w.body, []byte(`"total":"137.90"`), []byte(`"total":"137,90"`), 1)
			w.header.Set(woocommerce.SignatureHeader, shop.Sign(w.body, "wc-s3cret"))
		}, 400, "amount"},
	} {
		w := webhook{tc.hook.path, tc.hook.header.Clone(), bytes.Clone(tc.hook.body)}
		tc.edit(&w)
		code, answer := post(t, base, w)
		if code != tc.code || !strings.Contains(answer, tc.want) {
			t.Errorf("%s: %d %s, want %d naming %s", tc.name, code, answer, tc.code, tc.want)
		}
	}
}

// stopServer stops serve cleanly: it applies its journal and releases the
// DuckDB file.
func stopServer(cmd *exec.Cmd) {
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
}
