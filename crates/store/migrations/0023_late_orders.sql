-- Late orders (METRICS.md: past promised_to and not delivered), found by
-- the `orders.late` job once across servers: each got its incident
-- (category late, the unique key of incidents keeps it to one), a case and
-- a proactive notice to the customer; this row says all three were
-- written, so the job never comes back to the order. The dashboard's
-- "told first" compares when the notice left (its `sent_at`) with the
-- customer's first contact about the order.
CREATE TABLE late_orders (
    order_number TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    notice_id TEXT,
    promised_to BIGINT NOT NULL,
    detected_at BIGINT NOT NULL
);
CREATE INDEX late_orders_by_promised ON late_orders (promised_to);

-- The job's look for orders still undelivered past their window reads
-- only the undelivered ones.
CREATE INDEX orders_undelivered ON orders (promised_to) WHERE delivered_at IS NULL;
