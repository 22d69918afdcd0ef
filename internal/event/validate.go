package event

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

var channelRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]*$`)

// Earliest and latest accepted event times: anything outside is a unit or
// clock mistake (Unix seconds sent as microseconds, a zero time).
var (
	minTS = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTS = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Validate checks e against EVENTS.md: required fields per kind, value
// ranges and formats. The first problem found is returned as a *FieldError.
func (e *Event) Validate() error {
	if e.ID == "" {
		return fieldErr("id", "is required")
	}
	if e.TS.IsZero() {
		return fieldErr("ts", "is required")
	}
	if e.TS.Before(minTS) || !e.TS.Before(maxTS) {
		return fieldErr("ts", "%s is outside the years 2000 to 2199", e.TS.Format(time.RFC3339))
	}
	if e.Kind == "" {
		return fieldErr("kind", "is required")
	}
	if !e.Kind.Known() {
		return fieldErr("kind", "%q is not a known kind", string(e.Kind))
	}
	if e.Kind.needsChannel() && e.Channel == "" {
		return fieldErr("channel", "is required for %s", e.Kind)
	}
	if e.Channel != "" && !channelRE.MatchString(e.Channel) {
		return fieldErr("channel", "%q must be a lower-case name such as whatsapp", e.Channel)
	}
	if e.Kind.IsMessage() && e.Message == "" {
		if err := e.validateConversationWide(); err != nil {
			return err
		}
	}
	if err := e.validateActor(); err != nil {
		return err
	}
	if kinds[e.Kind] == familyConversation && e.Conversation == "" {
		return fieldErr("conversation", "is required for %s", e.Kind)
	}
	if e.Kind.needsOrder() && e.Order == "" {
		return fieldErr("order", "is required for %s", e.Kind)
	}
	if err := e.validateMoney(); err != nil {
		return err
	}
	if err := e.validateKindProps(); err != nil {
		return err
	}
	if e.Kind == SiteSession && e.DurationMS == nil {
		return fieldErr("duration_ms", "is required for site_session")
	}
	if e.Props != nil {
		b, err := json.Marshal(e.Props)
		if err != nil {
			return fieldErr("props", "cannot be encoded: %v", err)
		}
		if len(b) > MaxPropsLen {
			return fieldErr("props", "is %d bytes long, more than %d", len(b), MaxPropsLen)
		}
	}
	return nil
}

func (e *Event) validateActor() error {
	if e.Actor == "" && e.Kind == MessageReceived {
		e.Actor = ActorCustomer
	}
	if e.Actor == "" {
		return nil
	}
	if !e.Actor.valid() {
		return fieldErr("actor", "%q must be one of customer, agent, bot, campaign, system", string(e.Actor))
	}
	if e.Kind == MessageReceived && e.Actor != ActorCustomer {
		return fieldErr("actor", "must be customer for message_received")
	}
	if e.Kind.IsOutbound() && e.Actor == ActorCustomer {
		return fieldErr("actor", "cannot be customer for %s, an outbound message", e.Kind)
	}
	return nil
}

func (e *Event) validateMoney() error {
	hasAmount := e.pendingAmount != "" || e.amountGiven || (e.Amount != nil && e.Amount.Minor != 0)
	if e.Amount != nil && e.Amount.Currency == "" && hasAmount {
		return fieldErr("currency", "is required with an amount")
	}
	if e.Amount != nil && e.Amount.Currency != "" {
		if !KnownCurrency(e.Amount.Currency) {
			return fieldErr("currency", "%q is not an ISO 4217 code", e.Amount.Currency)
		}
		if e.pendingAmount == "" && !hasAmount {
			if e.Kind.needsMoney() {
				return fieldErr("amount", "is required for %s", e.Kind)
			}
			e.Amount = nil // a lone currency says nothing
			return nil
		}
	}
	if e.pendingAmount != "" {
		minor, err := ParseAmount(e.pendingAmount, e.Amount.Currency)
		if err != nil {
			return fieldErr("amount", "%v", err)
		}
		e.Amount.Minor = minor
		e.pendingAmount, e.amountGiven = "", true
	}
	if e.Kind.needsMoney() {
		if e.Amount == nil {
			return fieldErr("amount", "is required for %s", e.Kind)
		}
		if e.Amount.Minor < 0 {
			return fieldErr("amount", "must not be negative for %s", e.Kind)
		}
	}
	return nil
}

func (e *Event) validateKindProps() error {
	switch e.Kind {
	case SurveyAnswered:
		survey := e.Prop("survey")
		if e.Score == nil {
			return fieldErr("score", "is required for survey_answered")
		}
		s := *e.Score
		switch survey {
		case "nps":
			if s < 0 || s > 10 || s != float64(int64(s)) {
				return fieldErr("score", "%v is not an NPS answer (a whole number 0 to 10)", s)
			}
		case "csat":
			if s < 1 || s > 5 || s != float64(int64(s)) {
				return fieldErr("score", "%v is not a CSAT answer (a whole number 1 to 5)", s)
			}
		case "":
			return fieldErr("props.survey", "is required for survey_answered (nps or csat)")
		default:
			return fieldErr("props.survey", "%q must be nps or csat", survey)
		}
	case GoalReached:
		if e.Prop("goal") == "" {
			return fieldErr("props.goal", "is required for goal_reached (for example sale)")
		}
	case CampaignCost:
		switch ct := e.Prop("cost_type"); ct {
		case "", "messaging", "software", "ads":
		default:
			return fieldErr("props.cost_type", "%q must be messaging, software or ads", ct)
		}
	case ChannelEvent:
		if e.Prop("type") == "" {
			return fieldErr("props.type", "is required for channel_event (what the channel reported)")
		}
	case SocialInteraction:
		if e.Prop("type") == "" {
			return fieldErr("props.type", "is required for social_interaction (like, comment, share, save)")
		}
	}
	return nil
}

// String gives a short description for logs.
func (e *Event) String() string {
	return fmt.Sprintf("%s %s@%s", e.Kind, e.ID, e.TS.Format(time.RFC3339))
}

// WatermarkProp is the prop of a delivery or read that names no message:
// Unix milliseconds up to which (inclusive) every outbound message of its
// customer on its channel was delivered or read, as Messenger reports
// them.
const WatermarkProp = "watermark"

// Watermark returns a delivery's or read's props.watermark in Unix
// milliseconds; false when it has none that is a number.
func (e *Event) Watermark() (int64, bool) {
	var f float64
	switch v := e.Props[WatermarkProp].(type) {
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			return 0, false
		}
		return n, true
	case float64:
		f = v
	case int64:
		return v, true
	case int:
		return int64(v), true
	default:
		return 0, false
	}
	if f != float64(int64(f)) {
		return 0, false
	}
	return int64(f), true
}

// validateConversationWide checks a message kind that names no message.
// Only two are allowed, for a customer on a channel: a delivery or read
// with props.watermark (every outbound message sent at or before it), and
// a click, which is on the customer's latest outbound message on the
// channel sent at or before it (the KPIs find which).
func (e *Event) validateConversationWide() error {
	switch e.Kind {
	case MessageDelivered, MessageRead:
		if _, given := e.Props[WatermarkProp]; !given {
			return fieldErr("message", "is required for %s (or props.watermark, for every message of the customer up to that time)", e.Kind)
		}
		wm, ok := e.Watermark()
		if !ok || wm < minTS.UnixMilli() || wm >= maxTS.UnixMilli() {
			return fieldErr("props.watermark", "must be Unix milliseconds between the years 2000 and 2199, as a JSON number")
		}
		if wm > e.TSMillis() {
			// Nothing is delivered or read before it was sent: the KPIs
			// look for a message's receipts from its send time on.
			return fieldErr("props.watermark", "%d is after the event's time %d: a receipt happens at or after the messages it covers", wm, e.TSMillis())
		}
	case LinkClicked, ButtonClicked:
	default:
		return fieldErr("message", "is required for %s", e.Kind)
	}
	if e.Customer == "" {
		return fieldErr("customer", "is required for %s without a message: it counts for the customer's messages on its channel", e.Kind)
	}
	return nil
}
