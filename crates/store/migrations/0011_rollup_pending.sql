-- Rollup increments not yet folded into the daily rows. On SQLite the
-- transaction storing a batch of answers writes the batch's increments here
-- as one row (`deltas`: every daily row it adds to, of both cuts, with its
-- counters; see `Deltas::to_bytes`) instead of updating each daily row it
-- touches — one insert rather than a hundred upserts while holding SQLite's
-- single write lock. (PostgreSQL's writers update rows side by side: there
-- the batch updates the daily rows itself and this table stays empty.) A
-- background step (every second in `doorstep serve`), every metrics query
-- before it reads the daily rows, and every build of a week or a day fold
-- the pending rows into the daily rows and delete them in one transaction,
-- so each increment counts exactly once and a query always sees every
-- answer stored before it. `id` is random (the two databases number rows
-- differently).

CREATE TABLE rollup_pending (
    id BIGINT PRIMARY KEY,
    deltas BYTEA NOT NULL
);
