package tracker

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
)

func TestParseHit(t *testing.T) {
	for _, tc := range []struct {
		name, body, field, want string
	}{
		{"page view", `{"kind":"page_view","id":"abcdefgh12","url":"https://shop.example/p"}`, "", ""},
		{"identify", `{"kind":"identify","customer":" +62 812 3456 7890 "}`, "", ""},
		{"not JSON", `kind=page_view`, "", "one JSON object"},
		{"two objects", `{"kind":"identify","customer":"c1"}{}`, "", "nothing after it"},
		{"unknown field", `{"kind":"page_view","id":"abcdefgh12","url":"https://a.b/","ts":1}`, "ts", "not a field"},
		{"wrong type", `{"kind":"page_view","id":12345678,"url":"https://a.b/"}`, "id", "must be a string"},
		{"no kind", `{"id":"abcdefgh12","url":"https://a.b/"}`, "kind", "is required"},
		{"site session", `{"kind":"site_session","id":"abcdefgh12"}`, "kind", "made by the server"},
		{"order", `{"kind":"order_placed","id":"abcdefgh12"}`, "kind", `not "order_placed"`},
		{"no id", `{"kind":"page_view","url":"https://a.b/"}`, "id", "is required"},
		{"short id", `{"kind":"page_view","id":"abc","url":"https://a.b/"}`, "id", "8 to 64"},
		{"id with a quote", `{"kind":"page_view","id":"abcdefgh'1","url":"https://a.b/"}`, "id", "8 to 64"},
		{"no url", `{"kind":"page_view","id":"abcdefgh12"}`, "url", "is required"},
		{"relative url", `{"kind":"page_view","id":"abcdefgh12","url":"/p"}`, "url", "not an http or https address"},
		{"javascript url", `{"kind":"page_view","id":"abcdefgh12","url":"javascript:alert(1)"}`, "url", "not an http or https address"},
		{"long url", `{"kind":"page_view","id":"abcdefgh12","url":"https://a.b/` + strings.Repeat("x", MaxURLLen) + `"}`, "url", "more than"},
		{"relative referrer", `{"kind":"page_view","id":"abcdefgh12","url":"https://a.b/","referrer":"instagram"}`, "referrer", "absolute"},
		{"customer on a page view", `{"kind":"page_view","id":"abcdefgh12","url":"https://a.b/","customer":"c1"}`, "customer", "identify"},
		{"identify without customer", `{"kind":"identify","customer":"  "}`, "customer", "is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHit([]byte(tc.body))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var he *HitError
			if !errors.As(err, &he) || he.Field != tc.field || !strings.Contains(he.Reason, tc.want) {
				t.Fatalf("err = %v, want field %q with %q", err, tc.field, tc.want)
			}
		})
	}
}

func TestPageView_Attribution(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, url, referrer string
		source, medium      string
		campaign, clickType string
		keptURL             string
	}{
		{"utm", "https://shop.example/p?utm_source=instagram&utm_medium=social&utm_campaign=spring&q=secret#top", "https://l.instagram.com/",
			"instagram", "social", "spring", "", "https://shop.example/p?utm_campaign=spring&utm_medium=social&utm_source=instagram"},
		{"google ad", "https://shop.example/?gclid=abc", "https://www.google.com/", "google", "cpc", "", "gclid", "https://shop.example/?gclid=abc"},
		{"tiktok ad", "https://shop.example/?ttclid=t1", "", "tiktok", "cpc", "", "ttclid", "https://shop.example/?ttclid=t1"},
		{"click to whatsapp ad", "https://shop.example/?ctwa_clid=w1", "", "facebook", "cpc", "", "ctwa_clid", "https://shop.example/?ctwa_clid=w1"},
		{"referral", "https://shop.example/p", "https://www.blog.example/review?id=3", "blog.example", "referral", "", "", "https://shop.example/p"},
		{"inside the shop", "https://shop.example/p2", "https://www.shop.example/p1", "", "", "", "", "https://shop.example/p2"},
		{"direct", "https://shop.example/", "", "", "", "", "", "https://shop.example/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hit := Hit{Kind: "page_view", ID: "abcdefgh12", URL: tc.url, Referrer: tc.referrer}
			e, err := PageView("v1", hit, now)
			if err != nil {
				t.Fatal(err)
			}
			if e.ID != "pv-v1-abcdefgh12" || e.Kind != event.PageView || e.Channel != Channel || !e.TS.Equal(now) || e.Customer != "" {
				t.Errorf("event = %+v", e)
			}
			if e.Source != tc.source || e.Medium != tc.medium || e.UTMCampaign != tc.campaign || e.Prop("click_id_type") != tc.clickType {
				t.Errorf("source %q medium %q campaign %q click %q, want %q %q %q %q", e.Source, e.Medium, e.UTMCampaign, e.Prop("click_id_type"),
					tc.source, tc.medium, tc.campaign, tc.clickType)
			}
			if e.Prop(PropURL) != tc.keptURL || e.Prop(PropVisitor) != "v1" {
				t.Errorf("url %q visitor %q, want %q", e.Prop(PropURL), e.Prop(PropVisitor), tc.keptURL)
			}
			if strings.Contains(e.Prop(PropReferrer), "?") {
				t.Errorf("referrer kept its query: %q", e.Prop(PropReferrer))
			}
		})
	}
}

func TestVisitorID(t *testing.T) {
	a := VisitorID("salt1", "shop", "203.0.113.7", "Mozilla/5.0")
	if len(a) != 16 || a != VisitorID("salt1", "shop", "203.0.113.7", "Mozilla/5.0") {
		t.Fatalf("not a stable 16-character id: %q", a)
	}
	for _, other := range []string{
		VisitorID("salt2", "shop", "203.0.113.7", "Mozilla/5.0"),  // the next day
		VisitorID("salt1", "other", "203.0.113.7", "Mozilla/5.0"), // another workspace
		VisitorID("salt1", "shop", "203.0.113.8", "Mozilla/5.0"),
		VisitorID("salt1", "shop", "203.0.113.7", "Mozilla/5.1"),
		VisitorID("salt1", "shop2", "03.0.113.7", "Mozilla/5.0"), // fields do not run into each other
	} {
		if other == a {
			t.Errorf("%q is the same id", other)
		}
	}
	if strings.Contains(a, "203") {
		t.Errorf("the address shows in %q", a)
	}
}

func TestIsBot(t *testing.T) {
	for ua, want := range map[string]bool{
		"": true,
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)":                                  true,
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36": true,
		"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)":                                 true,
		"curl/8.5.0":             true,
		"python-requests/2.31.0": true,
		"Mozilla/5.0 (Linux; Android 13; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36":                    false,
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/446.0]": false,
		"Mozilla/5.0 (Linux; Android 10; V2027) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/76.0 Mobile Safari/537.36 baiduboxapp/13.0":       false,
		"Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Mobile Safari/537.36":                    false,
	} {
		if got := IsBot(ua); got != want {
			t.Errorf("IsBot(%q) = %v, want %v", ua, got, want)
		}
	}
}

// view is a stored page view of visitor v at minute m of a day.
func view(v string, m int, id, url string) Row {
	return Row{ID: PageViewID(v, id), Kind: "page_view", TS: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(m) * time.Minute).UnixMilli(),
		Props: map[string]any{PropVisitor: v, PropURL: url}}
}

func identify(v string, m int, customer string) Row {
	return Row{ID: "id-" + v + "-" + customer, Kind: "channel_event", Customer: customer,
		TS:    time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(m) * time.Minute).UnixMilli(),
		Props: map[string]any{PropVisitor: v, "type": IdentifyType}}
}

// TestVisits_OrderAndDuplicatesChangeNothing: the same page views in any
// order, some twice, make the same visits with the same ids; a visit ends
// after 30 minutes without a page view; the customer is the one
// identified before the visit ended, not after.
func TestVisits_OrderAndDuplicatesChangeNothing(t *testing.T) {
	landing := view("v1", 0, "aaaaaaaa01", "https://shop.example/?utm_source=instagram")
	landing.Source, landing.Medium, landing.UTMCampaign = "instagram", "social", "spring"
	landing.Props[PropReferrer] = "https://l.instagram.com/"
	views := []Row{landing,
		view("v1", 10, "aaaaaaaa02", "https://shop.example/p/1"),
		view("v1", 39, "aaaaaaaa03", "https://shop.example/cart"), // 29 min later: the same visit
		view("v1", 120, "aaaaaaaa04", "https://shop.example/"),    // a second visit
		view("v1", 150, "aaaaaaaa05", "https://shop.example/p/2"), // exactly 30 min: a third
	}
	ids := []Row{identify("v1", 38, "c1"), identify("v1", 200, "c2")}
	want := []struct {
		id             string
		duration       int64
		pages          int
		customer, exit string
	}{
		{"ss-v1-aaaaaaaa01", 39 * 60_000, 3, "c1", "https://shop.example/cart"},
		{"ss-v1-aaaaaaaa04", 0, 1, "c1", "https://shop.example/"},
		{"ss-v1-aaaaaaaa05", 0, 1, "c1", "https://shop.example/p/2"}, // c2 came after it ended
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		shuffled := append(append([]Row(nil), views...), views[rng.IntN(len(views))])
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		visits := Split(dedupe(shuffled), 30*time.Minute)
		if len(visits) != len(want) {
			t.Fatalf("round %d: %d visits, want %d", round, len(visits), len(want))
		}
		for i, vs := range visits {
			e, err := Visit(vs, ids, 30*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			w := want[i]
			if e.ID != w.id || *e.DurationMS != w.duration || e.Props[PropPages] != w.pages || e.Customer != w.customer || e.Prop(PropExit) != w.exit {
				t.Errorf("round %d visit %d = %s %d ms %v pages customer %q exit %q, want %+v", round, i, e.ID, *e.DurationMS, e.Props[PropPages], e.Customer, e.Prop(PropExit), w)
			}
		}
		first, _ := Visit(visits[0], ids, 30*time.Minute)
		if first.Source != "instagram" || first.Medium != "social" || first.UTMCampaign != "spring" ||
			first.Prop(PropLanding) != "https://shop.example/?utm_source=instagram" || first.Prop(PropReferrer) != "https://l.instagram.com/" {
			t.Errorf("first visit's landing = %+v", first)
		}
	}
	// Without an identify before it ended, a visit has no customer.
	e, err := Visit(Split(views, 30*time.Minute)[0], []Row{identify("v1", 69, "c1")}, 30*time.Minute)
	if err != nil || e.Customer != "" {
		t.Errorf("identified after the visit ended: customer %q, %v", e.Customer, err)
	}
}

// dedupe keeps one row per id, as the store does.
func dedupe(rows []Row) []Row {
	seen := map[string]bool{}
	var out []Row
	for _, r := range rows {
		if !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	return out
}
