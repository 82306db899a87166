-- The support figures by local day (in the deployment's time zone), built
-- from the cases once a day is over, so that a year of a million cases is
-- read as a few hundred rows. Each case's facts fall in the day of their
-- own instant (opened, resolved, a deadline, the first reply, the CSAT
-- answer). One row per day and group of one cut: `dimension` is '' (all
-- cases), 'line', 'channel', 'operator' or 'category', `group_key` its
-- value. The counts add up across days; what does not — distinct
-- customers and the median first reply — is kept as sorted lists
-- (`customers`, `repeat_customers`: 64-bit digests of the customers'
-- phones; `first_replies`: business milliseconds), each as
-- LEB128-encoded gaps, and merged by the reader.
CREATE TABLE support_days (
    dimension TEXT NOT NULL,
    day BIGINT NOT NULL,
    group_key TEXT NOT NULL,
    cases BIGINT NOT NULL,
    lone_customers BIGINT NOT NULL,
    lone_repeat BIGINT NOT NULL,
    resolved BIGINT NOT NULL,
    fcr BIGINT NOT NULL,
    first_due BIGINT NOT NULL,
    first_met BIGINT NOT NULL,
    resolution_due BIGINT NOT NULL,
    resolution_met BIGINT NOT NULL,
    csat_answers BIGINT NOT NULL,
    csat_top2 BIGINT NOT NULL,
    customers BYTEA NOT NULL,
    repeat_customers BYTEA NOT NULL,
    first_replies BYTEA NOT NULL,
    PRIMARY KEY (dimension, day, group_key)
);
CREATE INDEX support_days_by_day ON support_days (day);

-- Which days' rows are complete (see `rollup_day_state`); the time zone
-- they were built in is the setting `support_days_time_zone` (rows of
-- another zone are never read, and the builder starts over).
CREATE TABLE support_day_state (
    day BIGINT PRIMARY KEY,
    built BOOLEAN NOT NULL,
    generation BIGINT NOT NULL DEFAULT 0
);

-- Cases changed since their days were built: every transaction that
-- changes what a case counts for writes one row (`since`: the case's
-- creation, before which none of its facts falls). Readers count every
-- day from the earliest of them from the cases themselves; the builder
-- takes the rows, marks those days not built and builds them again. An
-- insert of its own per change: no writer waits for another.
CREATE TABLE support_touched (
    id BIGINT PRIMARY KEY,
    since BIGINT NOT NULL
);
CREATE INDEX support_touched_since ON support_touched (since);
