-- Responsiveness, service and satisfaction (KPIS.md §3).

-- The conversation sessions that start in the period, kept on ingest
-- (store.SessionColumns): the engine measures their response and
-- resolution times in Go, in wall-clock or business time.
-- name: session-facts
SELECT {{.SessionColumns "s"}}
FROM {{.Facts "session_facts" "s"}}
WHERE s.workspace = {{.Arg .Workspace}} AND s.counted = 1
  AND s.start_ms >= {{.Arg .FromMS}} AND s.start_ms < {{.Arg .ToMS}}

-- Survey answers of the period, by the dimensions they carry.
-- name: surveys
SELECT {{.Group "e" "e.ts"}}
    count(CASE WHEN {{.Prop "e" "survey"}} = 'csat' THEN 1 END) AS csat_answers,
    count(CASE WHEN {{.Prop "e" "survey"}} = 'csat' AND e.score >= 4 THEN 1 END) AS csat_satisfied,
    sum(CASE WHEN {{.Prop "e" "survey"}} = 'csat' THEN e.score ELSE 0 END) AS csat_score_sum,
    count(CASE WHEN {{.Prop "e" "survey"}} = 'nps' THEN 1 END) AS nps_answers,
    count(CASE WHEN {{.Prop "e" "survey"}} = 'nps' AND e.score >= 9 THEN 1 END) AS nps_promoters,
    count(CASE WHEN {{.Prop "e" "survey"}} = 'nps' AND e.score >= 7 AND e.score < 9 THEN 1 END) AS nps_passives,
    count(CASE WHEN {{.Prop "e" "survey"}} = 'nps' AND e.score < 7 THEN 1 END) AS nps_detractors
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.kind = 'survey_answered'
  AND e.ts >= {{.Arg .FromMS}} AND e.ts < {{.Arg .ToMS}}
  {{.Filter "e"}}
{{.GroupBy}}

-- Feedback of the period with its tags, one text per event; the engine
-- counts by tag.
-- name: feedback-tags
SELECT {{.Group "e" "e.ts"}}
    {{.TagsText "e"}} AS tags_text
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.kind = 'feedback'
  AND e.ts >= {{.Arg .FromMS}} AND e.ts < {{.Arg .ToMS}}
  {{.Filter "e"}}

-- Inbound customer text of the period, for keywords.
-- name: inbound-text
SELECT {{.Group "e" "e.ts"}}
    e.text AS msg_text
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.kind = 'message_received'
  AND e.text IS NOT NULL AND e.text <> ''
  AND e.ts >= {{.Arg .FromMS}} AND e.ts < {{.Arg .ToMS}}
  {{.Filter "e"}}

-- Reads of outbound messages and customer replies by local hour of the
-- week, per channel: when customers read and answer.
-- name: send-time-reads
SELECT m.channel AS how_channel, {{.HourOfWeek "m.read_ms"}} AS how, count(*) AS how_n
FROM {{.MessageFacts "m" 0}}
WHERE m.workspace = {{.Arg .Workspace}} AND m.read_ms IS NOT NULL AND m.received_ms IS NULL
  AND m.read_ms >= {{.Arg .FromMS}} AND m.read_ms < {{.Arg .ToMS}}
  {{.Filter "m"}}
GROUP BY how_channel, how

-- name: send-time-replies
SELECT e.channel AS how_channel, {{.HourOfWeek "e.ts"}} AS how, count(*) AS how_n
FROM {{.Events "e"}}
WHERE e.workspace = {{.Arg .Workspace}} AND e.kind = 'message_received'
  AND e.ts >= {{.Arg .FromMS}} AND e.ts < {{.Arg .ToMS}}
  {{.Filter "e"}}
GROUP BY how_channel, how

-- The campaign messages sent in each local hour of the week, per channel:
-- those on channels that report reads, and of them the read ones, for the
-- read rate by the hour a message went out.
-- name: send-time-sent
SELECT m.channel AS how_channel, {{.HourOfWeek "coalesce(m.sent_ms, m.first_ms)"}} AS how,
    count(*) AS how_sent,
    count(CASE WHEN {{.ReportsReads "m"}} THEN 1 END) AS how_sent_r,
    count(CASE WHEN m.read_ms IS NOT NULL AND {{.ReportsReads "m"}} THEN 1 END) AS how_read
FROM {{.MessageFacts "m" .FromMS}}
WHERE m.workspace = {{.Arg .Workspace}} AND m.outbound_ms IS NOT NULL AND {{.Engaged "m"}}
  AND coalesce(m.sent_ms, m.first_ms) >= {{.Arg .FromMS}} AND coalesce(m.sent_ms, m.first_ms) < {{.Arg .ToMS}}
  {{.Filter "m"}}
GROUP BY how_channel, how

-- The seconds from send to read of those read, by the hour they were sent,
-- each with how many took it: the engine takes the median.
-- name: send-time-read-delays
SELECT m.channel AS how_channel, {{.HourOfWeek "coalesce(m.sent_ms, m.first_ms)"}} AS how,
    floor((m.read_ms - coalesce(m.sent_ms, m.first_ms)) / 1000) AS how_delay, count(*) AS how_n
FROM {{.MessageFacts "m" .FromMS}}
WHERE m.workspace = {{.Arg .Workspace}} AND m.outbound_ms IS NOT NULL AND {{.Engaged "m"}}
  AND m.read_ms IS NOT NULL AND {{.ReportsReads "m"}}
  AND coalesce(m.sent_ms, m.first_ms) >= {{.Arg .FromMS}} AND coalesce(m.sent_ms, m.first_ms) < {{.Arg .ToMS}}
  {{.Filter "m"}}
GROUP BY how_channel, how, how_delay
