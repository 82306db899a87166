-- The contact center's figures kept by 15-minute slot (issue 17: a month
-- of a year of 12.8 million calls read in milliseconds): per slot and
-- queue (`cut` ''), and per slot, queue and agent (`cut` 'agent') or
-- contact reason (`cut` 'reason'), `key` being the agent or the reason
-- ('' for none). The sums add up across slots; the longest wait is the
-- most seen. Every transaction that writes calls adds what changed (the
-- call's new contribution less its old one). Calls count once decided
-- (answered or gone), as the figures read from the calls do.
-- `answered_in_time` counts the waits within the target's seconds kept in
-- the setting `call_slots_seconds`; another target is read from the calls
-- until the slots are built again for it.
CREATE TABLE call_slots (
    cut TEXT NOT NULL,
    slot BIGINT NOT NULL,
    queue TEXT NOT NULL,
    key TEXT NOT NULL,
    offered BIGINT NOT NULL,
    answered BIGINT NOT NULL,
    abandoned BIGINT NOT NULL,
    short_abandoned BIGINT NOT NULL,
    answered_in_time BIGINT NOT NULL,
    answered_wait BIGINT NOT NULL,
    handled BIGINT NOT NULL,
    handle_seconds BIGINT NOT NULL,
    longest_wait BIGINT NOT NULL,
    PRIMARY KEY (cut, slot, queue, key)
);

-- The calls stored so far, kept for the default target (80/20): another
-- target is built when the server starts.
INSERT INTO call_slots (cut, slot, queue, key, offered, answered, abandoned, short_abandoned,
    answered_in_time, answered_wait, handled, handle_seconds, longest_wait)
SELECT '', entered_at / 900000, queue, '', COUNT(*),
    SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END),
    SUM(CASE WHEN outcome = 'abandoned' AND wait_seconds <= 5 THEN 1 ELSE 0 END),
    SUM(CASE WHEN answered_at IS NOT NULL AND wait_seconds <= 20 THEN 1 ELSE 0 END),
    COALESCE(SUM(CASE WHEN answered_at IS NOT NULL THEN wait_seconds ELSE 0 END), 0),
    SUM(CASE WHEN outcome = 'answered' AND talk_seconds IS NOT NULL THEN 1 ELSE 0 END),
    COALESCE(SUM(CASE WHEN outcome = 'answered' THEN talk_seconds ELSE 0 END), 0),
    COALESCE(MAX(wait_seconds), 0)
FROM calls WHERE entered AND outcome <> 'waiting'
GROUP BY entered_at / 900000, queue;
INSERT INTO call_slots (cut, slot, queue, key, offered, answered, abandoned, short_abandoned,
    answered_in_time, answered_wait, handled, handle_seconds, longest_wait)
SELECT 'agent', entered_at / 900000, queue, COALESCE(agent, ''), COUNT(*),
    SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END),
    SUM(CASE WHEN outcome = 'abandoned' AND wait_seconds <= 5 THEN 1 ELSE 0 END),
    SUM(CASE WHEN answered_at IS NOT NULL AND wait_seconds <= 20 THEN 1 ELSE 0 END),
    COALESCE(SUM(CASE WHEN answered_at IS NOT NULL THEN wait_seconds ELSE 0 END), 0),
    SUM(CASE WHEN outcome = 'answered' AND talk_seconds IS NOT NULL THEN 1 ELSE 0 END),
    COALESCE(SUM(CASE WHEN outcome = 'answered' THEN talk_seconds ELSE 0 END), 0),
    COALESCE(MAX(wait_seconds), 0)
FROM calls WHERE entered AND outcome <> 'waiting'
GROUP BY entered_at / 900000, queue, COALESCE(agent, '');
INSERT INTO call_slots (cut, slot, queue, key, offered, answered, abandoned, short_abandoned,
    answered_in_time, answered_wait, handled, handle_seconds, longest_wait)
SELECT 'reason', entered_at / 900000, queue, COALESCE(reason, ''), COUNT(*),
    SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END),
    SUM(CASE WHEN outcome = 'abandoned' AND wait_seconds <= 5 THEN 1 ELSE 0 END),
    SUM(CASE WHEN answered_at IS NOT NULL AND wait_seconds <= 20 THEN 1 ELSE 0 END),
    COALESCE(SUM(CASE WHEN answered_at IS NOT NULL THEN wait_seconds ELSE 0 END), 0),
    SUM(CASE WHEN outcome = 'answered' AND talk_seconds IS NOT NULL THEN 1 ELSE 0 END),
    COALESCE(SUM(CASE WHEN outcome = 'answered' THEN talk_seconds ELSE 0 END), 0),
    COALESCE(MAX(wait_seconds), 0)
FROM calls WHERE entered AND outcome <> 'waiting'
GROUP BY entered_at / 900000, queue, COALESCE(reason, '');
INSERT INTO settings (key, value) VALUES ('call_slots_seconds', '20') ON CONFLICT (key) DO NOTHING;
