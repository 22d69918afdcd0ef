-- Message delivery and engagement (KPIS.md §1) over message_facts: one row
-- per message, so count(CASE …) counts distinct messages. A message belongs
-- to the period of its send time (its message_sent, else its first event).

-- name: messages
SELECT {{.Group "m" "coalesce(m.sent_ms, m.first_ms)"}}
    count(CASE WHEN m.outbound_ms IS NOT NULL THEN 1 END) AS sent,
    count(CASE WHEN m.outbound_ms IS NOT NULL AND m.delivered_ms IS NOT NULL THEN 1 END) AS delivered,
    count(CASE WHEN m.outbound_ms IS NOT NULL AND m.read_ms IS NOT NULL THEN 1 END) AS read_n,
    count(CASE WHEN m.clicked_ms IS NOT NULL THEN 1 END) AS clicked,
    count(CASE WHEN m.failed_ms IS NOT NULL AND m.delivered_ms IS NULL THEN 1 END) AS failed,
    count(CASE WHEN m.received_ms IS NOT NULL THEN 1 END) AS received,
    count(CASE WHEN m.outbound_ms IS NOT NULL AND {{.ReportsReads "m"}} THEN 1 END) AS sent_r,
    count(CASE WHEN m.read_ms IS NOT NULL AND m.outbound_ms IS NOT NULL AND {{.ReportsReads "m"}} THEN 1 END) AS read_r,
    count(CASE WHEN m.outbound_ms IS NOT NULL AND {{.ReportsDeliveries "m"}} THEN 1 END) AS sent_d,
    count(CASE WHEN m.delivered_ms IS NOT NULL AND m.outbound_ms IS NOT NULL AND {{.ReportsDeliveries "m"}} THEN 1 END) AS delivered_d,
    count(CASE WHEN m.delivered_ms IS NOT NULL AND m.outbound_ms IS NOT NULL AND {{.ReportsReads "m"}} AND {{.ReportsDeliveries "m"}} THEN 1 END) AS delivered_rd,
    count(CASE WHEN m.read_ms IS NOT NULL AND m.outbound_ms IS NOT NULL AND {{.ReportsReads "m"}} AND {{.ReportsDeliveries "m"}} THEN 1 END) AS read_rd,
    count(DISTINCT CASE WHEN m.outbound_ms IS NOT NULL THEN m.customer END) AS recipients
FROM message_facts m
WHERE m.workspace = {{.Arg .Workspace}}
  AND coalesce(m.sent_ms, m.first_ms) >= {{.Arg .FromMS}} AND coalesce(m.sent_ms, m.first_ms) < {{.Arg .ToMS}}
  {{.Filter "m"}}
{{.GroupBy}}

-- A reply is an inbound message of the same customer on the same channel
-- within the reply window after the send. The two sides of every JOIN have
-- no column name in common: ClickHouse 18.16 may resolve a qualified name
-- to the other side's column of the same name.
-- name: replies
SELECT {{.Group "o" "coalesce(o.sent_ms, o.first_ms)"}}
    count(DISTINCT o.message) AS replied
FROM message_facts o
JOIN (
    SELECT i.customer AS in_customer, i.channel AS in_channel, i.received_ms AS in_ms
    FROM message_facts i
    WHERE i.workspace = {{.Arg .Workspace}} AND i.received_ms IS NOT NULL
      AND i.received_ms > {{.Arg .FromMS}} AND i.received_ms <= {{.Arg .ToMS}} + {{.Arg .Win.Reply}}
) r ON r.in_customer = o.customer AND r.in_channel = o.channel
WHERE o.workspace = {{.Arg .Workspace}} AND o.outbound_ms IS NOT NULL
  AND coalesce(o.sent_ms, o.first_ms) >= {{.Arg .FromMS}} AND coalesce(o.sent_ms, o.first_ms) < {{.Arg .ToMS}}
  AND r.in_ms > coalesce(o.sent_ms, o.first_ms)
  AND r.in_ms <= coalesce(o.sent_ms, o.first_ms) + {{.Arg .Win.Reply}}
  {{.Filter "o"}}
{{.GroupBy}}

-- Outbound messages that may win an attribution for the period. The latest
-- message wins, so one sent before the period can never beat one inside it,
-- but one sent after the period can take the credit from it.
{{define "outbound"}}(
    SELECT m.*, coalesce(m.sent_ms, m.first_ms) AS st
    FROM message_facts m
    WHERE m.workspace = {{.Arg .Workspace}} AND m.outbound_ms IS NOT NULL AND m.customer IS NOT NULL
      AND coalesce(m.sent_ms, m.first_ms) >= {{.Arg .FromMS}}
      AND coalesce(m.sent_ms, m.first_ms) < {{.Arg .ToMS}} + {{.Arg .Window}}
      {{.Extra}}
){{end}}

-- Conversions: orders and goals. Each goes to the customer's latest
-- campaign message within the conversion window before it. A SELECT joins
-- two relations at most (ClickHouse 18.16 has no multiple JOINs), so a win
-- carries its conversion's amount along. Aliases never repeat a column
-- name: 18.16 resolves a qualified column to a same-named alias.
{{define "conversions"}}(
    SELECT concat('o:', o.order_id) AS cid, o.customer AS c_customer, o.placed_ms AS c_ts, o.amount AS c_amount, o.currency AS c_currency
    FROM order_facts o
    WHERE o.workspace = {{.Arg .Workspace}} AND o.placed_ms IS NOT NULL AND o.customer IS NOT NULL
      AND o.placed_ms >= {{.Arg .FromMS}} - {{.Arg .Win.Conversion}} AND o.placed_ms < {{.Arg .ToMS}} + {{.Arg .Win.Conversion}}
    UNION ALL
    SELECT concat('g:', e.id) AS cid, e.customer AS c_customer, e.ts AS c_ts, NULL AS c_amount, NULL AS c_currency
    FROM {{.Events "e"}}
    WHERE e.workspace = {{.Arg .Workspace}} AND e.kind = 'goal_reached' AND e.customer IS NOT NULL
      AND e.ts >= {{.Arg .FromMS}} - {{.Arg .Win.Conversion}} AND e.ts < {{.Arg .ToMS}} + {{.Arg .Win.Conversion}}
){{end}}

{{define "campaign_wins"}}(
    SELECT c.cid AS cid, {{.Latest "m.message" "m.st"}} AS win_message,
        max(c.c_amount) AS win_amount, max(c.c_currency) AS win_currency
    FROM {{template "conversions" .}} c
    JOIN {{template "outbound" (.With .Win.Conversion "AND m.campaign IS NOT NULL")}} m ON m.customer = c.c_customer
    WHERE m.st <= c.c_ts AND m.st > c.c_ts - {{.Arg .Win.Conversion}}
    GROUP BY c.cid
){{end}}

-- name: campaign-conversions
SELECT {{.Group "m" "m.st"}}
    count(DISTINCT w.win_message) AS converted
FROM {{template "campaign_wins" .}} w
JOIN {{template "outbound" (.With .Win.Conversion "AND m.campaign IS NOT NULL")}} m ON m.message = w.win_message
WHERE m.st >= {{.Arg .FromMS}} AND m.st < {{.Arg .ToMS}}
  {{.Filter "m"}}
{{.GroupBy}}

-- name: campaign-revenue
SELECT {{.Group "m" "m.st"}}
    w.win_currency AS currency, sum(w.win_amount) AS campaign_revenue
FROM {{template "campaign_wins" .}} w
JOIN {{template "outbound" (.With .Win.Conversion "AND m.campaign IS NOT NULL")}} m ON m.message = w.win_message
WHERE w.win_amount IS NOT NULL AND m.st >= {{.Arg .FromMS}} AND m.st < {{.Arg .ToMS}}
  {{.Filter "m"}}
{{.GroupBy "currency"}}

-- An opt-out counts against the customer's latest outbound message within
-- the opt-out window before it (on the opt-out's channel when it names one).
-- name: opt-outs
SELECT {{.Group "m" "m.st"}}
    count(DISTINCT m.customer) AS opted_out
FROM (
    SELECT x.oid AS oid, {{.Latest "m.message" "m.st"}} AS win_message
    FROM (
        SELECT e.id AS oid, e.customer AS opt_customer, e.channel AS opt_channel, e.ts AS opt_ts
        FROM {{.Events "e"}}
        WHERE e.workspace = {{.Arg .Workspace}} AND e.kind = 'opted_out' AND e.customer IS NOT NULL
          AND e.ts >= {{.Arg .FromMS}} AND e.ts < {{.Arg .ToMS}} + {{.Arg .Win.OptOut}}
    ) x
    JOIN {{template "outbound" (.With .Win.OptOut "")}} m ON m.customer = x.opt_customer
    WHERE (x.opt_channel IS NULL OR m.channel = x.opt_channel)
      AND m.st <= x.opt_ts AND m.st > x.opt_ts - {{.Arg .Win.OptOut}}
    GROUP BY x.oid
) w
JOIN {{template "outbound" (.With .Win.OptOut "")}} m ON m.message = w.win_message
WHERE m.st >= {{.Arg .FromMS}} AND m.st < {{.Arg .ToMS}}
  {{.Filter "m"}}
{{.GroupBy}}
