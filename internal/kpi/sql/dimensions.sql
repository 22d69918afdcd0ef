-- The values the dashboard's filters offer for a period: a few GROUP BYs
-- over the facts and one over the events' channels, far cheaper than the
-- KPI families they stand in for. The request's filters narrow them (the
-- campaigns of one channel).

-- name: dimension-channels
SELECT e.channel AS dv_channel
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.channel IS NOT NULL
  AND e.ts >= {{.Arg .FromMS}} AND e.ts < {{.Arg .ToMS}}
  {{.Filter "e"}}
GROUP BY e.channel

-- name: dimension-campaigns
SELECT m.campaign AS dv_campaign, m.template AS dv_template, m.agent AS dv_agent
FROM {{.Facts "message_facts" "m"}}
WHERE m.workspace = {{.Arg .Workspace}}
  AND m.first_ms >= {{.Arg .FromMS}} AND m.first_ms < {{.Arg .ToMS}}
  AND (m.campaign IS NOT NULL OR m.agent IS NOT NULL)
  {{.Filter "m"}}
GROUP BY m.campaign, m.template, m.agent

-- name: dimension-agents
SELECT s.agent AS dv_agent
FROM {{.Facts "session_facts" "s"}}
WHERE s.workspace = {{.Arg .Workspace}} AND s.agent IS NOT NULL
  AND s.start_ms >= {{.Arg .FromMS}} AND s.start_ms < {{.Arg .ToMS}}
  {{.Filter "s"}}
GROUP BY s.agent

-- name: dimension-currencies
SELECT o.currency AS dv_currency
FROM {{.Facts "order_facts" "o"}}
WHERE o.workspace = {{.Arg .Workspace}} AND o.currency IS NOT NULL
  AND o.placed_ms >= {{.Arg .FromMS}} AND o.placed_ms < {{.Arg .ToMS}}
  {{.Filter "o"}}
GROUP BY o.currency
