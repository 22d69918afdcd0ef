package whatsapp

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
)

// The payloads below follow the examples of Meta's webhook reference for
// the WhatsApp Cloud API (messages and statuses), with made-up numbers.

const (
	phoneID   = "410000000000001"
	accountID = "310000000000001"
	customer  = "6281234567001" // an Indonesian number
	sentWamid = "wamid.HBgNNjI4MTIzNDU2NzAwMRUCABEYEkFBMDAwMDAwMDAwMDAwMDAx"
	inWamid   = "wamid.HBgNNjI4MTIzNDU2NzAwMRUCABIYEkJCMDAwMDAwMDAwMDAwMDAx"
)

func route(phone, account string) (string, bool) {
	if phone == phoneID || account == accountID {
		return "shop", true
	}
	return "", false
}

// body wraps change values (field "messages" unless a value names its own
// as {"field": …, "value": …}) in one entry of a webhook.
func body(values ...string) []byte {
	var changes []string
	for _, v := range values {
		if strings.HasPrefix(v, `{"field"`) {
			changes = append(changes, v)
			continue
		}
		changes = append(changes, `{"field": "messages", "value": `+v+`}`)
	}
	return []byte(`{"object": "whatsapp_business_account", "entry": [{"id": "` + accountID + `", "time": 1767226000, "changes": [` + strings.Join(changes, ",") + `]}]}`)
}

// value is a messages change value with metadata, a contact and items.
func value(items string) string {
	return `{"messaging_product": "whatsapp",
		"metadata": {"display_phone_number": "6221500100", "phone_number_id": "` + phoneID + `"},
		"contacts": [{"profile": {"name": "Siti Rahma"}, "wa_id": "` + customer + `"}], ` + items + `}`
}

func parse(t *testing.T, b []byte) Result {
	t.Helper()
	res, err := Parse(b, Options{Route: route})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func kinds(events []event.Event) string {
	var out []string
	for _, e := range events {
		out = append(out, string(e.Kind))
	}
	return strings.Join(out, " ")
}

func TestParse_Statuses(t *testing.T) {
	status := func(s, extra string) string {
		return value(`"statuses": [{"id": "` + sentWamid + `", "status": "` + s + `", "timestamp": "1767225600", "recipient_id": "` + customer + `"` + extra + `}]`)
	}
	cbp := `, "conversation": {"id": "c1a2b3c4d5e6f708", "expiration_timestamp": "1767312000", "origin": {"type": "marketing"}},
		"pricing": {"billable": true, "pricing_model": "CBP", "category": "marketing"}`
	pmpFree := `, "pricing": {"billable": false, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}`
	pmpNoBillable := `, "pricing": {"pricing_model": "PMP", "type": "regular", "category": "utility"}`
	failed := `, "errors": [{"code": 131049, "title": "This message was not delivered to maintain healthy ecosystem engagement.",
		"error_data": {"details": "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."}}]`
	group := `, "recipient_type": "group", "recipient_participant_id": "6281234567999"`
	tests := []struct {
		name, value string
		kind        event.Kind
		props       map[string]string // props that must be set, "" for absent
	}{
		{"sent with conversation and pricing", status("sent", cbp), event.MessageSent,
			map[string]string{"pricing_category": "marketing", "pricing_type": "regular", "billable_category": "marketing", "customer_country": "ID", "profile_name": "Siti Rahma", "status": "sent"}},
		{"delivered free", status("delivered", pmpFree), event.MessageDelivered,
			map[string]string{"pricing_category": "service", "pricing_type": "free_customer_service", "billable_category": ""}},
		{"free entry point under conversation-based pricing", status("sent", `, "pricing": {"billable": false, "pricing_model": "CBP", "category": "referral_conversion"}`), event.MessageSent,
			map[string]string{"pricing_category": "referral_conversion", "pricing_type": "free_entry_point", "billable_category": ""}},
		{"read, billable implied by type regular", status("read", pmpNoBillable), event.MessageRead,
			map[string]string{"billable_category": "utility", "pricing_type": "regular"}},
		{"voice message played", status("played", ""), event.MessageRead, map[string]string{"status": "played"}},
		{"failed with its error", status("failed", failed), event.MessageFailed,
			map[string]string{"error_code": "131049", "error_title": "This message was not delivered to maintain healthy ecosystem engagement."}},
		{"deleted is kept, counted nowhere", status("deleted", `, "type": "message"`), event.ChannelEvent,
			map[string]string{"type": "status", "status": "deleted", "payload_type": "message"}},
		{"a status to come", status("warning", `, "new_field": {"x": 1}`), event.ChannelEvent, map[string]string{"status": "warning", "new_field": `{"x":1}`}},
		{"read in a group", status("read", group), event.MessageRead, map[string]string{"recipient_type": "group"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := parse(t, body(tc.value))
			if len(res.Problems) > 0 || len(res.Events) != 1 {
				t.Fatalf("events %v, problems %v", kinds(res.Events), res.Problems)
			}
			e := res.Events[0]
			if e.Kind != tc.kind || e.Message != sentWamid || e.Customer != customer || e.Workspace != "shop" || e.Channel != "whatsapp" {
				t.Fatalf("got %s message %s customer %s workspace %s channel %s", e.Kind, e.Message, e.Customer, e.Workspace, e.Channel)
			}
			if !e.TS.Equal(time.Unix(1767225600, 0)) {
				t.Errorf("ts %v", e.TS)
			}
			for k, want := range tc.props {
				if got := e.Prop(k); got != want {
					t.Errorf("props.%s = %q, want %q", k, got, want)
				}
			}
			if _, ok := e.Props["recipient_id"]; ok {
				t.Error("the recipient's number is kept in props; it is the customer id, hashed on storage")
			}
		})
	}
}

func TestParse_StatusIDs(t *testing.T) {
	// A retry of a status has the same id; another status of the message,
	// or the same status of another group member, does not.
	s := func(status, participant string) string {
		p := ""
		if participant != "" {
			p = `, "recipient_participant_id": "` + participant + `"`
		}
		return `{"id": "` + sentWamid + `", "status": "` + status + `", "timestamp": "1767225600", "recipient_id": "` + customer + `"` + p + `}`
	}
	a := parse(t, body(value(`"statuses": [`+s("read", "")+`]`))).Events[0].ID
	b := parse(t, body(value(`"statuses": [`+s("read", "")+`]`))).Events[0].ID
	c := parse(t, body(value(`"statuses": [`+s("delivered", "")+`]`))).Events[0].ID
	d := parse(t, body(value(`"statuses": [`+s("read", "6281234567999")+`]`))).Events[0].ID
	if a != b || a == c || a == d {
		t.Fatalf("ids %q %q %q %q", a, b, c, d)
	}
}

// message is a messages change with one inbound message of typ.
func message(typ, object string, context bool) string {
	ctx := ""
	if context {
		ctx = `"context": {"from": "6221500100", "id": "` + sentWamid + `"}, `
	}
	return value(`"messages": [{` + ctx + `"from": "` + customer + `", "id": "` + inWamid + `", "timestamp": "1767226000", "type": "` + typ + `", "` + typ + `": ` + object + `}]`)
}

func TestParse_Messages(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		kinds   string
		text    string
		checks  func(t *testing.T, events []event.Event)
		problem bool
	}{
		{name: "text", value: message("text", `{"body": "Is the blue dress still available?"}`, false),
			kinds: "message_received", text: "Is the blue dress still available?"},
		{name: "text reply to a campaign message", value: message("text", `{"body": "yes please"}`, true),
			kinds: "message_received", text: "yes please", checks: func(t *testing.T, ev []event.Event) {
				if ev[0].Prop("reply_to") != sentWamid {
					t.Errorf("reply_to %q", ev[0].Prop("reply_to"))
				}
			}},
		{name: "image", value: message("image", `{"caption": "this one", "mime_type": "image/jpeg", "sha256": "abc", "id": "1203456789"}`, false),
			kinds: "message_received", text: "this one", checks: propObject("image", "mime_type", "image/jpeg")},
		{name: "audio", value: message("audio", `{"mime_type": "audio/ogg; codecs=opus", "sha256": "abc", "id": "1203456790", "voice": true}`, false),
			kinds: "message_received", checks: propObject("audio", "id", "1203456790")},
		{name: "video", value: message("video", `{"mime_type": "video/mp4", "sha256": "abc", "id": "1203456791"}`, false), kinds: "message_received"},
		{name: "document", value: message("document", `{"caption": "invoice", "filename": "INV-1.pdf", "mime_type": "application/pdf", "sha256": "abc", "id": "1203456792"}`, false),
			kinds: "message_received", text: "invoice", checks: propObject("document", "filename", "INV-1.pdf")},
		{name: "sticker", value: message("sticker", `{"mime_type": "image/webp", "sha256": "abc", "id": "1203456793", "animated": false}`, false), kinds: "message_received"},
		{name: "location", value: message("location", `{"latitude": -6.2088, "longitude": 106.8456, "name": "Grand Indonesia", "address": "Jl. M.H. Thamrin No.1"}`, false),
			kinds: "message_received", text: "Grand Indonesia", checks: propObject("location", "latitude", "-6.2088")},
		{name: "contacts", value: message("contacts", `[{"name": {"formatted_name": "Budi", "first_name": "Budi"}, "phones": [{"phone": "+62 812 0000 0000", "type": "CELL"}]}]`, false),
			kinds: "message_received"},
		{name: "template quick reply", value: message("button", `{"payload": "YES_NOTIFY", "text": "Yes, notify me"}`, true),
			kinds: "message_received button_clicked", text: "Yes, notify me", checks: click("YES_NOTIFY")},
		{name: "button reply", value: message("interactive", `{"type": "button_reply", "button_reply": {"id": "size-m", "title": "Size M"}}`, true),
			kinds: "message_received button_clicked", text: "Size M", checks: click("size-m")},
		{name: "list reply", value: message("interactive", `{"type": "list_reply", "list_reply": {"id": "store-kl", "title": "Kuala Lumpur", "description": "Pavilion"}}`, true),
			kinds: "message_received button_clicked", text: "Kuala Lumpur", checks: click("store-kl")},
		{name: "flow reply", value: message("interactive", `{"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent", "response_json": "{\"flow_token\": \"t1\", \"size\": \"M\"}"}}`, true),
			kinds: "message_received button_clicked", text: "Sent", checks: click("flow")},
		{name: "interactive reply without context clicks nothing", value: message("interactive", `{"type": "button_reply", "button_reply": {"id": "x", "title": "X"}}`, false),
			kinds: "message_received", text: "X"},
		{name: "reaction", value: message("reaction", `{"message_id": "`+sentWamid+`", "emoji": "\ud83d\ude0d"}`, false),
			kinds: "message_received", text: "😍"},
		{name: "order", value: message("order", `{"catalog_id": "900100", "text": "for my sister", "product_items": [
				{"product_retailer_id": "SKU-1", "quantity": 2, "item_price": 75000, "currency": "IDR"},
				{"product_retailer_id": "SKU-2", "quantity": "1", "item_price": "49999.5", "currency": "IDR"}]}`, false),
			kinds: "message_received checkout_started", text: "for my sister", checks: func(t *testing.T, ev []event.Event) {
				// IDR has two minor digits in ISO 4217: 2 × 75000 + 49999.50.
				if a := ev[1].Amount; a == nil || a.Minor != 19999950 || a.Currency != "IDR" {
					t.Errorf("cart total %v", a)
				}
			}},
		{name: "order with unreadable prices keeps no amount", value: message("order", `{"catalog_id": "c", "product_items": [{"product_retailer_id": "p", "quantity": "number-of-item", "item_price": "unitary-price", "currency": "price-currency"}]}`, false),
			kinds: "message_received checkout_started", checks: func(t *testing.T, ev []event.Event) {
				if ev[1].Amount != nil {
					t.Errorf("amount %v", ev[1].Amount)
				}
			}},
		{name: "click-to-WhatsApp referral", value: value(`"messages": [{"from": "` + customer + `", "id": "` + inWamid + `", "timestamp": "1767226000", "type": "text",
				"text": {"body": "Hi, I saw your ad"},
				"referral": {"source_url": "https://fb.me/3cr4Wqqkv", "source_id": "120200000000001", "source_type": "ad", "headline": "Year-end sale",
					"body": "Up to 50% off", "media_type": "image", "image_url": "https://example.com/ad.jpg", "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ"}}]`),
			kinds: "message_received lead_created", text: "Hi, I saw your ad", checks: func(t *testing.T, ev []event.Event) {
				l := ev[1]
				if l.Source != "ad" || l.Medium != "click_to_whatsapp" || l.Prop("ad_id") != "120200000000001" || l.Prop("ctwa_clid") != "ARAkLkA8rmlFeiCktEJQ" {
					t.Errorf("lead %+v", l)
				}
			}},
		{name: "system", value: message("system", `{"body": "User A changed from 6281234567001 to 6281234567002", "wa_id": "6281234567002", "type": "user_changed_number"}`, false),
			kinds: "channel_event"},
		{name: "unsupported", value: value(`"messages": [{"from": "` + customer + `", "id": "` + inWamid + `", "timestamp": "1767226000", "type": "unsupported",
				"errors": [{"code": 131051, "title": "Message type unknown", "error_data": {"details": "Message type is currently not supported."}}]}]`),
			kinds: "message_received", checks: func(t *testing.T, ev []event.Event) {
				if !strings.Contains(ev[0].Prop("errors"), "131051") {
					t.Errorf("errors not kept: %v", ev[0].Props)
				}
			}},
		{name: "a type to come is kept", value: message("hologram", `{"frames": 3}`, false),
			kinds: "message_received", checks: propObject("hologram", "frames", "3")},
		{name: "no type key", value: value(`"messages": [{"from": "` + customer + `", "id": "` + inWamid + `", "timestamp": "1767226000", "location": {"latitude": 3.139, "longitude": 101.6869}}]`),
			kinds: "message_received", checks: func(t *testing.T, ev []event.Event) {
				if ev[0].Prop("type") != "location" {
					t.Errorf("type %q", ev[0].Prop("type"))
				}
			}},
		{name: "errors instead of messages", value: `{"messaging_product": "whatsapp", "metadata": {"display_phone_number": "6221500100", "phone_number_id": "` + phoneID + `"},
				"errors": [{"code": 131000, "title": "Something went wrong"}]}`,
			kinds: "channel_event", checks: func(t *testing.T, ev []event.Event) {
				if !strings.Contains(ev[0].Prop("value"), "131000") || ev[0].Prop("type") != "errors" || ev[0].Prop("field") != "messages" {
					t.Errorf("props %v", ev[0].Props)
				}
			}},
		{name: "bad timestamp", value: value(`"messages": [{"from": "` + customer + `", "id": "` + inWamid + `", "timestamp": "yesterday", "type": "text", "text": {"body": "hi"}}]`),
			problem: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := parse(t, body(tc.value))
			if tc.problem {
				if len(res.Problems) != 1 || len(res.Events) != 0 {
					t.Fatalf("want one problem, got events %v problems %v", kinds(res.Events), res.Problems)
				}
				return
			}
			if len(res.Problems) > 0 {
				t.Fatalf("problems %v", res.Problems)
			}
			if got := kinds(res.Events); got != tc.kinds {
				t.Fatalf("kinds %q, want %q", got, tc.kinds)
			}
			m := res.Events[0]
			if m.Text != tc.text {
				t.Errorf("text %q, want %q", m.Text, tc.text)
			}
			if m.Kind == event.MessageReceived && (m.Message != inWamid || m.Customer != customer || m.Actor != event.ActorCustomer || m.Prop("customer_country") != "ID") {
				t.Errorf("message %+v", m)
			}
			if tc.checks != nil {
				tc.checks(t, res.Events)
			}
		})
	}
}

// propObject checks that props[key] keeps the payload's object with field.
func propObject(key, field, want string) func(t *testing.T, ev []event.Event) {
	return func(t *testing.T, ev []event.Event) {
		t.Helper()
		obj, ok := ev[0].Props[key].(map[string]any)
		if !ok || fmt.Sprint(obj[field]) != want {
			t.Errorf("props.%s.%s = %v, want %s", key, field, ev[0].Props[key], want)
		}
	}
}

// click checks the button_clicked event: on the message answered.
func click(payload string) func(t *testing.T, ev []event.Event) {
	return func(t *testing.T, ev []event.Event) {
		t.Helper()
		c := ev[1]
		if c.Message != sentWamid || c.Prop("payload") != payload || c.Prop("wa_message") != inWamid || c.Customer != customer {
			t.Errorf("click %+v", c)
		}
	}
}

func TestParse_BatchOfEntriesAndChanges(t *testing.T) {
	b, err := os.ReadFile("testdata/campaign_day.json")
	if err != nil {
		t.Fatal(err)
	}
	res := parse(t, b)
	if len(res.Problems) > 0 {
		t.Fatal(res.Problems)
	}
	want := "message_sent message_delivered message_read message_sent message_read message_received button_clicked message_failed message_delivered message_received opted_out"
	if got := kinds(res.Events); got != want {
		t.Fatalf("kinds\n got %s\nwant %s", got, want)
	}
	countries := map[string]bool{}
	for _, e := range res.Events {
		countries[e.Prop("customer_country")] = true
	}
	for _, c := range []string{"ID", "MY", "SG"} {
		if !countries[c] {
			t.Errorf("no event from %s: %v", c, countries)
		}
	}
}

func TestParse_SkipsWhatCannotBeRead(t *testing.T) {
	good := message("text", `{"body": "hi"}`, false)
	otherNumber := strings.Replace(good, phoneID, "499999999999999", 1)
	b := []byte(`{"object": "whatsapp_business_account", "entry": [
		{"id": "` + accountID + `", "changes": [{"field": "messages", "value": ` + good + `}, {"field": "messages", "value": 42}]},
		{"id": "399999999999999", "changes": [{"field": "messages", "value": ` + otherNumber + `}]},
		{"id": "` + accountID + `", "changes": [{"field": "messages", "value": ` + value(`"statuses": [{"status": "read", "timestamp": "1767225600"}, {"id": "`+sentWamid+`", "status": "read", "timestamp": "1767225600", "recipient_id": "`+customer+`"}]`) + `}]}]}`)
	res := parse(t, b)
	if got := kinds(res.Events); got != "message_received message_read" {
		t.Errorf("kinds %q", got)
	}
	var where []string
	for _, p := range res.Problems {
		where = append(where, p.Where)
	}
	if got := strings.Join(where, "; "); got != "entry 0, change 1; entry 1, change 0; entry 2, change 0, statuses[0]" {
		t.Errorf("problems at %q: %v", got, res.Problems)
	}
	if !strings.Contains(res.Problems[1].Reason, "499999999999999") {
		t.Errorf("unrouted reason %q does not name the number", res.Problems[1].Reason)
	}
}

func TestParse_NotAWebhook(t *testing.T) {
	for _, b := range []string{``, `{`, `[]`, `{"object": "whatsapp_business_account"}`, `{"entry": [}`} {
		if _, err := Parse([]byte(b), Options{Route: route}); err == nil {
			t.Errorf("%q: no error", b)
		}
	}
	res, err := Parse([]byte(`{"object": "page", "entry": []}`), Options{Route: route})
	if err != nil || len(res.Problems) != 1 {
		t.Errorf("another object: %v %v", err, res.Problems)
	}
}

func TestParse_UserPreferencesAndOtherFields(t *testing.T) {
	prefs := `{"field": "user_preferences", "value": {"messaging_product": "whatsapp",
		"metadata": {"display_phone_number": "6221500100", "phone_number_id": "` + phoneID + `"},
		"contacts": [{"profile": {"name": "Siti Rahma"}, "wa_id": "` + customer + `"}],
		"user_preferences": [
			{"wa_id": "` + customer + `", "detail": "User requested to stop marketing messages", "category": "marketing_messages", "value": "stop", "timestamp": 1767226000},
			{"wa_id": "` + customer + `", "detail": "User requested to resume marketing messages", "category": "marketing_messages", "value": "resume", "timestamp": 1767229000}]}}`
	account := `{"field": "account_update", "value": {"phone_number": "6221500100", "event": "VERIFIED_ACCOUNT"}}`
	res := parse(t, body(prefs, account))
	if len(res.Problems) > 0 {
		t.Fatal(res.Problems)
	}
	if got := kinds(res.Events); got != "opted_out opted_in channel_event" {
		t.Fatalf("kinds %q", got)
	}
	if res.Events[0].Customer != customer || strings.Contains(res.Events[0].ID, customer) {
		t.Errorf("opt-out %+v: the id must not carry the number", res.Events[0])
	}
	if res.Events[2].Prop("type") != "account_update" {
		t.Errorf("account update %+v", res.Events[2])
	}
	again := parse(t, body(prefs, account))
	for i := range res.Events {
		if res.Events[i].ID != again.Events[i].ID {
			t.Errorf("a re-sent %s gets another id", res.Events[i].Kind)
		}
	}
}

func TestParse_EchoesAreAgentMessages(t *testing.T) {
	echo := `{"field": "smb_message_echoes", "value": {"messaging_product": "whatsapp",
		"metadata": {"display_phone_number": "6221500100", "phone_number_id": "` + phoneID + `"},
		"message_echoes": [{"from": "6221500100", "to": "` + customer + `", "id": "` + sentWamid + `", "timestamp": "1767226000", "type": "text", "text": {"body": "Your order has shipped"}}]}}`
	res := parse(t, body(echo))
	if len(res.Events) != 1 {
		t.Fatal(res.Problems)
	}
	e := res.Events[0]
	if e.Kind != event.MessageSent || e.Actor != event.ActorAgent || e.Customer != customer || e.Text != "Your order has shipped" {
		t.Errorf("echo %+v", e)
	}
}

func TestStopWords(t *testing.T) {
	d := DefaultStopWords()
	for _, text := range []string{"STOP", " stop. ", "Unsubscribe!", "berhenti", "Berhenti langganan", "henti", "停止", "取消訂閱", "退订", "Stop promotions"} {
		if !d.Match(text) {
			t.Errorf("%q is not an opt-out", text)
		}
	}
	for _, text := range []string{"don't stop", "stopwatch", "berhenti di halte mana?", "", "停止营业了吗"} {
		if d.Match(text) {
			t.Errorf("%q is taken as an opt-out", text)
		}
	}
	own := NewStopWords([]string{"Cukup"})
	if !own.Match("cukup!") || own.Match("stop") {
		t.Error("a workspace's own list replaces the defaults")
	}
}

func TestStopWords_InWebhook(t *testing.T) {
	for _, text := range []string{"STOP", "berhenti", "henti", "停止", "取消訂閱"} {
		res := parse(t, body(message("text", `{"body": "`+text+`"}`, true)))
		if got := kinds(res.Events); got != "message_received opted_out" {
			t.Errorf("%q: kinds %q", text, got)
			continue
		}
		if o := res.Events[1]; o.Customer != customer || o.Prop("reply_to") != sentWamid {
			t.Errorf("%q: opt-out %+v", text, o)
		}
	}
	// WhatsApp's marketing opt-out button is a quick reply.
	res := parse(t, body(message("button", `{"payload": "Stop promotions", "text": "Stop promotions"}`, true)))
	if got := kinds(res.Events); got != "message_received button_clicked opted_out" {
		t.Errorf("opt-out button: kinds %q", got)
	}
	res, _ = Parse(body(message("text", `{"body": "cukup"}`, false)), Options{Route: route,
		StopWords: func(string) *StopWords { return NewStopWords([]string{"cukup"}) }})
	if got := kinds(res.Events); got != "message_received opted_out" {
		t.Errorf("workspace list: kinds %q", got)
	}
}

func TestValidSignature(t *testing.T) {
	b := body(message("text", `{"body": "J'ai mang\u00e9 des p\u00e2tes \u307f\u3069\u308a"}`, false))
	sig := Sign(b, "app-secret")
	altered := append([]byte{}, b...)
	altered[len(altered)/2] ^= 1
	tests := []struct {
		name   string
		body   []byte
		header string
		want   bool
	}{
		{"valid", b, sig, true},
		{"valid, upper-case hex", b, "sha256=" + strings.ToUpper(strings.TrimPrefix(sig, "sha256=")), true},
		{"missing", b, "", false},
		{"wrong secret", b, Sign(b, "another-secret"), false},
		{"body altered by one byte", altered, sig, false},
		{"no sha256= prefix", b, strings.TrimPrefix(sig, "sha256="), false},
		{"sha1", b, "sha1=" + strings.TrimPrefix(sig, "sha256="), false},
		{"truncated", b, sig[:len(sig)-2], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ValidSignature(tc.body, tc.header, "app-secret"); got != tc.want {
				t.Errorf("got %v", got)
			}
		})
	}
	if !ValidSignature(b, sig, "old", "app-secret") {
		t.Error("the second of two secrets (during rotation) is refused")
	}
	// Known answer: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog") from RFC 4231's usual example.
	if got := Sign([]byte("The quick brown fox jumps over the lazy dog"), "key"); got != "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8" {
		t.Errorf("Sign = %s", got)
	}
}

func TestCountryOf(t *testing.T) {
	for phone, want := range map[string]string{
		"6281234567001": "ID", "60123456002": "MY", "+6591234004": "SG", "8613800138000": "CN", "85291234567": "HK",
		"16505551234": "US", "447700900123": "GB", "971501234567": "AE", "5511987654321": "BR",
		"": "", "US.13491208655302741918": "", "12345": "",
	} {
		if got := CountryOf(phone); got != want {
			t.Errorf("CountryOf(%q) = %q, want %q", phone, got, want)
		}
	}
}

// FuzzParse feeds the parser arbitrary bodies, starting from the payloads
// above: it must never panic, and every event it returns must be valid and
// belong to the routed workspace.
func FuzzParse(f *testing.F) {
	seed, _ := os.ReadFile("testdata/campaign_day.json")
	f.Add(seed)
	f.Add(body(message("order", `{"catalog_id": "c", "product_items": [{"product_retailer_id": "p", "quantity": 2, "item_price": 1.5, "currency": "USD"}]}`, true)))
	f.Add(body(message("interactive", `{"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent", "response_json": "{}"}}`, true)))
	f.Add(body(value(`"statuses": [{"id": "w", "status": "failed", "timestamp": 1767225600, "errors": [{"code": 1}]}]`)))
	f.Add([]byte(`{"object": "whatsapp_business_account", "entry": [{"id": "` + accountID + `", "changes": [{"field": "x", "value": null}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := Parse(b, Options{Route: route})
		if err != nil {
			return
		}
		for _, e := range res.Events {
			if e.Workspace != "shop" || e.Channel != Channel {
				t.Fatalf("event %s in workspace %q channel %q", e.ID, e.Workspace, e.Channel)
			}
			if err := e.Validate(); err != nil {
				t.Fatalf("invalid event %s: %v", e.ID, err)
			}
			if _, err := json.Marshal(e); err != nil {
				t.Fatalf("event %s cannot be encoded: %v", e.ID, err)
			}
		}
	})
}

// BenchmarkParse reads the campaign-day webhook: 4 changes, 11 events.
func BenchmarkParse(b *testing.B) {
	body, err := os.ReadFile("testdata/campaign_day.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	events := 0
	for b.Loop() {
		res, err := Parse(body, Options{Route: route})
		if err != nil {
			b.Fatal(err)
		}
		events += len(res.Events)
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
