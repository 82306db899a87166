-- Items refused at the door (issue 18): one row per refusal the courier
-- records for an order (`id` made by the client, so a retry records
-- nothing twice), its items beside it. The order's courier, city and
-- partner are copied at the time, as responses do.
CREATE TABLE refusals (
    id TEXT PRIMARY KEY,
    order_number TEXT NOT NULL,
    whole_order BOOLEAN NOT NULL,
    courier_id TEXT,
    city TEXT NOT NULL,
    partner TEXT,
    recorded_at BIGINT NOT NULL,
    token_id TEXT
);
CREATE INDEX refusals_by_order ON refusals (order_number);
CREATE INDEX refusals_by_time ON refusals (recorded_at);
CREATE TABLE refused_items (
    refusal_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    item TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    reason TEXT NOT NULL,
    note TEXT,
    PRIMARY KEY (refusal_id, position)
);
