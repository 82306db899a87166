//! Group commit for small answer batches. A link survey or a terminal
//! syncing one survey sends one answer per request, and each such request
//! used to pay a whole transaction (and, on SQLite, the one writer's turn)
//! for one row. Small requests are handed to committer tasks instead (one
//! on SQLite, whose writer is one; one per core on PostgreSQL, which commits side
//! by side), each storing everything that arrived while the previous commit
//! ran in one transaction — each request's responses with its own courier
//! limit — and answering each request only after that shared commit.
//! Nothing waits on purpose: under light load a request is committed alone
//! at once, under heavy load the queue fills while a commit runs and the
//! next one takes it all. A committer that finds requests waiting when a
//! commit ends keeps the write connection for the next (for a moment at
//! most): handing it back and taking it again cost a third of each commit
//! on a busy SQLite server.
//!
//! A request whose client gave up is still committed (a retry is then a
//! duplicate, answered as stored); a shared commit that fails is tried
//! again request by request, so one request's failure is never another's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use std::time::{Duration, Instant};

use doorstep_store::db::Writer;
use doorstep_store::{NewResponse, ResponseOutcome, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

/// Requests of at most this many responses are grouped; bigger batches are
/// a transaction's worth on their own.
pub const GROUPED_AT_MOST: usize = 10;
/// Responses in one shared commit at most.
const COMMIT_AT_MOST: usize = 500;
/// Requests waiting at most; more wait for room (backpressure).
const QUEUE: usize = 4_096;
/// Shared commits running at once on PostgreSQL: one per core (two at
/// least, so that one group is stored while the other's commit is
/// flushed). More committers than cores split the waiting requests into
/// smaller groups that pay the same statements each: on 2 cores, four
/// committers took 0.70 CPU-ms per one-answer request where two take 0.46
/// (and one, 0.50: each commit then waits for the one before). SQLite has
/// one writer: one committer.
fn committers_postgres() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8))
}
/// A committer keeps the write connection across consecutive commits
/// while requests keep waiting, this long at most.
const HOLD_AT_MOST: Duration = Duration::from_millis(50);

type Outcomes = Result<Vec<ResponseOutcome>, StoreError>;

struct Job {
    items: Vec<NewResponse>,
    courier: Option<String>,
    today: i64,
    done: oneshot::Sender<Outcomes>,
}

/// The handle requests store their small batches through.
#[derive(Clone)]
pub struct Committer {
    jobs: mpsc::Sender<Job>,
    store: Store,
    counts: Arc<Counts>,
}

/// Requests grouped and the transactions they took, since the start.
#[derive(Debug, Default)]
struct Counts {
    requests: AtomicU64,
    commits: AtomicU64,
    /// Commits on a write connection kept from the commit before.
    kept: AtomicU64,
}

impl Committer {
    /// Starts the committer task for `store`.
    pub fn start(store: Store) -> Committer {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let counts = Arc::new(Counts::default());
        let queue = Arc::new(tokio::sync::Mutex::new(queue));
        let committers = match store.backend() {
            doorstep_store::db::Backend::Sqlite => 1,
            doorstep_store::db::Backend::Postgres => committers_postgres(),
        };
        for _ in 0..committers {
            tokio::spawn(run(store.clone(), Arc::clone(&queue), Arc::clone(&counts)));
        }
        Committer {
            jobs,
            store,
            counts,
        }
    }

    /// Small requests handed to the committer so far, and the shared
    /// transactions that stored them.
    pub fn grouped(&self) -> (u64, u64) {
        (
            self.counts.requests.load(Ordering::Relaxed),
            self.counts.commits.load(Ordering::Relaxed),
        )
    }

    /// Shared commits made on a write connection kept from the commit
    /// before (requests were waiting when it ended).
    pub fn kept(&self) -> u64 {
        self.counts.kept.load(Ordering::Relaxed)
    }

    /// Stores `items` (limited to `courier`'s orders when given) exactly as
    /// [`Store::store_responses`] would, sharing the transaction with the
    /// other small requests of the moment.
    pub async fn store(
        &self,
        items: Vec<NewResponse>,
        courier: Option<&str>,
        today: i64,
    ) -> Outcomes {
        if items.is_empty() || items.len() > GROUPED_AT_MOST {
            return self.store.store_responses(&items, courier, today).await;
        }
        let (done, answer) = oneshot::channel();
        let job = Job {
            items,
            courier: courier.map(str::to_owned),
            today,
            done,
        };
        if let Err(mpsc::error::SendError(job)) = self.jobs.send(job).await {
            // The committer is gone (the runtime is shutting down).
            return self
                .store
                .store_responses(&job.items, job.courier.as_deref(), job.today)
                .await;
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Corrupt("the answer committer stopped".into())))
    }
}

/// Each committer takes the queue in turn: it waits for a first job, takes
/// what else is waiting (up to [`COMMIT_AT_MOST`] responses), lets the
/// queue go to the next committer and commits them together. While more
/// requests are waiting when a commit ends, it commits them on the same
/// write connection, for [`HOLD_AT_MOST`] at most (and one more commit at
/// least), and then hands the connection back so that other writes get
/// their turn.
async fn run(
    store: Store,
    queue: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
    counts: Arc<Counts>,
) {
    loop {
        let jobs = {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else {
                return;
            };
            waiting(&mut queue, vec![first])
        };
        let mut writer = match store.writer().await {
            Ok(writer) => Some(writer),
            Err(e) => {
                tracing::warn!(error = %e, "no write connection for a shared commit; its requests go one by one");
                None
            }
        };
        let held = Instant::now();
        let mut jobs = jobs;
        let mut kept = false;
        loop {
            counts
                .requests
                .fetch_add(jobs.len() as u64, Ordering::Relaxed);
            counts.commits.fetch_add(1, Ordering::Relaxed);
            if kept {
                counts.kept.fetch_add(1, Ordering::Relaxed);
            }
            commit(&store, &mut writer, jobs).await;
            // Kept for one more commit at least, however slow the first.
            if writer.is_none() || (kept && held.elapsed() >= HOLD_AT_MOST) {
                break;
            }
            // Another committer holding the queue is waiting for a job:
            // nothing is waiting.
            let Ok(mut queue) = queue.try_lock() else {
                break;
            };
            let Ok(first) = queue.try_recv() else {
                break;
            };
            jobs = waiting(&mut queue, vec![first]);
            kept = true;
        }
    }
}

/// `jobs` and the jobs waiting in `queue` now, up to [`COMMIT_AT_MOST`]
/// responses.
fn waiting(queue: &mut mpsc::Receiver<Job>, mut jobs: Vec<Job>) -> Vec<Job> {
    let mut count: usize = jobs.iter().map(|j| j.items.len()).sum();
    while count < COMMIT_AT_MOST {
        match queue.try_recv() {
            Ok(job) => {
                count += job.items.len();
                jobs.push(job);
            }
            Err(_) => break,
        }
    }
    jobs
}

/// Commits `jobs` together on `writer` (on the pool's connections when
/// there is none). A failure hands the writer back (`writer` becomes
/// `None`) and the jobs go one by one.
async fn commit(store: &Store, writer: &mut Option<Writer>, jobs: Vec<Job>) {
    // Jobs of one day go together (the day decides which earlier days a
    // late answer marks to build again; it changes once a day).
    let today = jobs.iter().map(|j| j.today).max().unwrap_or_default();
    let (same, other): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|j| j.today == today);
    for job in other {
        alone(store, writer, job).await;
    }
    if same.len() == 1 {
        for job in same {
            alone(store, writer, job).await;
        }
        return;
    }
    let items: Vec<NewResponse> = same.iter().flat_map(|j| j.items.iter().cloned()).collect();
    let couriers: Vec<Option<&str>> = same
        .iter()
        .flat_map(|j| std::iter::repeat_n(j.courier.as_deref(), j.items.len()))
        .collect();
    match stored(store, writer, &items, &couriers, today).await {
        Ok(outcomes) => {
            let mut outcomes = outcomes.into_iter();
            for job in same {
                let mine: Vec<ResponseOutcome> = outcomes.by_ref().take(job.items.len()).collect();
                let _ = job.done.send(Ok(mine));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, requests = same.len(), "a shared commit failed; storing its requests one by one");
            for job in same {
                alone(store, writer, job).await;
            }
        }
    }
}

/// Stores one request's responses in a transaction of their own and
/// answers it.
async fn alone(store: &Store, writer: &mut Option<Writer>, job: Job) {
    let outcome = stored(
        store,
        writer,
        &job.items,
        &vec![job.courier.as_deref(); job.items.len()],
        job.today,
    )
    .await;
    let _ = job.done.send(outcome);
}

/// Stores `items` on `writer`, or on the pool's connections when there is
/// none; a failure hands the writer back to the pool (whose check closes
/// a connection left inside a transaction).
async fn stored(
    store: &Store,
    writer: &mut Option<Writer>,
    items: &[NewResponse],
    couriers: &[Option<&str>],
    today: i64,
) -> Outcomes {
    let outcome = match writer {
        Some(w) => store.store_responses_on(w, items, couriers, today).await,
        None => store.store_responses_of(items, couriers, today).await,
    };
    if outcome.is_err() {
        *writer = None;
    }
    outcome
}
