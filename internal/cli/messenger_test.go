package cli

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/ingest/messenger"
)

const (
	msgrSecret = "fb-app-s3cret"
	msgrPage   = "104652048544312"
	msgrIG     = "17841405309211844"
	msgrBot    = "1517776481860111"
	msgrAds    = "880011223344556"
)

// messengerHook is a webhook body of object with one entry of items, as
// Meta's reference shows them, signed with the app secret.
func messengerHook(object, id string, items ...string) webhook {
	body := []byte(fmt.Sprintf(`{"object":%q,"entry":[{"id":%q,"time":1773133200000,"messaging":[%s]}]}`, object, id, strings.Join(items, ",")))
	h := http.Header{}
	h.Set(messenger.SignatureHeader, messenger.Sign(body, msgrSecret))
	return webhook{"/webhooks/messenger", h, body}
}

// messengerWebhooks are a campaign on Messenger to three customers and a
// chat on Instagram. at gives a time as Unix milliseconds.
func messengerWebhooks() (watermarkFirst webhook, rest []webhook) {
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) int64 { return t0.Add(d).UnixMilli() }
	const a, b, c, d = "5827346591822034", "5827346591822035", "5827346591822036", "6934521078834512"
	fromUser := func(psid string, ts int64, rest string) string {
		return fmt.Sprintf(`{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":%d,%s}`, psid, msgrPage, ts, rest)
	}
	echo := func(psid string, ts int64, app, mid, text string) string {
		appID := ""
		if app != "" {
			appID = `"app_id":` + app + `,`
		}
		return fmt.Sprintf(`{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":%d,"message":{"is_echo":true,%s"mid":%q,"text":%q}}`,
			msgrPage, psid, ts, appID, mid, text)
	}
	// A delivery has no timestamp of its own.
	delivery := func(psid, mids string, watermark int64) string {
		return fmt.Sprintf(`{"sender":{"id":%q},"recipient":{"id":%q},"delivery":{%s"watermark":%d}}`, psid, msgrPage, mids, watermark)
	}
	// a read every message up to the bot's answer at t0+10m: it comes
	// before the echo of that answer.
	watermarkFirst = messengerHook("page", msgrPage, fromUser(a, at(20*time.Minute), fmt.Sprintf(`"read":{"watermark":%d}`, at(10*time.Minute))))
	rest = []webhook{
		// The campaign, sent by the campaign app to a, b and c at t0.
		messengerHook("page", msgrPage, echo(a, at(0), msgrAds, "m_c1", "Spring sale: 20% off"),
			echo(b, at(0), msgrAds, "m_c2", "Spring sale: 20% off"), echo(c, at(0), msgrAds, "m_c3", "Spring sale: 20% off")),
		// a: delivered (with the mid), writes back, the bot answers, and a
		// re-read of the same watermark.
		messengerHook("page", msgrPage, delivery(a, `"mids":["m_c1"],`, at(time.Minute))),
		messengerHook("page", msgrPage, fromUser(a, at(5*time.Minute), `"message":{"mid":"m_a1","text":"Does it include shoes?"}`)),
		messengerHook("page", msgrPage, echo(a, at(10*time.Minute), msgrBot, "m_b1", "Yes, shoes too!")),
		messengerHook("page", msgrPage, fromUser(a, at(30*time.Minute), fmt.Sprintf(`"read":{"watermark":%d}`, at(10*time.Minute)))),
		// b: delivered without mids, then taps a quick reply: a click on
		// the campaign message, its latest message.
		messengerHook("page", msgrPage, delivery(b, "", at(2*time.Minute))),
		messengerHook("page", msgrPage, fromUser(b, at(3*time.Minute), `"message":{"mid":"m_q1","text":"Show me","quick_reply":{"payload":"SHOW_SALE"}}`)),
		// c: nothing delivered; reacts to the message (a reply) and comes
		// back later from an m.me link.
		messengerHook("page", msgrPage, fromUser(c, at(40*time.Minute), `"reaction":{"reaction":"like","emoji":"\ud83d\udc4d","action":"react","mid":"m_c3"}`),
			fromUser(c, at(50*time.Minute), `"referral":{"ref":"K7QF2M","source":"SHORTLINK","type":"OPEN_THREAD"}`)),
		// d on Instagram: writes from an ad, an agent answers, d sees it.
		messengerHook("instagram", msgrIG, fmt.Sprintf(`{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":%d,"message":{"mid":"aWdfZAG1","text":"Price?","referral":{"ad_id":"120210000000000","source":"ADS","type":"OPEN_THREAD"}}}`, d, msgrIG, at(time.Hour)),
			fmt.Sprintf(`{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":%d,"message":{"is_echo":true,"mid":"aWdfZAG2","text":"IDR 250,000"}}`, msgrIG, d, at(time.Hour+time.Minute)),
			fmt.Sprintf(`{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":%d,"read":{"mid":"aWdfZAG2"}}`, d, msgrIG, at(time.Hour+2*time.Minute))),
	}
	return watermarkFirst, rest
}

// TestServe_MessengerWebhooksToReport: signed Messenger and Instagram
// webhooks posted to a running 'omnikpi serve', a read watermark before
// the echo it covers and the rest in shuffled order, each delivered twice
// or more as retries, read back with 'omnikpi report'; the handshake, bad
// signatures and bodies, and a Page no workspace maps.
func TestServe_MessengerWebhooksToReport(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		config := writeFile(t, "omnikpi.json", `{"messenger": {"app_secret": "`+msgrSecret+`", "verify_token": "vt-42",
			"pages": {"`+msgrPage+`": "shop"}, "instagram_accounts": {"`+msgrIG+`": "shop"},
			"bot_apps": ["`+msgrBot+`"], "campaign_apps": ["`+msgrAds+`"]}}`)
		cmd, base := startServer(t, db, "--config", config)
		defer cmd.Process.Kill()

		// Meta's handshake, as for WhatsApp.
		for _, tc := range []struct {
			token string
			code  int
			body  string
		}{{"vt-42", 200, "1158201444"}, {"other", 403, "verify_token"}} {
			q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {tc.token}, "hub.challenge": {"1158201444"}}
			resp, err := http.Get(base + "/webhooks/messenger?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.body) {
				t.Errorf("handshake with %q: %d %s", tc.token, resp.StatusCode, b)
			}
		}

		first, hooks := messengerWebhooks()
		seed := uint64(time.Now().UnixNano())
		t.Logf("shuffled with seed %d", seed)
		rng := rand.New(rand.NewPCG(seed, 1))
		deliveries := []webhook{first}
		for _, h := range append(hooks, first) {
			for range 2 + rng.IntN(2) {
				deliveries = append(deliveries, h)
			}
		}
		rng.Shuffle(len(deliveries)-1, func(i, j int) { deliveries[i+1], deliveries[j+1] = deliveries[j+1], deliveries[i+1] })
		for _, d := range deliveries {
			if code, answer := post(t, base, d); code != 200 || !strings.Contains(answer, `"skipped":[]`) {
				t.Fatalf("%s: %d %s", d.body, code, answer)
			}
		}

		// Refused: nothing of them is stored.
		for _, tc := range []struct {
			name string
			edit func(*webhook)
			code int
			want string
		}{
			{"wrong signature", func(w *webhook) { w.header.Set(messenger.SignatureHeader, messenger.Sign(w.body, "other")) }, 401, messenger.SignatureHeader},
			{"no signature", func(w *webhook) { w.header.Del(messenger.SignatureHeader) }, 401, "missing " + messenger.SignatureHeader},
			{"body changed", func(w *webhook) { w.body = bytes.Replace(w.body, []byte("m_c1"), []byte("m_c9"), 1) }, 401, messenger.SignatureHeader},
			{"not JSON", func(w *webhook) {
				w.body = []byte(`{"object":`)
				w.header.Set(messenger.SignatureHeader, messenger.Sign(w.body, msgrSecret))
			}, 400, "invalid JSON"},
		} {
			w := webhook{hooks[0].path, hooks[0].header.Clone(), bytes.Clone(hooks[0].body)}
			tc.edit(&w)
			if code, answer := post(t, base, w); code != tc.code || !strings.Contains(answer, tc.want) {
				t.Errorf("%s: %d %s, want %d naming %s", tc.name, code, answer, tc.code, tc.want)
			}
		}
		// A Page no workspace maps waits in the quarantine.
		other := messengerHook("page", "999000111", `{"sender":{"id":"1"},"recipient":{"id":"999000111"},"timestamp":1773133200000,"message":{"mid":"m_x","text":"hi"}}`)
		if code, answer := post(t, base, other); code != 200 || !strings.Contains(answer, `"quarantined":1`) {
			t.Errorf("unmapped Page: %d %s", code, answer)
		}
		stopServer(cmd)

		rep := reportJSON(t, db, "--workspace", "shop", "--from", "2026-03-01", "--to", "2026-04-01",
			"--kpi", "messages_sent,messages_delivered,messages_read,messages_received,delivery_rate,open_rate,ctr,response_rate,leads")
		// Sent: the campaign's m_c1..3, the bot's m_b1, the agent's answer
		// on Instagram. Delivered and read: m_c1 (watermarks), m_b1 (the
		// read watermark that came before it), m_c2 (b's quick reply), the
		// answer seen on Instagram; m_c3 never was.
		for _, tc := range []struct {
			id       string
			want     float64
			num, den float64
		}{
			{"messages_sent", 5, 0, 0},
			{"messages_delivered", 4, 0, 0},
			{"messages_read", 4, 0, 0},
			{"messages_received", 4, 0, 0}, // a's and d's messages, b's quick reply, c's reaction
			{"delivery_rate", 75, 3, 4},    // Instagram reports no deliveries
			{"open_rate", 200.0 / 3, 2, 3}, // campaign messages only
			{"ctr", 100.0 / 3, 1, 3},
			{"response_rate", 100, 3, 3},
			{"leads", 2, 0, 0}, // d's ad on Instagram, c's m.me link
		} {
			v := kpiValue(t, rep, tc.id, "")
			if v.Value == nil || math.Abs(*v.Value-tc.want) > 1e-9 || (tc.den > 0 && (v.Numerator != tc.num || v.Denominator != tc.den)) {
				t.Errorf("%s = %v (%v/%v), want %v (%v/%v)", tc.id, fmtPtr(v.Value), v.Numerator, v.Denominator, tc.want, tc.num, tc.den)
			}
		}
		code, out, errOut := run(t, "quarantine", "list", "--db", db)
		if code != 0 || !strings.Contains(out, "999000111") {
			t.Errorf("quarantine list: %d %s %s", code, out, errOut)
		}

		// Once the Page is mapped, serve ingests its entry at start, as the
		// webhook would have.
		config = writeFile(t, "omnikpi2.json", `{"messenger": {"app_secret": "`+msgrSecret+`", "verify_token": "vt-42",
			"pages": {"`+msgrPage+`": "shop", "999000111": "brand"}}}`)
		cmd, _ = startServer(t, db, "--config", config)
		stopServer(cmd)
		if v := kpiValue(t, reportJSON(t, db, "--workspace", "brand", "--from", "2026-03-01", "--to", "2026-04-01", "--kpi", "messages_received"),
			"messages_received", ""); v.Value == nil || *v.Value != 1 {
			t.Errorf("the quarantined entry's messages_received = %v, want 1", fmtPtr(v.Value))
		}
	})
}

func fmtPtr(v *float64) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprint(*v)
}
