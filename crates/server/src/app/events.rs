//! This process's fan-out of committed events, from the store's durable
//! outbox.
//!
//! One pump per process reads new events from the database when the store
//! says some may have been committed (by this process, or — through
//! PostgreSQL's `LISTEN/NOTIFY` — by any process on the same database),
//! and every second in any case, and hands them to this process's
//! listeners: the live pages and `GET /api/v1/events`
//! ([`crate::http::events`]), the caches ([`crate::app::App`]) and the job
//! runner.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use doorstep_store::events::StoredEvent;
use doorstep_store::Store;
use tokio::sync::broadcast;

/// Events kept in memory for a slow listener (it reads older ones from
/// the database).
const BACKLOG: usize = 1024;

/// Events read from the database at a time.
pub(crate) const PAGE: i64 = 500;

/// How often the pump looks for events even when nobody woke it.
pub(crate) const POLL: Duration = Duration::from_secs(1);

/// This process's fan-out of committed events.
pub struct EventHub {
    sender: broadcast::Sender<Arc<StoredEvent>>,
    /// The newest event handed out.
    last: AtomicI64,
}

impl Default for EventHub {
    fn default() -> Self {
        EventHub {
            sender: broadcast::channel(BACKLOG).0,
            last: AtomicI64::new(0),
        }
    }
}

impl EventHub {
    /// Starts handing out the events committed from now on: the store's
    /// wake-ups (and, on PostgreSQL, other processes' notices) wake it.
    pub async fn start(self: &Arc<Self>, store: Store) -> Result<(), doorstep_store::StoreError> {
        let mut last = store.last_event_id().await?;
        self.last.store(last, Ordering::SeqCst);
        store.listen_for_events();
        store.number_events_in_background();
        let hub = Arc::clone(self);
        let mut wake = store.event_wakeups();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    changed = wake.changed() => if changed.is_err() { return },
                    () = tokio::time::sleep(POLL) => {}
                }
                loop {
                    let events = match store.events_after(last, PAGE).await {
                        Ok(events) => events,
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot read new events; trying again");
                            break;
                        }
                    };
                    let full = events.len() as i64 == PAGE;
                    for event in events {
                        last = event.id;
                        hub.last.store(last, Ordering::SeqCst);
                        let _ = hub.sender.send(Arc::new(event));
                    }
                    if !full {
                        break;
                    }
                }
            }
        });
        Ok(())
    }

    /// The newest event handed out so far.
    pub fn last(&self) -> i64 {
        self.last.load(Ordering::SeqCst)
    }

    /// Live events (the next ones handed out).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.sender.subscribe()
    }
}
