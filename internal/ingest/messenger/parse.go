package messenger

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
	"github.com/omnikpi/omnikpi/internal/ingest/whatsapp"
)

// Options say where an entry's events go and how they are read.
type Options struct {
	// Route names the workspace of an entry from its id (a Page's or an
	// Instagram account's); false when none is configured.
	Route func(id string) (workspace string, ok bool)
	// Actor says who wrote a message the business sent through the app
	// with this id (an echo's app_id, "" when it names none); nil makes
	// every echo an agent's.
	Actor func(appID string) event.Actor
	// StopWords returns the workspace's opt-out words; nil means the
	// defaults.
	StopWords func(workspace string) *whatsapp.StopWords
}

// BodyError is a body that is not a Messenger or Instagram webhook at all.
type BodyError struct{ Reason string }

func (e *BodyError) Error() string { return "not a Messenger webhook body: " + e.Reason }

// Body is a webhook body of object holding only this entry, which Parse
// reads as it read the entry in its original webhook: the form in which an
// entry no workspace maps waits in the quarantine.
func Body(object string, entry []byte) []byte {
	obj, _ := json.Marshal(object)
	return []byte(`{"object":` + string(obj) + `,"entry":[` + string(entry) + `]}`)
}

// partID names a quarantined entry by its content, so that a re-sent one is
// kept once.
func partID(body []byte) string {
	sum := sha256.Sum256(body)
	return "mq_" + hex.EncodeToString(sum[:16])
}

// Parse reads one webhook body. Only a body that is not a JSON webhook
// envelope is an error; an item that cannot be read is a Problem, and an
// entry of a Page or account no workspace maps is Unrouted, kept whole.
func Parse(body []byte, opts Options) (ingest.Batch, error) {
	var env struct {
		Object string            `json:"object"`
		Entry  []json.RawMessage `json:"entry"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return ingest.Batch{}, &BodyError{Reason: jsonReason(err)}
	}
	if env.Entry == nil {
		return ingest.Batch{}, &BodyError{Reason: `no "entry" array`}
	}
	var b ingest.Batch
	channel := map[string]string{ObjectPage: ChannelFacebook, ObjectInstagram: ChannelInstagram}[env.Object]
	if channel == "" {
		b.Problems = append(b.Problems, ingest.Problem{Where: "object", Reason: fmt.Sprintf("%q is neither %s nor %s", env.Object, ObjectPage, ObjectInstagram)})
		return b, nil
	}
	for i, raw := range env.Entry {
		where := fmt.Sprintf("entry %d", i)
		m, err := decodeObject(raw)
		if err != nil {
			b.Problems = append(b.Problems, ingest.Problem{Where: where, Reason: err.Error()})
			continue
		}
		id := str(m, "id")
		workspace, ok := "", false
		if opts.Route != nil {
			workspace, ok = opts.Route(id)
		}
		if !ok {
			what := "Page"
			if channel == ChannelInstagram {
				what = "Instagram account"
			}
			b.Problems = append(b.Problems, ingest.Problem{Where: where, Reason: fmt.Sprintf("no workspace is configured for %s %q; kept in quarantine until one is", what, id)})
			part := Body(env.Object, raw)
			b.Unrouted = append(b.Unrouted, ingest.Part{ID: partID(part), Keys: ingest.Keys{Key: id}, Where: where, Raw: part})
			continue
		}
		e := &entry{batch: &b, where: where, id: id, workspace: workspace, channel: channel, opts: opts}
		if opts.StopWords != nil {
			e.stop = opts.StopWords(workspace)
		}
		if e.stop == nil {
			e.stop = whatsapp.DefaultStopWords()
		}
		e.read(m)
	}
	return b, nil
}

// entry is one entry of a webhook, with what its items share.
type entry struct {
	batch     *ingest.Batch
	where     string
	id        string // the Page's or Instagram account's id
	workspace string
	channel   string
	opts      Options
	stop      *whatsapp.StopWords
	standby   bool // reading the standby list: events of a conversation another app controls
}

func (e *entry) read(m map[string]any) {
	for _, list := range []string{"messaging", "standby"} {
		items, _ := m[list].([]any)
		e.standby = list == "standby"
		for k, it := range items {
			where := fmt.Sprintf("%s[%d]", list, k)
			item, ok := it.(map[string]any)
			if !ok {
				e.problem(where, "is not a JSON object")
				continue
			}
			events, err := e.item(item)
			e.keep(where, events, err)
		}
	}
	e.standby = false
	// Page and account changes (comments, feed, mentions): kept as they
	// came, counted in no KPI.
	changes, _ := m["changes"].([]any)
	for k, ch := range changes {
		where := fmt.Sprintf("changes[%d]", k)
		change, ok := ch.(map[string]any)
		if !ok {
			e.problem(where, "is not a JSON object")
			continue
		}
		events, err := e.change(change, m["time"])
		e.keep(where, events, err)
	}
}

func (e *entry) problem(where, reason string) {
	e.batch.Problems = append(e.batch.Problems, ingest.Problem{Where: e.where + ", " + where, Reason: reason})
}

// keep completes and validates an item's events and keeps the valid ones.
func (e *entry) keep(where string, events []event.Event, err error) {
	if err != nil {
		e.problem(where, err.Error())
		return
	}
	for _, ev := range events {
		ev.Workspace, ev.Channel, ev.Count = e.workspace, e.channel, 1
		if ev.Props == nil {
			ev.Props = map[string]any{}
		}
		if e.channel == ChannelInstagram {
			ev.Props["instagram_account_id"] = e.id
		} else {
			ev.Props["page_id"] = e.id
		}
		if e.standby {
			ev.Props["standby"] = true
		}
		if err := ev.Validate(); err != nil {
			e.problem(where, fmt.Sprintf("%s: %v", ev.Kind, err))
			continue
		}
		e.batch.Events = append(e.batch.Events, ev)
	}
}

// idPrefix starts every event id of the channel: mids are unique on their
// platform.
func (e *entry) idPrefix() string {
	if e.channel == ChannelInstagram {
		return "ig:"
	}
	return "fb:"
}

// clickMedium is the medium of a lead from an ad that opens a chat.
func (e *entry) clickMedium() string {
	if e.channel == ChannelInstagram {
		return "click_to_instagram"
	}
	return "click_to_messenger"
}

// item maps one messaging item by what it carries.
func (e *entry) item(m map[string]any) ([]event.Event, error) {
	if msg, ok := m["message"].(map[string]any); ok {
		if msg["is_echo"] == true {
			return e.echo(m, msg)
		}
		return e.message(m, msg)
	}
	for _, read := range []struct {
		key  string
		read func(*entry, map[string]any, map[string]any) ([]event.Event, error)
	}{
		{"delivery", (*entry).delivery},
		{"read", (*entry).read_},
		{"postback", (*entry).postback},
		{"reaction", (*entry).reaction},
		{"referral", (*entry).referral},
	} {
		if sub, ok := m[read.key].(map[string]any); ok {
			return read.read(e, m, sub)
		}
	}
	return e.other(m)
}

// user is the person on the other side: the sender of what they did, the
// recipient of what the business sent. A person who wrote through the
// chat plugin without logging in has a user_ref instead of an id.
func user(m map[string]any, side string) string {
	p, _ := m[side].(map[string]any)
	return cmp.Or(str(p, "id"), str(p, "user_ref"))
}

// itemTime is an item's timestamp; an error when it has none.
func itemTime(m map[string]any) (time.Time, error) {
	if m["timestamp"] == nil {
		return time.Time{}, errors.New(`"timestamp" is missing`)
	}
	return msTime(m["timestamp"], "timestamp")
}

// receiptTime is when a watermark receipt happened: its timestamp, never
// before the watermark (a delivery has none: it is at the watermark).
func receiptTime(m map[string]any, mark time.Time) (time.Time, error) {
	if m["timestamp"] == nil {
		return mark, nil
	}
	ts, err := itemTime(m)
	if err != nil || ts.Before(mark) {
		return mark, err
	}
	return ts, nil
}

// message maps an inbound message and what it implies: a quick reply is a
// click, a stop word an opt-out, a referral (the first message from an ad
// or a link) a lead.
func (e *entry) message(m, msg map[string]any) ([]event.Event, error) {
	mid, customer, ts, err := e.basics(m, str(msg, "mid"), "message.mid", "sender")
	if err != nil {
		return nil, err
	}
	p := e.idPrefix()
	typ := messageType(msg)
	text := str(msg, "text")
	props := without(msg, "mid", "text")
	props["type"] = typ
	replyTo := ""
	if r, ok := msg["reply_to"].(map[string]any); ok {
		replyTo = str(r, "mid")
	}
	if replyTo != "" {
		props["reply_to"] = replyTo
	}
	if msg["is_deleted"] == true { // Instagram: the customer unsent it
		setType(props, "message_deleted")
		return []event.Event{{ID: p + "deleted:" + mid, TS: ts, Kind: event.ChannelEvent, Message: mid, Customer: customer, Props: props}}, nil
	}
	out := []event.Event{{ID: p + mid, TS: ts, Kind: event.MessageReceived, Actor: event.ActorCustomer,
		Message: mid, Customer: customer, Text: text, Props: props}}
	var payload string
	if qr, ok := msg["quick_reply"].(map[string]any); ok {
		// A quick reply answers the business's latest message, the one it
		// was offered with; Messenger names it only in a reply_to.
		payload = str(qr, "payload")
		out = append(out, event.Event{ID: p + "click:" + mid, TS: ts, Kind: event.ButtonClicked, Message: replyTo, Customer: customer, Text: text,
			Props: nonEmpty(map[string]any{"type": "quick_reply", "button_type": "quick_reply", "payload": payload, "title": text, "reply_mid": mid})})
	}
	if e.stop.Match(text) || (payload != "" && e.stop.Match(payload)) {
		out = append(out, event.Event{ID: p + "optout:" + mid, TS: ts, Kind: event.OptedOut, Customer: customer,
			Props: map[string]any{"reason": "stop_word", "reply_mid": mid}})
	}
	if ref, ok := msg["referral"].(map[string]any); ok {
		out = append(out, e.lead(p+"lead:"+mid, ts, customer, ref))
	}
	return out, nil
}

// echo maps a message the business sent, from any app or Meta's inbox:
// its author is the bot, a campaign or an agent, by the app that sent it.
func (e *entry) echo(m, msg map[string]any) ([]event.Event, error) {
	mid, customer, ts, err := e.basics(m, str(msg, "mid"), "message.mid", "recipient")
	if err != nil {
		return nil, err
	}
	actor := event.ActorAgent
	if e.opts.Actor != nil {
		actor = e.opts.Actor(str(msg, "app_id"))
	}
	props := without(msg, "mid", "text", "is_echo")
	props["type"], props["echo"] = messageType(msg), true
	return []event.Event{{ID: e.idPrefix() + "echo:" + mid, TS: ts, Kind: event.MessageSent, Actor: actor,
		Message: mid, Customer: customer, Text: str(msg, "text"), Props: props}}, nil
}

// delivery maps a delivery receipt: a watermark, every message sent at or
// before it delivered, and on newer clients the mids delivered. The
// receipt carries no time of its own: it happened at the watermark.
func (e *entry) delivery(m, d map[string]any) ([]event.Event, error) {
	customer, err := sender(m)
	if err != nil {
		return nil, err
	}
	mark, err := msTime(d["watermark"], "delivery.watermark")
	if err != nil {
		return nil, err
	}
	ts, err := receiptTime(m, mark)
	if err != nil {
		return nil, err
	}
	at := strconv.FormatInt(ts.UnixMilli(), 10)
	var mids []string
	list, _ := d["mids"].([]any)
	for _, v := range list {
		if s, ok := v.(string); ok && s != "" {
			mids = append(mids, s)
		}
	}
	props := map[string]any{event.WatermarkProp: mark.UnixMilli()}
	if len(mids) > 0 {
		props["mids"] = mids
	}
	p := e.idPrefix()
	out := []event.Event{{ID: p + "delivery:" + digest(e.id, customer, strconv.FormatInt(mark.UnixMilli(), 10), at), TS: ts,
		Kind: event.MessageDelivered, Customer: customer, Props: props}}
	for _, mid := range mids {
		out = append(out, event.Event{ID: p + "delivered:" + mid + ":" + at, TS: ts, Kind: event.MessageDelivered, Message: mid, Customer: customer})
	}
	return out, nil
}

// read_ maps a read receipt: Messenger's watermark, every message sent at
// or before it read, or Instagram's message seen.
func (e *entry) read_(m, r map[string]any) ([]event.Event, error) {
	customer, err := sender(m)
	if err != nil {
		return nil, err
	}
	p := e.idPrefix()
	if r["watermark"] != nil {
		mark, err := msTime(r["watermark"], "read.watermark")
		if err != nil {
			return nil, err
		}
		ts, err := receiptTime(m, mark)
		if err != nil {
			return nil, err
		}
		return []event.Event{{ID: p + "read:" + digest(e.id, customer, strconv.FormatInt(mark.UnixMilli(), 10), strconv.FormatInt(ts.UnixMilli(), 10)),
			TS: ts, Kind: event.MessageRead, Customer: customer, Props: map[string]any{event.WatermarkProp: mark.UnixMilli()}}}, nil
	}
	mid := str(r, "mid")
	if mid == "" {
		return nil, errors.New(`"read" has neither a watermark nor a mid`)
	}
	ts, err := itemTime(m)
	if err != nil {
		return nil, err
	}
	return []event.Event{{ID: p + "read:" + mid + ":" + strconv.FormatInt(ts.UnixMilli(), 10), TS: ts, Kind: event.MessageRead, Message: mid, Customer: customer}}, nil
}

// postback maps a tap on a postback button (in a message, the persistent
// menu, Get Started, an icebreaker): a click, on the business's latest
// message before it, and the customer's message it shows in the thread;
// a referral with it (the chat opened from an ad or a link) is a lead.
func (e *entry) postback(m, pb map[string]any) ([]event.Event, error) {
	customer, ts, err := senderAt(m)
	if err != nil {
		return nil, err
	}
	p := e.idPrefix()
	mid, title, payload := str(pb, "mid"), str(pb, "title"), str(pb, "payload")
	key := cmp.Or(mid, digest(e.id, customer, strconv.FormatInt(ts.UnixMilli(), 10), payload, title))
	out := []event.Event{{ID: p + "postback:" + key, TS: ts, Kind: event.ButtonClicked, Customer: customer, Text: title,
		Props: nonEmpty(map[string]any{"type": "postback", "button_type": "postback", "payload": payload, "title": title, "reply_mid": mid})}}
	if mid != "" {
		out = append(out, event.Event{ID: p + mid, TS: ts, Kind: event.MessageReceived, Actor: event.ActorCustomer, Message: mid, Customer: customer,
			Text: title, Props: nonEmpty(map[string]any{"type": "postback", "payload": payload})})
	}
	if e.stop.Match(title) || e.stop.Match(payload) {
		out = append(out, event.Event{ID: p + "optout:" + key, TS: ts, Kind: event.OptedOut, Customer: customer,
			Props: nonEmpty(map[string]any{"reason": "stop_word", "reply_mid": mid})})
	}
	if ref, ok := pb["referral"].(map[string]any); ok {
		out = append(out, e.lead(p+"lead:"+key, ts, customer, ref))
	}
	return out, nil
}

// reaction maps a reaction to a message: a reply of the customer, as
// WhatsApp's reactions are; taking one back is kept, counted in no KPI.
func (e *entry) reaction(m, r map[string]any) ([]event.Event, error) {
	customer, ts, err := senderAt(m)
	if err != nil {
		return nil, err
	}
	mid, action := str(r, "mid"), str(r, "action")
	key := digest(e.id, customer, mid, action, str(r, "reaction"), str(r, "emoji"), strconv.FormatInt(ts.UnixMilli(), 10))
	props := without(r, "mid")
	props["type"] = "reaction"
	if mid != "" {
		props["reply_to"] = mid
	}
	if action == "unreact" {
		return []event.Event{{ID: e.idPrefix() + "unreact:" + key, TS: ts, Kind: event.ChannelEvent, Customer: customer, Props: props}}, nil
	}
	return []event.Event{{ID: e.idPrefix() + "reaction:" + key, TS: ts, Kind: event.MessageReceived, Actor: event.ActorCustomer,
		Message: "reaction." + key, Customer: customer, Text: str(r, "emoji"), Props: props}}, nil
}

// referral maps a customer entering a conversation they already had from
// an ad, an m.me or ig.me link, a QR code or the chat plugin.
func (e *entry) referral(m, ref map[string]any) ([]event.Event, error) {
	customer, ts, err := senderAt(m)
	if err != nil {
		return nil, err
	}
	key := digest(e.id, customer, strconv.FormatInt(ts.UnixMilli(), 10), str(ref, "ref"), str(ref, "ad_id"), str(ref, "source"))
	return []event.Event{e.lead(e.idPrefix()+"lead:"+key, ts, customer, ref)}, nil
}

// lead is the touch a referral makes: from an ad, with its ad id, source
// "ad" and medium click_to_messenger (click_to_instagram), as a
// click-to-WhatsApp ad's; from a link, with the link's ref, which the
// workspace's click-to-chat links give a source.
func (e *entry) lead(id string, ts time.Time, customer string, ref map[string]any) event.Event {
	source := strings.ToLower(str(ref, "source"))
	l := event.Event{ID: id, TS: ts, Kind: event.LeadCreated, Customer: customer,
		Props: nonEmpty(map[string]any{"type": "referral", "referral": ref, "referral_source": source, "ref": str(ref, "ref"), "ad_id": str(ref, "ad_id")})}
	if str(ref, "ad_id") != "" || source == "ads" {
		l.Source, l.Medium = "ad", e.clickMedium()
	}
	return l
}

// other keeps an item this source has no mapping for (an opt-in, a
// handover, a policy notice, an edit), as it came, counted in no KPI.
func (e *entry) other(m map[string]any) ([]event.Event, error) {
	ts, err := itemTime(m)
	if err != nil {
		return nil, err
	}
	typ := "unknown"
	for _, k := range sortedKeys(m) {
		if k != "sender" && k != "recipient" && k != "timestamp" {
			typ = k
			break
		}
	}
	raw, _ := json.Marshal(m)
	props := without(m, "sender", "recipient", "timestamp")
	setType(props, typ)
	return []event.Event{{ID: e.idPrefix() + typ + ":" + digest(e.id, string(raw)), TS: ts, Kind: event.ChannelEvent,
		Customer: user(m, "sender"), Props: props}}, nil
}

// change keeps a change of the Page or account (a comment, a mention),
// counted in no KPI, at the entry's time.
func (e *entry) change(m map[string]any, entryTime any) ([]event.Event, error) {
	if entryTime == nil {
		return nil, errors.New(`the entry's "time" is missing`)
	}
	ts, err := msTime(entryTime, "time")
	if err != nil {
		return nil, err
	}
	field := cmp.Or(str(m, "field"), "unknown")
	raw, _ := json.Marshal(m)
	return []event.Event{{ID: e.idPrefix() + field + ":" + digest(e.id, string(raw)), TS: ts, Kind: event.ChannelEvent,
		Props: map[string]any{"type": field, "value": m["value"]}}}, nil
}

// basics reads what every message has: its mid, the customer on the given
// side and its time.
func (e *entry) basics(m map[string]any, mid, midField, side string) (string, string, time.Time, error) {
	if mid == "" {
		return "", "", time.Time{}, fmt.Errorf("%q is missing", midField)
	}
	customer := user(m, side)
	if customer == "" {
		return "", "", time.Time{}, fmt.Errorf("%q is missing", side+".id")
	}
	ts, err := itemTime(m)
	return mid, customer, ts, err
}

// messageType is what a message carries: a quick reply, the type of its
// first attachment (image, video, audio, file, template, fallback, reel,
// share, story_mention…), text or a sticker.
func messageType(msg map[string]any) string {
	if _, ok := msg["quick_reply"]; ok {
		return "quick_reply"
	}
	if list, ok := msg["attachments"].([]any); ok && len(list) > 0 {
		if a, ok := list[0].(map[string]any); ok && str(a, "type") != "" {
			return str(a, "type")
		}
	}
	switch {
	case str(msg, "text") != "":
		return "text"
	case msg["sticker_id"] != nil:
		return "sticker"
	case msg["is_unsupported"] == true:
		return "unsupported"
	}
	return "unknown"
}

// setType sets props.type, which says what a channel_event is; a "type" of
// the payload's own is kept as payload_type.
func setType(props map[string]any, typ string) {
	if own, ok := props["type"]; ok {
		props["payload_type"] = own
	}
	props["type"] = typ
}

func decodeObject(raw []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, errors.New(jsonReason(err))
	}
	if m == nil {
		return nil, errors.New("is not a JSON object")
	}
	return m, nil
}

func jsonReason(err error) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Sprintf("invalid JSON at byte %d: %v", syntax.Offset, err)
	}
	return err.Error()
}

// str reads a string or a number as text; "" for anything else.
func str(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// msTime reads Meta's messaging times: Unix milliseconds, as a number or a
// string. A value too small to be milliseconds since 1973 is taken as
// seconds, as the dashboard's test notifications send them.
func msTime(v any, field string) (time.Time, error) {
	var text string
	switch x := v.(type) {
	case string:
		text = x
	case json.Number:
		text = x.String()
	case nil:
		return time.Time{}, fmt.Errorf("%q is missing", field)
	default:
		return time.Time{}, fmt.Errorf("%q must be Unix milliseconds, not %v", field, x)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q %q is not Unix milliseconds", field, text)
	}
	if n < 100_000_000_000 {
		n *= 1000
	}
	return time.UnixMilli(n).UTC(), nil
}

// without copies m without the keys that became event fields.
func without(m map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(m)+4)
	for k, v := range m {
		if !slices.Contains(keys, k) {
			out[k] = v
		}
	}
	return out
}

// nonEmpty drops the empty strings of m.
func nonEmpty(m map[string]any) map[string]any {
	for k, v := range m {
		if s, ok := v.(string); ok && s == "" {
			delete(m, k)
		}
	}
	return m
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// digest is a short stable hash of parts, for event ids that repeat when
// Meta re-sends a payload.
func digest(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:12])
}

// sender is the customer who did what an item of messaging reports.
func sender(m map[string]any) (string, error) {
	customer := user(m, "sender")
	if customer == "" {
		return "", errors.New(`"sender.id" is missing`)
	}
	return customer, nil
}

// senderAt is the item's customer and its time.
func senderAt(m map[string]any) (string, time.Time, error) {
	customer, err := sender(m)
	if err != nil {
		return "", time.Time{}, err
	}
	ts, err := itemTime(m)
	return customer, ts, err
}
