-- Daily rows built from the raw answers once a local day is over, for the
-- figures that pair answers within a response and so cannot be kept by the
-- ingesting transaction cheaply: the couriers' habits (the self-filling
-- signals) and the factor/NPS pairs (the key drivers). A background step
-- builds every past day not built yet, in its own transaction; an answer
-- arriving late for a past day marks that day not built in the transaction
-- that stores it (the raw answers answer for the day until it is built
-- again). `doorstep rollups rebuild` rebuilds them all.

-- A built day also keeps its answer and delivery rollup rows unchanged (a
-- late answer or delivery marks it), so, as a built week's, they may be
-- held in memory while its `generation` (random, never given twice) stays.
CREATE TABLE rollup_day_state (
    day BIGINT PRIMARY KEY,
    built BOOLEAN NOT NULL,
    generation BIGINT NOT NULL DEFAULT 0
);

-- Per courier and day, over completed responses. `same_answers`: how many
-- of the day's responses repeat the courier's most frequent answer sequence
-- of that day (its first not counted).
CREATE TABLE rollup_courier_habits (
    day BIGINT NOT NULL,
    courier_id TEXT NOT NULL,
    responses BIGINT NOT NULL,
    duration_sum DOUBLE PRECISION NOT NULL,
    delay_n BIGINT NOT NULL,
    delay_sum DOUBLE PRECISION NOT NULL,
    nps_n BIGINT NOT NULL,
    tens BIGINT NOT NULL,
    same_answers BIGINT NOT NULL,
    photos_asked BIGINT NOT NULL,
    photos_taken BIGINT NOT NULL,
    PRIMARY KEY (day, courier_id)
);

-- Per scale question of a survey version and day: its answers (x) paired
-- with the NPS answer (y) of the same completed response, as sums. Two cuts,
-- as the answer rollups: by the dimensions reports filter by, and by
-- courier (and city).
CREATE TABLE rollup_driver_days (
    day BIGINT NOT NULL,
    survey_id TEXT NOT NULL,
    survey_version BIGINT NOT NULL,
    question_id TEXT NOT NULL,
    city TEXT NOT NULL,
    partner TEXT NOT NULL,
    segment TEXT NOT NULL,
    channel TEXT NOT NULL,
    n BIGINT NOT NULL,
    sx DOUBLE PRECISION NOT NULL,
    sy DOUBLE PRECISION NOT NULL,
    sxx DOUBLE PRECISION NOT NULL,
    syy DOUBLE PRECISION NOT NULL,
    sxy DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (day, survey_id, survey_version, question_id, city, partner, segment, channel)
);

CREATE TABLE rollup_courier_driver_days (
    courier_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    survey_id TEXT NOT NULL,
    survey_version BIGINT NOT NULL,
    question_id TEXT NOT NULL,
    city TEXT NOT NULL,
    n BIGINT NOT NULL,
    sx DOUBLE PRECISION NOT NULL,
    sy DOUBLE PRECISION NOT NULL,
    sxx DOUBLE PRECISION NOT NULL,
    syy DOUBLE PRECISION NOT NULL,
    sxy DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (courier_id, day, survey_id, survey_version, question_id, city)
);
