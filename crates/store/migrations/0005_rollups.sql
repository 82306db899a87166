-- Survey rollups: additive tallies of the responses by local day (in the
-- deployment's time zone) and the dimensions reports group and filter by,
-- kept up to date by the same transaction that stores each response, so a
-- year of data by week and courier reads thousands of rows, not millions.
-- `doorstep rollups rebuild` recomputes them from the raw answers (needed
-- after the deployment's time zone changes). Two cuts: one without the
-- courier, one by courier (and city) only.

CREATE TABLE rollup_days (
    day BIGINT NOT NULL,
    month BIGINT NOT NULL,
    survey_id TEXT NOT NULL,
    city TEXT NOT NULL,
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
    PRIMARY KEY (day, survey_id, city, partner, segment, channel)
);

CREATE TABLE rollup_courier_days (
    courier_id TEXT NOT NULL,
    day BIGINT NOT NULL,
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
    PRIMARY KEY (courier_id, day, city)
);

CREATE INDEX rollup_courier_days_by_day ON rollup_courier_days (day);
