-- Cohorts (KPIS.md §5): customers by the week or month of their first
-- event of any kind, and what they did in each later period.

-- name: cohort-first
SELECT e.customer AS c_customer, min(e.ts) AS c_first
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.customer IS NOT NULL
GROUP BY e.customer
HAVING min(e.ts) >= {{.Arg .FromMS}} AND min(e.ts) < {{.Arg .ToMS}}

-- name: cohort-activity
SELECT e.customer AS a_customer, {{.Bucket "e.ts"}} AS a_period,
    count(CASE WHEN e.kind = 'order_placed' THEN 1 END) AS a_orders
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.customer IS NOT NULL
  AND e.ts >= {{.Arg .FromMS}} AND e.ts < {{.Arg .ToMS}}
GROUP BY a_customer, a_period

-- name: cohort-revenue
SELECT o.customer AS r_customer, {{.Bucket "o.placed_ms"}} AS r_period, o.currency AS r_currency, sum(o.amount) AS r_amount
FROM {{.Facts "order_facts" "o"}}
WHERE o.workspace = {{.Arg .Workspace}} AND o.customer IS NOT NULL AND o.amount IS NOT NULL
  AND o.placed_ms >= {{.Arg .FromMS}} AND o.placed_ms < {{.Arg .ToMS}}
GROUP BY r_customer, r_period, r_currency
