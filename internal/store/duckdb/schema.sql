-- omnikpi embedded store. Times are Unix milliseconds (UTC) in BIGINT, the
-- same unit the ClickHouse store keeps, so KPI SQL is shared. Money is
-- integer minor units beside its ISO 4217 currency.

-- events is the record: every accepted event, once per (workspace, id).
-- Its columns are store.EventColumns.
CREATE TABLE IF NOT EXISTS events (
    {{range .Events}}{{.}},
    {{end}}PRIMARY KEY (workspace, id)
);

-- The facts, kept on ingest (KPIS.md §7): one row per message, order and
-- conversation, each of store.Facts with its merged columns, then each
-- dimension beside its key. Each *_ms is the earliest time of the events
-- that imply the status, so a read implies delivered and any outbound
-- event implies sent. Each dimension comes from the best event carrying
-- it, ranked by its key (the entity's own creating event first, then
-- earliest time, then smallest value): min() over keys is commutative and
-- idempotent, so the row is the same whatever the arrival order. An
-- order's amount comes from the earliest order_placed (ties broken by
-- event id); refunds and returns add up over distinct events, which is
-- exact because only new events reach the facts. Files made before a
-- column was added get it, null in their older rows (so the billing
-- dimensions of the rate card).
{{range .Facts}}
CREATE TABLE IF NOT EXISTS {{.Name}} (
    {{range .Columns}}{{.}},
    {{end}}PRIMARY KEY (workspace, {{.Key}})
);
{{range .Added}}ALTER TABLE {{.}};
{{end}}{{end}}
-- One row per conversation session (store.SessionColumns), replaced for
-- the keys each batch touches. Without a primary key: the upkeep deletes a
-- key's rows from a time on and appends them anew in one transaction.
CREATE TABLE IF NOT EXISTS session_facts (
    {{join .Sessions ",\n    "}}
);

CREATE TABLE IF NOT EXISTS workspaces (
    name     VARCHAR PRIMARY KEY,
    settings VARCHAR NOT NULL -- JSON of store.Workspace
);

CREATE TABLE IF NOT EXISTS api_keys (
    hash      VARCHAR PRIMARY KEY, -- hex SHA-256 of the key; the key itself is never stored
    prefix    VARCHAR NOT NULL,
    workspace VARCHAR NOT NULL,
    created   BIGINT  NOT NULL
);

-- A key's name, scopes and expiry (store.KeySettings); a key of api_keys
-- without a row here was made before keys had them and has every scope.
CREATE TABLE IF NOT EXISTS api_key_settings (
    hash    VARCHAR PRIMARY KEY,
    name    VARCHAR NOT NULL,
    scopes  VARCHAR NOT NULL, -- comma separated: ingest,read,admin
    expires BIGINT  NOT NULL  -- Unix milliseconds; 0: never
);

-- When each key was last used, as the API records it in batches.
CREATE TABLE IF NOT EXISTS api_key_uses (
    hash VARCHAR PRIMARY KEY,
    used BIGINT  NOT NULL -- Unix milliseconds
);

-- The audit trail (store.AuditEntry): never touched by an erasure.
CREATE TABLE IF NOT EXISTS audit (
    id        VARCHAR NOT NULL,
    ts        BIGINT  NOT NULL, -- Unix milliseconds
    workspace VARCHAR NOT NULL,
    actor     VARCHAR NOT NULL,
    action    VARCHAR NOT NULL,
    target    VARCHAR NOT NULL,
    details   VARCHAR NOT NULL  -- JSON object
);

-- Webhook parts for a number no workspace maps yet (store.QuarantinedPart).
CREATE TABLE IF NOT EXISTS quarantine (
    id              VARCHAR PRIMARY KEY, -- from the content: a re-sent part is kept once
    source          VARCHAR NOT NULL,    -- whatsapp
    phone_number_id VARCHAR NOT NULL,
    account_id      VARCHAR NOT NULL,
    received        BIGINT  NOT NULL,    -- Unix milliseconds
    part            VARCHAR NOT NULL,    -- the part as sent, JSON
    ingested        BIGINT  NOT NULL,    -- Unix milliseconds; 0 while it waits
    workspace       VARCHAR NOT NULL     -- where it was ingested
);

-- The forgotten list (store.Eraser): hashes of the erased customers and of
-- their messages, orders and conversations (store.ForgottenHash), whose
-- later events are dropped.
CREATE TABLE IF NOT EXISTS forgotten (
    workspace VARCHAR NOT NULL,
    hash      VARCHAR NOT NULL, -- hex SHA-256 of "customer:ID", "message:ID" …
    added     BIGINT  NOT NULL, -- Unix milliseconds
    PRIMARY KEY (workspace, hash)
);

-- How far retention has removed a workspace's raw events: later events
-- older than this are dropped as expired.
CREATE TABLE IF NOT EXISTS retention_marks (
    workspace     VARCHAR PRIMARY KEY,
    events_before BIGINT NOT NULL -- Unix milliseconds
);
