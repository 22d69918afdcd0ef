package demo

import (
	"math"
	"strconv"
	"time"
)

// shared writes what belongs to no customer: costs and social activity.
func (g *gen) shared() {
	for day := 0; day < g.days; day++ {
		t := g.at(float64(day) + 0.5)
		if t.Day() == 1 || day == 0 {
			g.ev(t, "campaign_cost").s("amount", "300.00").s("currency", "EUR").raw("props", `{"cost_type":"software"}`).end()
		}
		g.health(day, t)
		for _, platform := range []string{"facebook", "instagram", "tiktok"} {
			impressions := int64(2000 + g.rng.IntN(3000))
			g.ev(t, "impression").s("channel", platform).n("count", impressions).end()
			g.ev(t, "reach").s("channel", platform).n("count", impressions*6/10).end()
			g.ev(t, "campaign_cost").s("channel", platform).s("campaign", "social_ads").
				s("amount", amount(int64(2000+g.rng.IntN(4000)), "EUR")).s("currency", "EUR").raw("props", `{"cost_type":"ads"}`).end()
			for range g.rng.IntN(6) {
				g.ev(g.busyTime(), "follow").s("channel", platform).end()
			}
			if g.chance(0.5) {
				g.ev(g.busyTime(), "unfollow").s("channel", platform).end()
			}
			for _, kind := range []string{"like", "comment", "share", "save", "click"} {
				if g.chance(0.7) {
					g.ev(t, "social_interaction").s("channel", platform).n("count", int64(1+g.rng.IntN(40))).raw("props", `{"type":"`+kind+`"}`).end()
				}
			}
		}
	}
}

// customer writes one customer's whole history.
func (g *gen) customer() {
	g.stats.Customers++
	g.cust = "cus_" + strconv.Itoa(100000 + g.stats.Customers)[1:]
	g.currency = "EUR"
	g.country = [...]string{"NL", "DE", "BE"}[g.stats.Customers%3]
	if g.chance(idrShare) {
		g.currency, g.country = "IDR", "ID"
	}
	for i := range g.camps {
		if g.chance(audienceShare) {
			g.campaignMessage(&g.camps[i])
		}
	}
	for range g.poisson(1.2 * g.scale) {
		g.conversation()
	}
	for range g.poisson(1.5 * g.scale) {
		g.visit()
	}
	for range g.times(0.1) {
		t := g.busyTime()
		g.ev(t, "lead_created").s("customer", g.cust).s("channel", "web").s("source", "popup").end()
		if g.chance(0.45) {
			g.ev(t.Add(time.Duration(g.rng.IntN(72))*time.Hour), "lead_qualified").s("customer", g.cust).s("channel", "web").end()
		}
	}
	for range g.times(0.02) {
		g.ev(g.busyTime(), "referral").s("customer", g.cust).raw("props", `{"referrer":"cus_`+strconv.Itoa(g.rng.IntN(g.stats.Customers+1))+`"}`).end()
	}
	for range g.times(0.01) {
		g.ev(g.busyTime(), "ugc_shared").s("customer", g.cust).s("channel", "instagram").end()
	}
}

// times is how often something a customer does with chance p per season
// happens over the span: p·scale, its fraction by chance.
func (g *gen) times(p float64) int {
	x := p * g.scale
	n := int(x)
	if g.chance(x - float64(n)) {
		n++
	}
	return n
}

func (g *gen) poisson(mean float64) int {
	n, p, l := 0, 1.0, math.Exp(-mean)
	for {
		p *= g.rng.Float64()
		if p < l {
			return n
		}
		n++
	}
}

// demoAds are the click-to-WhatsApp ads (id and headline) chats come from.
var demoAds = [][2]string{{"120211800000000101", "Spring sale: 20 % off everything"}, {"120211800000000102", "Free shipping this week"},
	{"120211800000000103", "New in: summer collection"}}

// demoButtons and demoPages are what the campaigns' clicks name: a quick
// reply's title and payload, a link's page.
var demoButtons = []string{`{"title":"Shop now","payload":"SHOP_NOW","button_type":"quick_reply"}`,
	`{"title":"See more","payload":"SEE_MORE","button_type":"quick_reply"}`, `{"title":"Not interested","payload":"NO_THANKS","button_type":"quick_reply"}`}
var demoPages = []string{"sale", "new-in", "bestsellers", "products/linen-shirt"}

// templateCategory is the category the sending system registers a
// WhatsApp template's messages with; Meta bills them all as marketing, so
// the welcome template, sent as utility, shows as billed in another
// category.
var templateCategory = map[string]string{"welcome_v1": "utility", "spring_offer": "marketing"}

// demoPhoneNumberID is the business phone number the demo's WhatsApp
// messages are sent from.
const demoPhoneNumberID = "106540352242922"

// campaignMessage sends one campaign message to the customer and plays out
// what follows: statuses, clicks, a reply, an order, an opt-out.
func (g *gen) campaignMessage(c *campaign) {
	g.stats.Messages++
	msg := "wamid." + strconv.Itoa(g.ids+1)
	day := c.day
	if c.days > 1 {
		day += g.rng.IntN(c.days)
	}
	sent := g.at(float64(day) + 9.0/24).Add(time.Duration(g.rng.IntN(7200)) * time.Second)
	v := g.rng.IntN(len(c.variants))
	tmpl := c.templates[g.rng.IntN(len(c.templates))]
	status := func(t time.Time, kind string) *gen {
		return g.ev(t, kind).s("channel", c.channel).s("message", msg).s("customer", g.cust)
	}
	g.pending = [][]byte{}
	send := g.ev(sent, "message_sent").s("channel", c.channel).s("message", msg).s("customer", g.cust).
		s("campaign", c.name).s("template", tmpl).s("variant", c.variants[v]).s("actor", "campaign")
	if category, ok := templateCategory[tmpl]; ok {
		send.raw("props", `{"template_category":"`+category+`"}`)
	}
	send.end()
	if g.chance(failRate) {
		code := "131026"
		switch x := g.rng.Float64(); {
		case x < 0.4:
			code = "131047"
		case c.name == "daily_deals" && g.ids%3 == 0:
			code = "131049" // the blast reaches people over WhatsApp's marketing limit
		case c.name == "restock" && x < 0.6:
			code = "131053" // the restock alert's product image failed to upload
		case x > 0.93:
			code = "130472" // the number is in one of Meta's experiments
		}
		status(sent.Add(3*time.Second), "message_failed").raw("props", `{"error_code":"`+code+`"}`).end()
		g.flushMessage()
		return
	}
	t := sent.Add(time.Duration(2+g.rng.IntN(60)) * time.Second)
	delivered := g.chance(deliverRate)
	switch {
	case delivered && c.channel == "whatsapp":
		// WhatsApp bills a delivered marketing message; the webhook's
		// pricing becomes these props.
		status(t, "message_delivered").raw("props", `{"billable_category":"marketing","pricing_category":"marketing","pricing_type":"regular","customer_country":"`+
			g.country+`","wa_phone_number_id":"`+demoPhoneNumberID+`"}`).end()
	case delivered && c.channel != "instagram":
		status(t, "message_delivered").end()
	}
	read := delivered && g.chance(readRate)
	if read {
		t = t.Add(time.Duration(g.rng.ExpFloat64()*3600) * time.Second)
		if c.channel != "sms" {
			status(t, "message_read").end()
		}
	}
	clicked := read && g.chance(c.ctr[v]/readRate/deliverRate)
	if clicked {
		t = t.Add(time.Duration(5+g.rng.IntN(600)) * time.Second)
		kind := "link_clicked"
		if c.channel == "whatsapp" && g.chance(0.5) {
			kind = "button_clicked"
		}
		n := g.rng.IntN(40)
		click := status(t, kind).s("product", "sku_"+strconv.Itoa(n))
		if kind == "button_clicked" {
			click.raw("props", demoButtons[n%len(demoButtons)])
		} else {
			click.raw("props", `{"url":"https://shop.example.com/`+demoPages[n%len(demoPages)]+`"}`)
		}
		click.end()
	}
	g.flushMessage()
	if read && g.chance(replyRate) {
		reply := "in." + strconv.Itoa(g.ids+1)
		g.ev(t.Add(time.Duration(1+g.rng.IntN(5*3600))*time.Second), "message_received").
			s("channel", c.channel).s("message", reply).s("customer", g.cust).s("text", "is this still available?").end()
	}
	if clicked && g.chance(buyAfterClick) {
		g.order(t.Add(time.Duration(g.rng.IntN(5*24*3600))*time.Second), "", "web")
	}
	rate := optOutRate
	if c.spike {
		rate = optOutSpikeRate
	}
	if delivered && g.chance(rate) {
		g.ev(t.Add(time.Duration(g.rng.IntN(2*3600))*time.Second), "opted_out").
			s("channel", c.channel).s("customer", g.cust).s("text", "STOP").end()
		if g.chance(0.1) {
			g.ev(t.Add(20*24*time.Hour), "opted_in").s("channel", c.channel).s("customer", g.cust).end()
		}
	}
}

// order places an order, sometimes refunded or returned.
func (g *gen) order(t time.Time, conversation, channel string) {
	g.stats.Orders++
	id := "ord_" + strconv.Itoa(g.stats.Orders)
	minor := int64(1500 + g.rng.IntN(10500))
	if g.currency == "IDR" {
		// About 17,000 rupiah to the euro, priced in whole hundreds of
		// rupiah; minor units are hundredths of a rupiah.
		minor = minor * 170 / 100 * 100 * 100
	}
	g.ev(t, "order_placed").s("order", id).s("customer", g.cust).s("channel", channel).s("conversation", conversation).
		s("amount", amount(minor, g.currency)).s("currency", g.currency).s("product", "sku_"+strconv.Itoa(g.rng.IntN(40))).end()
	switch {
	case g.chance(refundRate):
		g.ev(t.Add(time.Duration(1+g.rng.IntN(10))*24*time.Hour), "order_refunded").s("order", id).s("customer", g.cust).
			s("amount", amount(minor/2, g.currency)).s("currency", g.currency).end()
	case g.chance(returnRate):
		g.ev(t.Add(time.Duration(3+g.rng.IntN(10))*24*time.Hour), "order_returned").s("order", id).s("customer", g.cust).end()
	}
}

// questions customers open chats with, in the languages of the demo's
// markets: Indonesian for customers paying in rupiah, else mostly English
// with some Chinese.
var questions = map[string][]string{
	"en": {"hi, I have a question about my order", "where is my parcel?", "can I change the delivery address?",
		"do you have the linen dress in size M?", "is the blue dress still available?", "how do I return an item?"},
	"id": {"halo kak, pesanan saya belum sampai", "apakah baju batik ini masih ada stok?", "bisa kirim ke Surabaya?",
		"berapa ongkir ke Bandung?", "bagaimana cara retur barang?"},
	"zh": {"请问我的订单什么时候发货？", "这件连衣裙有M号吗？", "可以改收货地址吗？", "怎么退货？"},
}

func (g *gen) question() string {
	lang := "en"
	switch {
	case g.currency == "IDR":
		lang = "id"
	case g.chance(0.15):
		lang = "zh"
	}
	pool := questions[lang]
	return pool[g.rng.IntN(len(pool))]
}

// conversation plays a support or sales chat: the customer writes, a bot
// may answer, an agent takes over, it gets resolved, sometimes reopened.
func (g *gen) conversation() {
	g.stats.Conversations++
	conv := "conv_" + strconv.Itoa(g.stats.Conversations)
	channel := "whatsapp"
	if g.chance(0.2) {
		channel = []string{"instagram", "facebook", "web"}[g.rng.IntN(3)]
	}
	agent := agents[g.rng.IntN(len(agents))]
	t := g.busyTime()
	base := func(kind string) *gen {
		return g.ev(t, kind).s("channel", channel).s("conversation", conv).s("customer", g.cust)
	}
	var fromAd bool // set below, once the chat has opened
	msg := func(actor, text string) {
		id := "wamid.c" + strconv.Itoa(g.ids+1) // named after the event that sends it
		kind := "message_sent"
		if actor == "customer" {
			kind = "message_received"
		}
		b := g.ev(t, kind).s("channel", channel).s("conversation", conv).s("customer", g.cust).
			s("message", id).s("actor", actor).s("text", text)
		if actor == "agent" {
			b.s("agent", agent.name).s("team", agent.team)
		}
		b.end()
		if actor != "customer" && channel != "web" {
			// Replies get receipts like any outbound message; the customer
			// is in the chat, so they are read within seconds.
			if fromAd {
				g.ev(t.Add(time.Second), "message_delivered").s("channel", channel).s("message", id).s("customer", g.cust).
					raw("props", `{"pricing_category":"service","pricing_type":"free_entry_point","wa_phone_number_id":"`+demoPhoneNumberID+`"}`).end()
			} else if channel != "instagram" {
				g.ev(t.Add(time.Second), "message_delivered").s("channel", channel).s("message", id).s("customer", g.cust).end()
			}
			if g.chance(0.93) {
				g.ev(t.Add(time.Duration(2+g.rng.IntN(30))*time.Second), "message_read").s("channel", channel).s("message", id).s("customer", g.cust).end()
			}
		}
	}
	base("conversation_opened").end()
	msg("customer", g.question())
	// Every fifth WhatsApp chat was opened from a click-to-WhatsApp ad: the
	// lead the webhook derives from the message's referral, and replies
	// Meta prices as free entry point. Chosen by number, not by chance, so
	// the rest of the history stays as it was.
	fromAd = channel == "whatsapp" && g.stats.Conversations%5 == 0
	if fromAd {
		ad := demoAds[g.stats.Conversations/5%len(demoAds)]
		clid := "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ" + strconv.Itoa(g.stats.Conversations)
		referral := `{"source_url":"https://fb.me/` + ad[0] + `","source_id":"` + ad[0] + `","source_type":"ad","headline":"` + ad[1] +
			`","media_type":"image","ctwa_clid":"` + clid + `"}`
		g.ev(t, "lead_created").s("channel", channel).s("customer", g.cust).s("source", "ad").s("medium", "click_to_whatsapp").
			raw("props", `{"type":"text","ad_id":"`+ad[0]+`","ctwa_clid":"`+clid+`","referral":`+referral+`}`).end()
	}
	if g.chance(0.5) {
		t = t.Add(time.Duration(1+g.rng.IntN(4)) * time.Second)
		msg("bot", "Thanks! An agent will be with you shortly.")
		if g.chance(0.2) {
			// The bot's answer was enough: resolved without an agent.
			t = t.Add(time.Duration(30+g.rng.IntN(300)) * time.Second)
			base("conversation_resolved").end()
			return
		}
	}
	t = t.Add(time.Duration(g.rng.IntN(20)) * time.Second)
	base("conversation_assigned").s("agent", agent.name).s("team", agent.team).end()
	frt := math.Exp(3.4 + 1.3*g.rng.NormFloat64()) // median about 30 s, long tail
	t = t.Add(time.Duration(frt * float64(time.Second)))
	msg("agent", "Hello! Let me check that for you.")
	for range 1 + g.rng.IntN(3) {
		t = t.Add(time.Duration(20+g.rng.IntN(600)) * time.Second)
		msg("customer", "ok, thank you")
		t = t.Add(time.Duration(10+g.rng.IntN(300)) * time.Second)
		msg("agent", "You're welcome.")
	}
	sale := agent.team == "sales" && g.chance(0.35)
	if sale {
		g.ev(t, "goal_reached").s("channel", channel).s("conversation", conv).s("customer", g.cust).s("agent", agent.name).raw("props", `{"goal":"sale"}`).end()
		named := ""
		if g.chance(0.5) {
			named = conv
		}
		g.order(t.Add(time.Duration(g.rng.IntN(2*24*3600))*time.Second), named, channel)
	} else if g.chance(0.6) {
		g.ev(t, "goal_reached").s("channel", channel).s("conversation", conv).s("customer", g.cust).s("agent", agent.name).raw("props", `{"goal":"case_solved"}`).end()
	}
	t = t.Add(time.Duration(60+g.rng.IntN(7200)) * time.Second)
	base("conversation_resolved").s("agent", agent.name).s("team", agent.team).end()
	if g.chance(0.1) {
		t = t.Add(time.Duration(1+g.rng.IntN(48)) * time.Hour)
		base("conversation_reopened").end()
		msg("customer", "sorry, one more thing")
		t = t.Add(time.Duration(math.Exp(4+g.rng.NormFloat64())) * time.Second)
		msg("agent", "Of course.")
		t = t.Add(time.Duration(600+g.rng.IntN(3600)) * time.Second)
		base("conversation_resolved").s("agent", agent.name).s("team", agent.team).end()
	}
	if g.chance(0.3) {
		score := 5 - int64(math.Min(4, math.Abs(g.rng.NormFloat64()*1.3)))
		g.ev(t.Add(time.Minute), "survey_answered").s("channel", channel).s("conversation", conv).s("customer", g.cust).
			s("agent", agent.name).s("team", agent.team).n("score", score).raw("props", `{"survey":"csat"}`).end()
	}
	if g.chance(0.15) {
		score := int64(math.Max(0, math.Min(10, 8+g.rng.NormFloat64()*2.2)))
		g.ev(t.Add(time.Hour), "survey_answered").s("channel", channel).s("customer", g.cust).n("score", score).raw("props", `{"survey":"nps"}`).end()
	}
	if g.chance(0.05) {
		tag := []string{"complaint", "suggestion", "review"}[g.rng.IntN(3)]
		g.ev(t.Add(2*time.Hour), "feedback").s("channel", channel).s("customer", g.cust).
			s("text", "delivery took too long but support was kind").raw("tags", `["`+tag+`"]`).end()
	}
}

// visit plays a web session with page views, recommendations and perhaps a
// checkout.
func (g *gen) visit() {
	t := g.busyTime()
	sources := []struct{ source, medium string }{{"instagram", "social"}, {"facebook", "social"}, {"tiktok", "social"}, {"google", "cpc"}, {"newsletter", "email"}, {"", ""}}
	src := sources[g.rng.IntN(len(sources))]
	pages := 1 + g.rng.IntN(6)
	g.ev(t, "site_session").s("channel", "web").s("customer", g.cust).n("duration_ms", int64(pages)*int64(15000+g.rng.IntN(60000))).
		s("source", src.source).s("medium", src.medium).s("utm_campaign", map[bool]string{true: "spring_sale"}[src.medium == "social"]).
		raw("props", `{"pages":`+strconv.Itoa(pages)+`}`).end()
	for p := range pages {
		g.ev(t.Add(time.Duration(p*30)*time.Second), "page_view").s("channel", "web").s("customer", g.cust).s("source", src.source).end()
	}
	product := "sku_" + strconv.Itoa(g.rng.IntN(40))
	g.ev(t, "product_recommended").s("channel", "web").s("customer", g.cust).s("product", product).end()
	if g.chance(0.2) {
		g.ev(t.Add(time.Minute), "product_clicked").s("channel", "web").s("customer", g.cust).s("product", product).end()
	}
	if g.chance(0.12) {
		g.ev(t.Add(3*time.Minute), "checkout_started").s("channel", "web").s("customer", g.cust).end()
		if g.chance(0.6) {
			g.ev(t.Add(20*time.Minute), "cart_abandoned").s("channel", "web").s("customer", g.cust).end()
		} else {
			g.order(t.Add(5*time.Minute), "", "web")
		}
	}
}
