//! Durable events — the transactional outbox. An event is written in the
//! transaction that makes the change it describes, so a rolled-back change
//! publishes nothing and a committed one is never lost, whatever happens
//! to the process after the commit.
//!
//! Public ids are gapless and in the order events became visible: a reader
//! that has seen event N has seen every event before N — on every process
//! sharing the database — and a client that reconnects with the last id it
//! got misses nothing. They come from one counter row (`event_sequence`):
//!
//! - On SQLite, which has one writer, the event's own transaction bumps it.
//! - On PostgreSQL, doing so would make every event-writing transaction
//!   wait for the one before it to commit (measured: a batch's p99 went
//!   from 48 to 242 ms at 200 batches a second, and bulk ingestion lost
//!   15%). So an event is written
//!   unnumbered, and one process at a time — the holder of an advisory lock
//!   — numbers the committed ones in a short transaction of its own
//!   ([`Store::number_events`]); those transactions follow each other, so
//!   numbers appear in order with no gap. An unnumbered event is not yet
//!   visible to readers; numbering follows within milliseconds.
//!
//! Waking readers: on PostgreSQL a process that committed events sends
//! `NOTIFY doorstep_events` just after (not inside the transaction:
//! PostgreSQL commits notifying transactions one at a time), and every
//! numbering notifies in its transaction; every process listens
//! ([`Store::listen_for_events`]) and reads the payload from the table. On
//! SQLite the one writing process wakes its own readers
//! ([`Store::event_wakeups`]).
//!
//! A transaction's events are stored as one row (see the migration): the
//! outbox costs a write of a hundred answers one row, and the numbering
//! one row update, however many events it holds.

use serde::Serialize;

use crate::db::{sql, Backend, Tx};
use crate::{now_millis, Store, StoreError};

/// The channel PostgreSQL notices are sent on.
const CHANNEL: &str = "doorstep_events";

/// An event to write: its name (`response.created`, …) and JSON data.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub name: &'static str,
    pub data: String,
}

impl NewEvent {
    pub fn new(name: &'static str, data: &impl Serialize) -> NewEvent {
        NewEvent {
            name,
            // Serialising plain data structures cannot fail.
            data: serde_json::to_string(data).unwrap_or_else(|_| "null".to_owned()),
        }
    }
}

/// Events that matter only to whoever is looking at that moment (someone
/// typing): live pages get them, webhooks for every event (`*`) do not.
pub fn is_fleeting(name: &str) -> bool {
    name == "case.typing"
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredEvent {
    pub id: i64,
    pub name: String,
    /// JSON.
    pub data: String,
    pub created_at: i64,
}

/// A row of the outbox: one transaction's events.
#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    /// The id of the row's last event.
    id: i64,
    n: i64,
    /// JSON: `[[name, data], …]`.
    batch: String,
    created_at: i64,
}

/// The events of `rows` (in id order) after `after`, at most `limit`.
pub(crate) fn expand(rows: Vec<EventRow>, after: i64, limit: usize) -> Vec<StoredEvent> {
    let mut out = Vec::new();
    for row in rows {
        let Ok(events) = serde_json::from_str::<Vec<(String, String)>>(&row.batch) else {
            tracing::error!(
                id = row.id,
                "an outbox row does not parse; its events are skipped"
            );
            continue;
        };
        let first = row.id - row.n + 1;
        for (id, (name, data)) in (first..).zip(events) {
            if id > after && out.len() < limit {
                out.push(StoredEvent {
                    id,
                    name,
                    data,
                    created_at: row.created_at,
                });
            }
        }
    }
    out
}

/// The columns of [`EventRow`].
pub(crate) const EVENT_ROW: &str = "id, n, batch, created_at";

/// What a `response.created` event says: no personal data.
#[derive(Debug, Clone, Serialize)]
pub struct ResponseCreated {
    pub id: String,
    pub order_number: String,
    pub survey_id: String,
    pub status: &'static str,
    pub channel: &'static str,
    pub finished_at: String,
    pub nps: Option<u8>,
}

impl ResponseCreated {
    pub fn of(r: &crate::NewResponse) -> ResponseCreated {
        ResponseCreated {
            id: r.id.clone(),
            order_number: r.order_number.clone(),
            survey_id: r.survey_id.clone(),
            status: r.status.as_str(),
            channel: r.channel.as_str(),
            finished_at: doorstep_domain::time::from_millis(r.finished_at).to_string(),
            nps: r.facts.nps,
        }
    }
}

/// Appends `events` to the outbox inside `tx`; whether there were any.
/// Only through [`Store::commit_with_events`], which commits right after
/// (on SQLite the counter row is held from here to the commit).
async fn append(tx: &mut Tx<'_>, events: &[NewEvent]) -> Result<bool, StoreError> {
    if events.is_empty() {
        return Ok(false);
    }
    let now = now_millis();
    let n = events.len() as i64;
    let pairs: Vec<(&str, &str)> = events.iter().map(|e| (e.name, e.data.as_str())).collect();
    // Serialising strings cannot fail.
    let batch = serde_json::to_string(&pairs).unwrap_or_default();
    match tx.backend() {
        Backend::Sqlite => {
            let (last,): (i64,) = tx
                .one(
                    sql("UPDATE event_sequence SET last_id = last_id + $1 WHERE id = 1 RETURNING last_id")
                        .bind(n),
                )
                .await?;
            tx.exec(
                sql("INSERT INTO events (id, n, batch, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(last)
                    .bind(n)
                    .bind(batch)
                    .bind(now),
            )
            .await?;
        }
        Backend::Postgres => {
            tx.exec(
                sql("INSERT INTO events (n, batch, created_at) VALUES ($1, $2, $3)")
                    .bind(n)
                    .bind(batch)
                    .bind(now),
            )
            .await?;
            // No NOTIFY here: PostgreSQL lets transactions that notify
            // commit only one at a time. The process sends one after the
            // commit instead ([`Store::events_committed`]).
        }
    }
    Ok(true)
}

/// How long the numberer lets new events gather after a wake-up.
const NUMBER_GATHER: std::time::Duration = std::time::Duration::from_millis(25);

/// Events numbered per transaction, at most.
const NUMBER_BATCH: i64 = 5_000;

/// The advisory lock the numbering process holds on PostgreSQL ("dsevents").
const NUMBERING_LOCK: i64 = 0x6473_6576_656e_7473;

impl Store {
    /// Ends a writing transaction with its events: appends them to the
    /// outbox (last, see [`append`]), commits, and wakes the readers when
    /// there were any.
    pub(crate) async fn commit_with_events(
        &self,
        mut tx: Tx<'_>,
        events: &[NewEvent],
    ) -> Result<(), StoreError> {
        let wrote = append(&mut tx, events).await?;
        tx.commit().await?;
        if wrote {
            self.events_committed();
        }
        Ok(())
    }

    /// Wakes this process's event readers after a commit that wrote events
    /// (and, on PostgreSQL, through [`Store::listen_for_events`]'s
    /// notifier, every process's numberer and readers).
    pub(crate) fn events_committed(&self) {
        self.event_wake.send_modify(|n| *n = n.wrapping_add(1));
        self.local_events.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Changes whenever events may have been committed: by this process
    /// (both databases) or, once [`Store::listen_for_events`] runs, by any
    /// process on the same PostgreSQL database.
    pub fn event_wakeups(&self) -> tokio::sync::watch::Receiver<u64> {
        self.event_wake.subscribe()
    }

    /// On PostgreSQL, listens for other processes' events for as long as
    /// the store lives, waking [`Store::event_wakeups`]; reconnects when the
    /// connection drops (and wakes the readers then, to catch up). Nothing
    /// to do on SQLite, where only this process writes.
    pub fn listen_for_events(&self) {
        let crate::Db::Postgres(pool) = &self.db else {
            return;
        };
        let pool = pool.clone();
        let wake = self.event_wake.clone();
        // The notifier: after this process commits events, one NOTIFY of
        // its own (bursts coalesce into one) tells the other processes.
        let mut local = self.local_events.subscribe();
        let notifier_pool = pool.clone();
        tokio::spawn(async move {
            while local.changed().await.is_ok() {
                if notifier_pool.is_closed() {
                    return;
                }
                let sent = sqlx::query("SELECT pg_notify($1, '')")
                    .bind(CHANNEL)
                    .execute(&notifier_pool)
                    .await;
                if let Err(e) = sent {
                    if notifier_pool.is_closed() {
                        return;
                    }
                    // The numberer's own poll finds the events meanwhile.
                    tracing::debug!(error = %e, "cannot announce new events");
                }
            }
        });
        tokio::spawn(async move {
            loop {
                let listener = async {
                    let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
                    listener.listen(CHANNEL).await?;
                    Ok::<_, sqlx::Error>(listener)
                };
                let mut listener = match listener.await {
                    Ok(listener) => listener,
                    Err(_) if pool.is_closed() => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for events; trying again in a second");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        continue;
                    }
                };
                // Whatever was committed while nobody listened.
                wake.send_modify(|n| *n = n.wrapping_add(1));
                loop {
                    match listener.try_recv().await {
                        Ok(Some(_)) => wake.send_modify(|n| *n = n.wrapping_add(1)),
                        // The connection was lost and made again: notices
                        // may have been missed.
                        Ok(None) => wake.send_modify(|n| *n = n.wrapping_add(1)),
                        Err(_) if pool.is_closed() => return,
                        Err(e) => {
                            tracing::warn!(error = %e, "listening for events failed; listening again");
                            break;
                        }
                    }
                }
            }
        });
    }

    /// Numbers the committed events that have no id yet (PostgreSQL; on
    /// SQLite every event is numbered as it is written): in one short
    /// transaction, oldest first, from the counter row, which numbering
    /// transactions take in turn — so ids appear in order with no gap even
    /// if two processes number at once. How many were numbered.
    pub async fn number_events(&self) -> Result<usize, StoreError> {
        if self.backend() == Backend::Sqlite {
            return Ok(0);
        }
        let mut tx = self.db.begin().await?;
        // Rows another numbering holds are waited for, then re-checked
        // (numbered by then: skipped).
        let pending: Vec<(String, i64)> = tx
            .all(
                sql("SELECT e.ctid::text AS t, e.n FROM events e WHERE e.id IS NULL ORDER BY e.ctid LIMIT $1 FOR UPDATE")
                    .bind(NUMBER_BATCH),
            )
            .await?;
        if pending.is_empty() {
            tx.rollback().await?;
            return Ok(0);
        }
        let total: i64 = pending.iter().map(|(_, n)| n).sum();
        let (last,): (i64,) = tx
            .one(
                sql("UPDATE event_sequence SET last_id = last_id + $1 WHERE id = 1 RETURNING last_id")
                    .bind(total),
            )
            .await?;
        // Each row's id is its last event's.
        let mut upto = last - total;
        let rows: Vec<(i64, &str)> = pending
            .iter()
            .map(|(t, n)| {
                upto += n;
                (upto, t.as_str())
            })
            .collect();
        tx.exec_rows(
            "UPDATE events SET id = v.id FROM (VALUES",
            2,
            ") AS v(id, t) WHERE events.ctid = v.t::tid",
            &rows,
            |q, (id, t)| {
                q.push_arg(*id);
                q.push_arg(*t);
            },
        )
        .await?;
        tx.exec(
            sql("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(last.to_string()),
        )
        .await?;
        tx.commit().await?;
        self.events_committed();
        Ok(total as usize)
    }

    /// On PostgreSQL, takes part in numbering events for as long as the
    /// store lives: the process that holds the numbering lock (a session
    /// advisory lock on a connection of its own) numbers whenever events
    /// may have been written (gathering them for 25 ms), and every 200 ms
    /// in any case; the others try
    /// for the lock every second, so when its holder dies — its connection
    /// closes and the lock with it — another takes over. Nothing to do on
    /// SQLite.
    pub fn number_events_in_background(&self) {
        let crate::Db::Postgres(pool) = &self.db else {
            return;
        };
        let (pool, store) = (pool.clone(), self.clone());
        tokio::spawn(async move {
            let mut wake = store.event_wakeups();
            loop {
                if pool.is_closed() {
                    return;
                }
                let held = async {
                    let mut conn = pool.acquire().await?.detach();
                    let (got,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
                        .bind(NUMBERING_LOCK)
                        .fetch_one(&mut conn)
                        .await?;
                    Ok::<_, sqlx::Error>(got.then_some(conn))
                };
                let conn = match held.await {
                    Ok(Some(conn)) => conn,
                    Ok(None) => {
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        continue;
                    }
                    Err(e) => {
                        if !pool.is_closed() {
                            tracing::warn!(error = %e, "cannot take part in numbering events; trying again");
                        }
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        continue;
                    }
                };
                // This process numbers events while `conn` (and its lock) lives.
                loop {
                    match store.number_events().await {
                        Ok(_) => {}
                        Err(_) if pool.is_closed() => return,
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot number new events; trying again");
                        }
                    }
                    tokio::select! {
                        changed = wake.changed() => if changed.is_err() { return },
                        () = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
                    }
                    // Let a burst of commits gather: one numbering for them
                    // all (each numbering is a commit of its own).
                    tokio::time::sleep(NUMBER_GATHER).await;
                    if pool.is_closed() {
                        drop(conn);
                        return;
                    }
                }
            }
        });
    }

    /// The id of the newest event (0 when there is none yet).
    pub async fn last_event_id(&self) -> Result<i64, StoreError> {
        let (last,): (i64,) = self
            .db
            .one(sql("SELECT last_id FROM event_sequence WHERE id = 1"))
            .await?;
        Ok(last)
    }

    /// Numbered events after `after`, oldest first, at most `limit`.
    pub async fn events_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        // Every row holds one event at least: `limit` rows hold enough.
        let rows: Vec<EventRow> = self
            .db
            .all(
                sql(format!(
                    "SELECT {EVENT_ROW} FROM events WHERE id > $1 ORDER BY id LIMIT $2"
                ))
                .bind(after)
                .bind(limit),
            )
            .await?;
        Ok(expand(rows, after, limit.max(0) as usize))
    }

    /// The oldest numbered event still kept (`None` when there is none).
    pub async fn first_event_id(&self) -> Result<Option<i64>, StoreError> {
        let (first,): (Option<i64>,) = self
            .db
            .opt(sql(
                "SELECT id - n + 1 FROM events WHERE id IS NOT NULL ORDER BY id LIMIT 1",
            ))
            .await?
            .unwrap_or((None,));
        Ok(first)
    }

    /// Deletes events written before `before` (ms); how many rows (one per
    /// transaction that wrote events) went. Ids grow
    /// with time (both are taken under the counter's lock), so everything
    /// below the first event from `before` on goes: found walking the
    /// primary key from the oldest, the rows it passes being those deleted.
    pub async fn prune_events(&self, before: i64) -> Result<u64, StoreError> {
        self.db
            .exec(
                sql("DELETE FROM events WHERE id < COALESCE(\
                     (SELECT id FROM events WHERE id IS NOT NULL AND created_at >= $1 ORDER BY id LIMIT 1), \
                     (SELECT last_id + 1 FROM event_sequence WHERE id = 1))")
                .bind(before),
            )
            .await
    }
}
