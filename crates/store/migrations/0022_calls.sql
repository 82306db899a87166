-- Calls from the company's PBX (issue 17). Every event of a call in a
-- queue, as its queue_log line, CDR row or API message said it, kept once
-- (its call, event, instant and agent: a file imported again, or two
-- servers taking the same message, add nothing); `data` is the event's
-- data fields as a JSON array of text.
CREATE TABLE call_events (
    call_id TEXT NOT NULL,
    event TEXT NOT NULL,
    at BIGINT NOT NULL,
    agent TEXT NOT NULL,
    queue TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (call_id, event, at, agent)
);

-- Each call as its events tell it, written again by every transaction that
-- stores an event of it (so a call whose events come in two files, a log
-- rotated mid-call, is completed when the second arrives). `outcome`:
-- waiting, talking, answered, abandoned, unanswered (see
-- domain/calls.rs); `entered`: its ENTERQUEUE was seen. `customer_phone`:
-- the caller in E.164 when the number is a phone (not an extension).
CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    caller TEXT,
    customer_phone TEXT,
    entered_at BIGINT NOT NULL,
    answered_at BIGINT,
    ended_at BIGINT,
    agent TEXT,
    wait_seconds BIGINT,
    talk_seconds BIGINT,
    outcome TEXT NOT NULL,
    entered BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX calls_by_entered ON calls (entered_at);
CREATE INDEX calls_by_customer ON calls (customer_phone, entered_at);
CREATE INDEX calls_by_outcome ON calls (outcome, queue);

-- Every queue calls came to, and the line it serves (Settings → Channels;
-- the customers' line until an admin says otherwise), listed by the
-- transaction that stores its calls.
CREATE TABLE call_queues (
    queue TEXT PRIMARY KEY,
    line TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
