-- Revenue and campaign economics (KPIS.md §2). Money columns are sums of
-- minor units per currency; columns named n_* are counts that the engine
-- adds over currencies.

-- Orders belong to the period of their first order_placed.
-- name: orders
SELECT {{.Group "o" "o.placed_ms"}}
    o.currency AS currency,
    count(*) AS n_orders,
    count(CASE WHEN o.undone_ms IS NOT NULL THEN 1 END) AS n_orders_undone,
    count(*) AS orders_cur,
    sum(o.amount) AS gross,
    sum(o.amount - least(o.amount, CASE WHEN o.returned_whole THEN o.amount ELSE o.refunded + o.returned END)) AS net
FROM order_facts o
WHERE o.workspace = {{.Arg .Workspace}} AND o.placed_ms IS NOT NULL
  AND o.placed_ms >= {{.Arg .FromMS}} AND o.placed_ms < {{.Arg .ToMS}}
  {{.Filter "o"}}
{{.GroupBy "currency"}}

-- Spend: every campaign_cost; cost per recipient counts messaging and
-- software costs (and costs without a type), not ads.
-- name: costs
SELECT {{.Group "e" "e.ts"}}
    e.currency AS currency,
    sum(e.amount) AS cost,
    sum(CASE WHEN {{.Prop "e" "cost_type"}} = 'ads' THEN 0 ELSE e.amount END) AS cost_msg_sw
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.kind = 'campaign_cost'
  AND e.ts >= {{.Arg .FromMS}} AND e.ts < {{.Arg .ToMS}}
  {{.Filter "e"}}
{{.GroupBy "currency"}}

-- name: leads
SELECT {{.Group "e" "e.ts"}}
    count(CASE WHEN e.kind = 'lead_created' THEN 1 END) AS leads,
    count(CASE WHEN e.kind = 'lead_qualified' THEN 1 END) AS leads_qualified
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.kind IN ('lead_created', 'lead_qualified')
  AND e.ts >= {{.Arg .FromMS}} AND e.ts < {{.Arg .ToMS}}
  {{.Filter "e"}}
{{.GroupBy}}

-- Conversations belong to the period of their first event.
-- name: conversations
SELECT {{.Group "c" "c.first_ms"}}
    count(*) AS conversations,
    count(DISTINCT c.customer) AS conv_customers
FROM conversation_facts c
WHERE c.workspace = {{.Arg .Workspace}}
  AND c.first_ms >= {{.Arg .FromMS}} AND c.first_ms < {{.Arg .ToMS}}
  {{.Filter "c"}}
{{.GroupBy}}

-- Orders attributed to a conversation: the one the order names, or else
-- the customer's latest conversation that started before the order and was
-- active within the conversation window before it. The latest wins, so
-- conversations that started before the period never compete with the
-- period's own. Each carries its order's amount, since a SELECT joins two
-- relations at most (ClickHouse 18.16); no alias repeats a column name, and
-- the sides of a JOIN share no column name (18.16 may resolve a qualified
-- name to a same-named alias or to the other side's column).
{{define "order_conversations"}}(
    SELECT o.order_id AS order_id, o.conversation AS conv_id, o.amount AS conv_amount, o.currency AS conv_currency
    FROM order_facts o
    WHERE o.workspace = {{.Arg .Workspace}} AND o.placed_ms >= {{.Arg .FromMS}} AND o.conversation IS NOT NULL
    UNION ALL
    SELECT o.order_id AS order_id, {{.Latest "c.c_conversation" "c.c_first_ms"}} AS conv_id,
        max(o.amount) AS conv_amount, max(o.currency) AS conv_currency
    FROM order_facts o
    JOIN (
        SELECT c.customer AS c_customer, c.conversation AS c_conversation, c.first_ms AS c_first_ms, c.last_ms AS c_last_ms
        FROM conversation_facts c
        WHERE c.workspace = {{.Arg .Workspace}} AND c.first_ms >= {{.Arg .FromMS}}
    ) c ON c.c_customer = o.customer
    WHERE o.workspace = {{.Arg .Workspace}} AND o.placed_ms >= {{.Arg .FromMS}} AND o.conversation IS NULL
      AND c.c_first_ms <= o.placed_ms
      AND c.c_last_ms >= o.placed_ms - {{.Arg .Win.Conversation}}
    GROUP BY o.order_id
){{end}}

-- name: conversation-revenue
SELECT {{.Group "c" "c.first_ms"}}
    a.conv_currency AS currency,
    sum(a.conv_amount) AS conv_revenue
FROM {{template "order_conversations" .}} a
JOIN conversation_facts c ON c.conversation = a.conv_id
WHERE c.workspace = {{.Arg .Workspace}}
  AND c.first_ms >= {{.Arg .FromMS}} AND c.first_ms < {{.Arg .ToMS}}
  {{.Filter "c"}}
{{.GroupBy "currency"}}

-- name: conversation-buyers
SELECT {{.Group "c" "c.first_ms"}}
    count(DISTINCT c.customer) AS conv_buyers
FROM {{template "order_conversations" .}} a
JOIN conversation_facts c ON c.conversation = a.conv_id
WHERE c.workspace = {{.Arg .Workspace}}
  AND c.first_ms >= {{.Arg .FromMS}} AND c.first_ms < {{.Arg .ToMS}}
  {{.Filter "c"}}
{{.GroupBy}}
