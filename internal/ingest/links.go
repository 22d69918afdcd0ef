package ingest

import (
	"cmp"
	"regexp"
	"strings"

	"github.com/omnikpi/omnikpi/internal/event"
	"github.com/omnikpi/omnikpi/internal/store"
)

// refToken finds a wa.me link's reference in the message it opened with
// (store.WhatsAppRefToken), however the customer's keyboard cased it.
var refToken = regexp.MustCompile(`(?i)\(ref ([a-z0-9]{6})\)`)

// LinkTouches recognises the workspace's click-to-chat links in events.
// An inbound message whose text carries a link's reference (a wa.me link)
// gives a lead_created on its channel with the link's source, medium and
// campaign: one per message, whatever the copies or the order they come
// in. An event whose referral names a link's reference (m.me and ig.me
// pass it as ref) takes the link's source where it has none. It returns
// the leads to store beside the events.
func LinkTouches(events []event.Event, links []store.ChatLink) []event.Event {
	if len(links) == 0 {
		return nil
	}
	byRef := make(map[string]*store.ChatLink, len(links))
	for i := range links {
		byRef[links[i].Ref] = &links[i]
	}
	var leads []event.Event
	for i := range events {
		e := &events[i]
		if e.Kind == event.MessageReceived {
			for _, m := range refToken.FindAllStringSubmatch(e.Text, -1) {
				link := byRef[strings.ToUpper(m[1])]
				if link == nil || link.Channel != "whatsapp" {
					continue
				}
				leads = append(leads, event.Event{
					ID: "link:" + link.Ref + ":" + cmp.Or(e.Message, e.ID), Workspace: e.Workspace, TS: e.TS,
					Kind: event.LeadCreated, Channel: e.Channel, Customer: e.Customer, Count: 1,
					Source: link.Source, Medium: link.Medium, UTMCampaign: link.Campaign,
					Props: map[string]any{"type": "chat_link", "link_ref": link.Ref},
				})
				break
			}
			continue
		}
		if link := byRef[referralRef(e.Props)]; link != nil && e.Source == "" {
			e.Source, e.Medium, e.UTMCampaign = link.Source, link.Medium, link.Campaign
			if e.Props == nil {
				e.Props = map[string]any{}
			}
			e.Props["link_ref"] = link.Ref
		}
	}
	return leads
}

// referralRef is the ref of an event's referral: props.ref, or
// props.referral.ref as Meta sends it.
func referralRef(props map[string]any) string {
	if ref, ok := props["ref"].(string); ok {
		return ref
	}
	if r, ok := props["referral"].(map[string]any); ok {
		if ref, ok := r["ref"].(string); ok {
			return ref
		}
	}
	return ""
}

// Prepare readies accepted events of one workspace for the store: phone
// numbers hashed unless the workspace keeps them, then the touches of its
// click-to-chat links added after the events.
func Prepare(events []event.Event, ws store.Workspace) []event.Event {
	if !ws.KeepPhoneNumbers {
		HashPhoneCustomers(events, ws.Name)
	}
	// A full slice expression: events may be part of a larger batch,
	// whose next elements an append in place would overwrite.
	return append(events[:len(events):len(events)], LinkTouches(events, ws.ChatLinks)...)
}
