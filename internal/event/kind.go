package event

// Kind names what happened. The set is closed: an unknown kind is rejected.
type Kind string

// Message kinds.
const (
	MessageSent      Kind = "message_sent"
	MessageDelivered Kind = "message_delivered"
	MessageRead      Kind = "message_read"
	MessageFailed    Kind = "message_failed"
	MessageReceived  Kind = "message_received"
	LinkClicked      Kind = "link_clicked"
	ButtonClicked    Kind = "button_clicked"
)

// Consent kinds.
const (
	OptedOut Kind = "opted_out"
	OptedIn  Kind = "opted_in"
)

// Conversation kinds.
const (
	ConversationOpened   Kind = "conversation_opened"
	ConversationAssigned Kind = "conversation_assigned"
	ConversationResolved Kind = "conversation_resolved"
	ConversationReopened Kind = "conversation_reopened"
	GoalReached          Kind = "goal_reached"
)

// Commerce kinds.
const (
	CheckoutStarted Kind = "checkout_started"
	CartAbandoned   Kind = "cart_abandoned"
	OrderPlaced     Kind = "order_placed"
	OrderRefunded   Kind = "order_refunded"
	OrderReturned   Kind = "order_returned"
)

// Marketing kinds.
const (
	CampaignCost  Kind = "campaign_cost"
	LeadCreated   Kind = "lead_created"
	LeadQualified Kind = "lead_qualified"
	Referral      Kind = "referral"
)

// Survey and feedback kinds.
const (
	SurveyAnswered Kind = "survey_answered"
	Feedback       Kind = "feedback"
)

// Social and web kinds.
const (
	Impression         Kind = "impression"
	Reach              Kind = "reach"
	Follow             Kind = "follow"
	Unfollow           Kind = "unfollow"
	SocialInteraction  Kind = "social_interaction"
	UGCShared          Kind = "ugc_shared"
	PageView           Kind = "page_view"
	SiteSession        Kind = "site_session"
	ProductRecommended Kind = "product_recommended"
	ProductClicked     Kind = "product_clicked"
)

// ChannelEvent is anything else a channel reports about a message or an
// account (a deleted-message status, a number change, an account update),
// kept with its payload in props and props.type saying what it is. No KPI
// counts it.
const ChannelEvent Kind = "channel_event"

// family groups kinds by the fields they require.
type family uint8

const (
	familyMessage family = iota + 1
	familyConsent
	familyConversation
	familyCommerce
	familyMarketing
	familySurvey
	familySocial
	familyChannel
)

var kinds = map[Kind]family{
	MessageSent: familyMessage, MessageDelivered: familyMessage, MessageRead: familyMessage,
	MessageFailed: familyMessage, MessageReceived: familyMessage, LinkClicked: familyMessage,
	ButtonClicked: familyMessage,
	OptedOut:      familyConsent, OptedIn: familyConsent,
	ConversationOpened: familyConversation, ConversationAssigned: familyConversation,
	ConversationResolved: familyConversation, ConversationReopened: familyConversation,
	GoalReached:     familyConversation,
	CheckoutStarted: familyCommerce, CartAbandoned: familyCommerce, OrderPlaced: familyCommerce,
	OrderRefunded: familyCommerce, OrderReturned: familyCommerce,
	CampaignCost: familyMarketing, LeadCreated: familyMarketing, LeadQualified: familyMarketing,
	Referral:       familyMarketing,
	SurveyAnswered: familySurvey, Feedback: familySurvey,
	Impression: familySocial, Reach: familySocial, Follow: familySocial, Unfollow: familySocial,
	SocialInteraction: familySocial, UGCShared: familySocial, PageView: familySocial,
	SiteSession: familySocial, ProductRecommended: familySocial, ProductClicked: familySocial,
	ChannelEvent: familyChannel,
}

// Kinds lists every known kind.
func Kinds() []Kind {
	out := make([]Kind, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	return out
}

// Known reports whether k is one of the documented kinds.
func (k Kind) Known() bool { _, ok := kinds[k]; return ok }

// IsOutbound reports whether the kind is about a message the business sent:
// any of them implies the message was sent (KPIS.md §7).
func (k Kind) IsOutbound() bool {
	switch k {
	case MessageSent, MessageDelivered, MessageRead, MessageFailed, LinkClicked, ButtonClicked:
		return true
	}
	return false
}

// IsMessage reports whether the kind is about one message.
func (k Kind) IsMessage() bool { return kinds[k] == familyMessage }

// needsChannel reports whether EVENTS.md requires a channel for the kind.
func (k Kind) needsChannel() bool {
	f := kinds[k]
	return f == familyMessage || f == familyConversation || f == familySocial || f == familyChannel
}

// needsMoney reports whether the kind must carry an amount and currency.
func (k Kind) needsMoney() bool {
	return k == OrderPlaced || k == OrderRefunded || k == CampaignCost
}

// needsOrder reports whether the kind must name an order.
func (k Kind) needsOrder() bool {
	return k == OrderPlaced || k == OrderRefunded || k == OrderReturned
}

// Actor says who wrote a message.
type Actor string

// Actors.
const (
	ActorCustomer Actor = "customer"
	ActorAgent    Actor = "agent"
	ActorBot      Actor = "bot"
	ActorCampaign Actor = "campaign"
	ActorSystem   Actor = "system"
)

func (a Actor) valid() bool {
	switch a {
	case ActorCustomer, ActorAgent, ActorBot, ActorCampaign, ActorSystem:
		return true
	}
	return false
}
