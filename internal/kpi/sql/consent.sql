-- Consent (KPIS.md §1): opt-outs and opt-ins of the period, each customer
-- counted once, whatever the source (a stop word, an unsubscribe button,
-- WhatsApp's stop and resume of marketing messages).
-- name: consent
SELECT {{.Group "e" "e.ts"}}
    count(DISTINCT CASE WHEN e.kind = 'opted_out' THEN e.customer END) AS opt_outs_n,
    count(DISTINCT CASE WHEN e.kind = 'opted_in' THEN e.customer END) AS opt_ins_n
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.kind IN ('opted_out', 'opted_in') AND e.customer IS NOT NULL
  AND e.ts >= {{.Arg .FromMS}} AND e.ts < {{.Arg .ToMS}}
  {{.Filter "e"}}
{{.GroupBy}}

-- Every consent event up to the period's end: the engine keeps each
-- customer's latest on each channel.
-- name: consent-events
SELECT e.id AS ce_id, e.customer AS ce_customer, e.channel AS ce_channel, e.kind AS ce_kind, e.ts AS ce_ts,
    {{.Prop "e" "reason"}} AS ce_reason, {{.Prop "e" "type"}} AS ce_type
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.kind IN ('opted_out', 'opted_in') AND e.customer IS NOT NULL
  AND e.ts < {{.Arg .ToMS}}
  {{.Filter "e"}}
