-- The omnichannel and social-commerce funnel (KPIS.md §4): awareness,
-- engagement, conversion and advocacy counted from raw events of the period.

-- name: funnel
SELECT {{.Group "e" "e.ts"}}
    sum(CASE WHEN e.kind = 'impression' THEN e.count ELSE 0 END) AS impressions,
    sum(CASE WHEN e.kind = 'impression' AND {{.Paid "e"}} THEN e.count ELSE 0 END) AS impressions_paid,
    sum(CASE WHEN e.kind = 'impression' AND NOT {{.Paid "e"}} THEN e.count ELSE 0 END) AS impressions_organic,
    sum(CASE WHEN e.kind = 'reach' THEN e.count ELSE 0 END) AS reach,
    count(CASE WHEN e.kind = 'site_session' THEN 1 END) AS visits,
    count(CASE WHEN e.kind = 'site_session' THEN e.customer END) AS visits_known,
    count(DISTINCT CASE WHEN e.kind = 'site_session' THEN e.customer END) AS visitors_known,
    sum(CASE WHEN e.kind = 'site_session' THEN e.duration_ms ELSE 0 END) AS visit_ms,
    sum(CASE WHEN e.kind = 'site_session' THEN {{.PropNumber "e" "pages"}} ELSE 0 END) AS visit_pages,
    count(CASE WHEN e.kind = 'site_session' AND (e.source IN ({{.SocialSources}}) OR e.medium IN ('social', 'paid_social', 'paidsocial')) THEN 1 END) AS social_visits,
    sum(CASE WHEN e.kind = 'follow' THEN e.count ELSE 0 END) AS follows,
    sum(CASE WHEN e.kind = 'unfollow' THEN e.count ELSE 0 END) AS unfollows,
    sum(CASE WHEN e.kind = 'social_interaction' THEN e.count ELSE 0 END) AS interactions,
    sum(CASE WHEN e.kind = 'social_interaction' AND {{.Prop "e" "type"}} = 'click' AND NOT {{.Paid "e"}} THEN e.count ELSE 0 END) AS social_clicks,
    sum(CASE WHEN e.kind = 'social_interaction' AND {{.Prop "e" "type"}} = 'click' AND {{.Paid "e"}} THEN e.count ELSE 0 END) AS social_clicks_paid,
    count(CASE WHEN e.kind = 'checkout_started' THEN 1 END) AS checkouts,
    count(CASE WHEN e.kind = 'cart_abandoned' THEN 1 END) AS carts_abandoned,
    count(CASE WHEN e.kind = 'referral' THEN 1 END) AS referrals,
    sum(CASE WHEN e.kind = 'ugc_shared' THEN e.count ELSE 0 END) AS ugc
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}}
  AND e.kind IN ('impression', 'reach', 'site_session', 'follow', 'unfollow', 'social_interaction',
                 'checkout_started', 'cart_abandoned', 'referral', 'ugc_shared')
  AND e.ts >= {{.Arg .FromMS}} AND e.ts < {{.Arg .ToMS}}
  {{.Filter "e"}}
{{.GroupBy}}

-- Orders of the same period a year earlier, for transactions year over year.
-- name: orders-last-year
SELECT {{.Group "o" "o.placed_ms"}}
    count(*) AS transactions_ly
FROM {{.Facts "order_facts" "o"}}
WHERE o.workspace = {{.Arg .Workspace}} AND o.placed_ms IS NOT NULL
  AND o.placed_ms >= {{.Arg .LastYearFromMS}} AND o.placed_ms < {{.Arg .LastYearToMS}}
  {{.Filter "o"}}
{{.GroupBy}}

-- Touchpoints and conversions around the period, for attribution and
-- journeys: the engine walks each customer's events in Go. Messages are
-- not among them: message-touches gives them, one per message.
-- name: touch-events
SELECT e.id AS t_id, e.customer AS t_customer, e.ts AS t_ts, e.kind AS t_kind, e.channel AS t_channel,
    coalesce(e.campaign, e.utm_campaign) AS t_campaign, e.source AS t_source, e.medium AS t_medium,
    e.duration_ms AS t_duration, e.product AS t_product
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.customer IS NOT NULL
  AND e.kind IN ({{.TouchKinds}})
  AND e.ts >= {{.Arg .SpanFromMS}} AND e.ts < {{.Arg .SpanToMS}}

-- Chat touchpoints around the period, one row per message (KPIS.md §7:
-- by message id, never by event) with the customer, channel and campaign
-- of the message, whichever of its events named them: campaign messages
-- read or clicked (by a receipt naming no message too), and inbound
-- messages.
-- name: message-touches
SELECT m.message AS t_message, m.customer AS t_customer, m.read_ms AS t_read, m.clicked_ms AS t_clicked,
    m.received_ms AS t_received, m.channel AS t_channel, m.campaign AS t_campaign
FROM {{.MessageFacts "m" 0}}
WHERE m.workspace = {{.Arg .Workspace}} AND m.customer IS NOT NULL
  AND ((m.campaign IS NOT NULL AND m.read_ms IS NOT NULL AND m.read_ms < {{.Arg .SpanToMS}}
        AND coalesce(m.clicked_ms, m.read_ms) >= {{.Arg .SpanFromMS}})
    OR (m.received_ms IS NOT NULL AND m.received_ms >= {{.Arg .SpanFromMS}} AND m.received_ms < {{.Arg .SpanToMS}}))

-- Orders of the period with their amounts: the conversions to attribute,
-- those that name no customer too (they have no touchpoint, but count in
-- the revenue every model adds up to).
-- name: attributed-orders
SELECT o.order_id AS a_order, o.customer AS a_customer, o.placed_ms AS a_ts, o.amount AS a_amount, o.currency AS a_currency
FROM {{.Facts "order_facts" "o"}}
WHERE o.workspace = {{.Arg .Workspace}} AND o.amount IS NOT NULL
  AND o.placed_ms >= {{.Arg .FromMS}} AND o.placed_ms < {{.Arg .ToMS}}
  {{.Filter "o"}}

-- The events of an ordered funnel's steps other than message kinds, from
-- the period's start to the latest time its last step may come.
-- name: funnel-steps
SELECT e.id AS f_id, e.customer AS f_customer, e.ts AS f_ts, e.kind AS f_kind
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.customer IS NOT NULL
  AND e.kind IN ({{.EventStepKinds}})
  AND e.ts >= {{.Arg .FromMS}} AND e.ts < {{.Arg .SpanToMS}}
  {{.Filter "e"}}

-- The message steps of an ordered funnel, counted by message (KPIS.md §7):
-- a message reaches a step's kind at its earliest event of that kind (a
-- receipt naming no message counting as one of each message it covers),
-- kept when that falls from the period's start to the latest time its last
-- step may come, and counts for the customer of the message, filtered by
-- the message's dimensions (statuses often name only the message). The
-- joins keep to what ClickHouse 18.16 gets right (see sql/messages.sql).
-- name: funnel-message-steps
SELECT sm.message AS f_id, sm.customer AS f_customer, sk.sk_ts AS f_ts, sk.sk_kind AS f_kind
FROM (
    SELECT message, customer
    FROM {{.Facts "message_facts" ""}}
    WHERE workspace = {{.Arg .Workspace}} AND customer IS NOT NULL AND first_ms < {{.Arg .SpanToMS}}
      {{.Filter ""}}
) sm
JOIN (
    SELECT su.su_message AS sk_message, su.su_kind AS sk_kind, min(su.su_ts) AS sk_ts
    FROM (
        SELECT se.message AS su_message, se.kind AS su_kind, se.ts AS su_ts
        FROM {{.Events "se"}}
        WHERE se.workspace = {{.Arg .Workspace}} AND se.message IS NOT NULL
          AND se.kind IN ({{.MessageStepKinds}}) AND se.ts < {{.Arg .SpanToMS}}
        UNION ALL
        {{.DerivedStatuses "su"}}
    ) su
    WHERE su.su_kind IN ({{.MessageStepKinds}}) AND su.su_ts < {{.Arg .SpanToMS}}
    GROUP BY su.su_message, su.su_kind
    HAVING min(su.su_ts) >= {{.Arg .FromMS}}
) sk ON sk.sk_message = sm.message
