-- Weekly rollups (answers and deliveries): the daily rows of a closed week summed once, by a
-- background step rather than by the transaction storing each answer, so a
-- year by courier reads 52 rows per courier instead of 365 and ingestion
-- keeps its cost. A week is a day number of its Monday (local days).
-- `rollup_week_state` says which weeks are built. An answer (or an order's
-- delivery) arriving for a week that has ended marks that week not built in
-- the same transaction
-- (the daily rows answer for it meanwhile), and the background step builds
-- it again, under a new `generation` (random, never given twice: a server
-- that keeps a week's rows in memory knows them current while the week's
-- generation stays the same). `doorstep rollups rebuild` rebuilds them
-- with the daily rows.
-- A weekly row's counters are one value (`tally`: the 18 counters of the
-- daily rows, in their order, as little-endian 8-byte integers and floats):
-- a database driver hands over one value far faster than eighteen, and a
-- year by courier is 26,000 of these rows.

CREATE TABLE rollup_week_state (
    week BIGINT PRIMARY KEY,
    built BOOLEAN NOT NULL,
    generation BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE rollup_weeks (
    week BIGINT NOT NULL,
    survey_id TEXT NOT NULL,
    city TEXT NOT NULL,
    partner TEXT NOT NULL,
    segment TEXT NOT NULL,
    channel TEXT NOT NULL,
    tally BYTEA NOT NULL,
    PRIMARY KEY (week, survey_id, city, partner, segment, channel)
);

CREATE TABLE rollup_courier_weeks (
    week BIGINT NOT NULL,
    courier_id TEXT NOT NULL,
    city TEXT NOT NULL,
    tally BYTEA NOT NULL,
    PRIMARY KEY (week, courier_id, city)
);

CREATE TABLE rollup_delivery_weeks (
    week BIGINT NOT NULL,
    city TEXT NOT NULL,
    partner TEXT NOT NULL,
    courier_id TEXT NOT NULL,
    delivered BIGINT NOT NULL,
    on_time BIGINT NOT NULL,
    PRIMARY KEY (week, city, partner, courier_id)
);
