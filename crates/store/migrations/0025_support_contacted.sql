-- First-contact resolution counts the resolved cases a customer contacted
-- about: a case Doorstep opened itself to tell a customer first (a late
-- order) that the customer never answered is resolved without any
-- contact, neither resolved at the first contact nor a failure of it.
ALTER TABLE support_days ADD COLUMN resolved_contacted BIGINT NOT NULL DEFAULT 0;
-- The days built before lack the count: built again (readers count them
-- from the cases meanwhile).
DELETE FROM support_days;
DELETE FROM support_day_state;
