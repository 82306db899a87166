-- Exactly once, enforced by the database: a response id is stored once,
-- and an order answers each survey once (a refusal counts as an answer).
-- Before this, concurrent requests on PostgreSQL could each pass the
-- application's existence check and store the same answer twice; those
-- copies are removed here, keeping the first received, and the rollups are
-- marked to be counted again from the raw answers on the next start.
--
-- (On Citus a unique index must hold the distribution column, order_number;
-- there the id's uniqueness would move to a small table distributed by id.)

CREATE TABLE duplicate_responses (
    order_number TEXT NOT NULL,
    id TEXT NOT NULL
);

INSERT INTO duplicate_responses (order_number, id)
SELECT r.order_number, r.id FROM responses r
WHERE EXISTS (
        SELECT 1 FROM responses e WHERE e.id = r.id
        AND (e.received_at < r.received_at
             OR (e.received_at = r.received_at AND e.order_number < r.order_number)))
   OR EXISTS (
        SELECT 1 FROM responses e
        WHERE e.order_number = r.order_number AND e.survey_id = r.survey_id
        AND (e.received_at < r.received_at
             OR (e.received_at = r.received_at AND e.id < r.id)));

DELETE FROM answers WHERE EXISTS (
    SELECT 1 FROM duplicate_responses d
    WHERE d.order_number = answers.order_number AND d.id = answers.response_id);
DELETE FROM response_causes WHERE EXISTS (
    SELECT 1 FROM duplicate_responses d
    WHERE d.order_number = response_causes.order_number AND d.id = response_causes.response_id);
DELETE FROM responses WHERE EXISTS (
    SELECT 1 FROM duplicate_responses d
    WHERE d.order_number = responses.order_number AND d.id = responses.id);

INSERT INTO settings (key, value)
SELECT 'rollups_stale', 'duplicate responses removed by migration 12'
WHERE EXISTS (SELECT 1 FROM duplicate_responses);

DROP TABLE duplicate_responses;

DROP INDEX responses_by_id;
CREATE UNIQUE INDEX responses_id_key ON responses (id);
CREATE UNIQUE INDEX responses_order_survey_key ON responses (order_number, survey_id);
