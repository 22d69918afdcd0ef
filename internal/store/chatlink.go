package store

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// ChatLink is a click-to-chat link (wa.me, m.me, ig.me) that carries a
// reference, so the chat it starts counts as a touch with the link's
// source: an Instagram bio, a button on the site, a QR code on a poster.
type ChatLink struct {
	Ref      string    `json:"ref"`     // the code the link carries, such as K7QF2M
	Channel  string    `json:"channel"` // whatsapp (wa.me), facebook (m.me) or instagram (ig.me)
	To       string    `json:"to"`      // the WhatsApp number, the Page's name or id, the Instagram username
	Source   string    `json:"source"`  // where the link is placed, as a UTM source
	Medium   string    `json:"medium,omitempty"`
	Campaign string    `json:"campaign,omitempty"`
	Text     string    `json:"text,omitempty"` // WhatsApp: the message the chat opens with
	Created  time.Time `json:"created"`
}

// ChatLinkChannels are the channels a click-to-chat link can open.
var ChatLinkChannels = []string{"whatsapp", "facebook", "instagram"}

// refAlphabet has no letters easily read as digits (I, O) or as each
// other.
const refAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// NewChatLinkRef returns a random six-character reference.
func NewChatLinkRef() string {
	b := make([]byte, 6)
	rand.Read(b)
	for i := range b {
		b[i] = refAlphabet[int(b[i])%len(refAlphabet)]
	}
	return string(b)
}

// WhatsAppRefToken is the text a wa.me link adds to its opening message;
// WhatsApp passes no parameter through, so the reference rides in the
// text the customer sends.
func WhatsAppRefToken(ref string) string { return "(ref " + ref + ")" }

// Check says what is wrong with a link, naming the field.
func (l ChatLink) Check() error {
	switch {
	case !slices.Contains(ChatLinkChannels, l.Channel):
		return fmt.Errorf("channel: %q is not one of %s", l.Channel, strings.Join(ChatLinkChannels, ", "))
	case strings.TrimSpace(l.To) == "":
		return fmt.Errorf("to: missing: the WhatsApp number, the Page, or the Instagram username the chat opens with")
	case strings.TrimSpace(l.Source) == "":
		return fmt.Errorf("source: missing: where the link is placed, such as instagram_bio")
	case l.Channel == "whatsapp" && strings.Trim(l.To, "+0123456789 ") != "":
		return fmt.Errorf("to: %q is not a phone number in international format", l.To)
	}
	return nil
}

// URL is the link to publish.
func (l ChatLink) URL() string {
	switch l.Channel {
	case "whatsapp":
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, l.To)
		text := strings.TrimSpace(l.Text + " " + WhatsAppRefToken(l.Ref))
		return "https://wa.me/" + digits + "?text=" + url.QueryEscape(text)
	case "facebook":
		return "https://m.me/" + url.PathEscape(l.To) + "?ref=" + url.QueryEscape(l.Ref)
	case "instagram":
		return "https://ig.me/m/" + url.PathEscape(l.To) + "?ref=" + url.QueryEscape(l.Ref)
	}
	return ""
}
