package event

import (
	"net/url"
	"slices"
	"strings"
)

// clickIDs are the ad networks' click-id parameters, and the source each
// stands for.
var clickIDs = []struct{ param, source string }{
	{"gclid", "google"}, {"gbraid", "google"}, {"wbraid", "google"}, {"fbclid", "facebook"},
	{"ttclid", "tiktok"}, {"msclkid", "bing"}, {"twclid", "x"}, {"li_fat_id", "linkedin"},
}

// PaidMedia are the utm_medium values that mean paid traffic; a URL with
// an ad click id gets "cpc". The KPIs of paid traffic read the same list.
var PaidMedia = []string{"cpc", "ppc", "paid", "paid_social", "paidsocial", "paid-social", "cpm", "display", "ads", "ad"}

// urlProps are the props that may carry the URL of a visit or click.
var urlProps = []string{"url", "page_url", "landing_url", "link"}

// applyURL reads the UTM parameters and ad click id of the event's URL
// (props.url) into the UTM fields, unless the event sets them itself. A
// click id marks the visit paid (props.paid), names its network as the
// source and "cpc" as the medium when none is given; so does a paid
// utm_medium.
func (e *Event) applyURL() {
	var raw string
	for _, k := range urlProps {
		if raw = e.Prop(k); raw != "" {
			break
		}
	}
	if raw == "" {
		return
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return
	}
	q := u.Query()
	for _, f := range []struct {
		dst   *string
		param string
	}{{&e.Source, "utm_source"}, {&e.Medium, "utm_medium"}, {&e.UTMCampaign, "utm_campaign"}, {&e.UTMContent, "utm_content"}, {&e.UTMTerm, "utm_term"}} {
		if *f.dst == "" {
			*f.dst = strings.TrimSpace(q.Get(f.param))
		}
	}
	e.Source, e.Medium = strings.ToLower(e.Source), strings.ToLower(e.Medium)
	for _, c := range clickIDs {
		if id := q.Get(c.param); id != "" {
			e.Props["click_id"], e.Props["click_id_type"], e.Props["paid"] = id, c.param, true
			if e.Source == "" {
				e.Source = c.source
			}
			if e.Medium == "" {
				e.Medium = "cpc"
			}
			return
		}
	}
	if slices.Contains(PaidMedia, e.Medium) {
		e.Props["paid"] = true
	}
}
