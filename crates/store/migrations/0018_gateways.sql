-- Messenger and social-network gateways (a Telegram bot, a WhatsApp
-- gateway, a social-listening service). Each posts customers' messages to
-- /hooks/gateways/{id}, signed with its secret as Standard Webhooks says
-- (the secret is kept to check signatures, as webhook secrets are kept to
-- make them); Doorstep's replies go back to it through a webhook
-- subscription to `case.replied`.
CREATE TABLE gateways (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_message_at BIGINT
);

-- The conversation a case lives in on a gateway ("GATEWAY:CONVERSATION"):
-- where its replies go. Without an order or a phone, it is also what a new
-- message joins (`open_key` "conversation:…").
ALTER TABLE cases ADD COLUMN conversation TEXT;
CREATE INDEX cases_by_conversation ON cases (conversation);
