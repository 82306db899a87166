//! The background work of `doorstep serve`, run once across every process
//! sharing the database, through the store's job table: each job is
//! claimed by one process under a lease (kept alive while it runs, taken
//! over by another process when its holder dies), retried with backoff
//! when it fails, and given up after [`MAX_TRIES`] tries in a row until its
//! next regular run — with its last error on Settings → Jobs.
//!
//! The recurring jobs: the weekly and daily rollup builds, scheduled
//! e-mail reports, attachment retention and event pruning; and one job per
//! webhook subscription, which delivers its events.
//!
//! Not a job: the folding of pending rollup increments (every process
//! folds every second, see [`crate::app::survey::metrics::spawn_pending_folder`]). A
//! fold is idempotent and safe from any number of processes at once, and
//! usually finds nothing to do; claiming a job first would cost more than
//! the fold it guards.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use doorstep_store::jobs::ClaimedJob;
use doorstep_store::now_millis;

use crate::app::AppState;

/// Tries in a row before a job is given up until its next regular run.
pub const MAX_TRIES: i64 = 5;

/// A claimed job's lease; renewed every third of it while the job runs.
const LEASE_MS: i64 = 60_000;

/// Jobs one process runs at once.
const AT_ONCE: usize = 4;

/// How often the runner looks for due jobs (and soon after events come,
/// for the webhooks).
const LOOK_EVERY: Duration = Duration::from_millis(500);
const LOOK_AFTER_EVENTS: Duration = Duration::from_millis(100);

/// The recurring jobs: id (= kind) and how often each runs.
const RECURRING: &[(&str, i64)] = &[
    ("rollups.build", 60_000),
    ("reports.send", 60_000),
    ("attachments.retention", 60 * 60_000),
    ("events.prune", 60 * 60_000),
    ("sla.watch", 10_000),
    ("support.build", 10_000),
    ("notices.send", 15_000),
    ("orders.late", 30_000),
    ("notices.mass", 5_000),
    ("mail.read", 20_000),
];

/// What the jobs need besides the application.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// Days photos and voice messages are kept.
    pub attachment_days: u32,
    /// Days events are kept for clients to catch up with.
    pub event_days: u32,
}

/// Starts this process's job runner.
pub async fn spawn(app: &AppState, settings: Settings) -> anyhow::Result<()> {
    let now = now_millis();
    for (id, _) in RECURRING {
        app.store.ensure_job(id, id, now).await?;
    }
    let runner = Arc::new(Runner {
        app: Arc::clone(app),
        settings,
        holder: format!(
            "{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ),
        sender: crate::webhooks::Sender::new()?,
        slots: Arc::new(tokio::sync::Semaphore::new(AT_ONCE)),
    });
    let mut events = app.events.subscribe();
    tokio::spawn(async move {
        loop {
            runner.claim_and_run().await;
            tokio::select! {
                () = tokio::time::sleep(LOOK_EVERY) => {}
                _ = events.recv() => {
                    // One look for a burst of events, not one per event.
                    tokio::time::sleep(LOOK_AFTER_EVENTS).await;
                    while !matches!(
                        events.try_recv(),
                        Err(tokio::sync::broadcast::error::TryRecvError::Empty
                            | tokio::sync::broadcast::error::TryRecvError::Closed)
                    ) {}
                }
            }
        }
    });
    Ok(())
}

struct Runner {
    app: AppState,
    settings: Settings,
    /// This process's name in the job table's leases.
    holder: String,
    sender: crate::webhooks::Sender,
    slots: Arc<tokio::sync::Semaphore>,
}

impl Runner {
    async fn claim_and_run(self: &Arc<Self>) {
        let free = self.slots.available_permits();
        if free == 0 {
            return;
        }
        let claimed = match self
            .app
            .store
            .claim_jobs(&self.holder, LEASE_MS, free as i64)
            .await
        {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim background jobs");
                return;
            }
        };
        for job in claimed {
            let Ok(slot) = Arc::clone(&self.slots).try_acquire_owned() else {
                // Cannot happen (claimed no more than the free slots); the
                // lease runs out and the job is claimed again.
                break;
            };
            let runner = Arc::clone(self);
            tokio::spawn(async move {
                runner.run(job).await;
                drop(slot);
            });
        }
    }

    /// Runs one claimed job, keeping its lease, and records how it went.
    async fn run(&self, job: ClaimedJob) {
        let store = &self.app.store;
        // (Boxed: the work of every kind together is a large future.)
        let work = Box::pin(self.work(&job));
        // The lease is kept beside the work, both polled at once, rather
        // than between the work's steps: renewing it takes the database's
        // writer (SQLite has one), which the work may hold in the middle of
        // a transaction — waiting for it there, with the work not polled,
        // stopped every write for the pool's whole wait.
        let every = Duration::from_millis((LEASE_MS / 3) as u64);
        let renew = || async {
            match store.extend_job(&job.id, &self.holder, LEASE_MS).await {
                Ok(kept) => kept,
                Err(e) => {
                    tracing::warn!(job = %job.id, error = %e, "cannot renew the job's lease");
                    true
                }
            }
        };
        let Some(result) = leased(work, every, renew).await else {
            tracing::warn!(job = %job.id, "lost the job's lease; another process runs it now");
            return;
        };
        let period = period(&job.kind);
        let recorded = match result {
            Ok(next) => store.job_done(&job.id, &self.holder, next).await,
            Err(e) => {
                let error = format!("{e:#}");
                let give_up = job.attempts >= MAX_TRIES;
                let retry_at = if give_up {
                    tracing::error!(job = %job.id, tries = job.attempts, %error, "background job failed again; given up until its next regular run");
                    now_millis() + period
                } else {
                    tracing::warn!(job = %job.id, tries = job.attempts, %error, "background job failed; trying again");
                    now_millis() + backoff_ms(job.attempts, period)
                };
                store
                    .job_failed(&job.id, &self.holder, &error, retry_at, give_up)
                    .await
            }
        };
        match recorded {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(job = %job.id, "the job was taken over or removed while it ran");
            }
            Err(e) => {
                tracing::warn!(job = %job.id, error = %e, "cannot record how the job went; its lease will run out");
            }
        }
    }

    /// The job's work; when it is due next.
    async fn work(&self, job: &ClaimedJob) -> anyhow::Result<i64> {
        let store = &self.app.store;
        let next = now_millis() + period(&job.kind);
        match job.kind.as_str() {
            "rollups.build" => {
                crate::app::survey::metrics::build_rollups(store).await?;
                Ok(next)
            }
            "reports.send" => {
                crate::app::survey::schedules::run_due(&self.app).await?;
                Ok(next)
            }
            "attachments.retention" => {
                let n = crate::app::survey::attachments::purge(
                    store,
                    &self.settings.data_dir,
                    self.settings.attachment_days,
                )
                .await?;
                if n > 0 {
                    tracing::info!(
                        deleted = n,
                        days = self.settings.attachment_days,
                        "attachments past the retention limit deleted"
                    );
                }
                Ok(next)
            }
            "events.prune" => {
                let before = now_millis() - i64::from(self.settings.event_days) * 86_400_000;
                let n = store.prune_events(before).await?;
                if n > 0 {
                    tracing::info!(
                        deleted = n,
                        days = self.settings.event_days,
                        "old events pruned"
                    );
                }
                Ok(next)
            }
            "sla.watch" => {
                let n = store.judge_due_cases().await?;
                if n > 0 {
                    tracing::debug!(cases = n, "cases judged against their SLA");
                }
                Ok(next)
            }
            "support.build" => {
                let tz = store.deployment().await?.tz();
                let started = std::time::Instant::now();
                let days = store
                    .build_support_days(&tz, now_millis(), |_, _| {})
                    .await?;
                if days > 0 {
                    tracing::info!(
                        days,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "support figures built"
                    );
                }
                Ok(next)
            }
            "notices.send" => {
                let n = crate::app::helpdesk::notices::run_due(&self.app).await?;
                if n > 0 {
                    tracing::info!(notices = n, "notices to customers handled");
                }
                Ok(next)
            }
            "notices.mass" => {
                let n = crate::app::helpdesk::mass::run_due(&self.app).await?;
                if n > 0 {
                    tracing::info!(notices = n, "mass notices written to customers");
                }
                Ok(next)
            }
            "orders.late" => {
                let now = doorstep_store::now_millis();
                let n = crate::app::helpdesk::late::run_due(&self.app, now).await?;
                if n > 0 {
                    tracing::info!(orders = n, "late orders told first");
                }
                Ok(next)
            }
            "mail.read" => {
                let n = crate::app::helpdesk::email::read_mailboxes(&self.app).await?;
                if n > 0 {
                    tracing::info!(messages = n, "customers' e-mails taken");
                }
                Ok(next)
            }
            "webhook" => {
                let id = job.id.strip_prefix("webhook:").unwrap_or(&job.id);
                crate::webhooks::run(store, &self.sender, id).await
            }
            other => anyhow::bail!(
                "this Doorstep does not know jobs of kind {other:?} (written by a newer version?)"
            ),
        }
    }
}

/// Runs `work` while `renew` keeps its lease every `every`, both polled at
/// once: renewing must not wait for the work's next step, nor the work
/// for a renewal (the stall this prevents: a renewal between steps waited
/// for SQLite's writer, which the work held mid-transaction, while the
/// work was not polled). `None` when `renew` says the lease is lost (the
/// work is dropped: another process runs the job now).
async fn leased<T, F>(
    work: impl std::future::Future<Output = T>,
    every: Duration,
    mut renew: impl FnMut() -> F,
) -> Option<T>
where
    F: std::future::Future<Output = bool>,
{
    let keeper = async {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            if !renew().await {
                return;
            }
        }
    };
    tokio::select! {
        result = work => Some(result),
        () = keeper => None,
    }
}

/// How often a kind of job runs when all is well.
fn period(kind: &str) -> i64 {
    RECURRING
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(60_000, |(_, p)| *p)
}

/// The pause after `tries` failures in a row: 10 s doubling, at most the
/// job's period.
fn backoff_ms(tries: i64, period: i64) -> i64 {
    (10_000_i64 << (tries.clamp(1, 20) - 1)).min(period.max(10_000))
}

#[cfg(test)]
mod tests {
    #[test]
    fn failed_jobs_back_off_up_to_their_period() {
        assert_eq!(super::backoff_ms(1, 3_600_000), 10_000);
        assert_eq!(super::backoff_ms(3, 3_600_000), 40_000);
        assert_eq!(super::backoff_ms(4, 60_000), 60_000);
        assert_eq!(super::backoff_ms(99, 60_000), 60_000);
    }

    /// The lease is renewed while the work waits mid-step (as it does
    /// holding SQLite's writer), and the work goes on while a renewal
    /// waits: here the work cannot finish until the lease has been renewed
    /// twice, and the second renewal cannot finish until the work has
    /// taken a step of its own after the first.
    #[tokio::test]
    async fn the_lease_is_kept_beside_the_work_not_between_its_steps() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::time::Duration;
        use tokio::sync::Notify;

        let renewed = Notify::new();
        let stepped = Notify::new();
        let renewals = AtomicUsize::new(0);
        let work = async {
            renewed.notified().await;
            stepped.notify_one();
            renewed.notified().await;
            "done"
        };
        let renew = || async {
            let n = renewals.fetch_add(1, Ordering::SeqCst) + 1;
            if n == 2 {
                stepped.notified().await;
            }
            renewed.notify_one();
            true
        };
        let done = tokio::time::timeout(
            Duration::from_secs(5),
            super::leased(work, Duration::from_millis(5), renew),
        )
        .await
        .expect("neither waits for the other");
        assert_eq!(done, Some("done"));
        assert!(renewals.load(Ordering::SeqCst) >= 2);

        // A lease lost stops waiting for work that never ends.
        let lost = tokio::time::timeout(
            Duration::from_secs(5),
            super::leased(
                std::future::pending::<()>(),
                Duration::from_millis(5),
                || async { false },
            ),
        )
        .await
        .expect("the lost lease ends it");
        assert_eq!(lost, None);
    }
}
