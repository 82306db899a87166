-- The agents' and contact reasons' call figures kept by UTC day too
-- (`cut` 'agent_day' and 'reason_day', `slot` the day: entered_at /
-- 86400000), so a month by agent reads ~30 rows per agent and queue, with
-- the period's partial days at its edges read from the 15-minute rows.
-- Built from the 15-minute rows kept so far (96 to a day).
INSERT INTO call_slots (cut, slot, queue, key, offered, answered, abandoned, short_abandoned,
    answered_in_time, answered_wait, handled, handle_seconds, longest_wait)
SELECT cut || '_day', slot / 96, queue, key, SUM(offered), SUM(answered), SUM(abandoned),
    SUM(short_abandoned), SUM(answered_in_time), SUM(answered_wait), SUM(handled),
    SUM(handle_seconds), MAX(longest_wait)
FROM call_slots WHERE cut IN ('agent', 'reason')
GROUP BY cut, slot / 96, queue, key;
