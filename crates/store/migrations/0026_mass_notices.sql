-- Mass notices (issue 17): when one cause hits many orders — a city's
-- roads, a broken van, a partner's kitchen — a dispatcher tells all their
-- customers at once. The notice's selection and its text per language;
-- the `notices.mass` job (once across servers) writes one notice per
-- customer page by page (`after_order`: the last order number done), so a
-- stopped send carries on where it was; `status`: sending, done.
CREATE TABLE mass_notices (
    id TEXT PRIMARY KEY,
    city TEXT,
    courier_id TEXT,
    partner TEXT,
    window_from BIGINT NOT NULL,
    window_to BIGINT NOT NULL,
    texts TEXT NOT NULL,
    status TEXT NOT NULL,
    after_order TEXT NOT NULL DEFAULT '',
    customers BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX mass_notices_by_status ON mass_notices (status, created_at);

-- Notices now come without a case too (a mass notice): `case_id` may be
-- empty, and such a notice names its customer and order; one per mass
-- notice and customer, whatever writes it twice. SQLite cannot drop a NOT
-- NULL, so the table is written anew.
CREATE TABLE notices_next (
    id TEXT PRIMARY KEY,
    case_id TEXT REFERENCES cases (id),
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    language TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    send_after BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at BIGINT,
    created_at BIGINT NOT NULL,
    mass_id TEXT,
    customer_phone TEXT,
    order_number TEXT,
    UNIQUE (case_id, kind),
    UNIQUE (mass_id, customer_phone)
);
INSERT INTO notices_next (id, case_id, kind, channel, address, language, subject, body, status, send_after,
    attempts, last_error, sent_at, created_at)
SELECT id, case_id, kind, channel, address, language, subject, body, status, send_after,
    attempts, last_error, sent_at, created_at FROM notices;
DROP TABLE notices;
ALTER TABLE notices_next RENAME TO notices;
CREATE INDEX notices_due ON notices (status, send_after);
CREATE INDEX notices_by_customer ON notices (customer_phone, created_at);
