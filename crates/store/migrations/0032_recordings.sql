-- The conversation at the door, recorded with the customer's consent
-- (issue 18). A response says whether the customer was asked and agreed
-- (NULL: the survey does not record); the recording, uploaded after the
-- answers as an attachment, is tied to its response once; every play in
-- the console is logged. The courier habits count the consents and the
-- recordings kept (at least half as long as the survey) for the
-- self-filling signal.
ALTER TABLE responses ADD COLUMN recording_consent BOOLEAN;
CREATE TABLE recordings (
    order_number TEXT NOT NULL,
    response_id TEXT NOT NULL,
    attachment_id TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    token_id TEXT,
    attached_at BIGINT NOT NULL,
    PRIMARY KEY (order_number, response_id)
);
CREATE INDEX recordings_by_attachment ON recordings (attachment_id);
CREATE TABLE recording_plays (
    order_number TEXT NOT NULL,
    response_id TEXT NOT NULL,
    login TEXT NOT NULL,
    played_at BIGINT NOT NULL
);
CREATE INDEX recording_plays_by_response ON recording_plays (order_number, response_id, played_at);
ALTER TABLE rollup_courier_habits ADD COLUMN recordings_agreed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_courier_habits ADD COLUMN recordings_kept BIGINT NOT NULL DEFAULT 0;
