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
FROM {{if .AttributesOrders}}{{template "attributed_orders" .}}{{else}}{{.Facts "order_facts" ""}}{{end}} o{{.OrderRows "o"}}
WHERE o.workspace = {{.Arg .Workspace}} AND o.placed_ms IS NOT NULL
  AND o.placed_ms >= {{.Arg .FromMS}} AND o.placed_ms < {{.Arg .ToMS}}
  {{.Filter "o"}}
{{.GroupBy "currency"}}

-- The period's orders, each with the campaign, template and variant of
-- the campaign message that won it when it names no campaign itself: the
-- customer's latest campaign message within the conversion window before
-- the order, as for campaign revenue (messages.sql). So under a campaign
-- filter the orders, revenue and AOV are the campaign's, and agree with its
-- ROCS. Each order without a campaign meets its customer's campaign
-- messages and one blank row, which wins only when no message does.
{{define "attributed_orders"}}(
    SELECT ao.workspace AS workspace, ao.order_id AS order_id, ao.placed_ms AS placed_ms, ao.currency AS currency, ao.amount AS amount,
        ao.refunded AS refunded, ao.returned AS returned, ao.returned_whole AS returned_whole, ao.undone_ms AS undone_ms,
        ao.channel AS channel, ao.customer AS customer, ao.conversation AS conversation, ao.agent AS agent, ao.team AS team,
        ao.campaign AS campaign, ao.template AS template, ao.variant AS variant
    FROM {{.Facts "order_facts" "ao"}}
    WHERE ao.workspace = {{.Arg .Workspace}} AND ao.placed_ms >= {{.Arg .FromMS}} AND ao.placed_ms < {{.Arg .ToMS}}
      AND (ao.campaign IS NOT NULL OR ao.customer IS NULL)
    UNION ALL
    SELECT won.w_workspace AS workspace, won.w_order AS order_id, won.w_placed_ms AS placed_ms, won.w_currency AS currency, won.w_amount AS amount,
        won.w_refunded AS refunded, won.w_returned AS returned, won.w_returned_whole AS returned_whole, won.w_undone_ms AS undone_ms,
        won.w_channel AS channel, won.w_customer AS customer, won.w_conversation AS conversation, won.w_agent AS agent, won.w_team AS team,
        {{.Unpack "won.w_packed" 2}} AS campaign, {{.Unpack "won.w_packed" 3}} AS template, {{.Unpack "won.w_packed" 4}} AS variant
    FROM (
        SELECT bo.order_id AS w_order, max(bo.workspace) AS w_workspace, max(bo.placed_ms) AS w_placed_ms, max(bo.currency) AS w_currency,
            max(bo.amount) AS w_amount, max(bo.refunded) AS w_refunded, max(bo.returned) AS w_returned,
            max(bo.returned_whole) AS w_returned_whole, max(bo.undone_ms) AS w_undone_ms, max(bo.channel) AS w_channel,
            max(bo.customer) AS w_customer, max(bo.conversation) AS w_conversation, max(bo.agent) AS w_agent, max(bo.team) AS w_team,
            {{.Latest "cand.m_packed" "cand.m_st"}} AS w_packed
        FROM {{.Facts "order_facts" "bo"}}
        JOIN (
            SELECT bm.customer AS m_customer, coalesce(bm.sent_ms, bm.first_ms) AS m_st,
                {{.Packed "bm.message" "bm.campaign" "bm.template" "bm.variant"}} AS m_packed
            FROM {{.Facts "message_facts" "bm"}}
            WHERE bm.workspace = {{.Arg .Workspace}} AND bm.outbound_ms IS NOT NULL AND bm.customer IS NOT NULL AND bm.campaign IS NOT NULL
              AND {{.CampaignClass "bm"}}
              AND coalesce(bm.sent_ms, bm.first_ms) > {{.Arg .FromMS}} - {{.Arg .Win.Conversion}}
              AND coalesce(bm.sent_ms, bm.first_ms) < {{.Arg .ToMS}}
            UNION ALL
            SELECT DISTINCT blank.customer AS m_customer, 0 AS m_st, '' AS m_packed
            FROM {{.Facts "order_facts" "blank"}}
            WHERE blank.workspace = {{.Arg .Workspace}} AND blank.placed_ms >= {{.Arg .FromMS}} AND blank.placed_ms < {{.Arg .ToMS}}
              AND blank.campaign IS NULL AND blank.customer IS NOT NULL
        ) cand ON cand.m_customer = bo.customer
        WHERE bo.workspace = {{.Arg .Workspace}} AND bo.placed_ms >= {{.Arg .FromMS}} AND bo.placed_ms < {{.Arg .ToMS}}
          AND bo.campaign IS NULL AND bo.customer IS NOT NULL
          AND (cand.m_packed = '' OR (cand.m_st <= bo.placed_ms AND cand.m_st > bo.placed_ms - {{.Arg .Win.Conversion}}))
        GROUP BY bo.order_id
    ) won
){{end}}

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
FROM {{.Facts "conversation_facts" "c"}}
WHERE c.workspace = {{.Arg .Workspace}}
  AND c.first_ms >= {{.Arg .FromMS}} AND c.first_ms < {{.Arg .ToMS}}
  {{.Filter "c"}}
{{.GroupBy}}

-- Orders attributed to a conversation: the one the order names, or else
-- the customer's latest conversation that started before the order and was
-- active within the conversation window before it. The latest wins, so
-- conversations that started before the period never compete with the
-- period's own. Each carries its order's amount.
--
-- The joins keep to what ClickHouse 18.16 gets right: one JOIN per SELECT;
-- every alias unique in the whole query (18.16 resolves a qualified name
-- inside a joined subquery against the outer query's aliases); no alias
-- equal to a column name; the sides of a JOIN sharing no column name; no
-- use of the right side's join key after the JOIN (18.16 leaves that column
-- unfilled: use the left side's); and no WHERE after a JOIN that names only
-- its left side (the left side is a subquery already restricted instead).
{{define "order_conversations"}}(
    SELECT named.order_id AS order_id, named.conversation AS conv_id, named.amount AS conv_amount, named.currency AS conv_currency
    FROM {{.Facts "order_facts" "named"}}
    WHERE named.workspace = {{.Arg .Workspace}} AND named.placed_ms >= {{.Arg .FromMS}} AND named.conversation IS NOT NULL
    UNION ALL
    SELECT unnamed.order_id AS order_id, {{.Latest "recent.c_conversation" "recent.c_first_ms"}} AS conv_id,
        max(unnamed.amount) AS conv_amount, max(unnamed.currency) AS conv_currency
    FROM {{.Facts "order_facts" "unnamed"}}
    JOIN (
        SELECT cf.customer AS c_customer, cf.conversation AS c_conversation, cf.first_ms AS c_first_ms, cf.last_ms AS c_last_ms
        FROM {{.Facts "conversation_facts" "cf"}}
        WHERE cf.workspace = {{.Arg .Workspace}} AND cf.first_ms >= {{.Arg .FromMS}}
    ) recent ON recent.c_customer = unnamed.customer
    WHERE unnamed.workspace = {{.Arg .Workspace}} AND unnamed.placed_ms >= {{.Arg .FromMS}} AND unnamed.conversation IS NULL
      AND recent.c_first_ms <= unnamed.placed_ms
      AND recent.c_last_ms >= unnamed.placed_ms - {{.Arg .Win.Conversation}}
    GROUP BY unnamed.order_id
){{end}}

-- The period's conversations, filtered.
{{define "period_conversations"}}(
    SELECT *
    FROM {{.Facts "conversation_facts" "pc"}}
    WHERE pc.workspace = {{.Arg .Workspace}}
      AND pc.first_ms >= {{.Arg .FromMS}} AND pc.first_ms < {{.Arg .ToMS}}
      {{.Filter "pc"}}
){{end}}

-- name: conversation-revenue
SELECT {{.Group "c" "c.first_ms"}}
    a.conv_currency AS currency,
    sum(a.conv_amount) AS conv_revenue
FROM {{template "period_conversations" .}} c
JOIN {{template "order_conversations" .}} a ON a.conv_id = c.conversation
{{.GroupBy "currency"}}

-- name: conversation-buyers
SELECT {{.Group "c" "c.first_ms"}}
    count(DISTINCT c.customer) AS conv_buyers
FROM {{template "period_conversations" .}} c
JOIN {{template "order_conversations" .}} a ON a.conv_id = c.conversation
{{.GroupBy}}
