-- The dashboard's "told first" reads the period's late orders (delivered
-- after their window, or not delivered once it closed): only those are
-- indexed, so a month of millions of orders delivered on time is never
-- scanned to find them. Its query repeats this predicate word for word
-- (SQLite uses a partial index only then).
CREATE INDEX orders_late ON orders (promised_to) WHERE delivered_at IS NULL OR delivered_at > promised_to;
