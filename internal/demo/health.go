package demo

import (
	"strconv"
	"time"
)

// demoNumber is the demo's WhatsApp business number and account.
const (
	demoNumber  = "6221500100"
	demoAccount = "310000000000001"
)

// health writes what WhatsApp's account-health webhooks would have said on
// day, as the webhook adapter stores them: the number onboarded at 10K
// and each template approved on the first day; late in the season the
// daily deal blast annoys people, its template's quality falls to yellow,
// the number is flagged and its limit lowered, and the template is paused.
func (g *gen) health(day int, t time.Time) {
	phone := func(event, old, limit, signal string) {
		props := `{"type":"phone_number_quality_update","display_phone_number":"` + demoNumber + `","event":"` + event +
			`","current_limit":"` + limit + `","wa_business_account":"` + demoAccount + `"`
		if old != "" {
			props += `,"old_limit":"` + old + `"`
		}
		if signal != "" {
			props += `,"health_signal":"` + signal + `"`
		}
		g.ev(t, "channel_event").s("channel", "whatsapp").raw("props", props+"}").end()
	}
	template := func(typ, name, id, fields string) {
		g.ev(t, "channel_event").s("channel", "whatsapp").raw("props", `{"type":"`+typ+`","message_template_id":"`+id+
			`","message_template_name":"`+name+`","message_template_language":"id","wa_business_account":"`+demoAccount+`",`+fields+"}").end()
	}
	switch day {
	case 0:
		phone("ONBOARDING", "", "TIER_10K", "")
		for i, name := range []string{"welcome_v1", "spring_offer", "mid_season_a", "mid_season_b", "restock_alert", "deal_blast"} {
			category := "MARKETING"
			if name == "welcome_v1" {
				category = "UTILITY"
			}
			template("message_template_status_update", name, "17000000000000"+strconv.Itoa(i+1),
				`"event":"APPROVED","reason":"NONE","message_template_category":"`+category+`"`)
		}
	case g.days - 4:
		template("message_template_quality_update", "deal_blast", "170000000000006",
			`"previous_quality_score":"GREEN","new_quality_score":"YELLOW","health_signal":"quality_drop"`)
	case g.days - 3:
		phone("FLAGGED", "", "TIER_10K", "quality_drop")
		template("message_template_status_update", "deal_blast", "170000000000006",
			`"event":"PAUSED","reason":"NONE","message_template_category":"MARKETING","title":"FIRST_PAUSE","health_signal":"template_paused"`)
	case g.days - 2:
		phone("DOWNGRADE", "TIER_10K", "TIER_2K", "limit_changed")
	}
}
