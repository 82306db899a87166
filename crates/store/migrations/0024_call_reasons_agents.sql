-- A call's contact reason: the wrap-up code last given for it (a WRAPUP
-- event from the PBX, the API or the console), from the editable list of
-- reasons (the setting `call_reasons`).
ALTER TABLE calls ADD COLUMN reason TEXT;

-- Every agent that answered a call, and the person of the console it is
-- (Settings → Channels; none until an admin says), listed by the
-- transaction that stores its calls.
CREATE TABLE call_agents (
    agent TEXT PRIMARY KEY,
    user_id TEXT,
    updated_at BIGINT NOT NULL
);

-- Calls waiting now, per queue, for the live view (the few not yet
-- answered or ended).
CREATE INDEX calls_waiting ON calls (entered_at) WHERE outcome = 'waiting';
