//! The outbox and the job table under concurrency, on both backends: event
//! ids are gapless and in commit order whatever the interleaving; a job is
//! held by one process at a time, and taken over when its holder's lease
//! runs out.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use doorstep_store::testing::TestDb;
use doorstep_store::Store;
use tokio::sync::Barrier;

use common::TwoServers;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name("sqlite").await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name("postgres").await } )* }
    };
}

on_both_backends!(
    events_from_two_servers_at_once_get_gapless_ids_in_commit_order,
    each_due_job_is_claimed_by_one_server_and_taken_over_after_its_lease,
);

/// Batches stored by two servers at once, with two processes numbering
/// the events (PostgreSQL) and a reader following them meanwhile: every
/// stored response has exactly one event, ids run 1, 2, 3… with no gap,
/// and the reader, which only ever asks for what comes after the last id
/// it saw, misses none.
async fn events_from_two_servers_at_once_get_gapless_ids_in_commit_order(backend: &str) {
    let s = TwoServers::new(backend).await;
    // The setup's own events (the survey's publication), numbered first.
    while s.store.number_events().await.unwrap() > 0 {}
    let start = s.store.last_event_id().await.unwrap();
    let stores = [s.store.clone(), s.second.clone()];
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Two numberers at once (PostgreSQL numbers events after their commit;
    // on SQLite this does nothing), the reader following the first.
    let second_numberer = {
        let (store, done) = (s.second.clone(), Arc::clone(&done));
        tokio::spawn(async move {
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                store.number_events().await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        })
    };
    let reader = {
        let (store, done) = (s.store.clone(), Arc::clone(&done));
        tokio::spawn(async move {
            let mut last = start;
            let mut seen = Vec::new();
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                if finished {
                    while store.number_events().await.unwrap() > 0 {}
                } else {
                    store.number_events().await.unwrap();
                }
                for e in store.events_after(last, 100).await.unwrap() {
                    last = e.id;
                    seen.push(e);
                }
                if finished {
                    return seen;
                }
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        })
    };
    let barrier = Arc::new(Barrier::new(s.batches.len()));
    let writers: Vec<_> = s
        .batches
        .iter()
        .enumerate()
        .map(|(i, batch)| {
            let (store, batch, barrier, today) = (
                stores[i % 2].clone(),
                batch.clone(),
                Arc::clone(&barrier),
                s.today,
            );
            tokio::spawn(async move {
                barrier.wait().await;
                store.store_responses(&batch, None, today).await.unwrap()
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = reader.await.unwrap();
    second_numberer.await.unwrap();
    let ids: Vec<i64> = seen.iter().map(|e| e.id).collect();
    let expected: Vec<i64> = (start + 1..=s.store.last_event_id().await.unwrap()).collect();
    assert_eq!(
        ids, expected,
        "gapless, in order, none missed by the reader"
    );
    let responses: HashSet<String> = seen
        .iter()
        .filter(|e| e.name == "response.created")
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(&e.data).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let created = seen.iter().filter(|e| e.name == "response.created");
    assert_eq!(responses.len(), created.count(), "one event per response");
    // The only other events a batch raises are the detractors' incidents.
    let others: HashSet<&str> = seen
        .iter()
        .filter(|e| e.name != "response.created")
        .map(|e| e.name.as_str())
        .collect();
    assert!(
        others.iter().all(|n| *n == "incident.created"),
        "unexpected events: {others:?}"
    );
    assert_eq!(
        responses.len() as i64,
        s.store.count_responses().await.unwrap()
    );
    // A batch's events are one row: reading can start and stop inside it.
    let inside = start + 5;
    let some: Vec<i64> = s
        .store
        .events_after(inside, 3)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(some, vec![inside + 1, inside + 2, inside + 3]);
    assert_eq!(s.store.first_event_id().await.unwrap(), Some(1));
}

/// Eight claimers on two servers at once take each due job once; the
/// holder's record is final, a stranger's is refused; a holder that stops
/// renewing loses the job to another when the lease runs out.
async fn each_due_job_is_claimed_by_one_server_and_taken_over_after_its_lease(backend: &str) {
    let db = TestDb::new(backend).await;
    let a = Store::connect(&db.url).await.unwrap();
    let b = Store::connect(&db.url).await.unwrap();
    for i in 0..20 {
        a.ensure_job(&format!("job-{i:02}"), "test", 0)
            .await
            .unwrap();
    }
    a.ensure_job("job-00", "other kind", 0).await.unwrap(); // already there: kept
    let barrier = Arc::new(Barrier::new(8));
    let claimers: Vec<_> = (0..8)
        .map(|k| {
            let store = if k % 2 == 0 { a.clone() } else { b.clone() };
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                let holder = format!("holder-{k}");
                let mut mine = Vec::new();
                for _ in 0..5 {
                    for job in store.claim_jobs(&holder, 60_000, 3).await.unwrap() {
                        mine.push((holder.clone(), job));
                    }
                }
                mine
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for c in claimers {
        claimed.extend(c.await.unwrap());
    }
    let ids: HashSet<&str> = claimed.iter().map(|(_, j)| j.id.as_str()).collect();
    assert_eq!(
        claimed.len(),
        20,
        "every job claimed, none twice: {claimed:?}"
    );
    assert_eq!(ids.len(), 20);
    assert!(claimed
        .iter()
        .all(|(_, j)| j.kind == "test" && j.attempts == 1));

    let (holder, job) = &claimed[0];
    assert!(
        !a.job_done(&job.id, "stranger", 0).await.unwrap(),
        "only the holder records"
    );
    assert!(
        a.claim_jobs("late", 60_000, 50).await.unwrap().is_empty(),
        "all leased"
    );
    assert!(b
        .job_failed(&job.id, holder, "broke", 0, false)
        .await
        .unwrap());
    let again = a.claim_jobs("next", 60_000, 50).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2, "a failure counts as a try");
    let view = a.jobs().await.unwrap();
    assert_eq!(
        view.iter()
            .find(|j| j.id == job.id)
            .unwrap()
            .last_error
            .as_deref(),
        Some("broke")
    );

    // A holder that died: its lease (here 1 ms) runs out, another takes it.
    let (dead, orphan) = &claimed[1];
    assert!(a.extend_job(&orphan.id, dead, 1).await.unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let taken = b.claim_jobs("survivor", 60_000, 50).await.unwrap();
    assert_eq!(
        taken.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        [orphan.id.as_str()]
    );
    assert!(
        !a.job_done(&orphan.id, dead, 0).await.unwrap(),
        "the dead holder's late record is refused"
    );
    assert!(b.job_done(&orphan.id, "survivor", i64::MAX).await.unwrap());
}
