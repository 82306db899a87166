-- The dashboard's "told first" figures read one narrow row per order that
-- is late or may become so — every order not delivered, or delivered
-- after its window: the predicate of the orders_late index — with what is
-- known of it: when the late notice left, the customer's first inbound
-- contact about the order, and the order's NPS answer. A month of millions
-- of orders has tens of thousands of late ones; three lookups for each at
-- every view took most of a second. The rows are kept by the writes that
-- change them (orders written, a late notice sent, an inbound contact, an
-- answer stored) and rebuilt by `doorstep rollups rebuild`, whose query
-- (crate::helpdesk::late::LATE_FACTS) is the one below.
CREATE TABLE late_facts (
    order_number TEXT PRIMARY KEY,
    promised_to BIGINT NOT NULL,
    delivered_at BIGINT,
    told_at BIGINT,
    first_contact_at BIGINT,
    nps DOUBLE PRECISION
);
CREATE INDEX late_facts_by_promised ON late_facts (promised_to);

INSERT INTO late_facts (order_number, promised_to, delivered_at, told_at, first_contact_at, nps)
SELECT o.order_number, o.promised_to, o.delivered_at,
    (SELECT MIN(n.sent_at) FROM cases c JOIN notices n ON n.case_id = c.id
        WHERE c.order_number = o.order_number AND n.kind = 'late'),
    (SELECT MIN(e.created_at) FROM cases c JOIN case_entries e ON e.case_id = c.id
        WHERE c.order_number = o.order_number AND e.kind = 'contact' AND e.direction = 'inbound'),
    (SELECT MAX(a.number_value) FROM answers a WHERE a.order_number = o.order_number
        AND a.kind = 'nps' AND a.number_value IS NOT NULL)
FROM orders o WHERE o.delivered_at IS NULL OR o.delivered_at > o.promised_to;

-- The late orders' partial index served only the query these rows replace.
DROP INDEX IF EXISTS orders_late;
