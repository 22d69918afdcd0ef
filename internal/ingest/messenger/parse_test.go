package messenger

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
)

// The payloads below follow the examples of Meta's webhook reference for
// the Messenger Platform (messages, message_echoes, message_deliveries,
// message_reads, messaging_postbacks, messaging_referrals,
// message_reactions) and for Instagram messaging (messages with their
// echoes, messaging_seen, messaging_postbacks, message_reactions), with
// made-up ids.

const (
	pageID  = "104652048544312"
	psid    = "5827346591822034"
	igID    = "17841405309211844"
	igsid   = "6934521078834512"
	botApp  = "1517776481860111"
	inboxID = "263902037430900"
	adApp   = "880011223344556"
)

func route(id string) (string, bool) {
	if id == pageID || id == igID {
		return "shop", true
	}
	return "", false
}

func actor(appID string) event.Actor {
	switch appID {
	case botApp:
		return event.ActorBot
	case adApp:
		return event.ActorCampaign
	}
	return event.ActorAgent
}

// body wraps messaging items in one entry of object (page or instagram).
func body(object, id string, items ...string) []byte {
	return []byte(`{"object": "` + object + `", "entry": [{"id": "` + id + `", "time": 1767607800000, "messaging": [` + strings.Join(items, ",") + `]}]}`)
}

func parse(t *testing.T, b []byte) ingest.Batch {
	t.Helper()
	res, err := Parse(b, Options{Route: route, Actor: actor})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// byID indexes events by id, failing on a duplicate id.
func byID(t *testing.T, events []event.Event) map[string]event.Event {
	t.Helper()
	out := map[string]event.Event{}
	for _, e := range events {
		if _, dup := out[e.ID]; dup {
			t.Errorf("two events with id %s", e.ID)
		}
		out[e.ID] = e
	}
	return out
}

func ms(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParse_Messenger(t *testing.T) {
	b := body(ObjectPage, pageID,
		// messages: text, a quick reply, an image, a reply to a message.
		`{"sender": {"id": "`+psid+`"}, "recipient": {"id": "`+pageID+`"}, "timestamp": 1767607200000,
		  "message": {"mid": "m_in1", "text": "hello, world!"}}`,
		`{"sender": {"id": "`+psid+`"}, "recipient": {"id": "`+pageID+`"}, "timestamp": 1767607260000,
		  "message": {"mid": "m_qr1", "text": "Yes please", "quick_reply": {"payload": "YES_PROMO"}}}`,
		`{"sender": {"id": "`+psid+`"}, "recipient": {"id": "`+pageID+`"}, "timestamp": 1767607270000,
		  "message": {"mid": "m_img1", "attachments": [{"type": "image", "payload": {"url": "https://scontent.example/a.jpg"}}]}}`,
		`{"sender": {"id": "`+psid+`"}, "recipient": {"id": "`+pageID+`"}, "timestamp": 1767607280000,
		  "message": {"mid": "m_re1", "text": "this one", "reply_to": {"mid": "m_out1"}}}`,
		// message_echoes: from the bot's app, from Meta's inbox, from the
		// app that sends campaigns.
		`{"sender": {"id": "`+pageID+`"}, "recipient": {"id": "`+psid+`"}, "timestamp": 1767607201000,
		  "message": {"is_echo": true, "app_id": `+botApp+`, "metadata": "flow:welcome", "mid": "m_out1", "text": "Hi! How can we help?"}}`,
		`{"sender": {"id": "`+pageID+`"}, "recipient": {"id": "`+psid+`"}, "timestamp": 1767607300000,
		  "message": {"is_echo": true, "app_id": `+inboxID+`, "mid": "m_out2", "text": "Ana here"}}`,
		`{"sender": {"id": "`+pageID+`"}, "recipient": {"id": "`+psid+`"}, "timestamp": 1767607400000,
		  "message": {"is_echo": true, "app_id": `+adApp+`, "mid": "m_out3",
		    "attachments": [{"type": "template", "payload": {"template_type": "button", "text": "Sale!", "buttons": [{"type": "postback", "title": "Show me", "payload": "SHOW"}]}}]}}`,
		// message_deliveries (no timestamp) and message_reads.
		`{"sender": {"id": "`+psid+`"}, "recipient": {"id": "`+pageID+`"},
		  "delivery": {"mids": ["m_out1"], "watermark": 1767607300000}}`,
		`{"sender": {"id": "`+psid+`"}, "recipient": {"id": "`+pageID+`"}, "timestamp": 1767607500000,
		  "read": {"watermark": 1767607400000}}`,
		// messaging_postbacks, with the referral of a chat opened from an
		// m.me link.
		`{"sender": {"id": "`+psid+`"}, "recipient": {"id": "`+pageID+`"}, "timestamp": 1767607600000,
		  "postback": {"mid": "m_pb1", "title": "Show me", "payload": "SHOW",
		    "referral": {"ref": "K7QF2M", "source": "SHORTLINK", "type": "OPEN_THREAD"}}}`,
		// messaging_referrals: an ad, in a thread the customer already had.
		`{"sender": {"id": "`+psid+`"}, "recipient": {"id": "`+pageID+`"}, "timestamp": 1767607700000,
		  "referral": {"ref": "spring", "ad_id": "6045246247433", "source": "ADS", "type": "OPEN_THREAD",
		    "ads_context_data": {"ad_title": "Spring sale", "photo_url": "https://scontent.example/ad.jpg", "post_id": "104652048544312_1"}}}`,
		// message_reactions: a reaction and taking it back.
		`{"sender": {"id": "`+psid+`"}, "recipient": {"id": "`+pageID+`"}, "timestamp": 1767607710000,
		  "reaction": {"reaction": "love", "emoji": "\u2764\ufe0f", "action": "react", "mid": "m_out3"}}`,
		`{"sender": {"id": "`+psid+`"}, "recipient": {"id": "`+pageID+`"}, "timestamp": 1767607720000,
		  "reaction": {"reaction": "love", "emoji": "\u2764\ufe0f", "action": "unreact", "mid": "m_out3"}}`,
		// messaging_optins: kept, counted in no KPI.
		`{"sender": {"id": "`+psid+`"}, "recipient": {"id": "`+pageID+`"}, "timestamp": 1767607800000,
		  "optin": {"type": "notification_messages", "payload": "WEEKLY", "notification_messages_token": "tok"}}`,
	)
	res := parse(t, b)
	if len(res.Problems) > 0 || len(res.Unrouted) > 0 {
		t.Fatalf("problems %v, unrouted %v", res.Problems, res.Unrouted)
	}
	got := byID(t, res.Events)
	for _, e := range res.Events {
		if e.Workspace != "shop" || e.Channel != ChannelFacebook || e.Props["page_id"] != pageID || e.Count != 1 {
			t.Errorf("%s: workspace %q, channel %q, page %v, count %d", e.ID, e.Workspace, e.Channel, e.Props["page_id"], e.Count)
		}
		if e.Customer != psid {
			t.Errorf("%s: customer %q, want the PSID", e.ID, e.Customer)
		}
		if err := e.Validate(); err != nil {
			t.Errorf("%s: %v", e.ID, err)
		}
	}
	want := []struct {
		id      string
		kind    event.Kind
		message string
		actor   event.Actor
		ts      string
		text    string
	}{
		{"fb:m_in1", event.MessageReceived, "m_in1", event.ActorCustomer, "2026-01-05T10:00:00Z", "hello, world!"},
		{"fb:m_qr1", event.MessageReceived, "m_qr1", event.ActorCustomer, "2026-01-05T10:01:00Z", "Yes please"},
		// A quick reply names no message: the KPIs count it for the
		// business's latest message before it.
		{"fb:click:m_qr1", event.ButtonClicked, "", "", "2026-01-05T10:01:00Z", "Yes please"},
		{"fb:m_img1", event.MessageReceived, "m_img1", event.ActorCustomer, "2026-01-05T10:01:10Z", ""},
		{"fb:m_re1", event.MessageReceived, "m_re1", event.ActorCustomer, "2026-01-05T10:01:20Z", "this one"},
		{"fb:echo:m_out1", event.MessageSent, "m_out1", event.ActorBot, "2026-01-05T10:00:01Z", "Hi! How can we help?"},
		{"fb:echo:m_out2", event.MessageSent, "m_out2", event.ActorAgent, "2026-01-05T10:01:40Z", "Ana here"},
		{"fb:echo:m_out3", event.MessageSent, "m_out3", event.ActorCampaign, "2026-01-05T10:03:20Z", ""},
		// The delivery watermark, at its own time, and the mid it lists.
		{"fb:delivered:m_out1:1767607300000", event.MessageDelivered, "m_out1", "", "2026-01-05T10:01:40Z", ""},
		{"fb:m_pb1", event.MessageReceived, "m_pb1", event.ActorCustomer, "2026-01-05T10:06:40Z", "Show me"},
		{"fb:postback:m_pb1", event.ButtonClicked, "", "", "2026-01-05T10:06:40Z", "Show me"},
		{"fb:lead:m_pb1", event.LeadCreated, "", "", "2026-01-05T10:06:40Z", ""},
	}
	for _, w := range want {
		e, ok := got[w.id]
		if !ok {
			t.Errorf("no event %s", w.id)
			continue
		}
		if e.Kind != w.kind || e.Message != w.message || e.Actor != w.actor || !e.TS.Equal(ms(w.ts)) || e.Text != w.text {
			t.Errorf("%s: %s message %q actor %q at %s text %q; want %s %q %q %s %q", w.id, e.Kind, e.Message, e.Actor, e.TS.Format(time.RFC3339Nano), e.Text,
				w.kind, w.message, w.actor, w.ts, w.text)
		}
	}
	if p := got["fb:m_qr1"].Props; p["type"] != "quick_reply" {
		t.Errorf("quick reply props %v", p)
	}
	if p := got["fb:click:m_qr1"].Props; p["payload"] != "YES_PROMO" || p["button_type"] != "quick_reply" || p["reply_mid"] != "m_qr1" {
		t.Errorf("quick reply click props %v", p)
	}
	if p := got["fb:m_img1"].Props; p["type"] != "image" || p["attachments"] == nil {
		t.Errorf("image props %v", p)
	}
	if p := got["fb:m_re1"].Props; p["reply_to"] != "m_out1" {
		t.Errorf("reply props %v", p)
	}
	if p := got["fb:echo:m_out1"].Props; p["echo"] != true || p["metadata"] != "flow:welcome" || p["type"] != "text" {
		t.Errorf("echo props %v", p)
	}
	if p := got["fb:echo:m_out3"].Props; p["type"] != "template" {
		t.Errorf("template echo props %v", p)
	}
	if p := got["fb:postback:m_pb1"].Props; p["payload"] != "SHOW" || p["title"] != "Show me" || p["button_type"] != "postback" {
		t.Errorf("postback props %v", p)
	}

	// Watermarks name no message but the customer, with the watermark in
	// Unix milliseconds; a delivery without a timestamp is at its
	// watermark.
	var deliveries, reads []event.Event
	for _, e := range res.Events {
		if e.Message != "" {
			continue
		}
		switch e.Kind {
		case event.MessageDelivered:
			deliveries = append(deliveries, e)
		case event.MessageRead:
			reads = append(reads, e)
		}
	}
	if len(deliveries) != 1 || len(reads) != 1 {
		t.Fatalf("%d delivery and %d read watermarks, want 1 and 1", len(deliveries), len(reads))
	}
	if wm, ok := deliveries[0].Watermark(); !ok || wm != 1767607300000 || !deliveries[0].TS.Equal(time.UnixMilli(1767607300000)) ||
		!strings.HasPrefix(deliveries[0].ID, "fb:delivery:") || !slices.Equal(deliveries[0].Props["mids"].([]string), []string{"m_out1"}) {
		t.Errorf("delivery watermark %+v", deliveries[0])
	}
	if wm, ok := reads[0].Watermark(); !ok || wm != 1767607400000 || !reads[0].TS.Equal(ms("2026-01-05T10:05:00Z")) {
		t.Errorf("read watermark %+v", reads[0])
	}

	// Referrals are leads: an ad's with its ad id, source ad and medium
	// click_to_messenger; an m.me link's with its ref, for the workspace's
	// links to name the source.
	var adLead, linkLead event.Event
	for _, e := range res.Events {
		if e.Kind == event.LeadCreated {
			if e.Props["ad_id"] != nil {
				adLead = e
			} else {
				linkLead = e
			}
		}
	}
	if adLead.Source != "ad" || adLead.Medium != "click_to_messenger" || adLead.Props["ad_id"] != "6045246247433" || adLead.Props["ref"] != "spring" ||
		adLead.Props["referral_source"] != "ads" || !adLead.TS.Equal(ms("2026-01-05T10:08:20Z")) {
		t.Errorf("ad lead %+v", adLead)
	}
	if linkLead.ID != "fb:lead:m_pb1" || linkLead.Source != "" || linkLead.Props["ref"] != "K7QF2M" || linkLead.Props["referral_source"] != "shortlink" {
		t.Errorf("link lead %+v", linkLead)
	}

	// A reaction is the customer's reply; taking it back is kept apart.
	var reaction, unreact, optin event.Event
	for _, e := range res.Events {
		switch {
		case strings.HasPrefix(e.ID, "fb:reaction:"):
			reaction = e
		case strings.HasPrefix(e.ID, "fb:unreact:"):
			unreact = e
		case strings.HasPrefix(e.ID, "fb:optin:"):
			optin = e
		}
	}
	if reaction.Kind != event.MessageReceived || reaction.Text != "❤️" || reaction.Props["reply_to"] != "m_out3" || reaction.Props["reaction"] != "love" || reaction.Message == "" {
		t.Errorf("reaction %+v", reaction)
	}
	if unreact.Kind != event.ChannelEvent || unreact.Props["type"] != "reaction" || unreact.Props["action"] != "unreact" {
		t.Errorf("unreact %+v", unreact)
	}
	if optin.Kind != event.ChannelEvent || optin.Props["type"] != "optin" {
		t.Errorf("optin %+v", optin)
	}
	if n := len(res.Events); n != 18 {
		t.Errorf("%d events, want 18", n)
	}

	// Meta re-sends a batch it got no 200 for: the same ids, the same
	// events.
	again := parse(t, b)
	if len(again.Events) != len(res.Events) {
		t.Fatalf("the re-sent body gave %d events, not %d", len(again.Events), len(res.Events))
	}
	for i := range again.Events {
		a, _ := json.Marshal(again.Events[i])
		b, _ := json.Marshal(res.Events[i])
		if string(a) != string(b) {
			t.Errorf("re-sent: %s\nfirst: %s", a, b)
		}
	}
}

func TestParse_Instagram(t *testing.T) {
	b := body(ObjectInstagram, igID,
		`{"sender": {"id": "`+igsid+`"}, "recipient": {"id": "`+igID+`"}, "timestamp": 1767607200000,
		  "message": {"mid": "aWdfZAG1faXRlbTox", "text": "Is this in stock?",
		    "referral": {"ref": "bio", "ad_id": "120210000000000", "source": "ADS", "type": "OPEN_THREAD",
		      "ads_context_data": {"ad_title": "New arrivals", "photo_url": "https://scontent.example/ig.jpg"}}}}`,
		// Instagram sends the business's own messages on the messages
		// field, flagged is_echo.
		`{"sender": {"id": "`+igID+`"}, "recipient": {"id": "`+igsid+`"}, "timestamp": 1767607260000,
		  "message": {"mid": "aWdfZAG1faXRlbToy", "text": "Yes, sizes S to L", "is_echo": true}}`,
		// messaging_seen names the message seen.
		`{"sender": {"id": "`+igsid+`"}, "recipient": {"id": "`+igID+`"}, "timestamp": 1767607300000,
		  "read": {"mid": "aWdfZAG1faXRlbToy"}}`,
		// An icebreaker tapped.
		`{"sender": {"id": "`+igsid+`"}, "recipient": {"id": "`+igID+`"}, "timestamp": 1767607400000,
		  "postback": {"mid": "aWdfZAG1faXRlbToz", "title": "Opening hours?", "payload": "HOURS"}}`,
		// A message the customer unsent.
		`{"sender": {"id": "`+igsid+`"}, "recipient": {"id": "`+igID+`"}, "timestamp": 1767607500000,
		  "message": {"mid": "aWdfZAG1faXRlbTox", "is_deleted": true}}`,
		// An ig.me link in an existing conversation.
		`{"sender": {"id": "`+igsid+`"}, "recipient": {"id": "`+igID+`"}, "timestamp": 1767607600000,
		  "referral": {"ref": "K7QF2M", "source": "IGME-SOURCE-LINK", "type": "OPEN_THREAD"}}`,
	)
	res := parse(t, b)
	if len(res.Problems) > 0 {
		t.Fatalf("problems %v", res.Problems)
	}
	got := byID(t, res.Events)
	for _, e := range res.Events {
		if e.Channel != ChannelInstagram || e.Props["instagram_account_id"] != igID || e.Customer != igsid {
			t.Errorf("%s: channel %q, account %v, customer %q", e.ID, e.Channel, e.Props["instagram_account_id"], e.Customer)
		}
	}
	for id, kind := range map[string]event.Kind{
		"ig:aWdfZAG1faXRlbTox":                    event.MessageReceived,
		"ig:lead:aWdfZAG1faXRlbTox":               event.LeadCreated,
		"ig:echo:aWdfZAG1faXRlbToy":               event.MessageSent,
		"ig:read:aWdfZAG1faXRlbToy:1767607300000": event.MessageRead,
		"ig:aWdfZAG1faXRlbToz":                    event.MessageReceived,
		"ig:postback:aWdfZAG1faXRlbToz":           event.ButtonClicked,
		"ig:deleted:aWdfZAG1faXRlbTox":            event.ChannelEvent,
	} {
		if got[id].Kind != kind {
			t.Errorf("%s: %q, want %s", id, got[id].Kind, kind)
		}
	}
	if e := got["ig:echo:aWdfZAG1faXRlbToy"]; e.Actor != event.ActorAgent {
		t.Errorf("an echo without an app id is an agent's, not %q", e.Actor)
	}
	if e := got["ig:read:aWdfZAG1faXRlbToy:1767607300000"]; e.Message != "aWdfZAG1faXRlbToy" {
		t.Errorf("seen: message %q", e.Message)
	}
	if e := got["ig:lead:aWdfZAG1faXRlbTox"]; e.Source != "ad" || e.Medium != "click_to_instagram" || e.Props["ad_id"] != "120210000000000" {
		t.Errorf("ad lead %+v", e)
	}
	if n := len(res.Events); n != 8 {
		t.Errorf("%d events, want 8", n)
	}
}

func TestParse_StopWord(t *testing.T) {
	res := parse(t, body(ObjectPage, pageID,
		`{"sender": {"id": "`+psid+`"}, "recipient": {"id": "`+pageID+`"}, "timestamp": 1767607200000,
		  "message": {"mid": "m_stop", "text": "Berhenti"}}`,
		`{"sender": {"id": "`+psid+`"}, "recipient": {"id": "`+pageID+`"}, "timestamp": 1767607300000,
		  "postback": {"mid": "m_pbstop", "title": "Unsubscribe", "payload": "UNSUB"}}`))
	var optOuts int
	for _, e := range res.Events {
		if e.Kind == event.OptedOut {
			optOuts++
		}
	}
	if optOuts != 2 {
		t.Errorf("%d opt-outs, want 2: %+v", optOuts, res.Events)
	}
}

func TestParse_Problems(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		err        bool
		problem    string
	}{
		{"not JSON", `{"object":`, true, ""},
		{"no entry", `{"object": "page"}`, true, ""},
		{"another object", `{"object": "user", "entry": []}`, false, `"user" is neither page nor instagram`},
		{"no timestamp", string(body(ObjectPage, pageID, `{"sender": {"id": "`+psid+`"}, "recipient": {"id": "`+pageID+`"}, "message": {"mid": "m1", "text": "hi"}}`)),
			false, `"timestamp" is missing`},
		{"no sender", string(body(ObjectPage, pageID, `{"recipient": {"id": "`+pageID+`"}, "timestamp": 1767607200000, "read": {"watermark": 1767607200000}}`)),
			false, `"sender.id" is missing`},
		{"no mid", string(body(ObjectPage, pageID, `{"sender": {"id": "`+psid+`"}, "recipient": {"id": "`+pageID+`"}, "timestamp": 1767607200000, "message": {"text": "hi"}}`)),
			false, `"message.mid" is missing`},
		{"watermark not a time", string(body(ObjectPage, pageID, `{"sender": {"id": "`+psid+`"}, "recipient": {"id": "`+pageID+`"}, "delivery": {"watermark": "soon"}}`)),
			false, `"delivery.watermark" "soon" is not Unix milliseconds`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Parse([]byte(tc.body), Options{Route: route})
			if tc.err != (err != nil) {
				t.Fatalf("error %v", err)
			}
			if tc.problem == "" {
				return
			}
			if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Reason, tc.problem) {
				t.Errorf("problems %v, want one with %q", res.Problems, tc.problem)
			}
		})
	}
}

// An entry of a Page no workspace maps is kept whole, once however often
// it is re-sent, and read later as the webhook would have read it.
func TestParse_Unrouted(t *testing.T) {
	b := []byte(`{"object": "page", "entry": [
		{"id": "999000111", "time": 1767607800000, "messaging": [{"sender": {"id": "` + psid + `"}, "recipient": {"id": "999000111"}, "timestamp": 1767607200000, "message": {"mid": "m_x", "text": "hi"}}]},
		{"id": "` + pageID + `", "time": 1767607800000, "messaging": [{"sender": {"id": "` + psid + `"}, "recipient": {"id": "` + pageID + `"}, "timestamp": 1767607200000, "message": {"mid": "m_y", "text": "hi"}}]}]}`)
	res := parse(t, b)
	if len(res.Events) != 1 || res.Events[0].ID != "fb:m_y" {
		t.Fatalf("events %+v", res.Events)
	}
	if len(res.Unrouted) != 1 || res.Unrouted[0].Keys.Key != "999000111" || res.Unrouted[0].Where != "entry 0" || !strings.HasPrefix(res.Unrouted[0].ID, "mq_") {
		t.Fatalf("unrouted %+v", res.Unrouted)
	}
	if again := parse(t, b); again.Unrouted[0].ID != res.Unrouted[0].ID {
		t.Error("a re-sent entry has another id")
	}
	src := New(Settings{Pages: map[string]string{pageID: "shop"}})
	events, err := src.ParsePart(res.Unrouted[0], "other", storeWorkspace())
	if err != nil || len(events) != 1 || events[0].ID != "fb:m_x" || events[0].Workspace != "other" || events[0].Channel != ChannelFacebook {
		t.Fatalf("%v %+v", err, events)
	}
}
