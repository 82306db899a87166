-- The refusal rates' rollups (issue 18): orders with items refused, by the
-- local day of the order's first refusal, overall (reason '') and per
-- reason (the day that reason was first given for the order); by city,
-- partner and courier ('' when none), and again without the courier (the
-- rows every view without a courier reads: a few thousand a month). Each
-- order counts once overall and once per reason: `refused_orders` and
-- `refused_order_reasons` decide by their primary keys, in the transaction
-- that records the refusal. `doorstep rollups rebuild` recomputes them all
-- from the refusals.
CREATE TABLE refused_orders (
    order_number TEXT PRIMARY KEY
);
CREATE TABLE refused_order_reasons (
    order_number TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (order_number, reason)
);
CREATE TABLE rollup_refusal_days (
    reason TEXT NOT NULL,
    day BIGINT NOT NULL,
    city TEXT NOT NULL,
    partner TEXT NOT NULL,
    courier_id TEXT NOT NULL,
    orders BIGINT NOT NULL,
    PRIMARY KEY (reason, day, city, partner, courier_id)
);
CREATE INDEX rollup_refusal_days_by_courier ON rollup_refusal_days (courier_id, reason, day);
CREATE TABLE rollup_refusal_place_days (
    reason TEXT NOT NULL,
    day BIGINT NOT NULL,
    city TEXT NOT NULL,
    partner TEXT NOT NULL,
    orders BIGINT NOT NULL,
    PRIMARY KEY (reason, day, city, partner)
);
