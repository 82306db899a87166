-- Foundation: deployment settings, the company's orders and who may see them.
-- Portable DDL: the same file runs on SQLite and PostgreSQL. Keys are made by
-- the application (text), times are BIGINT milliseconds since the epoch (UTC),
-- money is BIGINT minor units. Every integer is BIGINT so that both backends
-- decode it as i64.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Reference tables (replicated on Citus).
CREATE TABLE cities (
    name TEXT PRIMARY KEY,
    time_zone TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE partners (
    name TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);

CREATE TABLE couriers (
    id TEXT PRIMARY KEY,
    name TEXT,
    created_at BIGINT NOT NULL
);

-- Distributed by phone on Citus. first_order_* name the customer's first
-- order by promised time: that order is the "new" segment, every later one
-- "repeat". Kept by the import as a running minimum, so no import has to
-- read a customer's history to place a new order.
CREATE TABLE customers (
    phone TEXT PRIMARY KEY,
    name TEXT,
    email TEXT,
    first_order_at BIGINT,
    first_order_number TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Distributed by order_number on Citus; answers and responses will be
-- co-located with it.
-- City, partner, courier and customer are written by the same transaction
-- as the order; they are not declared as foreign keys because per-row
-- foreign-key checks would cost PostgreSQL more than the insert itself on a
-- million-row import, and customers are not co-located with orders.
CREATE TABLE orders (
    order_number TEXT PRIMARY KEY,
    customer_phone TEXT NOT NULL,
    city TEXT NOT NULL,
    partner TEXT,
    courier_id TEXT,
    promised_from BIGINT NOT NULL,
    promised_to BIGINT NOT NULL,
    delivered_at BIGINT,
    amount_minor BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX orders_by_customer ON orders (customer_phone, promised_from);
CREATE INDEX orders_by_promised ON orders (promised_from);
CREATE INDEX orders_by_courier ON orders (courier_id, promised_from);
CREATE INDEX orders_by_city ON orders (city, promised_from);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT 'en',
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);

-- Session and token secrets are stored as SHA-256 hashes only.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    courier_id TEXT REFERENCES couriers (id),
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE enrollment_codes (
    code_hash TEXT PRIMARY KEY,
    courier_id TEXT NOT NULL REFERENCES couriers (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
