-- The e-mail channel. Each line may have a mailbox read over IMAP: new
-- messages open or join cases; replies go out over SMTP from its address.
-- `uid_validity` and `last_uid` are how far the mailbox was read (IMAP
-- UIDs; a changed UIDVALIDITY reads it again, the message ids below keep
-- that from adding anything twice). The password is kept to log in with,
-- as the mail server's is.
CREATE TABLE mailboxes (
    line TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    host TEXT NOT NULL,
    port BIGINT NOT NULL,
    security TEXT NOT NULL,
    username TEXT NOT NULL,
    password TEXT NOT NULL,
    folder TEXT NOT NULL,
    uid_validity BIGINT,
    last_uid BIGINT NOT NULL DEFAULT 0,
    checked_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);

-- Every message of a case's e-mail thread, theirs and ours, by its
-- Message-ID: a reply's In-Reply-To or References finds its case here,
-- and a message read twice (two servers, a re-read mailbox) is taken once.
CREATE TABLE mail_messages (
    message_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    direction TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX mail_messages_by_case ON mail_messages (case_id, created_at);

-- Who wrote: a customer is found by their e-mail address.
CREATE INDEX customers_by_email ON customers (lower(email));
