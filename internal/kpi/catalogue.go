// Package kpi is omnikpi's KPI engine: the catalogue of KPIS.md as data, the
// SQL that computes each family's numerators and denominators on any store,
// and the division, rating and shaping of the results.
package kpi

// Unit says how a KPI's value reads.
type Unit string

// Units.
const (
	Count   Unit = "count"
	Percent Unit = "percent"
	Money   Unit = "money" // major units of Value.Currency
	Ratio   Unit = "ratio" // shown as "5.0x"
	Seconds Unit = "seconds"
	Score   Unit = "score" // a mean survey score, or NPS points
)

// Direction says which way is better.
type Direction string

// Directions.
const (
	HigherIsBetter Direction = "higher"
	LowerIsBetter  Direction = "lower"
	Neutral        Direction = ""
)

// Rating places a value against its band (KPIS.md §6), in the direction
// the KPI prefers: an opt-out rate of 3.7 % against 0.3–0.6 % is worse, not
// above.
type Rating string

// Ratings.
const (
	Worse  Rating = "worse"  // worse than the band
	Within Rating = "within" // inside the band
	Better Rating = "better" // better than the band, short of best
	Best   Rating = "best"   // at or past the band's best
)

// Band is a benchmark band: [Low, High] is within, past Best (in the
// better direction) is best. Nil ends are open.
type Band struct {
	Low  *float64 `json:"low,omitempty"`
	High *float64 `json:"high,omitempty"`
	Best *float64 `json:"best,omitempty"`
	// Currency is set for money bands, which apply to that currency only.
	Currency string `json:"currency,omitempty"`
	Source   string `json:"source,omitempty"`
}

// Definition is one catalogue entry.
type Definition struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Section   string    `json:"section"` // KPIS.md section, such as "messages"
	Unit      Unit      `json:"unit"`
	Formula   string    `json:"formula"`
	Direction Direction `json:"direction,omitempty"`
	Band      *Band     `json:"band,omitempty"`
}

func f(v float64) *float64 { return &v }

// ReasonNotReported is the reason given for a rate whose channel does not
// report the status it needs.
const ReasonNotReported = "not reported by channel"

// ReasonNoData is the reason given for a zero denominator.
const ReasonNoData = "no data: the denominator is zero"

// ReasonNothing is the reason given for a sum or a ratio of money when
// nothing it adds up lies in the period and filters (no order, no spend),
// so not even its currency is known.
const ReasonNothing = "no data in the period and filters"

// catalogue is KPIS.md sections 1 to 4, in its order. Bands are the
// catalogue's defaults; a workspace may override them by id.
var catalogue = insertBefore(insertBefore(catalogueEntries, "frt_distribution",
	timeKPIs("first_response_time", "First response time", "frt", "first agent or bot reply − first customer message of the session", frtBand),
	timeKPIs("first_human_response_time", "First human response time", "frt_human", "first agent reply − first customer message of the session (bot answers do not stop the clock)", humanFrtBand),
), "unclosed_conversations",
	timeKPIs("avg_response_time", "Response time", "response", "every customer message → the next agent or bot reply in the session", nil),
	timeKPIs("resolution_time", "Resolution time", "resolution", "resolved − session start (opening or reopening)", nil),
)

var catalogueEntries = []entry{
	// 1. Message delivery and engagement.
	{Definition{ID: "messages_sent", Name: "Messages sent", Section: "messages", Unit: Count,
		Formula: "distinct outbound messages; any status implies the send"}, plain("sent", "", 1)},
	{Definition{ID: "messages_delivered", Name: "Messages delivered", Section: "messages", Unit: Count,
		Formula: "distinct messages delivered, read or clicked"}, plain("delivered", "", 1)},
	{Definition{ID: "messages_read", Name: "Messages read", Section: "messages", Unit: Count,
		Formula: "distinct messages read or clicked"}, plain("read_n", "", 1)},
	{Definition{ID: "messages_received", Name: "Messages received", Section: "messages", Unit: Count,
		Formula: "distinct inbound customer messages"}, plain("received", "", 1)},
	{Definition{ID: "messages_failed", Name: "Messages failed", Section: "messages", Unit: Count, Direction: LowerIsBetter,
		Formula: "distinct messages failed and never delivered"}, plain("failed", "", 1)},
	{Definition{ID: "delivery_rate", Name: "Delivery rate", Section: "messages", Unit: Percent, Direction: HigherIsBetter,
		Formula: "delivered ÷ sent × 100, over channels that report deliveries"}, receipted("delivered_d", "sent_d", "sent")},
	{Definition{ID: "open_rate", Name: "Open rate", Section: "messages", Unit: Percent, Direction: HigherIsBetter,
		Formula: "campaign messages read ÷ sent × 100, over channels that report reads",
		Band:    &Band{Low: f(85), High: f(90), Best: f(95), Source: "benchmark 85–90 %, best ≥ 95 %"}}, receipted("read_r", "sent_r", "sent_e")},
	{Definition{ID: "read_rate_of_delivered", Name: "Read rate of delivered", Section: "messages", Unit: Percent, Direction: HigherIsBetter,
		Formula: "campaign messages read ÷ delivered × 100, over channels that report both"}, receipted("read_rd", "delivered_rd", "delivered_e")},
	{Definition{ID: "ctr", Name: "Click-through rate", Section: "messages", Unit: Percent, Direction: HigherIsBetter,
		Formula: "campaign messages with a link or button click ÷ sent × 100",
		Band:    &Band{Low: f(15), High: f(25), Best: f(30), Source: "benchmark 15–25 %, great ≥ 30 %"}}, plain("clicked_e", "sent_e", 100)},
	{Definition{ID: "response_rate", Name: "Response rate", Section: "messages", Unit: Percent, Direction: HigherIsBetter,
		Formula: "campaign messages whose recipient wrote back within the reply window (24 h) ÷ sent × 100"}, plain("replied", "sent_e", 100)},
	{Definition{ID: "campaign_conversion_rate", Name: "Campaign conversion rate", Section: "messages", Unit: Percent, Direction: HigherIsBetter,
		Formula: "campaign messages followed by an order or goal within the conversion window (7 days; last campaign message wins) ÷ campaign messages sent × 100",
		Band:    &Band{Low: f(30), High: f(45), Best: f(50), Source: "benchmark 30–45 %, best ≥ 50 %"}}, plain("converted", "sent_e", 100)},
	{Definition{ID: "opt_out_rate", Name: "Opt-out rate", Section: "messages", Unit: Percent, Direction: LowerIsBetter,
		Formula: "recipients who opted out within the opt-out window (7 days) of their latest campaign message ÷ recipients of campaign messages × 100",
		Band:    &Band{Low: f(0.3), High: f(0.6), Best: f(0.2), Source: "benchmark 0.3–0.6 %, ideal ≤ 0.2 %"}}, plain("opted_out", "recipients_e", 100)},
	{Definition{ID: "opt_outs", Name: "Opt-outs", Section: "messages", Unit: Count, Direction: LowerIsBetter,
		Formula: "customers who opted out in the period (a stop word, an unsubscribe button, WhatsApp's stop of marketing messages), each once"}, plain("opt_outs_n", "", 1)},
	{Definition{ID: "opt_ins", Name: "Opt-ins", Section: "messages", Unit: Count, Direction: HigherIsBetter,
		Formula: "customers who opted in, or resumed marketing messages, in the period, each once"}, plain("opt_ins_n", "", 1)},
	{Definition{ID: "frequency_capped_rate", Name: "Frequency-capped rate", Section: "messages", Unit: Percent, Direction: LowerIsBetter,
		Formula: "campaign messages failed with WhatsApp error 131049 (per-user marketing limit) or 131048 (spam rate limit) ÷ campaign messages sent × 100"}, plain("capped_e", "sent_e", 100)},
	{Definition{ID: "quality_drops", Name: "Quality drops", Section: "health", Unit: Count, Direction: LowerIsBetter,
		Formula: "WhatsApp business numbers flagged for low quality, and templates whose quality fell to yellow or red, in the period"}, plain("quality_drops_n", "", 1)},
	{Definition{ID: "template_setbacks", Name: "Templates paused or recategorised", Section: "health", Unit: Count, Direction: LowerIsBetter,
		Formula: "WhatsApp templates paused, disabled or moved to another category in the period"}, plain("template_setbacks_n", "", 1)},
	{Definition{ID: "messaging_limit_changes", Name: "Messaging limit changes", Section: "health", Unit: Count,
		Formula: "changes of a WhatsApp business number's messaging limit in the period, up or down"}, plain("limit_changes_n", "", 1)},

	// 2. Revenue and campaign economics.
	{Definition{ID: "rpc", Name: "Revenue per conversation", Section: "revenue", Unit: Money, Direction: HigherIsBetter,
		Formula: "revenue of orders attributed to the conversations started in the period ÷ those conversations",
		Band:    &Band{Low: f(1.5), High: f(2), Best: f(3), Currency: "EUR", Source: "€1.50–2 good, > €3 great"}}, money("conv_revenue", "conversations", false)},
	{Definition{ID: "revenue_per_conversion", Name: "Revenue per conversion", Section: "revenue", Unit: Money, Direction: HigherIsBetter,
		Formula: "campaign-attributed revenue ÷ converted campaign messages"}, money("campaign_revenue", "converted", false)},
	{Definition{ID: "rocs", Name: "Return on campaign spend", Section: "revenue", Unit: Ratio, Direction: HigherIsBetter,
		Formula: "campaign-attributed revenue ÷ campaign cost",
		Band:    &Band{Low: f(5), High: f(7), Best: f(10), Source: "benchmark 5–7x, great 10x; another source: ideal 6–8x"}}, money("campaign_revenue", "cost", true)},
	{Definition{ID: "roi", Name: "ROI", Section: "revenue", Unit: Percent, Direction: HigherIsBetter,
		Formula: "(campaign-attributed revenue − campaign cost) ÷ campaign cost × 100"}, calcROI},
	{Definition{ID: "cpl", Name: "Cost per lead", Section: "revenue", Unit: Money, Direction: LowerIsBetter,
		Formula: "spend ÷ leads created"}, money("cost", "leads", false)},
	{Definition{ID: "cpl_qualified", Name: "Cost per qualified lead", Section: "revenue", Unit: Money, Direction: LowerIsBetter,
		Formula: "spend ÷ leads qualified"}, money("cost", "leads_qualified", false)},
	{Definition{ID: "revenue_per_recipient", Name: "Revenue per recipient", Section: "revenue", Unit: Money, Direction: HigherIsBetter,
		Formula: "campaign-attributed revenue ÷ messages sent"}, money("campaign_revenue", "sent", false)},
	{Definition{ID: "cost_per_recipient", Name: "Cost per recipient", Section: "revenue", Unit: Money, Direction: LowerIsBetter,
		Formula: "(messaging cost + software cost) ÷ recipients"}, money("cost_msg_sw", "recipients", false)},
	{Definition{ID: "messaging_cost", Name: "Messaging cost", Section: "revenue", Unit: Money, Direction: LowerIsBetter,
		Formula: "delivered messages priced by the rate card in force at delivery, by pricing category, type and country (volume tiers, free allowances; free types cost nothing)"}, money("msg_cost", "", false)},
	{Definition{ID: "cost_per_delivered", Name: "Cost per delivered message", Section: "revenue", Unit: Money, Direction: LowerIsBetter,
		Formula: "messaging cost ÷ delivered messages that carry pricing"}, money("msg_cost", "priced_n", false)},
	{Definition{ID: "paid_messages", Name: "Paid messages", Section: "revenue", Unit: Count, Direction: LowerIsBetter,
		Formula: "delivered messages of a charged pricing type (regular), beyond any free allowance"}, plain("paid_n", "", 1)},
	{Definition{ID: "free_messages", Name: "Free messages", Section: "revenue", Unit: Count, Direction: HigherIsBetter,
		Formula: "delivered messages of a free pricing type (customer service, entry point) or within a free allowance"}, plain("free_n", "", 1)},
	{Definition{ID: "return_per_recipient", Name: "Return per recipient", Section: "revenue", Unit: Ratio, Direction: HigherIsBetter,
		Formula: "revenue per recipient ÷ cost per recipient"}, calcReturnPerRecipient},
	{Definition{ID: "aov", Name: "Average order value", Section: "revenue", Unit: Money, Direction: HigherIsBetter,
		Formula: "revenue ÷ orders placed in the period"}, calc{kind: moneyCalc, num: "gross", den: "orders_cur", denCount: true, scale: 1}},
	{Definition{ID: "refund_rate", Name: "Refund and return rate", Section: "revenue", Unit: Percent, Direction: LowerIsBetter,
		Formula: "orders refunded or returned ÷ orders × 100"}, plain("orders_undone", "orders", 100)},
	{Definition{ID: "gross_revenue", Name: "Gross revenue", Section: "revenue", Unit: Money, Direction: HigherIsBetter,
		Formula: "sum of order_placed amounts in the period"}, money("gross", "", false)},
	{Definition{ID: "net_revenue", Name: "Net revenue", Section: "revenue", Unit: Money, Direction: HigherIsBetter,
		Formula: "gross revenue − refunds and returns of those orders (a return without amount undoes the whole order)"}, money("net", "", false)},
	{Definition{ID: "chat_to_purchase_rate", Name: "Chat-to-purchase conversion", Section: "revenue", Unit: Percent, Direction: HigherIsBetter,
		Formula: "customers of the period's conversations who bought within the attribution window ÷ those customers × 100"}, plain("conv_buyers", "conv_customers", 100)},

	// 3. Responsiveness, service and satisfaction. Times are wall-clock
	// seconds, or open seconds under the workspace's business hours with
	// hours=business.
	{Definition{ID: "conversations", Name: "Conversations", Section: "service", Unit: Count,
		Formula: "sessions started in the period: by conversation id, or a customer's messages on a channel until 24 h of silence; a reopening starts a new session"}, plain("sessions", "", 1)},
	{Definition{ID: "frt_distribution", Name: "First response time distribution", Section: "service", Unit: Count,
		Formula: "sessions by first response time: < 30 s, 30 s–2 min, 2–5 min, 5–10 min, 10–30 min, 30 min–1 h, 1–4 h, 4–24 h, > 24 h"},
		calc{kind: labelCalc, num: "frt_dist", scale: 1, order: frtBucketLabels()}},
	{Definition{ID: "unclosed_conversations", Name: "Unclosed conversations", Section: "service", Unit: Count, Direction: LowerIsBetter,
		Formula: "sessions never resolved, or whose last message is the customer's and unanswered"}, plain("unclosed", "", 1)},
	{Definition{ID: "conversation_conversion_rate", Name: "Conversation conversion rate", Section: "service", Unit: Percent, Direction: HigherIsBetter,
		Formula: "sessions that reached a goal (goal_reached) ÷ sessions × 100; overall, then per goal"},
		calc{kind: labelCalc, num: "goals", den: "sessions", scale: 100, overall: "goal_any"}},
	{Definition{ID: "csat", Name: "CSAT", Section: "service", Unit: Percent, Direction: HigherIsBetter,
		Formula: "CSAT answers of 4 or 5 ÷ CSAT answers × 100"}, plain("csat_satisfied", "csat_answers", 100)},
	{Definition{ID: "csat_mean", Name: "CSAT mean score", Section: "service", Unit: Score, Direction: HigherIsBetter,
		Formula: "mean CSAT answer (1–5)"}, plain("csat_score_sum", "csat_answers", 1)},
	{Definition{ID: "csat_response_rate", Name: "CSAT response rate", Section: "service", Unit: Percent, Direction: HigherIsBetter,
		Formula: "CSAT answers ÷ resolved sessions × 100"}, plain("csat_answers", "resolved_n", 100)},
	{Definition{ID: "nps", Name: "NPS", Section: "service", Unit: Score, Direction: HigherIsBetter,
		Formula: "% promoters (9–10) − % detractors (0–6) of NPS answers"}, calc{kind: npsCalc, num: "nps_answers"}},
	{Definition{ID: "nps_promoters", Name: "NPS promoters", Section: "service", Unit: Count,
		Formula: "NPS answers of 9 or 10"}, plain("nps_promoters", "", 1)},
	{Definition{ID: "nps_passives", Name: "NPS passives", Section: "service", Unit: Count,
		Formula: "NPS answers of 7 or 8"}, plain("nps_passives", "", 1)},
	{Definition{ID: "nps_detractors", Name: "NPS detractors", Section: "service", Unit: Count,
		Formula: "NPS answers of 0 to 6"}, plain("nps_detractors", "", 1)},
	{Definition{ID: "feedback_by_tag", Name: "Feedback by tag", Section: "service", Unit: Count,
		Formula: "feedback events of the period, overall and per tag"},
		calc{kind: labelCalc, num: "feedback_tags", scale: 1, overall: "feedback_n"}},
	{Definition{ID: "top_keywords", Name: "Top keywords", Section: "service", Unit: Count,
		Formula: "the ten terms used by the most inbound customer messages: words and two-word phrases without English, Indonesian and Malay stop words; Chinese as character pairs"},
		calc{kind: labelCalc, num: "keywords", scale: 1, top: 10}},

	// 4. The omnichannel and social-commerce funnel.
	{Definition{ID: "impressions", Name: "Impressions", Section: "funnel", Unit: Count, Direction: HigherIsBetter,
		Formula: "sum of impression counts"}, plain("impressions", "", 1)},
	{Definition{ID: "reach", Name: "Reach", Section: "funnel", Unit: Count, Direction: HigherIsBetter,
		Formula: "sum of reach counts"}, plain("reach", "", 1)},
	{Definition{ID: "visits", Name: "Visits", Section: "funnel", Unit: Count, Direction: HigherIsBetter,
		Formula: "site sessions"}, plain("visits", "", 1)},
	{Definition{ID: "revisits", Name: "Revisits", Section: "funnel", Unit: Count, Direction: HigherIsBetter,
		Formula: "site sessions of known visitors beyond each one's first in the period"}, calc{kind: diffCalc, num: "visits_known", den: "visitors_known"}},
	{Definition{ID: "follower_growth", Name: "Follower growth", Section: "funnel", Unit: Count, Direction: HigherIsBetter,
		Formula: "follows − unfollows"}, calc{kind: diffCalc, num: "follows", den: "unfollows"}},
	{Definition{ID: "social_interactions", Name: "Social interactions", Section: "funnel", Unit: Count, Direction: HigherIsBetter,
		Formula: "likes, comments, shares, saves and clicks (sum of social_interaction counts)"}, plain("interactions", "", 1)},
	{Definition{ID: "social_engagement_rate", Name: "Social engagement rate", Section: "funnel", Unit: Percent, Direction: HigherIsBetter,
		Formula: "social interactions ÷ impressions × 100; rated per platform when grouped or filtered by channel"},
		plain("interactions", "impressions", 100)},
	{Definition{ID: "social_ctr", Name: "Social CTR (organic)", Section: "funnel", Unit: Percent, Direction: HigherIsBetter,
		Formula: "organic social clicks (social_interaction type click) ÷ organic impressions × 100; rated per platform"},
		calc{kind: plainCalc, num: "social_clicks", den: "impressions_organic", scale: 100}},
	{Definition{ID: "social_ctr_ads", Name: "Social CTR (ads)", Section: "funnel", Unit: Percent, Direction: HigherIsBetter,
		Formula: "paid social clicks ÷ paid impressions × 100 (paid: a paid utm medium or an ad click id); rated per platform"},
		plain("social_clicks_paid", "impressions_paid", 100)},
	{Definition{ID: "social_traffic", Name: "Social traffic", Section: "funnel", Unit: Count, Direction: HigherIsBetter,
		Formula: "site sessions from social platforms (by source or medium); group by source and utm_campaign"}, plain("social_visits", "", 1)},
	{Definition{ID: "leads", Name: "Leads", Section: "funnel", Unit: Count, Direction: HigherIsBetter,
		Formula: "lead_created events"}, plain("leads", "", 1)},
	{Definition{ID: "lead_rate", Name: "Lead rate", Section: "funnel", Unit: Percent, Direction: HigherIsBetter,
		Formula: "leads ÷ site sessions × 100", Band: &Band{Low: f(3.8), Source: "pop-up lead capture 3.8 %"}}, plain("leads", "visits", 100)},
	{Definition{ID: "sessions_before_purchase", Name: "Sessions before purchase", Section: "funnel", Unit: Count,
		Formula: "site sessions of each buyer in the lookback window (30 days) before their first order of the period ÷ buyers"},
		plain("sessions_before", "buyers", 1)},
	{Definition{ID: "time_on_site", Name: "Time on site", Section: "funnel", Unit: Seconds, Direction: HigherIsBetter,
		Formula: "session duration ÷ sessions"}, plain("visit_ms", "visits", 0.001)},
	{Definition{ID: "time_per_page", Name: "Time per page", Section: "funnel", Unit: Seconds, Direction: HigherIsBetter,
		Formula: "session duration ÷ pages viewed in sessions (props.pages)"}, plain("visit_ms", "visit_pages", 0.001)},
	{Definition{ID: "recommended_product_conversion", Name: "Recommended-product conversion", Section: "funnel", Unit: Percent, Direction: HigherIsBetter,
		Formula: "product recommendations followed by an order of that product by that customer within the conversion window (7 days) ÷ recommendations × 100"},
		plain("recommended_bought", "recommended", 100)},
	{Definition{ID: "transactions", Name: "Transactions", Section: "funnel", Unit: Count, Direction: HigherIsBetter,
		Formula: "orders placed in the period"}, plain("orders", "", 1)},
	{Definition{ID: "transactions_last_year", Name: "Transactions, same period last year", Section: "funnel", Unit: Count,
		Formula: "orders placed in the same dates a year earlier"}, plain("transactions_ly", "", 1)},
	{Definition{ID: "transactions_yoy", Name: "Transactions year over year", Section: "funnel", Unit: Percent, Direction: HigherIsBetter,
		Formula: "(transactions − same period last year) ÷ same period last year × 100"}, calc{kind: changeCalc, num: "orders", den: "transactions_ly", scale: 100}},
	{Definition{ID: "ecommerce_conversion_rate", Name: "E-commerce conversion rate", Section: "funnel", Unit: Percent, Direction: HigherIsBetter,
		Formula: "site sessions in which the visitor placed an order (between the session's start and its end) ÷ sessions × 100",
		Band:    &Band{Low: f(2), High: f(3), Source: "e-commerce conversion 2–3 %"}}, plain("purchasing_sessions", "visits", 100)},
	{Definition{ID: "cross_channel_conversion_rate", Name: "Cross-channel conversion rate", Section: "funnel", Unit: Percent,
		Formula: "orders whose touchpoints in the lookback window span two or more channels ÷ orders with any touchpoint × 100"},
		plain("cross_channel_orders", "touched_orders", 100)},
	{Definition{ID: "cart_abandonment_rate", Name: "Cart abandonment rate", Section: "funnel", Unit: Percent, Direction: LowerIsBetter,
		Formula: "carts abandoned ÷ checkouts started × 100"}, plain("carts_abandoned", "checkouts", 100)},
	{Definition{ID: "referrals", Name: "Referrals", Section: "funnel", Unit: Count, Direction: HigherIsBetter,
		Formula: "referral events: purchases and sign-ups by word of mouth"}, plain("referrals", "", 1)},
	{Definition{ID: "promoters", Name: "Promoters", Section: "funnel", Unit: Count, Direction: HigherIsBetter,
		Formula: "NPS answers of 9 or 10"}, plain("nps_promoters", "", 1)},
	{Definition{ID: "ugc_shared", Name: "UGC shared", Section: "funnel", Unit: Count, Direction: HigherIsBetter,
		Formula: "user-generated content shared (sum of counts)"}, plain("ugc", "", 1)},
}

// channelBands are the catalogue's per-platform bands: a KPI grouped or
// filtered by one channel is rated against that channel's band.
var channelBands = map[string]map[string]*Band{
	"social_engagement_rate": {
		"facebook":  {Low: f(0.06), Source: "Facebook 0.06 % per post"},
		"instagram": {Low: f(0.47), Source: "Instagram 0.47 % per post"},
		"tiktok":    {Low: f(5.69), Source: "TikTok 5.69 % per post"},
		"x":         {Low: f(0.035), Source: "X 0.035 % per post"},
	},
	"social_ctr": {
		"instagram": {Low: f(18), Source: "Instagram 18 % organic"},
		"tiktok":    {Low: f(14), Source: "TikTok 14 % organic"},
	},
	"social_ctr_ads": {
		"instagram": {Low: f(18), Source: "Instagram 18 % ads"},
		"tiktok":    {Low: f(2.3), Source: "TikTok 2.3 % ads"},
		"facebook":  {Low: f(9), Source: "Facebook 9 % ads"},
	},
}

// timeKPIs are a duration's three KPIs: the mean under id, the median and
// the 90th percentile under id_median and id_p90.
func timeKPIs(id, name, samples, formula string, band *Band) []entry {
	def := func(suffix, what string, which float64, band *Band) entry {
		return entry{Definition{ID: id + suffix, Name: name + " (" + what + ")", Section: "service", Unit: Seconds,
			Direction: LowerIsBetter, Formula: formula + "; " + what, Band: band}, stat(samples, which)}
	}
	return []entry{def("", "mean", statMean, band), def("_median", "median", statMedian, band), def("_p90", "p90", statP90, nil)}
}

// insertBefore inserts groups of entries before the entry with id before.
func insertBefore(entries []entry, before string, groups ...[]entry) []entry {
	var out []entry
	for _, e := range entries {
		if e.ID == before {
			for _, g := range groups {
				out = append(out, g...)
			}
		}
		out = append(out, e)
	}
	return out
}

// frtBand is the catalogue's target for first response time: 6–15 s.
var frtBand = &Band{Low: f(6), High: f(15), Source: "target 6–15 s"}

// humanFrtBand is the band of a person's first response. The sources give
// 6–15 s for any first reply, a pace only a bot keeps, and no target for
// people; 1–5 min is omnikpi's default, which a workspace overrides under
// the id first_human_response_time.
var humanFrtBand = &Band{Low: f(60), High: f(300),
	Source: "default 1–5 min for a person's first reply (the sources give none; a workspace can override it)"}

// humanBands names, for a KPI measured on everyone's replies, the KPI whose
// band rates it in a row about one person: an agent's first response time
// is rated against people's band, not against a bot's 6–15 s.
var humanBands = map[string]string{
	"first_response_time":        "first_human_response_time",
	"first_response_time_median": "first_human_response_time_median",
}

func frtBucketLabels() []string {
	out := make([]string, len(frtBuckets))
	for i, b := range frtBuckets {
		out[i] = b.label
	}
	return out
}

type entry struct {
	Definition
	calc calc
}

var byID = func() map[string]entry {
	m := make(map[string]entry, len(catalogue))
	for _, e := range catalogue {
		m[e.ID] = e
	}
	return m
}()

// Headline are the KPIs of the dashboard's overview, in its order: the
// page asks for them as the catalogue lists them here, and the server
// keeps their answers for the default period warm.
var Headline = []string{
	"messages_sent", "delivery_rate", "open_rate", "ctr", "campaign_conversion_rate", "opt_out_rate",
	"gross_revenue", "aov", "rocs", "rpc",
	"conversations", "first_response_time", "resolution_time", "csat", "nps",
	"ecommerce_conversion_rate", "cart_abandonment_rate", "lead_rate",
}

// Catalogue returns every KPI definition, in the catalogue's order.
func Catalogue() []Definition {
	out := make([]Definition, len(catalogue))
	for i, e := range catalogue {
		out[i] = e.Definition
	}
	return out
}
