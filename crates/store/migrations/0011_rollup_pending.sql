-- Rollup increments not yet folded into the daily rows. The transaction
-- storing a batch of answers writes the batch's increments here as one row
-- (`deltas`: every daily row it adds to, of both cuts, with its 18 counters;
-- see `Deltas::to_bytes`) instead of updating each daily row it touches — one
-- insert rather than a hundred upserts per batch. A background step (every
-- second in `doorstep serve`), every metrics query before it reads the daily
-- rows, and every build of a week or a day fold the pending rows into the
-- daily rows and delete them in one transaction, so each increment counts
-- exactly once and a query always sees every answer stored before it.
-- `id` is random (no two databases agree on auto-numbering).

CREATE TABLE rollup_pending (
    id BIGINT PRIMARY KEY,
    deltas BYTEA NOT NULL
);
