-- Reconciliation with Meta: Meta's own figures for the period (channel
-- events of props.type meta_pricing_analytics and meta_template_analytics,
-- one per data point of its answers), which the engine sets beside
-- omnikpi's.
-- name: meta-analytics
SELECT e.id AS ma_id, e.ts AS ma_ts, e.template AS ma_template, e.props AS ma_props
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.kind = 'channel_event' AND e.channel = 'whatsapp'
  AND {{.Prop "e" "type"}} IN ('meta_pricing_analytics', 'meta_template_analytics')
  AND e.ts >= {{.Arg .FromMS}} AND e.ts < {{.Arg .ToMS}}

-- The period's WhatsApp template messages by template and the UTC days
-- they were sent, delivered, read and clicked, as Meta's template
-- analytics count them: each on the day of its own status.
-- name: template-days
SELECT m.template AS td_template,
    floor(m.outbound_ms / 86400000) AS td_sent,
    floor(m.delivered_ms / 86400000) AS td_delivered,
    floor(m.read_ms / 86400000) AS td_read,
    floor(m.clicked_ms / 86400000) AS td_clicked,
    count(*) AS td_n
FROM {{.Facts "message_facts" "m"}}
WHERE m.workspace = {{.Arg .Workspace}} AND m.channel = 'whatsapp' AND m.template IS NOT NULL
  AND m.outbound_ms < {{.Arg .ToMS}}
  AND (m.outbound_ms >= {{.Arg .FromMS}} OR m.delivered_ms >= {{.Arg .FromMS}} OR m.read_ms >= {{.Arg .FromMS}} OR m.clicked_ms >= {{.Arg .FromMS}})
GROUP BY m.template, floor(m.outbound_ms / 86400000), floor(m.delivered_ms / 86400000), floor(m.read_ms / 86400000), floor(m.clicked_ms / 86400000)
