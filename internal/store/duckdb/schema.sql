-- omnikpi embedded store. Times are Unix milliseconds (UTC) in BIGINT, the
-- same unit the ClickHouse store keeps, so KPI SQL is shared. Money is
-- integer minor units beside its ISO 4217 currency.

-- events is the record: every accepted event, once per (workspace, id).
CREATE TABLE IF NOT EXISTS events (
    workspace    VARCHAR NOT NULL,
    id           VARCHAR NOT NULL,
    ts           BIGINT  NOT NULL,
    kind         VARCHAR NOT NULL,
    channel      VARCHAR,
    customer     VARCHAR,
    conversation VARCHAR,
    message      VARCHAR,
    campaign     VARCHAR,
    template     VARCHAR,
    variant      VARCHAR,
    actor        VARCHAR,
    agent        VARCHAR,
    team         VARCHAR,
    order_id     VARCHAR,
    amount       BIGINT,
    currency     VARCHAR,
    score        DOUBLE,
    count        BIGINT  NOT NULL,
    duration_ms  BIGINT,
    text         VARCHAR,
    tags         VARCHAR[],
    source       VARCHAR,
    medium       VARCHAR,
    utm_campaign VARCHAR,
    utm_content  VARCHAR,
    utm_term     VARCHAR,
    product      VARCHAR,
    platform     VARCHAR,
    props        VARCHAR,
    received     BIGINT  NOT NULL,
    PRIMARY KEY (workspace, id)
);

-- message_facts: one row per message, kept on ingest (KPIS.md §7). Each
-- *_ms is the earliest time of the events that imply the status, so a read
-- implies delivered and any outbound event implies sent. Each dimension
-- comes from the best event carrying it, ranked by its key (the message's own
-- message_sent/message_received first, then earliest time, then smallest
-- value): min() over keys is commutative and idempotent, so the row is the
-- same whatever the arrival order.
CREATE TABLE IF NOT EXISTS message_facts (
    workspace      VARCHAR NOT NULL,
    message        VARCHAR NOT NULL,
    first_ms       BIGINT  NOT NULL, -- earliest event naming the message
    sent_ms        BIGINT,           -- earliest message_sent
    outbound_ms    BIGINT,           -- earliest outbound event: the message was sent
    delivered_ms   BIGINT,           -- earliest delivered, read or click
    read_ms        BIGINT,           -- earliest read or click
    clicked_ms     BIGINT,           -- earliest link or button click
    failed_ms      BIGINT,           -- earliest message_failed
    received_ms    BIGINT,           -- earliest message_received: an inbound message
    channel VARCHAR, channel_k BIGINT,
    customer VARCHAR, customer_k BIGINT,
    conversation VARCHAR, conversation_k BIGINT,
    campaign VARCHAR, campaign_k BIGINT,
    template VARCHAR, template_k BIGINT,
    variant VARCHAR, variant_k BIGINT,
    actor VARCHAR, actor_k BIGINT,
    agent VARCHAR, agent_k BIGINT,
    team VARCHAR, team_k BIGINT,
    billable_category VARCHAR, billable_category_k BIGINT, -- props.billable_category: what the channel bills
    customer_country VARCHAR, customer_country_k BIGINT,   -- props.customer_country: ISO 3166 code
    PRIMARY KEY (workspace, message)
);
-- Files made before the rate card keep working; their older messages have
-- no billing dimensions.
ALTER TABLE message_facts ADD COLUMN IF NOT EXISTS billable_category VARCHAR;
ALTER TABLE message_facts ADD COLUMN IF NOT EXISTS billable_category_k BIGINT;
ALTER TABLE message_facts ADD COLUMN IF NOT EXISTS customer_country VARCHAR;
ALTER TABLE message_facts ADD COLUMN IF NOT EXISTS customer_country_k BIGINT;

-- order_facts: one row per order. The amount comes from the earliest
-- order_placed (ties broken by event id); refunds and returns add up over
-- distinct events, which is exact because only new events reach the facts.
CREATE TABLE IF NOT EXISTS order_facts (
    workspace       VARCHAR NOT NULL,
    order_id        VARCHAR NOT NULL,
    first_ms        BIGINT  NOT NULL,
    placed_ms       BIGINT,
    placed_id       VARCHAR,
    amount          BIGINT,
    currency        VARCHAR,
    refunded        BIGINT  NOT NULL, -- sum of order_refunded amounts, minor units
    returned        BIGINT  NOT NULL, -- sum of order_returned amounts, minor units
    returned_whole  BOOLEAN NOT NULL, -- an order_returned without amount undoes the whole order
    undone_ms       BIGINT,           -- earliest refund or return
    channel VARCHAR, channel_k BIGINT,
    customer VARCHAR, customer_k BIGINT,
    conversation VARCHAR, conversation_k BIGINT,
    campaign VARCHAR, campaign_k BIGINT,
    template VARCHAR, template_k BIGINT,
    variant VARCHAR, variant_k BIGINT,
    agent VARCHAR, agent_k BIGINT,
    team VARCHAR, team_k BIGINT,
    PRIMARY KEY (workspace, order_id)
);

-- conversation_facts: one row per conversation id.
CREATE TABLE IF NOT EXISTS conversation_facts (
    workspace    VARCHAR NOT NULL,
    conversation VARCHAR NOT NULL,
    first_ms     BIGINT  NOT NULL,
    last_ms      BIGINT  NOT NULL,
    channel VARCHAR, channel_k BIGINT,
    customer VARCHAR, customer_k BIGINT,
    campaign VARCHAR, campaign_k BIGINT,
    template VARCHAR, template_k BIGINT,
    variant VARCHAR, variant_k BIGINT,
    agent VARCHAR, agent_k BIGINT,
    team VARCHAR, team_k BIGINT,
    PRIMARY KEY (workspace, conversation)
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
