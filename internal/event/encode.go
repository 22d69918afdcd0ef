package event

import (
	"encoding/json"
	"time"
)

// MarshalGeneric writes e as one JSON object of the generic format, which
// ParseJSON reads back as the same event: the amount as a decimal with its
// currency, the time in RFC 3339.
func (e *Event) MarshalGeneric() ([]byte, error) {
	m := map[string]any{"id": e.ID, "ts": e.TS.UTC().Format(time.RFC3339Nano), "kind": string(e.Kind), "count": e.Count}
	for k, v := range map[string]string{"workspace": e.Workspace, "channel": e.Channel, "customer": e.Customer,
		"conversation": e.Conversation, "message": e.Message, "campaign": e.Campaign, "template": e.Template,
		"variant": e.Variant, "actor": string(e.Actor), "agent": e.Agent, "team": e.Team, "order": e.Order,
		"text": e.Text, "source": e.Source, "medium": e.Medium, "utm_campaign": e.UTMCampaign,
		"utm_content": e.UTMContent, "utm_term": e.UTMTerm, "product": e.Product, "platform": e.Platform} {
		if v != "" {
			m[k] = v
		}
	}
	if e.Amount != nil {
		m["amount"], m["currency"] = FormatMinor(e.Amount.Minor, e.Amount.Currency), e.Amount.Currency
	}
	if e.Score != nil {
		m["score"] = *e.Score
	}
	if e.DurationMS != nil {
		m["duration_ms"] = *e.DurationMS
	}
	if e.Tags != nil {
		m["tags"] = e.Tags
	}
	if len(e.Props) > 0 {
		m["props"] = e.Props
	}
	return json.Marshal(m)
}
