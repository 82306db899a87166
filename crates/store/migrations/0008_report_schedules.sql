-- Reports e-mailed on a schedule: each names how often (the last full day,
-- week or month in the deployment's time zone), how the report is grouped,
-- its file format, and who gets it. `last_period` is the period last sent
-- (claimed before sending, so two servers never send the same one twice).
CREATE TABLE report_schedules (
    id TEXT PRIMARY KEY,
    frequency TEXT NOT NULL,
    group_by TEXT NOT NULL,
    format TEXT NOT NULL,
    recipients TEXT NOT NULL,
    language TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_period TEXT,
    last_sent_at BIGINT,
    last_error TEXT
);
