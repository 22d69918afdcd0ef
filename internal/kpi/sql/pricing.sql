-- Messaging cost (KPIS.md §2): the delivered messages that carry pricing,
-- which the engine prices with the workspace's rate card, the card in
-- force at each message's delivery. A message's pricing category and type
-- come from the channel's status (WhatsApp's pricing object); a message
-- that names only a billable category is of type regular.
{{define "pricing_category"}}coalesce(m.pricing_category, m.billable_category){{end}}
{{define "pricing_type"}}coalesce(m.pricing_type, CASE WHEN m.billable_category IS NOT NULL THEN 'regular' ELSE 'free' END){{end}}

-- The period's priced messages by what prices them, the template and the
-- category it was sent as, and the UTC day of delivery (a card takes
-- effect on a day).
-- name: priced-messages
SELECT {{.Group "m" "m.delivered_ms"}}
    {{template "pricing_category" .}} AS pm_category,
    {{template "pricing_type" .}} AS pm_type,
    m.customer_country AS pm_country,
    m.template AS pm_template,
    m.template_category AS pm_template_category,
    floor(m.delivered_ms / 86400000) AS pm_day,
    count(*) AS pm_n
FROM {{.Facts "message_facts" "m"}}
WHERE m.workspace = {{.Arg .Workspace}} AND {{template "pricing_category" .}} IS NOT NULL
  AND m.delivered_ms >= {{.Arg .FromMS}} AND m.delivered_ms < {{.Arg .ToMS}}
  {{.Filter "m"}}
{{.GroupBy "pm_category" "pm_type" "pm_country" "pm_template" "pm_template_category" "pm_day"}}

-- Each charged message of the categories the card prices by volume tier or
-- with a free allowance, from the first of the month (UTC) of the period's
-- start, in delivery order: its number in the month decides its price.
-- Those before the period, or outside the request's filters, are counted
-- but not priced (pl_priced 0).
-- name: priced-message-list
SELECT {{.Group "m" "m.delivered_ms"}}
    m.delivered_ms AS pl_ms,
    {{template "pricing_category" .}} AS pl_category,
    m.customer_country AS pl_country,
    m.wa_phone_number_id AS pl_phone,
    m.template AS pl_template,
    m.template_category AS pl_template_category,
    CASE WHEN m.delivered_ms >= {{.Arg .FromMS}} {{.Filter "m"}} THEN 1 ELSE 0 END AS pl_priced
FROM {{.Facts "message_facts" "m"}}
WHERE m.workspace = {{.Arg .Workspace}} AND {{template "pricing_type" .}} = 'regular'
  AND {{template "pricing_category" .}} IN ({{.List .OrdinalCategories}})
  AND m.delivered_ms >= {{.Arg .MonthFromMS}} AND m.delivered_ms < {{.Arg .ToMS}}
ORDER BY m.delivered_ms, m.message
