-- The courier rollup by week as well (the week's Monday as a day number):
-- a year by courier and week reads 52 rows per courier instead of 365.
-- Kept by the same transaction as the daily rows; a period that does not
-- start on a Monday or end on a Sunday takes its partial weeks from the
-- daily rows.
CREATE TABLE rollup_courier_weeks (
    week BIGINT NOT NULL,
    courier_id TEXT NOT NULL,
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
    PRIMARY KEY (week, courier_id, city)
);

-- A database from before this table: its weeks from the daily rows.
INSERT INTO rollup_courier_weeks (week, courier_id, city, completed, refused, timed_out, nps_n, promoters,
    passives, detractors, csi_n, csi_sum, csi_norm_sum, csi_w_n, csi_w_sum, csat_n, csat_top2, ces_n, ces_sum,
    ces_easy, ces_hard)
SELECT day - ((day + 3) % 7), courier_id, city, SUM(completed), SUM(refused), SUM(timed_out), SUM(nps_n),
    SUM(promoters), SUM(passives), SUM(detractors), SUM(csi_n), SUM(csi_sum), SUM(csi_norm_sum), SUM(csi_w_n),
    SUM(csi_w_sum), SUM(csat_n), SUM(csat_top2), SUM(ces_n), SUM(ces_sum), SUM(ces_easy), SUM(ces_hard)
FROM rollup_courier_days
GROUP BY day - ((day + 3) % 7), courier_id, city;
