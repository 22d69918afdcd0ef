package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/web/browsertest"
)

// shopSite serves a shop's two pages on an origin of their own, each with
// the tracker's tag; the product page identifies the visitor (before the
// script has loaded, through the queue), as a page after a sign-in does.
// Each page counts the tracker's answers in window.hits.
func shopSite(snippet string) *httptest.Server {
	const head = `<!doctype html><html><head><meta charset="utf-8"><title>%s</title>
<script>
const plain = window.fetch;
window.hits = [];
window.fetch = (u, o) => plain(u, o).then((r) => { window.hits.push(r.status); return r; });
window.omnikpi = window.omnikpi || function () { (window.omnikpi.q = window.omnikpi.q || []).push(arguments); };
%s
</script>
%s
</head><body><h1>%s</h1><a id="next" href="/p/batik-tulis">Batik tulis</a></body></html>`
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/":
			fmt.Fprintf(w, head, "Batik Sari", "", snippet, "Batik Sari")
		case "/p/batik-tulis":
			fmt.Fprintf(w, head, "Batik tulis", "omnikpi('identify', '+62 812-3456-7890');", snippet, "Batik tulis")
		default:
			http.NotFound(w, r)
		}
	}))
}

// TestServe_SiteTrackerInChromium: a real Chromium loads a shop's pages
// that hold the tracker's tag, on their own origin, against a real omnikpi
// serve: one visitor lands from an Instagram campaign (UTM parameters),
// goes on to a product page and is identified there by phone number;
// another lands from a Google ad (gclid); a headless browser that says so
// in its user agent is a robot and not counted. Once the visits have
// ended, omnikpi report reads two visits with their sources, the first of
// two pages under the customer, and credits the customer's later order to
// Instagram. The dashboard shows the tag that was pasted.
func TestServe_SiteTrackerInChromium(t *testing.T) {
	exec := browsertest.Chromium(t)
	eachDB(t, func(t *testing.T, db string) {
		code, out, errOut := run(t, "keys", "create", "--db", db, "--workspace", "shop", "--scopes", "ingest,read,admin")
		if code != 0 {
			t.Fatalf("keys create: %s", errOut)
		}
		key := strings.TrimSpace(out)
		cmd, base := startServer(t, db, "--max-lag", "5s")
		defer cmd.Process.Kill()
		ctx := context.Background()
		c := client.New(base, key, nil)
		gap := client.Duration(3 * time.Second)
		info, err := c.ChangeTracker(ctx, client.TrackerChange{SessionGap: &gap})
		if err != nil {
			t.Fatal(err)
		}
		if want := `<script defer src="` + base + `/t.js" data-tracker="` + info.ID + `"></script>`; info.Snippet != want {
			t.Fatalf("snippet %s, want %s", info.Snippet, want)
		}
		shop := shopSite(info.Snippet)
		defer shop.Close()

		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(exec), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.NoSandbox, chromedp.Headless,
			chromedp.DisableGPU, chromedp.UserDataDir(browsertest.ProfileDir(t)),
			chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		}
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		defer cancelAlloc()
		browser, cancelBrowser := chromedp.NewContext(allocCtx)
		defer cancelBrowser()
		if err := chromedp.Run(browser); err != nil {
			t.Fatal(err)
		}
		// visit opens a tab with a user agent (the headless one when
		// empty), lands on path from referrer and waits for the tracker's
		// answers on the page, then follows the link when next, and checks
		// the answers on the last page.
		visit := func(name, ua, path, referrer string, next bool, want ...int) {
			t.Helper()
			tab, cancel := chromedp.NewContext(browser)
			defer cancel()
			tab, cancelTimeout := context.WithTimeout(tab, time.Minute)
			defer cancelTimeout()
			answered := func(n int) chromedp.Action {
				return chromedp.Poll(fmt.Sprintf("window.hits.length >= %d", n), nil, chromedp.WithPollingTimeout(30*time.Second))
			}
			var actions []chromedp.Action
			if ua != "" {
				actions = append(actions, emulation.SetUserAgentOverride(ua))
			}
			actions = append(actions, chromedp.ActionFunc(func(ctx context.Context) error {
				_, _, text, _, err := page.Navigate(shop.URL + path).WithReferrer(referrer).Do(ctx)
				if err == nil && text != "" {
					err = fmt.Errorf("navigate: %s", text)
				}
				return err
			}), chromedp.WaitReady("#next", chromedp.ByQuery), answered(1))
			if next {
				actions = append(actions, chromedp.Sleep(time.Second), chromedp.Click("#next", chromedp.ByQuery),
					chromedp.WaitReady("h1", chromedp.ByQuery), chromedp.WaitVisible(`//h1[text()="Batik tulis"]`), answered(len(want)))
			}
			var hits []int
			actions = append(actions, chromedp.Evaluate("window.hits", &hits))
			if err := chromedp.Run(tab, actions...); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if fmt.Sprint(hits) != fmt.Sprint(want) {
				t.Fatalf("%s: the tracker answered %v on the last page, want %v", name, hits, want)
			}
		}
		const android = "Mozilla/5.0 (Linux; Android 13; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
		const iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
		visit("Instagram visitor", android, "/?utm_source=instagram&utm_medium=social&utm_campaign=spring_sale", "https://l.instagram.com/", true, 200, 200)
		visit("Google visitor", iphone, "/?gclid=EAIaIQobChMI", "https://www.google.com/", false, 200)
		visit("headless robot", "", "/", "", false, 202)

		// The visits end 3 s after their last page view, and are written
		// within serve's max lag (5 s) after that.
		today := time.Now().UTC()
		period := []string{"--workspace", "shop", "--from", today.AddDate(0, 0, -1).Format(time.DateOnly), "--to", today.AddDate(0, 0, 2).Format(time.DateOnly)}
		var rep kpi.Report
		deadline := time.Now().Add(90 * time.Second)
		for {
			rep = reportJSON(t, db, append(period, "--kpi", "visits,time_on_site,time_per_page", "--group-by", "source,medium,utm_campaign")...)
			visits := 0.0
			for _, row := range rep.Rows {
				for _, v := range row.KPIs {
					if v.ID == "visits" && v.Value != nil {
						visits += *v.Value
					}
				}
			}
			if visits >= 2 || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Second)
		}
		got := map[string]kpi.Value{}
		for _, row := range rep.Rows {
			g := func(k string) string {
				if row.Group[k] == nil {
					return ""
				}
				return *row.Group[k]
			}
			for _, v := range row.KPIs {
				got[g("source")+"/"+g("medium")+"/"+g("utm_campaign")+" "+v.ID] = v
			}
		}
		insta, google := got["instagram/social/spring_sale visits"], got["google/cpc/ visits"]
		if insta.Value == nil || *insta.Value != 1 || google.Value == nil || *google.Value != 1 || len(got) != 6 {
			t.Fatalf("visits by source: %s", mustJSON(t, rep.Rows))
		}
		// Two pages a second or more apart: time per page is half the time
		// on site.
		onSite, perPage := got["instagram/social/spring_sale time_on_site"], got["instagram/social/spring_sale time_per_page"]
		if onSite.Value == nil || *onSite.Value < 1 || *onSite.Value > 30 || perPage.Value == nil || math.Abs(*perPage.Value*2-*onSite.Value) > 0.01 {
			t.Errorf("Instagram visit: time on site %v, per page %v", onSite.Value, perPage.Value)
		}
		if v := got["google/cpc/ time_on_site"]; v.Value == nil || *v.Value != 0 {
			t.Errorf("Google visit of one page: time on site %v, want 0", v.Value)
		}

		// The identified visitor's visit is the customer's: the order the
		// customer places on WhatsApp afterwards is credited to Instagram.
		order := fmt.Sprintf(`{"id":"wa-o1","ts":%q,"kind":"order_placed","order":"o1","amount":"459000","currency":"IDR","customer":"+6281234567890","channel":"whatsapp"}`,
			time.Now().UTC().Format(time.RFC3339Nano))
		if _, status, err := client.New(base, key, nil).SendEvents(ctx, []byte(order), "application/x-ndjson"); err != nil || status != 200 {
			t.Fatalf("order: %d %v", status, err)
		}
		var attr kpi.AttributionReport
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
			code, out, errOut := run(t, append(append([]string{"report", "--db", db}, period...), "--view", "attribution", "--by", "source", "--format", "json")...)
			if code != 0 {
				t.Fatalf("attribution: %s", errOut)
			}
			attr = kpi.AttributionReport{} // decoding into the last answer would keep its fields
			if err := json.Unmarshal([]byte(out), &attr); err != nil {
				t.Fatal(err)
			}
			if attr.Orders > 0 || time.Now().After(deadline) {
				break
			}
		}
		credited := map[string]float64{}
		for _, row := range attr.Rows {
			src := ""
			if row.Source != nil {
				src = *row.Source
			}
			credited[src] = row.Credits["first_touch"].Revenue
		}
		if credited["instagram"] != 459000 {
			t.Errorf("first-touch credit by source %v, want 459000 IDR on instagram", credited)
		}
		// The dashboard shows the tag to paste, with this tracker's id.
		tab, cancel := chromedp.NewContext(browser)
		defer cancel()
		tab, cancelTimeout := context.WithTimeout(tab, time.Minute)
		defer cancelTimeout()
		var shown string
		var shot []byte
		if err := chromedp.Run(tab, chromedp.EmulateViewport(1440, 900), chromedp.Navigate(base+"/"), chromedp.WaitVisible("#key-form input", chromedp.ByQuery),
			chromedp.SendKeys("#key-form input", key, chromedp.ByQuery), chromedp.Click("#key-submit", chromedp.ByQuery),
			chromedp.WaitVisible("#nav", chromedp.ByQuery), chromedp.Navigate(base+"/?view=funnel"),
			chromedp.WaitVisible("#tracker-snippet", chromedp.ByQuery), chromedp.Text("#tracker-snippet", &shown, chromedp.ByQuery),
			chromedp.ScrollIntoView("[data-panel=tracker]", chromedp.ByQuery), chromedp.CaptureScreenshot(&shot)); err != nil {
			t.Fatalf("dashboard: %v", err)
		}
		if shown != info.Snippet {
			t.Errorf("the dashboard shows %q, want %q", shown, info.Snippet)
		}
		// The panel as a shop owner sees it, beside the dashboard's.
		dir := os.Getenv("OMNIKPI_ARTIFACTS")
		if dir == "" {
			dir = filepath.Join("..", "..", "test-artifacts", "tracker")
		}
		if err := os.MkdirAll(dir, 0o755); err == nil {
			os.WriteFile(filepath.Join(dir, "funnel-site-tracker-"+filepath.Base(t.Name())+".png"), shot, 0o644)
		}
		stopServer(cmd)
	})
}
