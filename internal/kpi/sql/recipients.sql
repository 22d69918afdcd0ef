-- Drill-down from a campaign or template to its recipients: one row per
-- outbound message sent in the period and matching the filters, with the
-- times of its statuses (a watermark or a click naming no message gives
-- them too). The failure reasons come from the raw message_failed events,
-- read apart and matched by message in Go (a JOIN here would need a LEFT
-- JOIN that ClickHouse 18.16 fills with defaults).

-- name: recipients
SELECT m.message AS r_message, m.customer AS r_customer, m.channel AS r_channel,
    m.campaign AS r_campaign, m.template AS r_template, m.variant AS r_variant,
    coalesce(m.sent_ms, m.first_ms) AS r_sent, m.delivered_ms AS r_delivered, m.read_ms AS r_read,
    m.clicked_ms AS r_clicked, m.failed_ms AS r_failed
FROM {{.MessageFacts "m" .FromMS}}
WHERE m.workspace = {{.Arg .Workspace}} AND m.outbound_ms IS NOT NULL
  AND coalesce(m.sent_ms, m.first_ms) >= {{.Arg .FromMS}} AND coalesce(m.sent_ms, m.first_ms) < {{.Arg .ToMS}}
  {{.Filter "m"}}
ORDER BY r_sent, r_message

-- A message fails after it is sent: its failure is looked for up to the
-- conversion window past the period.
-- name: failures
SELECT f.message AS f_message, min(f.ts) AS f_ts,
    min(coalesce({{.Prop "f" "error_code"}}, '')) AS f_code, min(coalesce({{.Prop "f" "error_title"}}, '')) AS f_title
FROM {{.Events "f"}}
WHERE f.workspace = {{.Arg .Workspace}} AND f.kind = 'message_failed' AND f.message IS NOT NULL
  AND f.ts >= {{.Arg .FromMS}} AND f.ts < {{.Arg .ToMS}} + {{.Arg .Win.Conversion}}
GROUP BY f.message
