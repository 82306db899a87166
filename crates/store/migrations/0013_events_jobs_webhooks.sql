-- Durable events, background jobs that run once, and webhooks.
--
-- Events (the transactional outbox): every event is written in the same
-- transaction as the data it describes. Its public id is gapless and in
-- the order events became visible, so a reader that has seen id N has seen
-- every event before it, on every server process. The ids come from the
-- single row of `event_sequence`: on SQLite (one writer) in the event's
-- own transaction; on PostgreSQL an event is written without one (`id`
-- NULL, so that concurrent writers never wait for each other) and one
-- process at a time numbers the committed ones in a short transaction of
-- its own. A transaction's events are one row (`n` of them, ids
-- `id - n + 1` to `id`, as JSON `[[name, data], …]` in `batch`): a batch
-- of a hundred answers adds one row to write and to number, not a hundred.
CREATE TABLE event_sequence (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_id BIGINT NOT NULL
);
INSERT INTO event_sequence (id, last_id) VALUES (1, 0);

CREATE TABLE events (
    id BIGINT,
    n BIGINT NOT NULL,
    batch TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
-- One index, which also finds the unnumbered events (id IS NULL). None on
-- created_at: ids grow with time, so pruning finds its cut-off by walking
-- the id index from the oldest event.
CREATE UNIQUE INDEX events_id ON events (id);

-- Background jobs: each claimed by one process at a time under a lease
-- (`locked_by` until `locked_until`); a holder that dies loses it when the
-- lease runs out. Recurring jobs (rollup builds, retention, …) are one row
-- each, due again at `run_after`; failures are retried with backoff and
-- the last error is kept for an administrator to see.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    run_after BIGINT NOT NULL,
    locked_by TEXT,
    locked_until BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    last_started_at BIGINT,
    last_finished_at BIGINT,
    last_ok_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_after);

-- Webhook subscriptions: a URL, the event types it wants, its signing
-- secret (kept to sign with; shown to the administrator once), and the
-- last event handed to its delivery queue.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,
    secret TEXT NOT NULL,
    allow_private BOOLEAN NOT NULL DEFAULT FALSE,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason TEXT,
    cursor_event_id BIGINT NOT NULL,
    failing_since BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One delivery of one event to one subscription, with its attempts.
-- `state`: pending (to be sent, at `next_attempt_at`), delivered, failed
-- (given up after 24 hours of retries).
CREATE TABLE webhook_deliveries (
    webhook_id TEXT NOT NULL,
    event_id BIGINT NOT NULL,
    event_name TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_status BIGINT,
    last_duration_ms BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, state, event_id);
