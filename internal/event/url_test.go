package event

import "testing"

func TestApplyURL(t *testing.T) {
	tests := []struct {
		name, url                      string
		source, medium, campaign, term string
		clickType                      string
		paid                           bool
	}{
		{"UTM from a newsletter", "https://shop.example.com/dresses/linen?utm_source=Newsletter&utm_medium=email&utm_campaign=spring_2026&utm_content=hero",
			"newsletter", "email", "spring_2026", "", "", false},
		{"Google Ads click", "https://shop.example.com/?gclid=Cj0KCQiA4L67BhDUARIsADWrl7E&utm_term=linen+dress",
			"google", "cpc", "", "linen dress", "gclid", true},
		{"Facebook link with fbclid and its own UTM", "https://shop.example.com/p/123?utm_source=instagram&utm_medium=paid_social&utm_campaign=ig_reels&fbclid=IwAR2F4x_7Lk",
			"instagram", "paid_social", "ig_reels", "", "fbclid", true},
		{"TikTok ad", "https://shop.example.com/?ttclid=E.C.P.CsoBx9abc", "tiktok", "cpc", "", "", "ttclid", true},
		{"Microsoft Ads", "https://shop.example.com/sale?msclkid=5e3f1c2a9b8d4e7f&utm_campaign=brand", "bing", "cpc", "brand", "", "msclkid", true},
		{"paid medium without click id", "https://shop.example.com/?utm_source=facebook&utm_medium=CPC", "facebook", "cpc", "", "", "", true},
		{"no parameters", "https://shop.example.com/about", "", "", "", "", "", false},
		{"not a URL", "::not a url", "", "", "", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := FromMap(map[string]any{"id": "v", "ts": "2026-01-05T10:00:00Z", "kind": "page_view", "channel": "web", "url": tc.url})
			if err != nil {
				t.Fatal(err)
			}
			if e.Source != tc.source || e.Medium != tc.medium || e.UTMCampaign != tc.campaign || e.UTMTerm != tc.term {
				t.Errorf("source %q medium %q campaign %q term %q", e.Source, e.Medium, e.UTMCampaign, e.UTMTerm)
			}
			if e.Prop("click_id_type") != tc.clickType || (e.Props["paid"] == true) != tc.paid {
				t.Errorf("props %v", e.Props)
			}
		})
	}
	// Fields the event sets win over its URL's.
	e, err := FromMap(map[string]any{"id": "v", "ts": "2026-01-05T10:00:00Z", "kind": "page_view", "channel": "web",
		"source": "partner", "url": "https://shop.example.com/?utm_source=newsletter&utm_campaign=x"})
	if err != nil || e.Source != "partner" || e.UTMCampaign != "x" {
		t.Errorf("%v %+v", err, e)
	}
}
