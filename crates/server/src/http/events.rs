//! Live events for `GET /api/v1/events` and the console's live pages, as
//! Server-Sent Events, from this process's fan-out
//! ([`crate::app::events::EventHub`]). A listener that reconnects with
//! `Last-Event-ID` (or `?since=`) first gets what it missed from the
//! table, then live events; one that falls behind catches up from the
//! table too.

use std::convert::Infallible;
use std::sync::Arc;

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use doorstep_store::events::StoredEvent;
use doorstep_store::Store;
use futures_util::Stream;
use tokio::sync::broadcast;

pub use crate::app::events::EventHub;
use crate::app::events::{PAGE, POLL};

impl EventHub {
    /// An SSE stream of the events whose names `pass`: those after `since`
    /// first (when given), then live ones. Each carries its id, for the
    /// client to reconnect with.
    pub fn stream(
        self: &Arc<Self>,
        store: Store,
        since: Option<i64>,
        pass: fn(&str) -> bool,
    ) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>> + use<>> {
        self.stream_shown(
            store,
            since,
            Box::new(move |event: &StoredEvent| (pass)(&event.name).then(|| sse(event))),
        )
    }

    /// An SSE stream of the events `show` gives a form to (it may pass an
    /// event on as it is, or say less of it); those after `since` first.
    pub fn stream_shown(
        self: &Arc<Self>,
        store: Store,
        since: Option<i64>,
        show: Show,
    ) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>> + use<>> {
        let live = self.subscribe();
        let sent = since.unwrap_or_else(|| self.last());
        let state = Listener {
            hub: Arc::clone(self),
            store,
            live,
            sent,
            queue: std::collections::VecDeque::new(),
            checked_oldest: since.is_none(),
            show,
        };
        let stream = futures_util::stream::unfold(state, |mut l| async move {
            let event = l.next().await?;
            Some((Ok(event), l))
        });
        Sse::new(stream).keep_alive(KeepAlive::default())
    }
}

/// One SSE client's place in the stream.
struct Listener {
    hub: Arc<EventHub>,
    store: Store,
    live: broadcast::Receiver<Arc<StoredEvent>>,
    /// The newest event this client has been given (or skipped).
    sent: i64,
    /// Read from the database, not yet given.
    queue: std::collections::VecDeque<StoredEvent>,
    /// Whether the client was told that events it asked for were pruned.
    checked_oldest: bool,
    show: Show,
}

/// What a listener is given of an event, if anything.
pub type Show = Box<dyn Fn(&StoredEvent) -> Option<SseEvent> + Send + Sync>;

impl Listener {
    async fn next(&mut self) -> Option<SseEvent> {
        if !self.checked_oldest {
            self.checked_oldest = true;
            // The oldest event kept; with none kept, the next one to come.
            let first = match self.store.first_event_id().await {
                Ok(Some(first)) => Some(first),
                Ok(None) => self.store.last_event_id().await.ok().map(|last| last + 1),
                Err(_) => None,
            };
            if let Some(first) = first {
                if first > self.sent + 1 {
                    let skipped = self.sent;
                    self.sent = first - 1;
                    return Some(
                        SseEvent::default()
                            .event("pruned")
                            .data(format!("{{\"after\":{skipped},\"oldest_kept\":{first}}}")),
                    );
                }
            }
        }
        loop {
            if let Some(event) = self.queue.pop_front() {
                self.sent = event.id;
                if let Some(shown) = (self.show)(&event) {
                    return Some(shown);
                }
                continue;
            }
            // Behind the hub with nothing waiting in the channel: missed
            // while lagging or subscribing, or asked for with `since`.
            if self.live.is_empty() && self.sent < self.hub.last() {
                match self.store.events_after(self.sent, PAGE).await {
                    Ok(events) if !events.is_empty() => {
                        self.queue.extend(events);
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot read missed events"),
                }
            }
            match self.live.recv().await {
                Ok(event) if event.id <= self.sent => {}
                Ok(event) if event.id == self.sent + 1 => {
                    self.sent = event.id;
                    if let Some(shown) = (self.show)(&event) {
                        return Some(shown);
                    }
                }
                // A gap (lagged, or subscribed mid-catch-up): read what is
                // missing from the database.
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    match self.store.events_after(self.sent, PAGE).await {
                        Ok(events) => self.queue.extend(events),
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot read missed events");
                            tokio::time::sleep(POLL).await;
                        }
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// Where a client resumes: the `Last-Event-ID` header its browser sends
/// on reconnecting, or `?since=ID`; `None` for live events only. A value
/// that is not an event id is refused.
pub fn resume_point(
    headers: &axum::http::HeaderMap,
    query: Option<&str>,
) -> Result<Option<i64>, String> {
    let header = headers
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or_default().trim().to_owned());
    let query = query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "since")
            .map(|(_, v)| v.trim().to_owned())
    });
    match header.or(query) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| format!("{v:?} is not an event id: resume with the id of the last event received (a whole number), or leave it out for live events only")),
    }
}

pub fn sse(event: &StoredEvent) -> SseEvent {
    SseEvent::default()
        .id(event.id.to_string())
        .event(event.name.as_str())
        .data(event.data.as_str())
}
