-- Delivery rollup: delivered orders and those delivered within their
-- window, by local day of delivery (deployment time zone), city, partner
-- and courier ('' when none), kept by the import that writes the orders.
-- The on-time rate of any period and grouping reads this table.
-- `doorstep rollups rebuild` recomputes it from the orders.
CREATE TABLE rollup_delivery_days (
    day BIGINT NOT NULL,
    month BIGINT NOT NULL,
    city TEXT NOT NULL,
    partner TEXT NOT NULL,
    courier_id TEXT NOT NULL,
    delivered BIGINT NOT NULL,
    on_time BIGINT NOT NULL,
    PRIMARY KEY (day, city, partner, courier_id)
);
