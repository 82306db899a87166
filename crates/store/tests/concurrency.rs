//! The store under concurrency: batches from several clients and two
//! servers at once, with folds, rebuilds and lock waits going on — and the
//! same answer sent many times at once — each answer is stored and counted
//! exactly once, on both backends.

use doorstep_store::survey::rollups::{GroupBy, GroupKey};

mod common;
use std::sync::Arc;

use doorstep_store::{NewResponse, ResponseOutcome, Store};
use tokio::sync::Barrier;

use common::{assert_counted, assert_counted_once, everything, spawn_clients, TwoServers};

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name("sqlite").await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name("postgres").await } )* }
    };
}

on_both_backends!(
    concurrent_batches_and_folds_count_each_answer_once,
    a_rebuild_during_ingestion_counts_each_answer_once,
    a_batch_held_off_too_long_is_refused_as_busy_and_stores_nothing,
    the_same_batches_sent_by_eight_clients_at_once_are_stored_and_counted_once,
    one_id_with_eight_contents_at_once_is_stored_once_and_the_rest_conflict,
    eight_ids_for_one_order_at_once_are_stored_once_and_the_rest_already_surveyed,
    order_imports_sharing_couriers_at_once_neither_deadlock_nor_count_twice,
    background_builds_during_late_answers_lose_nothing,
    a_calls_events_stored_by_two_servers_at_once_make_the_whole_call
);

/// Batches stored at once by several clients while two servers fold the
/// pending increments at once, again and again: every answer is counted
/// exactly once (on PostgreSQL, where batches update the daily rows
/// themselves, it checks those concurrent updates).
async fn concurrent_batches_and_folds_count_each_answer_once(backend: &str) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let TwoServers {
        db: _db,
        store,
        second,
        tz,
        batches,
        today,
    } = TwoServers::new(backend).await;
    let done = Arc::new(AtomicBool::new(false));
    let mut folders = Vec::new();
    for s in [&store, &store, &second, &second] {
        let (s, done) = (s.clone(), Arc::clone(&done));
        folders.push(tokio::spawn(async move {
            let mut folded = 0;
            while !done.load(Ordering::Relaxed) {
                folded += s.fold_pending().await.unwrap();
                tokio::task::yield_now().await;
            }
            folded
        }));
    }
    let clients = spawn_clients([&store, &second], &batches, today);
    for c in clients {
        c.await.unwrap();
    }
    done.store(true, Ordering::Relaxed);
    let mut folded = 0;
    for f in folders {
        folded += f.await.unwrap();
    }
    if backend == "sqlite" {
        // (PostgreSQL's batches update the daily rows themselves.)
        assert!(
            folded > 0,
            "the folders folded nothing while batches arrived"
        );
    }
    assert_counted_once(&store, &tz, "after concurrent folds").await;
    assert_eq!(
        store.fold_pending().await.unwrap(),
        0,
        "nothing left pending"
    );
    second.close().await;
    store.close().await;
}

/// Batches stored at once by several clients while another server rebuilds
/// the rollups from the raw answers, again and again: every answer is
/// counted once — a batch committing during a rebuild's scan is neither
/// lost nor counted by both.
async fn a_rebuild_during_ingestion_counts_each_answer_once(backend: &str) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let TwoServers {
        db: _db,
        store,
        second,
        tz,
        batches,
        today,
    } = TwoServers::new(backend).await;
    let done = Arc::new(AtomicBool::new(false));
    let rebuilder = {
        let (s, tz, done) = (second.clone(), tz.clone(), Arc::clone(&done));
        tokio::spawn(async move {
            let mut rebuilds = 0;
            while !done.load(Ordering::Relaxed) {
                s.rebuild_rollups(&tz, |_| {}).await.unwrap();
                rebuilds += 1;
            }
            rebuilds
        })
    };
    for c in spawn_clients([&store, &second], &batches, today) {
        c.await.unwrap();
    }
    done.store(true, Ordering::Relaxed);
    let rebuilds = rebuilder.await.unwrap();
    assert!(rebuilds > 1, "{rebuilds} rebuilds while batches arrived");
    assert_counted_once(&store, &tz, "after rebuilds during ingestion").await;
    second.close().await;
    store.close().await;
}

/// A batch that cannot get at the daily rows within the lock wait (another
/// transaction holds them as a rebuild does) is refused as "busy", stores
/// nothing, and is stored whole — once — when sent again.
async fn a_batch_held_off_too_long_is_refused_as_busy_and_stores_nothing(backend: &str) {
    use sqlx::Connection;
    let TwoServers {
        db,
        store,
        second,
        batches,
        today,
        ..
    } = TwoServers::new(backend).await;
    second.close().await;
    let url = &db.url;
    let started = std::time::Instant::now();
    let refused = if backend == "sqlite" {
        let path = url.trim_start_matches("sqlite://");
        let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
            .await
            .unwrap();
        sqlx::raw_sql("BEGIN IMMEDIATE")
            .execute(&mut other)
            .await
            .unwrap();
        let refused = store.store_responses(&batches[0], None, today).await;
        sqlx::raw_sql("ROLLBACK").execute(&mut other).await.unwrap();
        refused
    } else {
        let mut other = sqlx::PgConnection::connect(url).await.unwrap();
        let mut tx = other.begin().await.unwrap();
        sqlx::raw_sql("LOCK TABLE rollup_days IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .unwrap();
        let refused = store.store_responses(&batches[0], None, today).await;
        tx.rollback().await.unwrap();
        refused
    };
    let waited = started.elapsed();
    let error = refused.expect_err("a batch held off past the lock wait");
    assert!(error.is_busy(), "{error}");
    assert!(
        waited >= doorstep_store::db::LOCK_WAIT / 2 && waited < doorstep_store::db::LOCK_WAIT * 3,
        "waited {waited:?}"
    );
    assert_eq!(store.count_responses().await.unwrap(), 0, "nothing stored");
    let outcomes = store
        .store_responses(&batches[0], None, today)
        .await
        .unwrap();
    assert!(outcomes
        .iter()
        .all(|o| *o == doorstep_store::ResponseOutcome::Stored));
    assert_eq!(
        store.count_responses().await.unwrap(),
        batches[0].len() as i64
    );
    let all = everything();
    let (_, total) = store
        .metric_tallies(&all, GroupBy::All, None)
        .await
        .unwrap();
    assert_eq!(
        total[0].1.completed,
        batches[0].len() as i64,
        "counted once"
    );
    store.close().await;
}

/// Waits for the other clients to reach the same point; a client that
/// failed never comes, and then the test fails rather than hangs.
async fn together(start: &Barrier) {
    tokio::time::timeout(std::time::Duration::from_mins(2), start.wait())
        .await
        .expect("another client failed (see its panic above)");
}

/// Eight clients, four on each server, each send `their[k]`'s batches in
/// turn, every round starting at the same moment; returns each client's
/// outcomes, in order.
async fn race(
    stores: [&Store; 2],
    their: Vec<Vec<Vec<NewResponse>>>,
    today: i64,
) -> Vec<Vec<ResponseOutcome>> {
    let rounds = their[0].len();
    let start = Arc::new(Barrier::new(their.len()));
    let clients: Vec<_> = their
        .into_iter()
        .enumerate()
        .map(|(k, batches)| {
            let (s, start) = (stores[k % 2].clone(), Arc::clone(&start));
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for batch in batches {
                    together(&start).await;
                    outcomes.extend(s.store_responses(&batch, None, today).await.unwrap());
                }
                outcomes
            })
        })
        .collect();
    let mut all = Vec::new();
    for c in clients {
        let outcomes = c.await.unwrap();
        assert_eq!(outcomes.len(), all.first().map_or(outcomes.len(), Vec::len));
        all.push(outcomes);
    }
    assert_eq!(all.len(), 8);
    assert!(rounds > 0);
    all
}

fn count(outcomes: &[Vec<ResponseOutcome>], which: ResponseOutcome) -> usize {
    outcomes.iter().flatten().filter(|o| **o == which).count()
}

/// A terminal on a bad network sends its queue again while the first
/// request still runs, from several servers' points of view: eight clients
/// send the same 600 answers (in different orders) at the same moments.
/// Each answer is stored once, answered `created` once and `duplicate` to
/// every other client, and counted once in every figure.
async fn the_same_batches_sent_by_eight_clients_at_once_are_stored_and_counted_once(backend: &str) {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let two = TwoServers::new(backend).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(8);
    let their: Vec<Vec<Vec<NewResponse>>> = (0..8)
        .map(|k| {
            two.batches
                .iter()
                .map(|b| {
                    let mut b = b.clone();
                    // Half the clients keep the order, half shuffle it: rows
                    // locked in different orders must not deadlock anyone out.
                    if k % 2 == 1 {
                        b.shuffle(&mut rng);
                    }
                    b
                })
                .collect()
        })
        .collect();
    let outcomes = race([&two.store, &two.second], their, two.today).await;
    assert_eq!(
        count(&outcomes, ResponseOutcome::Stored),
        600,
        "created once each"
    );
    assert_eq!(count(&outcomes, ResponseOutcome::Duplicate), 7 * 600);
    for i in 0..600 {
        let created = outcomes
            .iter()
            .filter(|o| o[i] == ResponseOutcome::Stored)
            .count();
        assert_eq!(
            created, 1,
            "answer {i} was answered `created` {created} times"
        );
    }
    assert_counted_once(
        &two.store,
        &two.tz,
        "after eight clients sent the same batches",
    )
    .await;
    two.second.close().await;
    two.store.close().await;
}

/// Twenty rounds of eight single-answer batches, one per client, made by
/// `make(round, client)`, raced through two servers: in each round one is
/// stored and the seven others are told `others`; twenty are counted.
async fn one_of_eight_per_round(
    backend: &str,
    make: impl Fn(&[&NewResponse], usize, usize) -> NewResponse,
    others: ResponseOutcome,
) {
    let two = TwoServers::new(backend).await;
    let answers: Vec<&NewResponse> = two.batches.iter().flatten().collect();
    let their: Vec<Vec<Vec<NewResponse>>> = (0..8)
        .map(|k| {
            (0..20)
                .map(|round| vec![make(&answers, round, k)])
                .collect()
        })
        .collect();
    let outcomes = race([&two.store, &two.second], their, two.today).await;
    for round in 0..20 {
        let of_round: Vec<ResponseOutcome> = outcomes.iter().map(|o| o[round]).collect();
        let stored = of_round
            .iter()
            .filter(|o| **o == ResponseOutcome::Stored)
            .count();
        let told = of_round.iter().filter(|o| **o == others).count();
        assert_eq!((stored, told), (1, 7), "round {round}: {of_round:?}");
    }
    assert_counted(
        &two.store,
        &two.tz,
        &format!("one of eight, the others {others:?}"),
        20,
    )
    .await;
    two.second.close().await;
    two.store.close().await;
}

/// One id sent with eight different contents (eight orders) at once, for
/// twenty ids: one content is stored under each id, the other seven
/// clients are told `conflict`.
async fn one_id_with_eight_contents_at_once_is_stored_once_and_the_rest_conflict(backend: &str) {
    let make = |answers: &[&NewResponse], round: usize, k: usize| {
        let mut r = answers[round * 8 + k].clone();
        r.id = format!("00000000-0000-4000-8000-{round:012}");
        r.content_hash = format!("content {k}");
        r
    };
    one_of_eight_per_round(backend, make, ResponseOutcome::Conflict).await;
}

/// Eight responses with eight ids for one order and survey at once (two
/// devices, or a link and a terminal), for twenty orders: one is stored,
/// the others are told `already_surveyed`.
async fn eight_ids_for_one_order_at_once_are_stored_once_and_the_rest_already_surveyed(
    backend: &str,
) {
    let make = |answers: &[&NewResponse], round: usize, k: usize| {
        let mut r = answers[round].clone();
        r.id = format!("00000000-0000-4000-8000-{:012}", round * 8 + k);
        r
    };
    one_of_eight_per_round(backend, make, ResponseOutcome::AlreadySurveyed).await;
}

/// Six imports at once (three per server) of 1,000-order batches that share
/// couriers, partners, customers and many of their orders — some sent by
/// several clients, some changed by a later one: none fails (no deadlock
/// reaches the caller), each order is inserted once, and the delivery
/// figures equal a count made again from the stored orders.
async fn order_imports_sharing_couriers_at_once_neither_deadlock_nor_count_twice(backend: &str) {
    use doorstep_domain::{Country, OrderInput, OrderRecord};
    use doorstep_store::testing::TestDb;
    use doorstep_store::RowOutcome;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.unwrap();
    let second = Store::connect(&db.url).await.unwrap();
    let tz = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
    let ru = Country::from_code("RU").unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    // 3,000 orders; client k sends batches drawn from them, so each order
    // arrives from two or three clients, with its delivery time changed by
    // some (an update).
    let order = |n: usize, late: bool, rng: &mut rand::rngs::StdRng| -> OrderRecord {
        let day = 1 + n % 9;
        OrderInput {
            order_number: Some(format!("N-{n}")),
            customer_phone: Some(format!("+7916{:07}", n % 700)),
            city: Some(["Москва", "Казань", "Самара"][n % 3].into()),
            partner: Some(format!("P{}", n % 7)),
            courier_id: Some(format!("K-{}", rng.gen_range(0..20))),
            courier_name: Some(format!("Courier {}", n % 20)),
            promised_from: Some(format!("2026-10-0{day}T10:00:00+03:00")),
            promised_to: Some(format!("2026-10-0{day}T12:00:00+03:00")),
            delivered_at: Some(format!(
                "2026-10-0{day}T{}:00:00+03:00",
                if late { 13 } else { 11 }
            )),
            ..OrderInput::default()
        }
        .validate(&tz, ru)
        .unwrap()
    };
    let mut their: Vec<Vec<Vec<OrderRecord>>> = Vec::new();
    for k in 0..6 {
        let mut numbers: Vec<usize> = (0..3000).filter(|n| (n + k) % 3 != 0).collect();
        numbers.shuffle(&mut rng);
        let batches = numbers
            .chunks(1000)
            .map(|c| {
                c.iter()
                    .map(|&n| order(n, (n + k) % 5 == 0, &mut rng))
                    .collect()
            })
            .collect();
        their.push(batches);
    }
    let start = Arc::new(Barrier::new(6));
    let clients: Vec<_> = their
        .into_iter()
        .enumerate()
        .map(|(k, batches)| {
            let (s, start) = (
                if k % 2 == 0 {
                    store.clone()
                } else {
                    second.clone()
                },
                Arc::clone(&start),
            );
            tokio::spawn(async move {
                let mut inserted = 0;
                for batch in batches {
                    together(&start).await;
                    let outcomes = s.upsert_orders(&batch, "Europe/Moscow").await.unwrap();
                    inserted += outcomes
                        .iter()
                        .filter(|o| **o == RowOutcome::Inserted)
                        .count();
                }
                inserted
            })
        })
        .collect();
    let mut inserted = 0;
    for c in clients {
        inserted += c.await.unwrap();
    }
    assert_eq!(inserted, 3000, "each order inserted once");
    assert_eq!(store.count_orders().await.unwrap(), 3000);
    let all = everything();
    let tallies = |s: Store| {
        let all = all.clone();
        async move {
            let mut t: Vec<(GroupKey, (i64, i64))> = s
                .delivery_tallies(&all, GroupBy::Courier, None)
                .await
                .unwrap()
                .unwrap()
                .into_iter()
                .collect();
            t.sort();
            t
        }
    };
    let rolled = tallies(store.clone()).await;
    let delivered: i64 = rolled.iter().map(|(_, (d, _))| d).sum();
    assert_eq!(delivered, 3000, "every order delivered once: {rolled:?}");
    store.rebuild_deliveries(&tz).await.unwrap();
    assert_eq!(
        rolled,
        tallies(store.clone()).await,
        "rollup vs a count again"
    );
    second.close().await;
    store.close().await;
}

/// The background builds (weeks and days, in slices) run again and again on
/// one server while four clients store answers for those past days through
/// both: a build that read a day before a late answer arrived must not mark
/// it built without that answer. At the end every figure read from built
/// rows equals the count from the raw answers.
async fn background_builds_during_late_answers_lose_nothing(backend: &str) {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let two = TwoServers::new(backend).await;
    let now = jiff::Timestamp::now().as_millisecond();
    let done = Arc::new(AtomicBool::new(false));
    let passes = Arc::new(AtomicUsize::new(0));
    let builder = {
        let (s, tz, done, passes, today) = (
            two.second.clone(),
            two.tz.clone(),
            Arc::clone(&done),
            Arc::clone(&passes),
            two.today,
        );
        tokio::spawn(async move {
            let mut built = 0;
            while !done.load(Ordering::Relaxed) {
                built += s.build_weeks(today).await.unwrap();
                built += s.build_days(&tz, now, |_, _| {}).await.unwrap();
                passes.fetch_add(1, Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
            built
        })
    };
    // Four clients through both servers; each lets a build pass run after
    // each of its batches, so builds always interleave with answers, however
    // busy the machine.
    let clients: Vec<_> = (0..4)
        .map(|k| {
            let s = [&two.store, &two.second][k % 2].clone();
            let mine: Vec<Vec<NewResponse>> =
                two.batches.iter().skip(k).step_by(4).cloned().collect();
            let (passes, today) = (Arc::clone(&passes), two.today);
            tokio::spawn(async move {
                for batch in mine {
                    let seen = passes.load(Ordering::Relaxed);
                    s.store_responses(&batch, None, today).await.unwrap();
                    while passes.load(Ordering::Relaxed) <= seen + 1 {
                        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    }
                }
            })
        })
        .collect();
    for c in clients {
        c.await.unwrap();
    }
    done.store(true, Ordering::Relaxed);
    assert!(
        builder.await.unwrap() > 0,
        "the builder built while answers arrived"
    );
    // Whatever was marked last is built now.
    two.store.build_weeks(two.today).await.unwrap();
    two.store.build_days(&two.tz, now, |_, _| {}).await.unwrap();
    assert_eq!(
        two.store.build_days(&two.tz, now, |_, _| {}).await.unwrap(),
        0
    );
    assert_counted_once(&two.store, &two.tz, "from built weeks and days").await;
    // The couriers' habits and the drivers' pairs, over every day.
    let read = || async {
        (
            two.store
                .courier_patterns(0, 100_000, &two.tz)
                .await
                .unwrap(),
            two.store
                .question_pairs(&everything(), &two.tz)
                .await
                .unwrap(),
        )
    };
    let (built, built_pairs) = read().await;
    // Rebuilt: every day is counted from the raw answers.
    two.store.rebuild_rollups(&two.tz, |_| {}).await.unwrap();
    let (raw, raw_pairs) = read().await;
    assert_eq!(built.len(), raw.len());
    for (b, r) in built.iter().zip(&raw) {
        assert_eq!(
            (
                &b.courier_id,
                b.responses,
                b.nps_n,
                b.tens,
                b.same_answers,
                b.delay_n
            ),
            (
                &r.courier_id,
                r.responses,
                r.nps_n,
                r.tens,
                r.same_answers,
                r.delay_n
            ),
            "habits of {}",
            b.courier_id
        );
        let close = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) => (x - y).abs() < 1e-6 * (1.0 + x.abs()),
            (x, y) => x == y,
        };
        assert!(close(b.duration_ms, r.duration_ms), "{b:?} vs {r:?}");
    }
    assert_eq!(built_pairs.len(), raw_pairs.len());
    for (b, r) in built_pairs.iter().zip(&raw_pairs) {
        assert_eq!((&b.question_id, b.sums.n), (&r.question_id, r.sums.n));
    }
    two.second.close().await;
    two.store.close().await;
}

/// Two servers store the events of the same calls at once — one the
/// starts, the other the answers and ends, call by call in step — so
/// each call's halves are in two transactions running side by side:
/// every call is written from all of its events, whoever committed last,
/// and every event is kept once.
async fn a_calls_events_stored_by_two_servers_at_once_make_the_whole_call(backend: &str) {
    use doorstep_domain::calls::CallEvent;
    let db = doorstep_store::testing::TestDb::new(backend).await;
    let a = Store::connect(&db.url).await.unwrap();
    let b = Store::connect(&db.url).await.unwrap();
    let event = |id: usize, name: &str, at: i64, agent: &str, data: &[&str]| CallEvent {
        call_id: format!("call-{id}"),
        event: name.to_owned(),
        at,
        queue: "support".to_owned(),
        agent: agent.to_owned(),
        data: data.iter().map(|d| (*d).to_owned()).collect(),
    };
    let calls = 300;
    let starts: Vec<CallEvent> = (0..calls)
        .map(|i| {
            event(
                i,
                "ENTERQUEUE",
                1_000_000 + i as i64 * 1000,
                "",
                &["", "+79161234567", "1"],
            )
        })
        .collect();
    let ends: Vec<CallEvent> = (0..calls)
        .flat_map(|i| {
            let at = 1_000_000 + i as i64 * 1000;
            [
                event(i, "CONNECT", at + 7000, "SIP/101", &["7", "x", "2"]),
                event(
                    i,
                    "COMPLETEAGENT",
                    at + 67_000,
                    "SIP/101",
                    &["7", "60", "1"],
                ),
            ]
        })
        .collect();
    let country = doorstep_domain::Country::from_code("RU").unwrap();
    let first = {
        let a = a.clone();
        let starts = starts.clone();
        tokio::spawn(async move {
            for chunk in starts.chunks(25) {
                a.record_call_events(chunk, country).await.unwrap();
            }
        })
    };
    let second = {
        let b = b.clone();
        let ends = ends.clone();
        tokio::spawn(async move {
            for chunk in ends.chunks(50) {
                b.record_call_events(chunk, country).await.unwrap();
            }
        })
    };
    first.await.unwrap();
    second.await.unwrap();
    for i in 0..calls {
        let call = a.call(&format!("call-{i}")).await.unwrap().unwrap();
        assert_eq!(
            (
                call.outcome.as_str(),
                call.wait_seconds,
                call.talk_seconds,
                call.entered
            ),
            ("answered", Some(7), Some(60), true),
            "call {i}: {call:?}"
        );
    }
    let again = a.record_call_events(&starts, country).await.unwrap();
    assert_eq!(again.new_events, 0, "each event kept once");
    a.close().await;
    b.close().await;
}
