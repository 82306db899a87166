//! Live events: what happened, as it happens, to whoever listens — the API's
//! `GET /api/v1/events` and the console's live dashboard — as Server-Sent
//! Events. In-process: every `serve` process tells its own listeners.

use std::convert::Infallible;

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use serde::Serialize;
use tokio::sync::broadcast;

/// Events kept for a slow listener before it is told it missed some.
const BACKLOG: usize = 1024;

/// One event: its name (`response.created`, …) and its JSON data.
#[derive(Debug, Clone)]
pub struct Event {
    pub name: &'static str,
    pub data: serde_json::Value,
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

/// The fan-out of events to the listeners of this process.
pub struct Events(broadcast::Sender<Event>);

impl Default for Events {
    fn default() -> Self {
        Events(broadcast::channel(BACKLOG).0)
    }
}

impl Events {
    /// Tells every listener; nobody listening is fine.
    pub fn publish(&self, name: &'static str, data: impl Serialize) {
        if let Ok(data) = serde_json::to_value(data) {
            let _ = self.0.send(Event { name, data });
        }
    }

    /// An SSE stream of the events whose names `pass`.
    pub fn stream(
        &self,
        pass: fn(&str) -> bool,
    ) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>> + use<>> {
        let receiver = self.0.subscribe();
        let stream = futures_util::stream::unfold(receiver, move |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(e) if pass(e.name) => {
                        let event = SseEvent::default().event(e.name).data(e.data.to_string());
                        return Some((Ok(event), rx));
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        let event = SseEvent::default()
                            .event("lagged")
                            .data(format!("{{\"missed\":{missed}}}"));
                        return Some((Ok(event), rx));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Sse::new(stream).keep_alive(KeepAlive::default())
    }
}
