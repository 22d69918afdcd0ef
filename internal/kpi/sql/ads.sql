-- Clicks per button and link, and click-to-WhatsApp ads (see ads.go): the
-- engine counts and attributes in Go.

-- The period's clicks, each event once, with what the click names: a
-- button's title and payload, a link's URL.
-- name: click-events
SELECT e.id AS c_id, e.kind AS c_kind, e.message AS c_message, e.customer AS c_customer,
    e.channel AS c_channel, e.campaign AS c_campaign, e.template AS c_template, e.variant AS c_variant,
    nullIf({{.Prop "e" "title"}}, '') AS c_title, nullIf({{.Prop "e" "payload"}}, '') AS c_payload,
    coalesce(nullIf({{.Prop "e" "url"}}, ''), nullIf({{.Prop "e" "page_url"}}, ''),
             nullIf({{.Prop "e" "landing_url"}}, ''), nullIf({{.Prop "e" "link"}}, '')) AS c_url
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.kind IN ({{.ClickKinds}})
  AND e.ts >= {{.Arg .FromMS}} AND e.ts < {{.Arg .ToMS}}

-- The messages the period's clicks name, with the dimensions a click
-- inherits from its message (KPIS.md §7). The clicks are read as stored:
-- a copy not yet collapsed names the same message.
-- name: clicked-messages
SELECT m.message AS cm_message, m.customer AS cm_customer, m.channel AS cm_channel,
    m.campaign AS cm_campaign, m.template AS cm_template, m.variant AS cm_variant
FROM {{.Facts "message_facts" "m"}}
WHERE m.workspace = {{.Arg .Workspace}} AND m.clicked_ms IS NOT NULL AND m.clicked_ms < {{.Arg .ToMS}}
  AND m.message IN (
    SELECT ce.message FROM events AS ce
    WHERE ce.workspace = {{.Arg .Workspace}} AND ce.kind IN ({{.ClickKinds}}) AND ce.message IS NOT NULL
      AND ce.ts >= {{.Arg .FromMS}} AND ce.ts < {{.Arg .ToMS}})

-- Click-to-WhatsApp referrals (the leads the WhatsApp webhook derives from
-- a message's referral) from the span's start to the period's end, with
-- their props, which hold the ad: the engine reads them as JSON, since the
-- referral nests its fields.
-- name: ad-referrals
SELECT e.id AS ar_id, e.customer AS ar_customer, e.ts AS ar_ts, e.channel AS ar_channel, e.source AS ar_source,
    e.props AS ar_props
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.kind = 'lead_created' AND e.medium = 'click_to_whatsapp'
  AND e.customer IS NOT NULL
  AND e.ts >= {{.Arg .SpanFromMS}} AND e.ts < {{.Arg .ToMS}}

-- The period's outbound messages of the free-entry-point pricing type, by
-- send time.
-- name: ad-free-messages
SELECT m.message AS af_message, m.customer AS af_customer, m.channel AS af_channel,
    coalesce(m.sent_ms, m.first_ms) AS af_ts
FROM {{.Facts "message_facts" "m"}}
WHERE m.workspace = {{.Arg .Workspace}} AND m.pricing_type = 'free_entry_point'
  AND m.customer IS NOT NULL AND m.outbound_ms IS NOT NULL
  AND coalesce(m.sent_ms, m.first_ms) >= {{.Arg .FromMS}} AND coalesce(m.sent_ms, m.first_ms) < {{.Arg .ToMS}}

-- The period's conversation sessions of known customers, by start: one
-- that starts with a referral was started by its ad.
-- name: ad-sessions
SELECT s.customer AS as_customer, s.channel AS as_channel, s.start_ms AS as_start
FROM {{.Facts "session_facts" "s"}}
WHERE s.workspace = {{.Arg .Workspace}} AND s.counted = 1 AND s.customer IS NOT NULL
  AND s.start_ms >= {{.Arg .FromMS}} AND s.start_ms < {{.Arg .ToMS}}
