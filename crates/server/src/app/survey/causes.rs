//! Re-tagging every answer when the cause rules change: run in the
//! background, a page per transaction, with its progress for the console.

use std::sync::{Arc, Mutex};

use crate::app::AppState;

/// Where the background re-tagging is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetagStatus {
    pub running: bool,
    /// Responses done so far, of `total` (counted when it started).
    pub done: u64,
    pub total: u64,
    /// Why the last run stopped short, if it did.
    pub error: Option<String>,
    /// The vocabulary changed again while a run was going: run once more.
    again: bool,
}

#[derive(Default)]
pub struct Retag(Arc<Mutex<RetagStatus>>);

impl Retag {
    pub fn status(&self) -> RetagStatus {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn with<T>(&self, f: impl FnOnce(&mut RetagStatus) -> T) -> T {
        f(&mut self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

/// Tags every answer again with the rules now in force, in the background
/// (a run already going starts over once it is done).
pub fn start(app: &AppState) {
    let busy = app.retag.with(|s| {
        if s.running {
            s.again = true;
            true
        } else {
            *s = RetagStatus {
                running: true,
                ..RetagStatus::default()
            };
            false
        }
    });
    if busy {
        return;
    }
    let app = Arc::clone(app);
    tokio::spawn(async move {
        loop {
            let result = run(&app).await;
            let again = app.retag.with(|s| {
                s.error = result.err().map(|e| e.to_string());
                let again = std::mem::take(&mut s.again);
                s.running = again;
                again
            });
            if !again {
                break;
            }
        }
    });
}

/// Tags every answer again now, waiting for it (the CLI and tests).
pub async fn run(app: &AppState) -> anyhow::Result<u64> {
    let total = app.store.count_responses().await?;
    app.retag.with(|s| {
        s.total = total as u64;
        s.done = 0;
    });
    let tagger = app.tagger();
    let tz = app.deployment().tz();
    let done = app
        .store
        .retag_all(&tagger, &tz, |n| app.retag.with(|s| s.done = n))
        .await?;
    tracing::info!(
        responses = done,
        "answers tagged again with the cause rules"
    );
    Ok(done)
}
