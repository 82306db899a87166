//! The promises of exactly once on real networks: resends while the first
//! request still runs, clients that give up mid-request, two servers on one
//! database.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Barrier;

use crate::helpers::{order_json, TestApp};
use crate::on_both_backends;
use crate::surveys::{link_for, post, response, with_orders_and_survey};

on_both_backends!(
    single_answers_from_many_terminals_at_once_are_committed_together_each_as_asked,
    a_storm_of_cancelled_requests_leaves_every_later_write_working,
    the_same_batch_from_eight_terminals_at_once_on_two_servers_is_created_once,
    one_link_answered_eight_times_at_once_is_stored_once,
    times_far_from_the_delivery_are_refused_with_the_reason
);

fn orders(count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| order_json(&format!("A-{i}"), &format!("+7916{i:07}"), "K-1"))
        .collect()
}

fn answer(i: usize) -> Value {
    response(
        &format!("0b7e4c1e-36a4-4c1f-9a43-{i:012}"),
        &format!("A-{i}"),
        "completed",
        &json!([{"question_id": "nps", "value": i % 11}]),
    )
}

/// Completed responses counted by the metrics API for November 2026.
async fn counted(app: &TestApp, token: &str) -> i64 {
    let (status, body) = app
        .get_json("/api/v1/metrics?from=2026-11-01&to=2026-11-30", token)
        .await;
    assert_eq!(status, 200, "{body}");
    body["groups"][0]["responses"].as_i64().unwrap_or(0)
}

/// Terminals on mobile networks give up on requests all the time: eight
/// clients post batches with a 3–20 ms timeout, hundreds of times, so the
/// server sees requests dropped at every stage. Afterwards every write still
/// works at once, health says so, and what was stored is counted once.
async fn a_storm_of_cancelled_requests_leaves_every_later_write_working(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = with_orders_and_survey(&app, orders(400)).await;
    let terminal = app.token("terminal", Some("K-1")).await;
    let clients: Vec<_> = (0..8)
        .map(|k| {
            let (url, terminal) = (app.at("/api/v1/responses"), terminal.clone());
            tokio::spawn(async move {
                for round in 0..60 {
                    let client = reqwest::Client::builder()
                        .timeout(Duration::from_millis(3 + ((k * 7 + round) % 18) as u64))
                        .build()
                        .unwrap();
                    let first = (k * 50 + round) % 395;
                    let batch: Vec<Value> = (first..first + 5).map(answer).collect();
                    let _ = client
                        .post(&url)
                        .bearer_auth(&terminal)
                        .json(&batch)
                        .send()
                        .await;
                }
            })
        })
        .collect();
    for c in clients {
        c.await.unwrap();
    }
    // Whatever the storm left behind, a normal batch stores now.
    let batch: Vec<Value> = (395..400).map(answer).collect();
    let sent = tokio::time::timeout(
        Duration::from_secs(15),
        post(&app, &terminal, "/api/v1/responses", &json!(batch)),
    )
    .await
    .expect("a write after the storm answers in time");
    assert!(sent.0 == 201 || sent.0 == 200, "{sent:?}");
    assert_eq!(
        sent.1["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["result"] == "created" || i["result"] == "duplicate")
            .count(),
        5,
        "{}",
        sent.1
    );
    let (status, health) = app.get_json("/healthz", &terminal).await;
    assert_eq!(
        (status, health["status"].as_str()),
        (200, Some("ok")),
        "{health}"
    );
    // A request the client gave up on may still be committing on the
    // server: the figures are compared once nothing arrives between two
    // reads of the stored count (a response counted twice never matches).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stored = app.store.count_responses().await.unwrap();
        let figures = counted(&app, &integration).await;
        if app.store.count_responses().await.unwrap() == stored {
            assert!(stored >= 5);
            assert_eq!(figures, stored, "counted once");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "abandoned requests still committing after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // And every other kind of write too: an order import.
    let r = app
        .post_orders(
            &integration,
            &json!([order_json("B-1", "+79990000001", "K-2")]),
        )
        .await;
    assert_eq!(r.status(), 200);
}

/// A terminal's queue sent again while the first request still runs —
/// eight times at once, through two servers on one database: each answer
/// is `created` for exactly one request and `duplicate` for the others, and
/// the metrics count it once.
async fn the_same_batch_from_eight_terminals_at_once_on_two_servers_is_created_once(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let other = app.beside().await;
    let integration = with_orders_and_survey(&app, orders(200)).await;
    let terminal = app.token("terminal", Some("K-1")).await;
    let start = Arc::new(Barrier::new(8));
    let clients: Vec<_> = (0..8)
        .map(|k| {
            let url = if k % 2 == 0 {
                app.at("/api/v1/responses")
            } else {
                other.at("/api/v1/responses")
            };
            let (terminal, start) = (terminal.clone(), Arc::clone(&start));
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut created = 0;
                for round in 0..4 {
                    let batch: Vec<Value> = (round * 50..round * 50 + 50).map(answer).collect();
                    start.wait().await;
                    let body: Value = client
                        .post(&url)
                        .bearer_auth(&terminal)
                        .json(&batch)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    created += body["created"].as_i64().unwrap();
                    assert_eq!(
                        body["created"].as_i64().unwrap() + body["duplicates"].as_i64().unwrap(),
                        50,
                        "{body}"
                    );
                }
                created
            })
        })
        .collect();
    let mut created = 0;
    for c in clients {
        created += c.await.unwrap();
    }
    assert_eq!(created, 200, "each answer created once");
    assert_eq!(app.store.count_responses().await.unwrap(), 200);
    assert_eq!(counted(&app, &integration).await, 200);
    assert_eq!(counted(&other, &integration).await, 200);
}

/// Group commit: a hundred one-answer requests at once from four couriers'
/// terminals (and the same answer sent eight times, and one for another
/// courier's order) share transactions, yet each request is answered as if
/// it were alone: its own answer created once, the resends duplicates, the
/// stranger's order refused — without failing the requests it shared a
/// commit with.
async fn single_answers_from_many_terminals_at_once_are_committed_together_each_as_asked(
    backend: &str,
) {
    let app = TestApp::spawn(backend).await;
    let integration = app.token("integration", None).await;
    let orders: Vec<Value> = (0..100)
        .map(|i| {
            order_json(
                &format!("A-{i}"),
                &format!("+7916{i:07}"),
                &format!("K-{}", i % 4),
            )
        })
        .collect();
    assert_eq!(
        app.post_orders(&integration, &json!({ "orders": orders }))
            .await
            .status(),
        200
    );
    let (status, body) = post(
        &app,
        &integration,
        "/api/v1/surveys",
        &crate::surveys::door_survey(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let mut terminals = Vec::new();
    for k in 0..4 {
        terminals.push(app.token("terminal", Some(&format!("K-{k}"))).await);
    }
    let start = Arc::new(Barrier::new(108));
    // (terminal, answer): each order by its own courier's terminal; answer
    // 7 eight times more; order 1 (K-1's) by K-0's terminal.
    let mut sends: Vec<(usize, usize)> = (0..100).map(|i| (i % 4, i)).collect();
    sends.extend(std::iter::repeat_n((3, 7), 7));
    sends.push((0, 1));
    let url = app.at("/api/v1/responses");
    let clients: Vec<_> = sends
        .into_iter()
        .map(|(t, i)| {
            let (url, token, start) = (url.clone(), terminals[t].clone(), Arc::clone(&start));
            tokio::spawn(async move {
                start.wait().await;
                let r = reqwest::Client::new()
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!([if t == 0 && i == 1 {
                        // Its own id for K-1's order: another answer.
                        response(
                            "0b7e4c1e-36a4-4c1f-9a43-999999999999",
                            "A-1",
                            "completed",
                            &json!([{"question_id": "nps", "value": 5}]),
                        )
                    } else {
                        answer(i)
                    }]))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap();
                (
                    t,
                    i,
                    status,
                    body["items"][0]["result"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
        })
        .collect();
    let mut created = 0;
    let mut duplicates = 0;
    let mut refused = 0;
    for c in clients {
        let (t, i, status, result) = c.await.unwrap();
        match (status, result.as_str()) {
            (201, "created") => created += 1,
            (200, "duplicate") => {
                assert_eq!(i, 7, "only answer 7 was sent again");
                duplicates += 1;
            }
            (403, _) => {
                assert_eq!((t, i), (0, 1), "only K-0's try at K-1's order");
                refused += 1;
            }
            other => panic!("answer {i} from terminal {t}: {other:?}"),
        }
    }
    // The stranger's try may land before or after K-1's own answer: refused
    // either way; answer 1 is created by its own terminal.
    assert_eq!((created, duplicates, refused), (100, 7, 1));
    let (requests, commits) = app.state.committer.grouped();
    assert!(
        requests >= 108 && commits < requests,
        "grouped: {requests} requests in {commits} commits"
    );
    // Requests waited while a commit ran: the next commit kept its
    // connection.
    assert!(
        app.state.committer.kept() >= 1,
        "no commit kept the connection"
    );
    assert_eq!(app.store.count_responses().await.unwrap(), 100);
    assert_eq!(counted(&app, &integration).await, 100);
}

/// A customer double-taps "Send" on a bad network (or opens the link in two
/// tabs): eight submissions of one link at once, through two servers, store
/// one response.
async fn one_link_answered_eight_times_at_once_is_stored_once(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let other = app.beside().await;
    let integration = with_orders_and_survey(&app, orders(3)).await;
    let path = link_for(&app, &integration, "A-1").await;
    let start = Arc::new(Barrier::new(8));
    let submissions: Vec<_> = (0..8)
        .map(|k| {
            let url = if k % 2 == 0 {
                app.at(&path)
            } else {
                other.at(&path)
            };
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                start.wait().await;
                client
                    .post(&url)
                    .form(&[("q.nps", (k % 11).to_string().as_str()), ("action", "send")])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for s in submissions {
        assert_eq!(s.await.unwrap(), 200, "each is answered politely");
    }
    assert_eq!(app.store.order_responses("A-1").await.unwrap().len(), 1);
    assert_eq!(app.store.count_responses().await.unwrap(), 1);
}

/// A start in year 0000, a finish in 9999, or a start days before the order
/// was promised is refused, and the problem says which bound and why.
async fn times_far_from_the_delivery_are_refused_with_the_reason(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = with_orders_and_survey(&app, orders(4)).await;
    let at = |i: usize, started: &str, finished: &str| {
        let mut r = answer(i);
        r["started_at"] = json!(started);
        r["finished_at"] = json!(finished);
        r
    };
    let next_year =
        (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 366)).to_string();
    let (status, body) = post(
        &app,
        &integration,
        "/api/v1/responses",
        &json!([
            at(0, "0000-01-01T00:00:00Z", "2026-11-03T14:41:30+03:00"),
            at(1, "2026-11-03T14:40:00+03:00", "9999-06-01T00:00:00Z"),
            at(2, "2026-10-20T14:40:00+03:00", "2026-10-20T14:41:00+03:00"),
            at(3, "2026-11-03T14:40:00+03:00", &next_year),
        ]),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let problem = |i: usize| body["items"][i]["errors"][0].clone();
    assert_eq!(problem(0)["field"], "responses[0].started_at", "{body}");
    assert!(
        problem(0)["message"]
            .as_str()
            .unwrap()
            .contains("more than a day before order"),
        "{body}"
    );
    assert_eq!(problem(1)["field"], "responses[1].finished_at", "{body}");
    assert!(
        problem(1)["message"]
            .as_str()
            .unwrap()
            .contains("in the future"),
        "{body}"
    );
    assert!(
        problem(2)["message"]
            .as_str()
            .unwrap()
            .contains("more than a day before order \"A-2\""),
        "{body}"
    );
    assert!(
        problem(3)["message"]
            .as_str()
            .unwrap()
            .contains("check the device's clock"),
        "{body}"
    );
    // Past what a timestamp can hold: said so, not "not a timestamp" alone.
    let (_, body) = post(
        &app,
        &integration,
        "/api/v1/responses",
        &json!([at(0, "2026-11-03T14:40:00+03:00", "9999-12-31T23:59:59Z")]),
    )
    .await;
    let message = body["items"][0]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("9999") && message.contains("range"),
        "{message}"
    );
    assert_eq!(app.store.count_responses().await.unwrap(), 0);
}
