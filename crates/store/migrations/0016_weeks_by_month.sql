-- Weekly rows are split at the month's end: a week that spans two months
-- has rows for each part, keyed by the month too. A grouping by month then
-- reads whole weeks (the parts of its first and last weeks) instead of
-- every daily row of the period; a grouping by week adds both parts.
--
-- The whole courier rows of a week keep their counters as columns (as
-- the daily rows do) instead of one packed tally, so that the database sums
-- them itself: a year of one partner's couriers is 52,000 rows summed into
-- one per courier where they are read, not 52,000 rows handed over one by
-- one to be added up by Doorstep; and, summed over all but one of those
-- dimensions, they answer the couriers of one partner or segment from a
-- tenth of the rows.

DROP TABLE rollup_weeks;
CREATE TABLE rollup_weeks (
    week BIGINT NOT NULL,
    month BIGINT NOT NULL,
    survey_id TEXT NOT NULL,
    city TEXT NOT NULL,
    partner TEXT NOT NULL,
    segment TEXT NOT NULL,
    channel TEXT NOT NULL,
    tally BYTEA NOT NULL,
    PRIMARY KEY (week, month, survey_id, city, partner, segment, channel)
);

DROP TABLE rollup_courier_weeks;
CREATE TABLE rollup_courier_weeks (
    week BIGINT NOT NULL,
    month BIGINT NOT NULL,
    courier_id TEXT NOT NULL,
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
    PRIMARY KEY (week, courier_id, month, city, survey_id, partner, segment, channel)
);
-- The fleet's rows for one partner (a partner's couriers), without reading
-- the other partners' (a courier's own rows are a key prefix already).
CREATE INDEX rollup_courier_weeks_by_partner ON rollup_courier_weeks (partner, week);

-- The courier rows of a week summed over all but one of the survey,
-- partner, segment and channel (`dim` names that column, `value` is its
-- value): the couriers of one partner, or of one segment, for a year are
-- 500 rows a week to sum, not every row of every partner and segment.
CREATE TABLE rollup_courier_dim_weeks (
    dim TEXT NOT NULL,
    value TEXT NOT NULL,
    week BIGINT NOT NULL,
    courier_id TEXT NOT NULL,
    month BIGINT NOT NULL,
    city TEXT NOT NULL,
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
    PRIMARY KEY (dim, value, week, courier_id, month, city)
);

DROP TABLE rollup_delivery_weeks;
CREATE TABLE rollup_delivery_weeks (
    week BIGINT NOT NULL,
    month BIGINT NOT NULL,
    city TEXT NOT NULL,
    partner TEXT NOT NULL,
    courier_id TEXT NOT NULL,
    delivered BIGINT NOT NULL,
    on_time BIGINT NOT NULL,
    PRIMARY KEY (week, month, city, partner, courier_id)
);

-- Every week is built again from its daily rows by the next background
-- pass; until then its daily rows answer for it.
UPDATE rollup_week_state SET built = FALSE;
