-- Surveys and the answers to them.
-- A survey's questions live in survey_versions as JSON text: editing a
-- published survey adds a version, and every response names the version it
-- answered, so old answers keep their meaning.

-- Reference tables on Citus.
CREATE TABLE surveys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    current_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE survey_versions (
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (survey_id, version)
);

-- Distributed by order_number on Citus, co-located with orders. The id is
-- the client's UUID: re-sending it stores nothing new. What a later fraud
-- check or grouping needs is copied from the order when the answer arrives
-- (courier, city, partner, segment, delivery time).
CREATE TABLE responses (
    order_number TEXT NOT NULL,
    id TEXT NOT NULL,
    survey_id TEXT NOT NULL,
    survey_version BIGINT NOT NULL,
    status TEXT NOT NULL,
    channel TEXT NOT NULL,
    mode TEXT,
    language TEXT,
    token_id TEXT,
    courier_id TEXT,
    city TEXT NOT NULL,
    partner TEXT,
    segment TEXT NOT NULL,
    delivered_at BIGINT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    photo_taken BOOLEAN NOT NULL,
    content_hash TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (order_number, id)
);

-- Few indexes on purpose: every one costs each ingested answer. The metrics
-- read rollups, not this table.
CREATE INDEX responses_by_id ON responses (id);
CREATE INDEX responses_by_finished ON responses (finished_at);

-- One row per answered question; co-located with responses.
CREATE TABLE answers (
    order_number TEXT NOT NULL,
    response_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    number_value DOUBLE PRECISION,
    option_ids TEXT,
    text_value TEXT,
    flag BOOLEAN,
    PRIMARY KEY (order_number, response_id, question_id)
);
