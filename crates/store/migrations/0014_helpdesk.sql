-- The closed loop: alert rules and the incidents they raise, the
-- dispatcher's call-back attempts, cases with their contacts, remedies and
-- the customer's bonus ledger.

-- A VIP customer (from the company's systems, `customer_vip` in an
-- import): surveys timed out at their door can raise an incident. NULL:
-- never said (not a VIP).
ALTER TABLE customers ADD COLUMN vip BOOLEAN;

-- Alert rules, evaluated in the transaction that stores a response. The
-- condition is JSON (see domain/helpdesk/alerts.rs). A new deployment
-- starts with the detractor rule on.
CREATE TABLE alert_rules (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    priority TEXT NOT NULL,
    condition TEXT NOT NULL,
    position BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO alert_rules (id, name, enabled, priority, condition, position, updated_at)
VALUES ('detractor', 'NPS 0–6', TRUE, 'high', '{"type":"nps_at_most","value":6}', 1, 0);

-- Incidents: one per order and rule, enforced here (two responses to one
-- order, or two servers storing at once, raise it once). The queue is
-- ordered by priority (`priority_rank`: 0 urgent, 1 high, 2 normal) and then by
-- `due_at`: when it was raised, or the "call again at" time of its last
-- attempt. The city, courier and customer are copied from the order so the
-- queue reads one table. `answered_at` is when the customer answered (the
-- loop's clock starts there), `created_at` when the answer reached us.
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    order_number TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    response_id TEXT NOT NULL,
    priority TEXT NOT NULL,
    priority_rank BIGINT NOT NULL,
    reason TEXT NOT NULL,
    city TEXT NOT NULL,
    courier_id TEXT,
    customer_phone TEXT NOT NULL,
    nps BIGINT,
    status TEXT NOT NULL,
    owner_id TEXT,
    owner_login TEXT,
    claimed_at BIGINT,
    due_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    first_attempt_at BIGINT,
    reached_at BIGINT,
    outcome TEXT,
    closed_at BIGINT,
    case_id TEXT,
    answered_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (order_number, rule_id)
);
CREATE INDEX incidents_queue ON incidents (status, priority_rank, due_at);
CREATE INDEX incidents_closed ON incidents (status, closed_at);
CREATE INDEX incidents_by_city ON incidents (city, status, priority_rank, due_at);
CREATE INDEX incidents_by_customer ON incidents (customer_phone);
CREATE INDEX incidents_by_answered ON incidents (answered_at);

CREATE TABLE incident_attempts (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    result TEXT NOT NULL,
    note TEXT,
    call_again_at BIGINT,
    author_login TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX incident_attempts_by_incident ON incident_attempts (incident_id, created_at);

-- Case categories: the editable list, each with its playbook (JSON: the
-- remedies offered and their default amounts).
CREATE TABLE case_categories (
    id TEXT PRIMARY KEY,
    name_en TEXT NOT NULL,
    name_ru TEXT NOT NULL,
    playbook TEXT NOT NULL,
    position BIGINT NOT NULL
);
INSERT INTO case_categories (id, name_en, name_ru, playbook, position) VALUES
('late', 'Late delivery', 'Опоздание', '[{"type":"bonus_credit","fixed":30000},{"type":"compensation","share_percent":10}]', 1),
('damaged', 'Damaged items', 'Повреждённый товар', '[{"type":"redeliver_free"},{"type":"compensation","share_percent":20},{"type":"full_refund"}]', 2),
('incomplete', 'Items missing', 'Неполный заказ', '[{"type":"redeliver_free"},{"type":"bonus_credit","fixed":20000}]', 3),
('wrong_item', 'Wrong item', 'Не тот товар', '[{"type":"redeliver_free"},{"type":"price_difference_refund"},{"type":"compensation","share_percent":10}]', 4),
('payment_failed', 'Payment failed', 'Оплата не прошла', '[{"type":"payment_retry"},{"type":"switch_to_cash"}]', 5),
('address_change', 'Address change', 'Смена адреса', '[{"type":"redeliver_free"}]', 6),
('recipient_unreachable', 'Recipient unreachable', 'Получатель недоступен', '[{"type":"redeliver_free"}]', 7),
('courier_behaviour', 'Courier behaviour', 'Поведение курьера', '[{"type":"bonus_credit","fixed":50000},{"type":"compensation","share_percent":10}]', 8),
('other', 'Other', 'Другое', '[{"type":"bonus_credit","fixed":10000}]', 9);

-- Cases. `open_key` ("order:N", or "phone:P" without an order) is set
-- while the case is unresolved and cleared when it is resolved: its
-- unique index lets one open case per customer and order exist, so a new
-- contact joins it (NULLs never collide). A contact's `external_id` is
-- unique (on case_entries): the same request sent again finds its case.
-- `contacts` counts the customer's inbound contacts (first-contact
-- resolution); `handed_to` is the department a fault was handed to.
CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    number BIGINT NOT NULL UNIQUE,
    open_key TEXT UNIQUE,
    channel TEXT NOT NULL,
    line TEXT NOT NULL,
    category TEXT NOT NULL,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    customer_phone TEXT,
    order_number TEXT,
    incident_id TEXT UNIQUE,
    owner_id TEXT,
    owner_login TEXT,
    subject TEXT NOT NULL,
    contacts BIGINT NOT NULL,
    first_response_at BIGINT,
    fault TEXT,
    fault_note TEXT,
    handed_to TEXT,
    handed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    resolved_at BIGINT,
    closed_at BIGINT
);
CREATE INDEX cases_inbox ON cases (line, status, updated_at);
CREATE INDEX cases_by_owner ON cases (owner_id, status, updated_at);
CREATE INDEX cases_by_customer ON cases (customer_phone, created_at);
CREATE INDEX cases_by_order ON cases (order_number);
CREATE INDEX cases_by_department ON cases (handed_to, handed_at);
CREATE INDEX cases_by_created ON cases (created_at);
-- The case numbers people say on the phone ("case 1042").
CREATE TABLE case_sequence (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_number BIGINT NOT NULL
);
INSERT INTO case_sequence (id, last_number) VALUES (1, 1000);

-- A case's timeline: contacts (inbound or outbound, on a channel),
-- internal notes (never shown to the customer) and what was done
-- (`kind` = 'event': a status, an owner, a fault, a remedy).
CREATE TABLE case_entries (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    kind TEXT NOT NULL,
    channel TEXT,
    direction TEXT,
    body TEXT NOT NULL,
    author TEXT NOT NULL,
    external_id TEXT UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX case_entries_by_case ON case_entries (case_id, created_at);

-- Remedies applied (or asked for) on a case. The same idempotency key on
-- the same case is one remedy, however often and by however many servers
-- it is sent. `fingerprint` tells a retry from another request reusing a
-- key. Statuses: applied (done here: a bonus credit, a compensation),
-- requested (sent to the company's systems), done / failed (their
-- outcome), pending_approval, refused.
CREATE TABLE remedies (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    remedy_type TEXT NOT NULL,
    amount_minor BIGINT,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    customer_phone TEXT,
    requested_by TEXT NOT NULL,
    decided_by TEXT,
    decision_note TEXT,
    outcome_note TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (case_id, idempotency_key)
);
CREATE INDEX remedies_by_status ON remedies (status, created_at);
CREATE INDEX remedies_by_case ON remedies (case_id, created_at);
CREATE INDEX remedies_by_customer ON remedies (customer_phone, created_at);

-- The bonus ledger: append-only, amounts signed in minor units; the
-- balance is their sum. `idempotency_key` is unique (a credit applied
-- twice is written once); `reverses` is unique (an entry is reversed at
-- most once). A customer's row in `ledger_accounts` is written by every
-- transaction that adds to their ledger: it holds the writers of one
-- customer's ledger one after another (PostgreSQL's row lock; SQLite has
-- one writer anyway), so a debit sees the balance no other debit is
-- changing. It stores no balance.
CREATE TABLE ledger_entries (
    id TEXT PRIMARY KEY,
    customer_phone TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    kind TEXT NOT NULL,
    case_id TEXT,
    remedy_id TEXT,
    reverses TEXT UNIQUE,
    idempotency_key TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    reason TEXT,
    author TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ledger_by_customer ON ledger_entries (customer_phone, created_at);
CREATE INDEX ledger_by_created ON ledger_entries (created_at);
CREATE TABLE ledger_accounts (
    customer_phone TEXT PRIMARY KEY,
    entries BIGINT NOT NULL
);
