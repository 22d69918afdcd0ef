-- Message delivery and engagement (KPIS.md §1) over message_facts: one row
-- per message, so count(CASE …) counts distinct messages. A message belongs
-- to the period of its send time (its message_sent, else its first event).

-- The engagement counts (suffix _e, and the receipted ones _r, _rd) keep
-- to the messages the engagement rates count: campaign messages, unless
-- the request looks at classes (KPIS.md §1).
-- Receipts that name no message (Messenger's watermarks, its postbacks and
-- quick replies) count for the messages they cover (see receipts.go).
-- name: messages
SELECT {{.Group "m" "coalesce(m.sent_ms, m.first_ms)"}}
    count(CASE WHEN m.outbound_ms IS NOT NULL THEN 1 END) AS sent,
    count(CASE WHEN m.outbound_ms IS NOT NULL AND m.delivered_ms IS NOT NULL THEN 1 END) AS delivered,
    count(CASE WHEN m.outbound_ms IS NOT NULL AND m.read_ms IS NOT NULL THEN 1 END) AS read_n,
    count(CASE WHEN m.failed_ms IS NOT NULL AND m.delivered_ms IS NULL THEN 1 END) AS failed,
    count(CASE WHEN m.received_ms IS NOT NULL THEN 1 END) AS received,
    count(CASE WHEN m.outbound_ms IS NOT NULL AND {{.Engaged "m"}} THEN 1 END) AS sent_e,
    count(CASE WHEN m.outbound_ms IS NOT NULL AND m.delivered_ms IS NOT NULL AND {{.Engaged "m"}} THEN 1 END) AS delivered_e,
    count(CASE WHEN m.clicked_ms IS NOT NULL AND {{.Engaged "m"}} THEN 1 END) AS clicked_e,
    count(CASE WHEN m.outbound_ms IS NOT NULL AND {{.Engaged "m"}} AND {{.ReportsReads "m"}} THEN 1 END) AS sent_r,
    count(CASE WHEN m.read_ms IS NOT NULL AND m.outbound_ms IS NOT NULL AND {{.Engaged "m"}} AND {{.ReportsReads "m"}} THEN 1 END) AS read_r,
    count(CASE WHEN m.outbound_ms IS NOT NULL AND {{.ReportsDeliveries "m"}} THEN 1 END) AS sent_d,
    count(CASE WHEN m.delivered_ms IS NOT NULL AND m.outbound_ms IS NOT NULL AND {{.ReportsDeliveries "m"}} THEN 1 END) AS delivered_d,
    count(CASE WHEN m.delivered_ms IS NOT NULL AND m.outbound_ms IS NOT NULL AND {{.Engaged "m"}} AND {{.ReportsReads "m"}} AND {{.ReportsDeliveries "m"}} THEN 1 END) AS delivered_rd,
    count(CASE WHEN m.read_ms IS NOT NULL AND m.outbound_ms IS NOT NULL AND {{.Engaged "m"}} AND {{.ReportsReads "m"}} AND {{.ReportsDeliveries "m"}} THEN 1 END) AS read_rd,
    count(DISTINCT CASE WHEN m.outbound_ms IS NOT NULL THEN m.customer END) AS recipients,
    count(DISTINCT CASE WHEN m.outbound_ms IS NOT NULL AND {{.Engaged "m"}} THEN m.customer END) AS recipients_e
FROM {{.MessageFacts "m" .FromMS}}
WHERE m.workspace = {{.Arg .Workspace}}
  AND coalesce(m.sent_ms, m.first_ms) >= {{.Arg .FromMS}} AND coalesce(m.sent_ms, m.first_ms) < {{.Arg .ToMS}}
  {{.Filter "m"}}
{{.GroupBy}}

-- A reply is an inbound message of the same customer on the same channel
-- within the reply window after the send.
--
-- The joins keep to what ClickHouse 18.16 gets right: one JOIN per SELECT;
-- every alias unique in the whole query (18.16 resolves a qualified name
-- inside a joined subquery against the outer query's aliases); no alias
-- equal to a column name; the sides of a JOIN sharing no column name; no
-- use of the right side's join key after the JOIN (18.16 leaves that column
-- unfilled: use the left side's); and no WHERE after a JOIN that names only
-- its left side (the left side is a subquery already restricted instead). The smaller relation goes on the
-- right of a JOIN, where ClickHouse builds its hash table.
{{define "replied_to"}}FROM {{.Facts "message_facts" "o"}}
JOIN (
    SELECT i.customer AS in_customer, i.channel AS in_channel, i.received_ms AS in_ms
    FROM {{.Facts "message_facts" "i"}}
    WHERE i.workspace = {{.Arg .Workspace}} AND i.received_ms IS NOT NULL
      AND i.received_ms > {{.Arg .FromMS}} AND i.received_ms <= {{.Arg .ToMS}} + {{.Arg .Win.Reply}}
) r ON r.in_customer = o.customer AND r.in_channel = o.channel
WHERE o.workspace = {{.Arg .Workspace}} AND o.outbound_ms IS NOT NULL AND {{.Engaged "o"}}
  AND coalesce(o.sent_ms, o.first_ms) >= {{.Arg .FromMS}} AND coalesce(o.sent_ms, o.first_ms) < {{.Arg .ToMS}}
  AND r.in_ms > coalesce(o.sent_ms, o.first_ms)
  AND r.in_ms <= coalesce(o.sent_ms, o.first_ms) + {{.Arg .Win.Reply}}
  {{.Filter "o"}}{{end}}
-- name: replies
SELECT {{.Group "o" "coalesce(o.sent_ms, o.first_ms)"}}
    count(DISTINCT o.message) AS replied
{{template "replied_to" .}}
{{.GroupBy}}

-- The first reply to each of the period's matching messages, for the
-- recipients drill-down: the customer's first message on its channel
-- within the reply window after it, as response_rate counts them.
-- name: recipient-replies
SELECT o.message AS rr_message, min(r.in_ms) AS rr_ms
{{template "replied_to" .}}
GROUP BY o.message

-- The campaign messages of each local hour of the week of sending that
-- the customer answered within the reply window, as replies counts them,
-- for the send-time view's reply rate.
-- name: send-time-replied
SELECT o.channel AS how_channel, {{.HourOfWeek "coalesce(o.sent_ms, o.first_ms)"}} AS how, count(DISTINCT o.message) AS how_replied
{{template "replied_to" .}}
GROUP BY how_channel, how

-- Outbound messages to a known customer, with their send time st: those
-- sent in the period and filtered by the request (.InPeriod), or those that
-- may win an attribution for the period (.With a window). The latest
-- message wins, so one sent before the period can never beat one inside
-- it, but one sent after the period can take the credit from it. The
-- period's messages are those the engagement rates count; only campaign
-- messages compete for a conversion or an opt-out, so an agent's reply
-- never takes one from the campaign before it. The body names no alias, so
-- it can stand on both sides of one query.
{{define "outbound"}}(
    SELECT *, coalesce(sent_ms, first_ms) AS st
    FROM {{.Facts "message_facts" ""}}
    WHERE workspace = {{.Arg .Workspace}} AND outbound_ms IS NOT NULL AND customer IS NOT NULL
      AND coalesce(sent_ms, first_ms) >= {{.Arg .FromMS}}
      AND coalesce(sent_ms, first_ms) < {{.Arg .ToMS}} + {{.Arg .Window}}
      {{.Extra}} AND {{.OutboundClass ""}}{{.FilterIfInPeriod ""}}
){{end}}

-- Conversions: orders and goals. Each goes to the customer's latest
-- campaign message within the conversion window before it, and carries
-- its amount along.
{{define "conversions"}}(
    SELECT concat('o:', ord.order_id) AS cid, ord.customer AS c_customer, ord.placed_ms AS c_ts, ord.amount AS c_amount, ord.currency AS c_currency
    FROM {{.Facts "order_facts" "ord"}}
    WHERE ord.workspace = {{.Arg .Workspace}} AND ord.placed_ms IS NOT NULL AND ord.customer IS NOT NULL
      AND ord.placed_ms >= {{.Arg .FromMS}} - {{.Arg .Win.Conversion}} AND ord.placed_ms < {{.Arg .ToMS}} + {{.Arg .Win.Conversion}}
    UNION ALL
    SELECT concat('g:', goal.id) AS cid, goal.customer AS c_customer, goal.ts AS c_ts, NULL AS c_amount, NULL AS c_currency
    FROM {{.Events "goal"}}
    WHERE goal.workspace = {{.Arg .Workspace}} AND goal.kind = 'goal_reached' AND goal.customer IS NOT NULL
      AND goal.ts >= {{.Arg .FromMS}} - {{.Arg .Win.Conversion}} AND goal.ts < {{.Arg .ToMS}} + {{.Arg .Win.Conversion}}
){{end}}

{{define "campaign_wins"}}(
    SELECT cv.cid AS cid, {{.Latest "cm.message" "cm.st"}} AS win_message,
        max(cv.c_amount) AS win_amount, max(cv.c_currency) AS win_currency
    FROM {{template "outbound" (.With .Win.Conversion "AND campaign IS NOT NULL")}} cm
    JOIN {{template "conversions" .}} cv ON cv.c_customer = cm.customer
    WHERE cm.st <= cv.c_ts AND cm.st > cv.c_ts - {{.Arg .Win.Conversion}}
    GROUP BY cv.cid
){{end}}

-- name: campaign-conversions
SELECT {{.Group "m" "m.st"}}
    count(DISTINCT m.message) AS converted
FROM {{template "outbound" (.InPeriod "AND campaign IS NOT NULL")}} m{{.MessageRows "m"}}
JOIN {{template "campaign_wins" .}} w ON w.win_message = m.message
{{.GroupBy}}

-- name: campaign-revenue
SELECT {{.Group "m" "m.st"}}
    w.win_currency AS currency, sum(w.win_amount) AS campaign_revenue
FROM {{template "outbound" (.InPeriod "AND campaign IS NOT NULL")}} m{{.MessageRows "m"}}
JOIN {{template "campaign_wins" .}} w ON w.win_message = m.message
WHERE w.win_amount IS NOT NULL
{{.GroupBy "currency"}}

-- An opt-out counts against the customer's latest outbound message within
-- the opt-out window before it (on the opt-out's channel when it names one).
-- name: opt-outs
SELECT {{.Group "m" "m.st"}}
    count(DISTINCT m.customer) AS opted_out
FROM {{template "outbound" (.InPeriod "")}} m{{.MessageRows "m"}}
JOIN (
    SELECT x.oid AS oid, {{.Latest "om.message" "om.st"}} AS win_message
    FROM {{template "outbound" (.With .Win.OptOut "")}} om
    JOIN (
        SELECT oe.id AS oid, oe.customer AS opt_customer, oe.channel AS opt_channel, oe.ts AS opt_ts
        FROM {{.Events "oe"}}
        WHERE oe.workspace = {{.Arg .Workspace}} AND oe.kind = 'opted_out' AND oe.customer IS NOT NULL
          AND oe.ts >= {{.Arg .FromMS}} AND oe.ts < {{.Arg .ToMS}} + {{.Arg .Win.OptOut}}
    ) x ON x.opt_customer = om.customer
    WHERE (x.opt_channel IS NULL OR om.channel = x.opt_channel)
      AND om.st <= x.opt_ts AND om.st > x.opt_ts - {{.Arg .Win.OptOut}}
    GROUP BY x.oid
) w ON w.win_message = m.message
{{.GroupBy}}

-- Every A/B test of the workspace, whatever the period: the campaign
-- messages of each campaign (or, without one, template) by variant, with
-- the first and last send.
-- name: ab-tests
SELECT m.campaign AS ab_campaign, m.template AS ab_template, m.variant AS ab_variant,
    min(coalesce(m.sent_ms, m.first_ms)) AS ab_first, max(coalesce(m.sent_ms, m.first_ms)) AS ab_last, count(*) AS ab_sent
FROM {{.Facts "message_facts" "m"}}
WHERE m.workspace = {{.Arg .Workspace}} AND m.outbound_ms IS NOT NULL
  AND m.variant IS NOT NULL AND m.variant <> '' AND (m.campaign IS NOT NULL OR m.template IS NOT NULL)
GROUP BY ab_campaign, ab_template, ab_variant
