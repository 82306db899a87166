-- One-time survey links for SMS, e-mail and the customer's personal account.
-- The token is stored as its SHA-256 only; distributed by order_number on
-- Citus, co-located with orders and responses.
CREATE TABLE survey_links (
    order_number TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    survey_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (order_number, token_hash)
);

CREATE UNIQUE INDEX survey_links_by_token ON survey_links (token_hash);
