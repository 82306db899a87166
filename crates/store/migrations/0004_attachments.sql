-- Photos and voice messages answered at the door. The files live in the
-- data directory, named by their SHA-256 (the id); this table says what
-- each is, who sent it and when, so that retention can delete them.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    token_id TEXT,
    created_at BIGINT NOT NULL
);

CREATE INDEX attachments_by_created ON attachments (created_at);

-- Which review link (if any) a promoter opened after the survey.
ALTER TABLE responses ADD COLUMN review_opened TEXT;
