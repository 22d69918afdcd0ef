package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/web/browsertest"
)

// TestServe_JourneyAcrossSources: one customer's journey through every
// source, on a real omnikpi serve: an Instagram ad brings her to the shop
// (a real Chromium, the tracker's tag, the ad's UTM parameters), where she
// signs in with her phone number; she then scans the shop's poster, whose
// click-to-chat link opens WhatsApp with its reference, asks about the
// product there (a signed Cloud API webhook) and pays a Shopify order (a
// signed orders/paid webhook) placed from no tracked visit. The webhooks
// arrive shuffled and twice. Attribution credits every step: the first
// touch to the Instagram visit, the last to the chat the poster started,
// a third each to the visit, the poster's link and the chat under the
// linear model; the ordered funnel site_session → message_received →
// order_placed keeps her at every step.
func TestServe_JourneyAcrossSources(t *testing.T) {
	exec := browsertest.Chromium(t)
	eachDB(t, func(t *testing.T, db string) {
		code, out, errOut := run(t, "keys", "create", "--db", db, "--workspace", "shop", "--scopes", "ingest,read,admin")
		if code != 0 {
			t.Fatalf("keys create: %s", errOut)
		}
		key := out[:len(out)-1]
		config := writeFile(t, "omnikpi.json", `{
			"whatsapp": {"app_secret": "wa-s3cret", "verify_token": "vt", "phone_numbers": {"410000000000001": "shop"}},
			"shopify": {"secret": "shpss_s3cret", "shops": {"batik-sari.myshopify.com": "shop"}}}`)
		cmd, base := startServer(t, db, "--config", config, "--max-lag", "5s")
		defer cmd.Process.Kill()
		ctx := context.Background()
		gap := client.Duration(2 * time.Second)
		info, err := client.New(base, key, nil).ChangeTracker(ctx, client.TrackerChange{SessionGap: &gap})
		if err != nil {
			t.Fatal(err)
		}
		site := shopSite(info.Snippet)
		defer site.Close()
		// The shop's poster carries a click-to-chat link as a QR code.
		link, err := client.New(base, key, nil).CreateLink(ctx, client.ChatLink{Channel: "whatsapp", To: "+6281100000001", Source: "qr_poster", Text: "Hi Batik Sari"})
		if err != nil {
			t.Fatal(err)
		}

		// 1. The ad's link, in a real browser: the landing page, then the
		// product page where she is identified by her phone number.
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(exec), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.NoSandbox, chromedp.Headless,
			chromedp.DisableGPU, chromedp.UserDataDir(browsertest.ProfileDir(t)), chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.UserAgent("Mozilla/5.0 (Linux; Android 13; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"))
		defer cancelAlloc()
		tab, cancelTab := chromedp.NewContext(allocCtx)
		defer cancelTab()
		tab, cancelTimeout := context.WithTimeout(tab, time.Minute)
		defer cancelTimeout()
		var hits []int
		if err := chromedp.Run(tab,
			chromedp.ActionFunc(func(ctx context.Context) error {
				_, _, text, _, err := page.Navigate(site.URL + "/?utm_source=instagram&utm_medium=paid_social&utm_campaign=ramadan-sale").
					WithReferrer("https://l.instagram.com/").Do(ctx)
				if err == nil && text != "" {
					err = fmt.Errorf("navigate: %s", text)
				}
				return err
			}),
			chromedp.WaitReady("#next", chromedp.ByQuery),
			chromedp.Poll("window.hits.length >= 1", nil, chromedp.WithPollingTimeout(30*time.Second)),
			chromedp.Sleep(time.Second), chromedp.Click("#next", chromedp.ByQuery),
			chromedp.WaitVisible(`//h1[text()="Batik tulis"]`),
			chromedp.Poll("window.hits.length >= 2", nil, chromedp.WithPollingTimeout(30*time.Second)),
			chromedp.Evaluate("window.hits", &hits)); err != nil {
			t.Fatalf("the shop in Chromium: %v", err)
		}
		if fmt.Sprint(hits) != "[200 200]" {
			t.Fatalf("the tracker answered %v", hits)
		}
		visited := time.Now().UTC()

		// 2 and 3. Her WhatsApp question a minute later, the paid order
		// two minutes later: signed webhooks, shuffled, each sent twice.
		chat := visited.Add(time.Minute).Truncate(time.Second)
		paid := visited.Add(2 * time.Minute).Truncate(time.Second)
		waBody := []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"109876543210987","changes":[{"field":"messages","value":{
			"messaging_product":"whatsapp","metadata":{"display_phone_number":"6281100000001","phone_number_id":"410000000000001"},
			"contacts":[{"profile":{"name":"Sari"},"wa_id":"6281234567890"}],
			"messages":[{"from":"6281234567890","id":"wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjBCMUY3","timestamp":"%d","type":"text","text":{"body":"Hi Batik Sari (ref %s) is the batik tulis still available in size M?"}}]}}]}]}`,
			chat.Unix(), link.Ref))
		waHook := webhook{"/webhooks/whatsapp", http.Header{whatsapp.SignatureHeader: {whatsapp.Sign(waBody, "wa-s3cret")}}, waBody}
		order := map[string]any{"id": 5731088765999, "name": "#1077", "created_at": paid.Format(time.RFC3339), "processed_at": paid.Format(time.RFC3339),
			"financial_status": "paid", "landing_site": nil, "referring_site": nil, "currency": "IDR", "total_price": "459000.00",
			"total_price_set": map[string]any{"presentment_money": map[string]any{"amount": "459000.00", "currency_code": "IDR"}},
			"customer":        map[string]any{"id": 7019283746999, "phone": "+6281234567890"}}
		orderBody, err := json.Marshal(order)
		if err != nil {
			t.Fatal(err)
		}
		hooks := []webhook{waHook, shopifyHook(t, "orders/paid", orderBody), waHook, shopifyHook(t, "orders/create", orderBody)}
		rand.Shuffle(len(hooks), func(i, j int) { hooks[i], hooks[j] = hooks[j], hooks[i] })
		for _, h := range hooks {
			if status, answer := post(t, base, h); status != http.StatusOK {
				t.Fatalf("%s: %d %s", h.path, status, answer)
			}
		}

		// The visit is written once it has ended (the gap and serve's
		// max lag); then the journey reads back.
		period := []string{"--workspace", "shop", "--from", visited.AddDate(0, 0, -1).Format(time.DateOnly), "--to", visited.AddDate(0, 0, 2).Format(time.DateOnly)}
		var attr kpi.AttributionReport
		for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(time.Second) {
			code, out, errOut := run(t, append(append([]string{"report", "--db", db}, period...), "--view", "attribution", "--by", "channel,source", "--format", "json")...)
			if code != 0 {
				t.Fatalf("attribution: %s", errOut)
			}
			attr = kpi.AttributionReport{} // decoding into the last answer would keep its fields
			if err := json.Unmarshal([]byte(out), &attr); err != nil {
				t.Fatal(err)
			}
			if len(attr.Rows) >= 3 || time.Now().After(deadline) {
				break
			}
		}
		credit := map[string]map[string]float64{}
		for _, row := range attr.Rows {
			k := str(row.Channel) + "/" + str(row.Source)
			credit[k] = map[string]float64{}
			for model, c := range row.Credits {
				credit[k][model] = c.Revenue
			}
		}
		visit, poster, chatted := credit["web/instagram"], credit["whatsapp/qr_poster"], credit["whatsapp/"]
		if attr.Orders != 1 || len(attr.Rows) != 3 || visit == nil || poster == nil || chatted == nil ||
			visit["first_touch"] != 459000 || poster["last_touch"]+chatted["last_touch"] != 459000 ||
			visit["linear"] != 153000 || poster["linear"] != 153000 || chatted["linear"] != 153000 {
			t.Fatalf("attribution of the journey: %d orders, credit %v; want the Instagram visit first, the chat the poster's link opened last, a third each to the visit, the link and the chat linearly", attr.Orders, credit)
		}

		code, out, errOut = run(t, append(append([]string{"report", "--db", db}, period...),
			"--view", "funnel", "--steps", "site_session,message_received,order_placed", "--format", "json")...)
		if code != 0 {
			t.Fatalf("funnel: %s", errOut)
		}
		var funnel kpi.FunnelReport
		if err := json.Unmarshal([]byte(out), &funnel); err != nil {
			t.Fatal(err)
		}
		for _, step := range funnel.Steps {
			if step.Customers != 1 {
				t.Errorf("funnel step %s: %d customers, want 1: %s", step.Kind, step.Customers, out)
			}
		}
		stopServer(cmd)
	})
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
