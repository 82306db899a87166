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

-- The built-in support survey: what the customer's status page asks once
-- a case is resolved (channel `support`). Its answers are responses like
-- any other: they feed every score, root cause and alert rule. It is
-- never offered at the door.
INSERT INTO surveys (id, name, current_version, created_at, updated_at)
VALUES ('support', 'After a support case', 1, 0, 0);
INSERT INTO survey_versions (survey_id, version, definition, created_at) VALUES ('support', 1,
'{"name":"After a support case","title":{"en":"How did we do?","ru":"Как мы справились?","uk":"Як ми впоралися?","uz":"Qanday ishladik?"},"questions":[{"id":"support_csat","type":"scale","text":{"en":"How satisfied are you with how we handled your request?","ru":"Насколько вы довольны тем, как мы решили ваш вопрос?","uk":"Наскільки ви задоволені тим, як ми вирішили ваше питання?","uz":"Murojaatingiz qanday hal qilinganidan qanchalik mamnunsiz?"},"min":1,"max":5,"measures":"csat","min_label":{"en":"Very dissatisfied","ru":"Совсем недоволен","uk":"Зовсім незадоволений","uz":"Umuman mamnun emasman"},"max_label":{"en":"Very satisfied","ru":"Очень доволен","uk":"Дуже задоволений","uz":"Juda mamnunman"},"required":true},{"id":"support_ces","type":"scale","text":{"en":"The company made it easy for me to handle my issue.","ru":"Компании было легко со мной решить мой вопрос.","uk":"Компанії було легко вирішити зі мною моє питання.","uz":"Kompaniya muammomni hal qilishni oson qildi."},"min":1,"max":7,"measures":"ces","min_label":{"en":"Strongly disagree","ru":"Совсем не согласен","uk":"Зовсім не згоден","uz":"Umuman qo''shilmayman"},"max_label":{"en":"Strongly agree","ru":"Полностью согласен","uk":"Повністю згоден","uz":"To''liq qo''shilaman"}},{"id":"support_comment","type":"text","text":{"en":"Anything we could have done better?","ru":"Что мы могли сделать лучше?","uk":"Що ми могли зробити краще?","uz":"Nimani yaxshiroq qilishimiz mumkin edi?"}}]}',
0);

-- A CSAT of 3 or less after a case raises a call-back to the dispatcher
-- (its question's id is the support survey's own, so that a door survey's
-- question named `csat` does not set it off).
INSERT INTO alert_rules (id, name, enabled, priority, condition, position, updated_at)
VALUES ('support_csat', 'Support CSAT 1–3', TRUE, 'high', '{"type":"scale_at_most","question":"support_csat","value":3}', 2, 0);
