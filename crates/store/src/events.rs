//! Durable events — the transactional outbox. An event is written in the
//! transaction that makes the change it describes, so a rolled-back change
//! publishes nothing and a committed one is never lost, whatever happens
//! to the process after the commit.
//!
//! Ids come from one counter row (`event_sequence`) bumped in the same
//! transaction, last before its commit: the row's lock lets event-writing
//! transactions commit one at a time, so ids are gapless and in commit
//! order. A reader that has seen event N has therefore seen every event
//! before N — on every process sharing the database — and a client that
//! reconnects with the last id it got misses nothing.
//!
//! Waking readers: on PostgreSQL the transaction also sends `NOTIFY
//! doorstep_events` (delivered at commit, to every process listening:
//! [`Store::listen_for_events`]); the notice carries only the id, the
//! payload is read from the table. On SQLite the one writing process wakes
//! its own readers ([`Store::event_wakeups`]).

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

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredEvent {
    pub id: i64,
    pub name: String,
    /// JSON.
    pub data: String,
    pub created_at: i64,
}

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
            status: r.status,
            channel: r.channel,
            finished_at: doorstep_domain::time::from_millis(r.finished_at).to_string(),
            nps: r.facts.nps,
        }
    }
}

/// Appends `events` to the outbox inside `tx`; the id of the last one.
/// Call it last before the commit: from here to the commit, other
/// event-writing transactions wait for this one. After the commit, call
/// [`Store::events_committed`] to wake this process's readers.
pub(crate) async fn append(tx: &mut Tx, events: &[NewEvent]) -> Result<Option<i64>, StoreError> {
    if events.is_empty() {
        return Ok(None);
    }
    let (last,): (i64,) = tx
        .one(
            sql("UPDATE event_sequence SET last_id = last_id + $1 WHERE id = 1 RETURNING last_id")
                .bind(events.len() as i64),
        )
        .await?;
    let first = last - events.len() as i64 + 1;
    let now = now_millis();
    let rows: Vec<(i64, &NewEvent)> = (first..).zip(events).collect();
    tx.exec_rows(
        "INSERT INTO events (id, name, data, created_at) VALUES",
        4,
        "",
        &rows,
        |q, (id, e)| {
            q.push_arg(*id);
            q.push_arg(e.name);
            q.push_arg(e.data.as_str());
            q.push_arg(now);
        },
    )
    .await?;
    if tx.backend() == Backend::Postgres {
        tx.exec(
            sql("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(last.to_string()),
        )
        .await?;
    }
    Ok(Some(last))
}

impl Store {
    /// Writes events in a transaction of their own (for changes made
    /// outside a transaction of the store's, such as a file written first).
    pub async fn publish_events(&self, events: &[NewEvent]) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        append(&mut tx, events).await?;
        tx.commit().await?;
        self.events_committed();
        Ok(())
    }

    /// Wakes this process's event readers after a commit that wrote events.
    pub(crate) fn events_committed(&self) {
        self.event_wake.send_modify(|n| *n = n.wrapping_add(1));
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

    /// The id of the newest event (0 when there is none yet).
    pub async fn last_event_id(&self) -> Result<i64, StoreError> {
        let (last,): (i64,) = self
            .db
            .one(sql("SELECT last_id FROM event_sequence WHERE id = 1"))
            .await?;
        Ok(last)
    }

    /// Events after `after`, oldest first, at most `limit`.
    pub async fn events_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.db
            .all(
                sql("SELECT id, name, data, created_at FROM events WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(after)
                    .bind(limit),
            )
            .await
    }

    /// The oldest event still kept (`None` when there is none).
    pub async fn first_event_id(&self) -> Result<Option<i64>, StoreError> {
        let (first,): (Option<i64>,) = self.db.one(sql("SELECT MIN(id) FROM events")).await?;
        Ok(first)
    }

    /// Deletes events written before `before` (ms); how many.
    pub async fn prune_events(&self, before: i64) -> Result<u64, StoreError> {
        self.db
            .exec(sql("DELETE FROM events WHERE created_at < $1").bind(before))
            .await
    }
}
