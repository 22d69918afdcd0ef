-- Customer segments (KPIS.md §5), from a year of history before the
-- period's end: orders per customer and currency, conversations per
-- customer, and each customer's latest survey answers.

-- name: segment-orders
SELECT o.customer AS s_customer, o.currency AS s_currency, count(*) AS s_orders,
    max(o.placed_ms) AS s_last, sum(o.amount) AS s_amount
FROM {{.Facts "order_facts" "o"}}
WHERE o.workspace = {{.Arg .Workspace}} AND o.customer IS NOT NULL AND o.amount IS NOT NULL
  AND o.placed_ms >= {{.Arg .SpanFromMS}} AND o.placed_ms < {{.Arg .ToMS}}
GROUP BY o.customer, o.currency

-- name: segment-conversations
SELECT c.customer AS s_customer, count(*) AS s_conversations
FROM {{.Facts "conversation_facts" "c"}}
WHERE c.workspace = {{.Arg .Workspace}} AND c.customer IS NOT NULL
  AND c.first_ms >= {{.Arg .SpanFromMS}} AND c.first_ms < {{.Arg .ToMS}}
GROUP BY c.customer

-- name: segment-surveys
SELECT e.customer AS s_customer, {{.Prop "e" "survey"}} AS s_survey, {{.Latest "e.score" "e.ts"}} AS s_score
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.kind = 'survey_answered' AND e.customer IS NOT NULL
  AND e.ts >= {{.Arg .SpanFromMS}} AND e.ts < {{.Arg .ToMS}}
GROUP BY e.customer, s_survey
