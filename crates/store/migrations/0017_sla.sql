-- SLA: each line's calendar and promises (JSON, see domain/helpdesk/sla.rs
-- `LineSla`); a line with no row works all the time on the defaults.
CREATE TABLE sla_lines (
    line TEXT PRIMARY KEY,
    sla TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A case's standing against its line's promises, written by every
-- transaction that changes the case and by the SLA job, which looks again
-- at the cases whose `sla_check_at` has come (a deadline turns at risk or
-- is missed). `sla_breaches` counts the missed deadlines already told
-- (`case.sla_breached`): the job and a change racing it tell each once.
-- `first_response_met` / `resolution_met`: NULL while owed and not late.
-- `first_response_ms`: the business time the first reply took.
ALTER TABLE cases ADD COLUMN sla_state TEXT;
ALTER TABLE cases ADD COLUMN first_response_due_at BIGINT;
ALTER TABLE cases ADD COLUMN next_response_due_at BIGINT;
ALTER TABLE cases ADD COLUMN resolution_due_at BIGINT;
ALTER TABLE cases ADD COLUMN first_response_met BOOLEAN;
ALTER TABLE cases ADD COLUMN resolution_met BOOLEAN;
ALTER TABLE cases ADD COLUMN first_response_ms BIGINT;
ALTER TABLE cases ADD COLUMN sla_check_at BIGINT;
ALTER TABLE cases ADD COLUMN sla_breaches BIGINT NOT NULL DEFAULT 0;
CREATE INDEX cases_sla_check ON cases (sla_check_at);
CREATE INDEX cases_first_response_due ON cases (first_response_due_at);
CREATE INDEX cases_resolution_due ON cases (resolution_due_at);
CREATE INDEX cases_by_resolved ON cases (resolved_at);
CREATE INDEX cases_by_first_response ON cases (first_response_at);

-- First-contact resolution, measured: a case opened by the same customer
-- about the same order or category within 7 days of an earlier one (still
-- open, or resolved in those days) is a repeat of it (`repeat_of`), and
-- the earlier one was followed by a repeat (`repeated_at`, the first).
ALTER TABLE cases ADD COLUMN repeat_of TEXT;
ALTER TABLE cases ADD COLUMN repeated_at BIGINT;

-- The customer's satisfaction with the case (CSAT 1–5), when they said.
ALTER TABLE cases ADD COLUMN csat BIGINT;
ALTER TABLE cases ADD COLUMN csat_at BIGINT;
CREATE INDEX cases_by_csat ON cases (csat_at);

-- Whether an outbound contact was a person's reply (which the SLA counts)
-- or a machine's notice (which it does not). NULL on older rows: a reply.
ALTER TABLE case_entries ADD COLUMN by_person BOOLEAN;
