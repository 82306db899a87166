//! Doorstep's server crate: the `doorstep` binary's command line, HTTP
//! server, import and demo. A library too, so that the integration tests in
//! `tests/` can start the real application in-process.

pub mod app;
pub mod charts;
pub mod cli;
pub mod demo;
pub mod http;
pub mod i18n;
pub mod imap;
pub mod import;
pub mod jobs;
pub mod mail;
pub mod security;
pub mod webhooks;

/// Runs `work` now and every `every` after, for the life of the server; a
/// run that overruns delays the next instead of piling runs up.
pub fn spawn_every<F, Fut>(every: std::time::Duration, mut work: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            work().await;
        }
    });
}
