package whatsapp

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/ingest"
)

// Object is the value of "object" in every WhatsApp Business Account webhook.
const Object = "whatsapp_business_account"

// Options say where a change's events go and how inbound text is read.
type Options struct {
	// Route names the workspace of a change from its business phone number
	// id (metadata.phone_number_id, empty for account-level changes) and
	// its WhatsApp Business Account id (the entry id); false when neither
	// is configured.
	Route func(phoneNumberID, accountID string) (workspace string, ok bool)
	// StopWords returns the workspace's opt-out words; nil means the
	// defaults.
	StopWords func(workspace string) *StopWords
}

// Problem is a part of a webhook that was not stored, and why. The rest of
// the batch is stored all the same.
type Problem = ingest.Problem

// Result is what a webhook body holds: valid events, each with its
// workspace, in payload order, and the parts that were skipped.
type Result struct {
	Events   []event.Event
	Problems []Problem
	// Unrouted are the changes for a number and account no workspace is
	// configured for, as sent, to be kept until one is.
	Unrouted []Unrouted
}

// Unrouted is a change no workspace is configured for.
type Unrouted struct {
	PhoneNumberID string
	AccountID     string
	Where         string
	Change        json.RawMessage // the change as sent
}

// ID names the change by its content, so that a re-sent one is kept once.
func (u Unrouted) ID() string {
	sum := sha256.Sum256(append([]byte(u.AccountID+"\x00"), u.Change...))
	return "wq_" + hex.EncodeToString(sum[:16])
}

// Body is a webhook body of one entry holding only this change, which
// Parse reads as it read the change in its original webhook.
func Body(accountID string, change []byte) []byte {
	id, _ := json.Marshal(accountID)
	return []byte(`{"object":"` + Object + `","entry":[{"id":` + string(id) + `,"changes":[` + string(change) + `]}]}`)
}

// BodyError is a body that is not a WhatsApp webhook at all.
type BodyError struct{ Reason string }

func (e *BodyError) Error() string { return "not a WhatsApp webhook body: " + e.Reason }

type envelope struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string            `json:"id"`
		Time    json.RawMessage   `json:"time"`
		Changes []json.RawMessage `json:"changes"`
	} `json:"entry"`
}

// Parse reads one webhook body. Only a body that is not a JSON webhook
// envelope is an error; a change or item that cannot be read, or that
// belongs to no configured workspace, becomes a Problem.
func Parse(body []byte, opts Options) (Result, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Result{}, &BodyError{Reason: jsonReason(err)}
	}
	if env.Entry == nil {
		return Result{}, &BodyError{Reason: `no "entry" array`}
	}
	var res Result
	if env.Object != Object {
		res.Problems = append(res.Problems, Problem{Where: "object", Reason: fmt.Sprintf("%q is not %s", env.Object, Object)})
		return res, nil
	}
	for i, entry := range env.Entry {
		for j, raw := range entry.Changes {
			where := fmt.Sprintf("entry %d, change %d", i, j)
			readChange(&res, where, entry.ID, entry.Time, raw, opts)
		}
	}
	return res, nil
}

func jsonReason(err error) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Sprintf("invalid JSON at byte %d: %v", syntax.Offset, err)
	}
	return err.Error()
}

// change is one change of an entry, with what its items share.
type change struct {
	res       *Result
	where     string
	field     string
	workspace string
	props     map[string]any // the change's metadata, copied into every event
	names     map[string]string
	stop      *StopWords
	time      string // the entry's time, Unix seconds as sent
}

type changeValue struct {
	Metadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
		WaID   string `json:"wa_id"`
		UserID string `json:"user_id"`
	} `json:"contacts"`
	Statuses        []json.RawMessage `json:"statuses"`
	Messages        []json.RawMessage `json:"messages"`
	MessageEchoes   []json.RawMessage `json:"message_echoes"`
	UserPreferences []json.RawMessage `json:"user_preferences"`
	Errors          json.RawMessage   `json:"errors"`
}

func readChange(res *Result, where, accountID string, entryTime, raw json.RawMessage, opts Options) {
	problem := func(reason string) { res.Problems = append(res.Problems, Problem{Where: where, Reason: reason}) }
	var head struct {
		Field string          `json:"field"`
		Value json.RawMessage `json:"value"`
		Time  json.RawMessage `json:"time"` // the entry's, kept on a quarantined health change
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		problem(jsonReason(err))
		return
	}
	var v changeValue
	if len(head.Value) > 0 {
		if err := json.Unmarshal(head.Value, &v); err != nil {
			problem("value: " + jsonReason(err))
			return
		}
	}
	phoneID := v.Metadata.PhoneNumberID
	workspace, ok := "", false
	if opts.Route != nil {
		workspace, ok = opts.Route(phoneID, accountID)
	}
	if !ok {
		problem(fmt.Sprintf("no workspace is configured for phone number id %q or business account %q; kept in quarantine until one is", phoneID, accountID))
		res.Unrouted = append(res.Unrouted, Unrouted{PhoneNumberID: phoneID, AccountID: accountID, Where: where, Change: quarantined(head.Field, raw, entryTime)})
		return
	}
	c := &change{res: res, where: where, field: head.Field, workspace: workspace, time: cmp.Or(string(entryTime), string(head.Time)),
		props: map[string]any{"wa_business_account": accountID}, names: map[string]string{}}
	if phoneID != "" {
		c.props["wa_phone_number_id"] = phoneID
	}
	if v.Metadata.DisplayPhoneNumber != "" {
		c.props["wa_display_phone_number"] = v.Metadata.DisplayPhoneNumber
	}
	for _, ct := range v.Contacts {
		for _, id := range []string{ct.WaID, ct.UserID} {
			if id != "" && ct.Profile.Name != "" {
				c.names[id] = ct.Profile.Name
			}
		}
	}
	if opts.StopWords != nil {
		c.stop = opts.StopWords(workspace)
	}
	if c.stop == nil {
		c.stop = DefaultStopWords()
	}

	known := false
	for _, list := range []struct {
		name  string
		items []json.RawMessage
		read  func(*change, map[string]any) ([]event.Event, error)
	}{
		{"statuses", v.Statuses, (*change).status},
		{"messages", v.Messages, (*change).message},
		{"message_echoes", v.MessageEchoes, (*change).echo},
		{"user_preferences", v.UserPreferences, (*change).preference},
	} {
		if list.items != nil {
			known = true
		}
		for k, item := range list.items {
			c.item(fmt.Sprintf("%s[%d]", list.name, k), item, list.read)
		}
	}
	if len(v.Errors) > 0 && string(v.Errors) != "null" {
		known = true
		c.item("errors", head.Value, (*change).valueErrors)
	}
	if !known && healthFields[head.Field] != nil {
		c.item("value", head.Value, (*change).health)
	} else if !known {
		// Fields to come: kept as they are, counted in no KPI.
		c.item("value", raw, (*change).other)
	}
}

// item reads one element of a change and keeps its valid events.
func (c *change) item(where string, raw json.RawMessage, read func(*change, map[string]any) ([]event.Event, error)) {
	where = c.where + ", " + where
	m, err := decodeObject(raw)
	var events []event.Event
	if err == nil {
		events, err = read(c, m)
	}
	if err != nil {
		c.res.Problems = append(c.res.Problems, Problem{Where: where, Reason: err.Error()})
		return
	}
	for _, e := range events {
		e.Workspace = c.workspace
		e.Channel = Channel
		for k, v := range c.props {
			if _, set := e.Props[k]; !set {
				if e.Props == nil {
					e.Props = map[string]any{}
				}
				e.Props[k] = v
			}
		}
		if err := e.Validate(); err != nil {
			c.res.Problems = append(c.res.Problems, Problem{Where: where, Reason: fmt.Sprintf("%s: %v", e.Kind, err)})
			continue
		}
		c.res.Events = append(c.res.Events, e)
	}
}

func decodeObject(raw json.RawMessage) (map[string]any, error) {
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

// statusKinds maps a status to its event kind; any other status (deleted,
// warning, one to come) is kept as a channel_event.
var statusKinds = map[string]event.Kind{
	"sent":      event.MessageSent,
	"delivered": event.MessageDelivered,
	"read":      event.MessageRead,
	"played":    event.MessageRead, // a voice message played was read
	"failed":    event.MessageFailed,
}

// status maps statuses[i]: the lifecycle of a message the business sent.
func (c *change) status(m map[string]any) ([]event.Event, error) {
	wamid, ts, err := idAndTime(m)
	if err != nil {
		return nil, err
	}
	status := str(m, "status")
	if status == "" {
		return nil, errors.New(`"status" is missing`)
	}
	recipient := str(m, "recipient_id")
	customer := cmp.Or(recipient, str(m, "recipient_user_id"))
	props := without(m, "id", "timestamp", "recipient_id")
	c.addCustomerProps(props, recipient, customer)
	kind, known := statusKinds[status]
	if !known {
		kind = event.ChannelEvent
		setType(props, "status")
	}
	if p, ok := m["pricing"].(map[string]any); ok {
		category := str(p, "category")
		billable, stated := p["billable"].(bool)
		if !stated { // billable is deprecated under per-message pricing
			billable = str(p, "type") == "regular"
		}
		if category != "" {
			props["pricing_category"] = category
			props["pricing_type"] = pricingType(str(p, "type"), category, billable)
			if billable {
				props["billable_category"] = category
			}
		}
	}
	if errs, ok := m["errors"].([]any); ok && len(errs) > 0 {
		if first, ok := errs[0].(map[string]any); ok {
			props["error_code"] = str(first, "code")
			props["error_title"] = cmp.Or(str(first, "title"), str(first, "message"))
		}
	}
	id := "wa:" + wamid + ":" + status
	if participant := str(m, "recipient_participant_id"); participant != "" {
		id += ":" + participant // a group message has a status per member
	}
	return []event.Event{{ID: id, TS: ts, Kind: kind, Message: wamid, Customer: customer, Count: 1, Props: props}}, nil
}

// pricingType is a status's pricing type: as stated under per-message
// pricing (regular, free_customer_service, free_entry_point); under
// conversation-based pricing, regular when billable, free_entry_point for
// a conversation opened from an ad or a Facebook page's button, else
// free_customer_service.
func pricingType(stated, category string, billable bool) string {
	switch {
	case stated != "":
		return stated
	case billable:
		return "regular"
	case category == "referral_conversion":
		return "free_entry_point"
	}
	return "free_customer_service"
}

// message maps messages[i]: something a customer (or WhatsApp itself, for
// system messages) sent to the business, and what it implies.
func (c *change) message(m map[string]any) ([]event.Event, error) {
	wamid, ts, err := idAndTime(m)
	if err != nil {
		return nil, err
	}
	typ := messageType(m)
	from := str(m, "from")
	customer := cmp.Or(from, str(m, "from_user_id"))
	props := without(m, "id", "timestamp", "from")
	props["type"] = typ
	c.addCustomerProps(props, from, customer)
	var replyTo string
	if ctx, ok := m["context"].(map[string]any); ok {
		replyTo = str(ctx, "id")
	}
	if replyTo != "" {
		props["reply_to"] = replyTo
	}
	text, choice := messageText(typ, m)
	main := event.Event{ID: "wa:" + wamid, TS: ts, Kind: event.MessageReceived, Actor: event.ActorCustomer,
		Message: wamid, Customer: customer, Text: text, Count: 1, Props: props}
	switch typ {
	case "system", "revoke", "ephemeral":
		// Not written by the customer: a number change, a deleted message.
		main.Kind, main.Actor = event.ChannelEvent, ""
		return []event.Event{main}, nil
	}
	out := []event.Event{main}
	derived := func(prefix string, kind event.Kind, message string, extra map[string]any) event.Event {
		p := map[string]any{"type": typ, "wa_message": wamid}
		for k, v := range extra {
			p[k] = v
		}
		c.addCustomerProps(p, from, customer)
		return event.Event{ID: "wa:" + prefix + ":" + wamid, TS: ts, Kind: kind, Message: message,
			Customer: customer, Text: text, Count: 1, Props: p}
	}
	// A quick-reply or interactive reply is a click on the message it
	// answers, the one named in its context.
	if choice != nil && replyTo != "" {
		out = append(out, derived("click", event.ButtonClicked, replyTo, choice))
	}
	if c.stop.Match(text) || (choice != nil && c.stop.Match(str(choice, "payload"))) {
		e := derived("optout", event.OptedOut, "", map[string]any{"reason": "stop_word"})
		if replyTo != "" {
			e.Props["reply_to"] = replyTo
		}
		out = append(out, e)
	}
	if ref, ok := m["referral"].(map[string]any); ok {
		e := derived("lead", event.LeadCreated, "", map[string]any{"referral": ref, "ad_id": str(ref, "source_id"), "ctwa_clid": str(ref, "ctwa_clid")})
		e.Source, e.Medium = cmp.Or(str(ref, "source_type"), "ad"), "click_to_whatsapp"
		out = append(out, e)
	}
	if order, ok := m["order"].(map[string]any); ok && typ == "order" {
		e := derived("checkout", event.CheckoutStarted, "", map[string]any{"order": order, "catalog_id": str(order, "catalog_id")})
		e.Amount = cartTotal(order)
		if items, ok := order["product_items"].([]any); ok && len(items) == 1 {
			if item, ok := items[0].(map[string]any); ok {
				e.Product = str(item, "product_retailer_id")
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// echo maps message_echoes[i]: a message the business sent from the
// WhatsApp Business app, written by a person.
func (c *change) echo(m map[string]any) ([]event.Event, error) {
	wamid, ts, err := idAndTime(m)
	if err != nil {
		return nil, err
	}
	to := str(m, "to")
	customer := cmp.Or(to, str(m, "to_user_id"))
	typ := messageType(m)
	props := without(m, "id", "timestamp", "to")
	props["type"], props["echo"] = typ, true
	c.addCustomerProps(props, to, customer)
	text, _ := messageText(typ, m)
	return []event.Event{{ID: "wa:echo:" + wamid, TS: ts, Kind: event.MessageSent, Actor: event.ActorAgent,
		Message: wamid, Customer: customer, Text: text, Count: 1, Props: props}}, nil
}

// preference maps user_preferences[i]: a customer stopping or resuming
// marketing messages through WhatsApp's own control.
func (c *change) preference(m map[string]any) ([]event.Event, error) {
	ts, err := unixTime(m["timestamp"])
	if err != nil {
		return nil, err
	}
	phone := str(m, "wa_id")
	customer := cmp.Or(phone, str(m, "user_id"))
	if customer == "" {
		return nil, errors.New(`"wa_id" and "user_id" are both missing`)
	}
	value := str(m, "value")
	kind := event.ChannelEvent
	switch value {
	case "stop":
		kind = event.OptedOut
	case "resume":
		kind = event.OptedIn
	}
	props := without(m, "timestamp", "wa_id")
	setType(props, "user_preference")
	c.addCustomerProps(props, phone, customer)
	id := "wa:pref:" + digest(customer, value, str(m, "category"), strconv.FormatInt(ts.Unix(), 10))
	return []event.Event{{ID: id, TS: ts, Kind: kind, Customer: customer, Count: 1, Props: props}}, nil
}

// valueErrors maps a change that reports errors instead of messages.
func (c *change) valueErrors(m map[string]any) ([]event.Event, error) {
	events, err := c.other(map[string]any{"field": c.field, "value": m})
	for i := range events {
		events[i].Props["type"], events[i].Props["field"] = "errors", c.field
	}
	return events, err
}

// other keeps a change this adapter has no mapping for, as it came.
func (c *change) other(m map[string]any) ([]event.Event, error) {
	field := cmp.Or(c.field, "unknown")
	value, _ := m["value"].(map[string]any)
	ts := time.Now().UTC()
	if t, err := unixTime(firstNonNil(value["timestamp"], m["time"])); err == nil {
		ts = t
	}
	raw, _ := json.Marshal(m)
	return []event.Event{{ID: "wa:" + field + ":" + digest(string(raw)), TS: ts, Kind: event.ChannelEvent, Count: 1,
		Props: map[string]any{"type": field, "value": m["value"]}}}, nil
}

// setType sets props.type, which says what a channel_event is; a "type"
// of the payload's own is kept as payload_type.
func setType(props map[string]any, typ string) {
	if own, ok := props["type"]; ok {
		props["payload_type"] = own
	}
	props["type"] = typ
}

// addCustomerProps adds what is known of the customer besides the id: the
// country of their number (never the number itself) and their profile
// name.
func (c *change) addCustomerProps(props map[string]any, phone, customer string) {
	if cc := CountryOf(phone); cc != "" {
		props["customer_country"] = cc
	}
	if name := c.names[customer]; name != "" {
		props["profile_name"] = name
	}
}

// messageTypes are the typed objects a message may carry; the first one
// present names the type when "type" is missing.
var messageTypes = []string{"text", "image", "audio", "video", "document", "sticker", "location", "contacts",
	"button", "interactive", "reaction", "order", "system", "unsupported", "revoke"}

func messageType(m map[string]any) string {
	if t := str(m, "type"); t != "" {
		return t
	}
	for _, t := range messageTypes {
		if _, ok := m[t]; ok {
			return t
		}
	}
	return "unknown"
}

// messageText returns the text a message carries and, for a reply chosen
// from buttons or a list, the choice (id or payload and title).
func messageText(typ string, m map[string]any) (string, map[string]any) {
	body, _ := m[typ].(map[string]any)
	switch typ {
	case "text":
		return str(body, "body"), nil
	case "image", "video", "document", "sticker", "audio":
		return str(body, "caption"), nil
	case "reaction":
		return str(body, "emoji"), nil
	case "location":
		return cmp.Or(str(body, "name"), str(body, "address")), nil
	case "order":
		return str(body, "text"), nil
	case "button":
		return str(body, "text"), map[string]any{"payload": str(body, "payload"), "title": str(body, "text"), "button_type": "quick_reply"}
	case "interactive":
		sub := str(body, "type")
		reply, _ := body[sub].(map[string]any)
		choice := map[string]any{"button_type": sub, "payload": str(reply, "id"), "title": str(reply, "title")}
		if sub == "nfm_reply" { // a completed flow: its answers are in response_json
			choice["payload"], choice["title"] = str(reply, "name"), str(reply, "body")
			return str(reply, "body"), choice
		}
		return str(reply, "title"), choice
	}
	return "", nil
}

// cartTotal adds up a catalog cart, exactly; nil when an item's price,
// quantity or currency cannot be read or the currencies differ.
func cartTotal(order map[string]any) *event.Money {
	items, ok := order["product_items"].([]any)
	if !ok || len(items) == 0 {
		return nil
	}
	var total event.Money
	for _, it := range items {
		item, ok := it.(map[string]any)
		if !ok {
			return nil
		}
		cur := strings.ToUpper(str(item, "currency"))
		if !event.KnownCurrency(cur) || (total.Currency != "" && cur != total.Currency) {
			return nil
		}
		price, err := event.ParseAmount(str(item, "item_price"), cur)
		qty, qerr := strconv.ParseInt(str(item, "quantity"), 10, 64)
		if err != nil || qerr != nil || qty < 0 {
			return nil
		}
		total.Currency = cur
		total.Minor += price * qty
	}
	return &total
}

// idAndTime reads what every status and message has: its wamid and time.
func idAndTime(m map[string]any) (string, time.Time, error) {
	wamid := str(m, "id")
	if wamid == "" {
		return "", time.Time{}, errors.New(`"id" (the wamid) is missing`)
	}
	ts, err := unixTime(m["timestamp"])
	return wamid, ts, err
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

// unixTime reads Meta's timestamps: Unix seconds, as a string or a number.
func unixTime(v any) (time.Time, error) {
	var text string
	switch x := v.(type) {
	case string:
		text = x
	case json.Number:
		text = x.String()
	case nil:
		return time.Time{}, errors.New(`"timestamp" is missing`)
	default:
		return time.Time{}, fmt.Errorf(`"timestamp" must be Unix seconds, not %v`, x)
	}
	sec, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf(`"timestamp" %q is not Unix seconds`, text)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// without copies m without the keys that became event fields.
func without(m map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

func firstNonNil(values ...any) any {
	for _, v := range values {
		if v != nil {
			return v
		}
	}
	return nil
}

// digest is a short stable hash of parts, for event ids that must not
// carry phone numbers and must repeat when Meta re-sends a payload.
func digest(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:12])
}
