-- WhatsApp account health: the account-health webhooks (channel_events
-- whose props.type names the field, see internal/ingest/whatsapp/health.go)
-- and the failures that Meta's frequency caps cause.

-- The period's health events that a built-in alert rule watches, each
-- event once (a re-sent webhook has the same id).
-- name: account-health
SELECT {{.Group "e" "e.ts"}}
    count(DISTINCT CASE WHEN {{.Prop "e" "health_signal"}} = 'quality_drop' THEN e.id END) AS quality_drops_n,
    count(DISTINCT CASE WHEN {{.Prop "e" "health_signal"}} IN ('template_paused', 'template_disabled', 'template_recategorised') THEN e.id END) AS template_setbacks_n,
    count(DISTINCT CASE WHEN {{.Prop "e" "health_signal"}} = 'limit_changed' THEN e.id END) AS limit_changes_n
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.kind = 'channel_event'
  AND e.ts >= {{.Arg .FromMS}} AND e.ts < {{.Arg .ToMS}}
  {{.Filter "e"}}
{{.GroupBy}}

-- Campaign messages of the period that failed, never delivered, with
-- error 131049 (the per-user limit of marketing messages) or 131048 (the
-- spam rate limit). A failure is looked for up to the conversion window
-- past the period, as the failures view does. error_code is text from the
-- webhook and may be a number from the event API: both are matched.
-- name: frequency-capped
SELECT {{.Group "m" "m.st"}}
    count(DISTINCT m.message) AS capped_e
FROM (
    SELECT *, coalesce(sent_ms, first_ms) AS st
    FROM {{.Facts "message_facts" ""}}
    WHERE workspace = {{.Arg .Workspace}} AND outbound_ms IS NOT NULL AND delivered_ms IS NULL
      AND coalesce(sent_ms, first_ms) >= {{.Arg .FromMS}} AND coalesce(sent_ms, first_ms) < {{.Arg .ToMS}}
      AND {{.Engaged ""}}{{.Filter ""}}
) m{{.MessageRows "m"}}
JOIN (
    SELECT fc.message AS fc_message
    FROM {{.Events "fc"}}
    WHERE fc.workspace = {{.Arg .Workspace}} AND fc.kind = 'message_failed' AND fc.message IS NOT NULL
      AND ({{.Prop "fc" "error_code"}} IN ('131049', '131048') OR {{.PropNumber "fc" "error_code"}} IN (131049, 131048))
      AND fc.ts >= {{.Arg .FromMS}} AND fc.ts < {{.Arg .ToMS}} + {{.Arg .Win.Conversion}}
    GROUP BY fc.message
) f ON f.fc_message = m.message
{{.GroupBy}}

-- Every health event up to the period's end, oldest first: the engine
-- keeps each number's and template's latest state and lists the period's
-- changes. Ties in time go by id, so arrival order changes nothing.
-- name: health-events
SELECT h.id AS h_id, h.ts AS h_ts, {{.Prop "h" "type"}} AS h_type, {{.Prop "h" "event"}} AS h_event,
    {{.Prop "h" "display_phone_number"}} AS h_phone, {{.Prop "h" "current_limit"}} AS h_limit,
    {{.Prop "h" "old_limit"}} AS h_old_limit, {{.Prop "h" "max_daily_conversations_per_business"}} AS h_max_daily,
    {{.Prop "h" "message_template_id"}} AS h_template_id, {{.Prop "h" "message_template_name"}} AS h_template,
    {{.Prop "h" "message_template_language"}} AS h_language, {{.Prop "h" "reason"}} AS h_reason,
    {{.Prop "h" "message_template_category"}} AS h_category, {{.Prop "h" "previous_quality_score"}} AS h_prev_quality,
    {{.Prop "h" "new_quality_score"}} AS h_quality, {{.Prop "h" "previous_category"}} AS h_prev_category,
    {{.Prop "h" "new_category"}} AS h_new_category, {{.Prop "h" "correct_category"}} AS h_correct_category,
    {{.Prop "h" "category_update_timestamp"}} AS h_category_at, {{.Prop "h" "health_signal"}} AS h_signal,
    {{.Prop "h" "wa_business_account"}} AS h_account
FROM {{.Events "h"}}
WHERE h.workspace = {{.Arg .Workspace}} AND h.kind = 'channel_event' AND h.ts < {{.Arg .ToMS}}
  AND {{.Prop "h" "type"}} IN ('phone_number_quality_update', 'message_template_status_update',
      'message_template_quality_update', 'template_category_update', 'account_update')
ORDER BY h_ts, h_id
