package api_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/kpi"
)

// TestChatLinks: a wa.me link made through the API carries its reference
// in the opening message, and the chat it starts is a touch with the
// link's source: attribution credits instagram_bio, once, though the
// message arrived twice under two event ids. An m.me referral naming a
// link takes its source too.
func TestChatLinks(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open, 0)
		var wa, fb api.ChatLinkAnswer
		status, body := call(t, s, "POST", s.keyA, "/v1/links", `{"channel":"whatsapp","to":"+62 812 3456 7890","source":"instagram_bio","campaign":"spring","text":"Hi, I saw your post"}`)
		if status != 201 || json.Unmarshal(body, &wa) != nil || len(wa.Ref) != 6 {
			t.Fatalf("create a wa.me link: %d %s", status, body)
		}
		u, err := url.Parse(wa.URL)
		if err != nil || u.Host != "wa.me" || u.Path != "/6281234567890" || u.Query().Get("text") != "Hi, I saw your post (ref "+wa.Ref+")" {
			t.Errorf("wa.me URL %q", wa.URL)
		}
		status, body = call(t, s, "POST", s.keyA, "/v1/links", `{"channel":"facebook","to":"myshop","source":"qr_poster"}`)
		if status != 201 || json.Unmarshal(body, &fb) != nil || fb.URL != "https://m.me/myshop?ref="+fb.Ref {
			t.Fatalf("create an m.me link: %d %s", status, body)
		}
		var apiErr struct {
			Error struct{ Code, Message, Field string }
		}
		for payload, field := range map[string]string{
			`{"channel":"sms","to":"1","source":"x"}`:         "channel",
			`{"channel":"whatsapp","to":"shop","source":"x"}`: "to",
			`{"channel":"instagram","to":"shop","source":""}`: "source",
		} {
			status, body := call(t, s, "POST", s.keyA, "/v1/links", payload)
			if json.Unmarshal(body, &apiErr); status != 400 || apiErr.Error.Field != field {
				t.Errorf("%s: %d %s, want 400 naming %s", payload, status, body, field)
			}
		}
		var list struct{ Links []api.ChatLinkAnswer }
		if getJSON(t, s, s.keyA, "/v1/links", &list); len(list.Links) != 2 || list.Links[0].URL != wa.URL {
			t.Errorf("links: %+v", list)
		}
		if getJSON(t, s, s.keyB, "/v1/links", &list); len(list.Links) != 0 {
			t.Errorf("workspace b sees a's links: %+v", list)
		}

		text := "hi, i saw your post (ref " + strings.ToLower(wa.Ref) + ")" // a keyboard may lower-case it
		events := `{"id":"in1","ts":"2026-01-05T10:00:00Z","kind":"message_received","channel":"whatsapp","customer":"k1","message":"wamid.1","text":"` + text + `"}
{"id":"in1-again","ts":"2026-01-05T10:00:00Z","kind":"message_received","channel":"whatsapp","customer":"k1","message":"wamid.1","text":"` + text + `"}
{"id":"ref2","ts":"2026-01-05T11:00:00Z","kind":"lead_created","channel":"facebook","customer":"k2","props":{"referral":{"ref":"` + fb.Ref + `","source":"SHORTLINK","type":"OPEN_THREAD"}}}
{"id":"o1","ts":"2026-01-06T12:00:00Z","kind":"order_placed","channel":"whatsapp","customer":"k1","order":"o1","amount":"20.00","currency":"EUR"}
{"id":"o2","ts":"2026-01-06T12:00:00Z","kind":"order_placed","channel":"facebook","customer":"k2","order":"o2","amount":"8.00","currency":"EUR"}`
		res, status, err := applied(s.url, s.keyA).SendEvents(context.Background(), []byte(events), "application/x-ndjson")
		if err != nil || status != 200 || len(res.Results) != 5 {
			t.Fatalf("events: %d %v %+v", status, err, res)
		}
		var att kpi.AttributionReport
		if status := getJSON(t, s, s.keyA, "/v1/attribution?from=2026-01-01&to=2026-02-01&by=source", &att); status != 200 {
			t.Fatalf("attribution: %d", status)
		}
		credit := map[string]float64{}
		for _, r := range att.Rows {
			if r.Source != nil {
				credit[*r.Source] += r.Credits["last_touch"].Revenue
			}
		}
		if credit["instagram_bio"] != 20 || credit["qr_poster"] != 8 {
			t.Errorf("last-touch revenue by source %v, want instagram_bio 20 and qr_poster 8", credit)
		}
		var leads kpi.Report
		if getJSON(t, s, s.keyA, "/v1/kpis?from=2026-01-01&to=2026-02-01&kpi=leads", &leads); len(leads.Rows) != 1 || leads.Rows[0].KPIs[0].Value == nil || *leads.Rows[0].KPIs[0].Value != 2 {
			t.Errorf("leads: %+v, want 2 (one per chat, the re-sent message counted once)", leads.Rows)
		}
	})
}
