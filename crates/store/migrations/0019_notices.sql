-- Notices to customers: the status page's link when a case opens (and, in
-- time, proactive notices), sent on the customer's channel — the
-- messenger conversation the case came from, else e-mail, else SMS
-- through the company's gateway — never in the quiet hours of the
-- customer's city (`send_after`). One per case and kind, whatever sends
-- it twice: the unique key. Statuses: pending, sending (claimed by the
-- job), sent, failed.
CREATE TABLE notices (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
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
    UNIQUE (case_id, kind)
);
CREATE INDEX notices_due ON notices (status, send_after);

-- A photo the customer sent in the chat of their status page (an
-- attachment's id: the same store, checks, retention and erasure as the
-- door's photos).
ALTER TABLE case_entries ADD COLUMN attachment_id TEXT;
