-- The courier rollup gains the survey, partner, segment and channel, so
-- that a courier together with any of them (a courier's answers for one
-- partner, the couriers of one partner, a courier's repeat customers) is
-- counted from rollups, not from the raw answers. Its rows are counted again
-- from the stored answers: the mark below makes `doorstep serve` rebuild
-- the rollups before it listens (or run `doorstep rollups rebuild`).

-- Increments not folded yet (SQLite) are counted again by that rebuild.
DELETE FROM rollup_pending;

DROP TABLE rollup_courier_days;
CREATE TABLE rollup_courier_days (
    courier_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    month BIGINT NOT NULL,
    city TEXT NOT NULL,
    survey_id TEXT NOT NULL,
    partner TEXT NOT NULL,
    segment TEXT NOT NULL,
    channel TEXT NOT NULL,
    completed BIGINT NOT NULL,
    refused BIGINT NOT NULL,
    timed_out BIGINT NOT NULL,
    nps_n BIGINT NOT NULL,
    promoters BIGINT NOT NULL,
    passives BIGINT NOT NULL,
    detractors BIGINT NOT NULL,
    csi_n BIGINT NOT NULL,
    csi_sum DOUBLE PRECISION NOT NULL,
    csi_norm_sum DOUBLE PRECISION NOT NULL,
    csi_w_n BIGINT NOT NULL,
    csi_w_sum DOUBLE PRECISION NOT NULL,
    csat_n BIGINT NOT NULL,
    csat_top2 BIGINT NOT NULL,
    ces_n BIGINT NOT NULL,
    ces_sum DOUBLE PRECISION NOT NULL,
    ces_easy BIGINT NOT NULL,
    ces_hard BIGINT NOT NULL,
    PRIMARY KEY (courier_id, day, city, survey_id, partner, segment, channel)
);
CREATE INDEX rollup_courier_days_by_day ON rollup_courier_days (day);

DROP TABLE rollup_courier_weeks;
CREATE TABLE rollup_courier_weeks (
    week BIGINT NOT NULL,
    courier_id TEXT NOT NULL,
    city TEXT NOT NULL,
    survey_id TEXT NOT NULL,
    partner TEXT NOT NULL,
    segment TEXT NOT NULL,
    channel TEXT NOT NULL,
    tally BYTEA NOT NULL,
    PRIMARY KEY (week, courier_id, city, survey_id, partner, segment, channel)
);
-- The fleet's rows for one partner (a partner's couriers), without reading
-- the other partners' (a courier's own rows are a key prefix already).
CREATE INDEX rollup_courier_weeks_by_partner ON rollup_courier_weeks (partner, week);

-- The rebuild the mark asks for also forgets the built weeks and days.
INSERT INTO settings (key, value)
SELECT 'rollups_stale', 'the courier rollup gained the survey, partner, segment and channel (migration 15)'
WHERE EXISTS (SELECT 1 FROM responses)
  AND NOT EXISTS (SELECT 1 FROM settings WHERE key = 'rollups_stale');
