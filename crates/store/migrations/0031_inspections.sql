-- Mystery-shopper checks (issue 18): an inspector's terminal is enrolled
-- with a one-time code like a courier's; an inspection is filled about
-- the courier who delivered an order and kept apart from the customers'
-- responses (never in a rollup, never in NPS). `id` is the client's, so
-- a retry records nothing twice.
CREATE TABLE inspector_codes (
    code_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE TABLE inspections (
    id TEXT PRIMARY KEY,
    order_number TEXT NOT NULL,
    survey_id TEXT NOT NULL,
    survey_version BIGINT NOT NULL,
    courier_id TEXT,
    city TEXT NOT NULL,
    partner TEXT,
    inspector TEXT NOT NULL,
    token_id TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    content_hash TEXT NOT NULL
);
CREATE INDEX inspections_by_courier ON inspections (courier_id, finished_at);
CREATE INDEX inspections_by_time ON inspections (finished_at);
CREATE INDEX inspections_by_order ON inspections (order_number);
CREATE TABLE inspection_answers (
    inspection_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    number_value DOUBLE PRECISION,
    option_ids TEXT,
    text_value TEXT,
    flag BOOLEAN,
    PRIMARY KEY (inspection_id, question_id)
);
