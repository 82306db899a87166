//! Durable events: written with the change they describe, resumed with
//! `Last-Event-ID`, fanned out to every server on one database; caches
//! that follow them; background jobs that run once; signed webhooks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::helpers::{order_json, TestApp};
use crate::on_both_backends;
use crate::surveys::{post, response, with_orders_and_survey};

on_both_backends!(
    events_are_numbered_durable_and_resumed_after_the_last_one_received,
    an_answer_stored_through_one_server_reaches_a_listener_of_another_within_a_second,
    a_change_on_one_server_is_seen_by_the_others_within_a_second,
    webhooks_are_signed_delivered_once_in_order_and_retried_after_failures,
    webhooks_refuse_private_addresses_unless_allowed,
    an_admin_manages_webhooks_in_the_console,
);

/// One Server-Sent Event.
#[derive(Debug, Clone)]
pub struct Sse {
    pub id: Option<i64>,
    pub name: String,
    pub data: Value,
}

/// An open event stream.
pub struct SseReader {
    body: std::pin::Pin<
        Box<dyn futures_util::Stream<Item = reqwest::Result<axum::body::Bytes>> + Send>,
    >,
    buffer: String,
}

impl SseReader {
    pub async fn open(app: &TestApp, token: &str, last_event_id: Option<i64>) -> SseReader {
        let mut request = app
            .anonymous()
            .get(app.at("/api/v1/events"))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 200);
        SseReader {
            body: Box::pin(r.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// An open stream of a page anyone may follow (a customer's).
    pub async fn open_page(app: &TestApp, path: &str) -> SseReader {
        let r = app.anonymous().get(app.at(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        SseReader {
            body: Box::pin(r.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event (comments and keep-alives skipped), or `None` if none
    /// comes within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Sse {
                    id: None,
                    name: "message".into(),
                    data: Value::Null,
                };
                let mut any = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        event.id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        v.trim().clone_into(&mut event.name);
                        any = true;
                    } else if let Some(v) = line.strip_prefix("data:") {
                        event.data = serde_json::from_str(v.trim()).unwrap_or(Value::Null);
                        any = true;
                    }
                }
                if any {
                    return Some(event);
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .ok()??;
            self.buffer
                .push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
    }

    /// The next event named `name`.
    pub async fn next_named(&mut self, name: &str, wait: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let event = self.next(left).await?;
            if event.name == name {
                return Some(event);
            }
        }
    }
}

/// The newest event id once every committed event is numbered (on
/// PostgreSQL numbering follows the commit; numbering here, beside the
/// server's own numberer, is safe).
async fn numbered(store: &doorstep_store::Store) -> i64 {
    while store.number_events().await.unwrap() > 0 {}
    store.last_event_id().await.unwrap()
}

fn answer(i: usize) -> Value {
    response(
        &format!("6d1c2a90-1111-4c1f-9a43-{i:012}"),
        &format!("A-{i}"),
        "completed",
        &json!([{"question_id": "nps", "value": i % 11}]),
    )
}

fn orders(count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| order_json(&format!("A-{i}"), &format!("+7916{i:07}"), "K-1"))
        .collect()
}

/// Every stored answer is an event with an id; ids grow by one; a client
/// that comes back with the last id it got receives exactly what it
/// missed, then live events. A batch that stores nothing new (a resend)
/// adds no event.
async fn events_are_numbered_durable_and_resumed_after_the_last_one_received(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = with_orders_and_survey(&app, orders(10)).await;
    let terminal = app.token("terminal", Some("K-1")).await;
    let first: Vec<Value> = (0..4).map(answer).collect();
    assert_eq!(
        post(&app, &terminal, "/api/v1/responses", &json!(first))
            .await
            .0,
        201
    );
    let before = numbered(&app.store).await;
    // A resend: nothing new, no event.
    assert_eq!(
        post(&app, &terminal, "/api/v1/responses", &json!(first))
            .await
            .0,
        200
    );
    assert_eq!(numbered(&app.store).await, before);

    // From the start: the survey's publication, then the four answers.
    let mut all = SseReader::open(&app, &integration, Some(0)).await;
    let mut seen = Vec::new();
    while let Some(e) = all.next(Duration::from_millis(500)).await {
        seen.push(e);
    }
    let ids: Vec<i64> = seen.iter().map(|e| e.id.unwrap()).collect();
    assert_eq!(ids, (1..=before).collect::<Vec<_>>(), "{seen:?}");
    let created: Vec<&Sse> = seen
        .iter()
        .filter(|e| e.name == "response.created")
        .collect();
    assert_eq!(created.len(), 4);
    assert_eq!(created[0].data["order_number"], "A-0");
    assert_eq!(seen[0].name, "survey.published");

    // Resume after the second answer: the two after it, then live ones.
    let resume_at = created[1].id.unwrap();
    let mut resumed = SseReader::open(&app, &integration, Some(resume_at)).await;
    for expected in ["A-2", "A-3"] {
        let e = resumed
            .next_named("response.created", Duration::from_secs(3))
            .await
            .unwrap();
        assert_eq!(e.data["order_number"], expected);
    }
    assert_eq!(
        post(&app, &terminal, "/api/v1/responses", &json!([answer(4)]))
            .await
            .0,
        201
    );
    let live = resumed
        .next_named("response.created", Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(live.data["order_number"], "A-4");
    assert_eq!(live.id, Some(before + 1));
    // `?since=` works as the header does; a bad value is refused.
    let (status, body) = app
        .get_json("/api/v1/events?since=soon", &integration)
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("not an event id"),
        "{body}"
    );

    // Pruned events are reported, not silently skipped.
    app.store.prune_events(i64::MAX).await.unwrap();
    let mut late = SseReader::open(&app, &integration, Some(1)).await;
    let pruned = late.next(Duration::from_secs(3)).await.unwrap();
    assert_eq!(pruned.name, "pruned", "{pruned:?}");
    assert_eq!(pruned.data["after"], 1);
}

/// Two servers on one database: an answer stored through A reaches a
/// listener of B within a second (PostgreSQL: LISTEN/NOTIFY; SQLite: B's
/// poll, as only one process should write a SQLite file).
async fn an_answer_stored_through_one_server_reaches_a_listener_of_another_within_a_second(
    backend: &str,
) {
    let a = TestApp::spawn(backend).await;
    let b = a.beside().await;
    let integration = with_orders_and_survey(&a, orders(3)).await;
    let terminal = a.token("terminal", Some("K-1")).await;
    let mut listener = SseReader::open(&b, &integration, None).await;
    for i in 0..3 {
        let sent = tokio::time::Instant::now();
        assert_eq!(
            post(&a, &terminal, "/api/v1/responses", &json!([answer(i)]))
                .await
                .0,
            201
        );
        let e = listener
            .next_named("response.created", Duration::from_secs(3))
            .await
            .expect("the event reaches the other server");
        let took = sent.elapsed();
        assert_eq!(e.data["order_number"], format!("A-{i}"));
        let limit = if backend == "postgres" { 1_000 } else { 1_500 };
        assert!(took < Duration::from_millis(limit), "took {took:?}");
    }
}

/// An admin's change through one server — settings, the cause vocabulary,
/// a survey's new version — is in force on another within a second.
async fn a_change_on_one_server_is_seen_by_the_others_within_a_second(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let b = a.beside().await;
    let integration = with_orders_and_survey(&a, orders(1)).await;
    assert_eq!(b.state.deployment().name, a.state.deployment().name);
    // Read the survey on B so that B caches its current version.
    assert_eq!(
        b.state
            .survey_version("door", None)
            .await
            .unwrap()
            .unwrap()
            .0,
        1
    );

    rename(&a.store, "Быстрая доставка").await;
    let mut vocabulary = a.store.vocabulary().await.unwrap();
    let before_causes = vocabulary.causes.len();
    vocabulary.causes.pop();
    a.store.save_vocabulary(&vocabulary).await.unwrap();
    let mut edited = crate::surveys::door_survey();
    edited["name"] = json!("У двери, v2");
    let r = a
        .anonymous()
        .put(a.at("/api/v1/surveys/door"))
        .bearer_auth(&integration)
        .json(&edited)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        let name_seen = b.state.deployment().name == "Быстрая доставка";
        let causes_seen = b.state.vocabulary().causes.len() == before_causes - 1;
        let version_seen = b
            .state
            .survey_version("door", None)
            .await
            .unwrap()
            .unwrap()
            .0
            == 2;
        if name_seen && causes_seen && version_seen {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not seen within a second: settings {name_seen}, causes {causes_seen}, survey version {version_seen}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Saves the deployment under another name (a change every server must see).
pub async fn rename(store: &doorstep_store::Store, name: &str) {
    let mut d = store.deployment().await.unwrap();
    name.clone_into(&mut d.name);
    store.save_deployment(&d).await.unwrap();
}

/// What a receiver saw: (webhook-id, body) of each accepted delivery, and
/// how many attempts it refused.
#[derive(Default)]
pub struct Received {
    pub accepted: Vec<(String, Value)>,
    pub refused: usize,
    pub bad_signatures: usize,
}

/// Starts a receiver that checks each delivery's signature with `secret`
/// (set once known) and answers 500 to the first `fail_first` attempts.
pub async fn receiver(fail_first: usize) -> (String, Arc<Mutex<Received>>, Arc<Mutex<String>>) {
    use axum::http::{HeaderMap, StatusCode};
    let received = Arc::new(Mutex::new(Received::default()));
    let secret = Arc::new(Mutex::new(String::new()));
    let (r, s) = (Arc::clone(&received), Arc::clone(&secret));
    let handler = move |headers: HeaderMap, body: String| {
        let (received, secret) = (Arc::clone(&r), Arc::clone(&s));
        async move {
            let header = |n: &str| {
                headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned()
            };
            let (id, timestamp, signature) = (
                header("webhook-id"),
                header("webhook-timestamp"),
                header("webhook-signature"),
            );
            let mut got = received.lock().unwrap();
            if !signature_holds(&secret.lock().unwrap(), &id, &timestamp, &body, &signature) {
                got.bad_signatures += 1;
                return StatusCode::UNAUTHORIZED;
            }
            if got.refused < fail_first {
                got.refused += 1;
                return StatusCode::INTERNAL_SERVER_ERROR;
            }
            got.accepted
                .push((id, serde_json::from_str(&body).unwrap()));
            StatusCode::NO_CONTENT
        }
    };
    let router = axum::Router::new().route("/hook", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, received, secret)
}

/// Standard Webhooks' check, written here from the specification (not with
/// the server's own signing code): base64 HMAC-SHA256 of `id.timestamp.body`
/// keyed with the base64 part of the secret, timestamp within 5 minutes.
fn signature_holds(secret: &str, id: &str, timestamp: &str, body: &str, signature: &str) -> bool {
    use base64::Engine;
    use hmac::Mac;
    let engine = base64::engine::general_purpose::STANDARD;
    let Some(key) = secret
        .strip_prefix("whsec_")
        .and_then(|k| engine.decode(k).ok())
    else {
        return false;
    };
    let Ok(ts) = timestamp.parse::<i64>() else {
        return false;
    };
    if (jiff::Timestamp::now().as_second() - ts).abs() > 300 {
        return false;
    }
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    let expected = format!("v1,{}", engine.encode(mac.finalize().into_bytes()));
    signature.split(' ').any(|s| s == expected)
}

/// Waits until `done` holds for what the receiver got.
pub async fn wait_for(
    received: &Mutex<Received>,
    wait: Duration,
    done: impl Fn(&Received) -> bool,
) {
    let deadline = tokio::time::Instant::now() + wait;
    while !done(&received.lock().unwrap()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the receiver did not get what was expected in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A subscriber gets every answer once, signed, in order, though it
/// refuses the first attempts; the delivery log records the attempts and
/// Resend sends one again. Two servers run jobs on one database: each
/// event still arrives once.
async fn webhooks_are_signed_delivered_once_in_order_and_retried_after_failures(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let other = app.beside().await;
    let (url, received, secret) = receiver(2).await;
    let made = doorstep::webhooks::subscribe(&app.store, &url, "response.created", true, "test")
        .await
        .unwrap();
    secret.lock().unwrap().clone_from(&made.secret);
    for server in [&app, &other] {
        doorstep::jobs::spawn(
            &server.state,
            crate::helpers::job_settings(&server.data_dir.0),
        )
        .await
        .unwrap();
    }
    let _integration = with_orders_and_survey(&app, orders(6)).await;
    let terminal = app.token("terminal", Some("K-1")).await;
    for i in 0..6 {
        let server = if i % 2 == 0 { &app } else { &other };
        assert_eq!(
            post(server, &terminal, "/api/v1/responses", &json!([answer(i)]))
                .await
                .0,
            201
        );
    }
    // Two refusals: 5 s, then 10 s of backoff before the third attempt.
    wait_for(&received, Duration::from_secs(40), |r| {
        r.accepted.len() >= 6
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let first_id = {
        let got = received.lock().unwrap();
        assert_eq!(got.bad_signatures, 0);
        assert_eq!(got.refused, 2);
        let orders_seen: Vec<&str> = got
            .accepted
            .iter()
            .map(|(_, body)| body["data"]["order_number"].as_str().unwrap())
            .collect();
        assert_eq!(
            orders_seen,
            ["A-0", "A-1", "A-2", "A-3", "A-4", "A-5"],
            "once each, in order"
        );
        assert!(got
            .accepted
            .iter()
            .all(|(_, b)| b["type"] == "response.created"));
        got.accepted[0].0.clone()
    };

    let log = app
        .store
        .webhook_deliveries(&made.webhook.id, 50)
        .await
        .unwrap();
    assert_eq!(log.len(), 6);
    assert!(log
        .iter()
        .all(|d| d.state == "delivered" && d.last_status == Some(204)));
    let oldest = log.last().unwrap();
    assert_eq!(oldest.attempts, 3, "two refusals, then delivered");
    assert_eq!(first_id, format!("evt_{}", oldest.event_id));
    // Resend: the same message (same id) once more.
    assert!(app
        .store
        .resend_webhook_delivery(&made.webhook.id, oldest.event_id)
        .await
        .unwrap());
    wait_for(&received, Duration::from_secs(5), |r| r.accepted.len() == 7).await;
    assert_eq!(received.lock().unwrap().accepted[6].0, first_id);
}

/// Without the subscription's permission, a receiver on a private address
/// gets nothing, and the log says why.
async fn webhooks_refuse_private_addresses_unless_allowed(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let (url, received, secret) = receiver(0).await;
    let by_name = url.replace("127.0.0.1", "localhost");
    let literal = doorstep::webhooks::subscribe(&app.store, &url, "*", false, "test")
        .await
        .unwrap();
    let named = doorstep::webhooks::subscribe(&app.store, &by_name, "*", false, "test")
        .await
        .unwrap();
    secret.lock().unwrap().clone_from(&literal.secret);
    doorstep::jobs::spawn(&app.state, crate::helpers::job_settings(&app.data_dir.0))
        .await
        .unwrap();
    rename(&app.store, "Changed").await;
    for hook in [&literal, &named] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let log = app
                .store
                .webhook_deliveries(&hook.webhook.id, 5)
                .await
                .unwrap();
            if let Some(error) = log.first().and_then(|d| d.last_error.clone()) {
                assert!(error.contains("not a public address"), "{error}");
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "no attempt logged");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let got = received.lock().unwrap();
    assert!(got.accepted.is_empty() && got.refused == 0 && got.bad_signatures == 0);
}

/// Settings → Webhooks: an admin subscribes a receiver (the secret shown
/// once works), sees the deliveries with their answers, resends one,
/// removes the subscription; a bad URL is refused with the reason; the
/// jobs are listed with their state. Others may not post here.
async fn an_admin_manages_webhooks_in_the_console(backend: &str) {
    let app = TestApp::spawn(backend).await;
    doorstep::jobs::spawn(&app.state, crate::helpers::job_settings(&app.data_dir.0))
        .await
        .unwrap();
    let (url, received, secret) = receiver(0).await;
    let admin = app.signed_in("admin").await;
    let csrf = app.csrf(&admin).await;
    let page = app.page(&admin, "/settings/webhooks").await;
    assert!(
        page.contains("rollups.build") && page.contains("events.prune"),
        "jobs listed"
    );

    let bad = admin
        .post(app.at("/settings/webhooks"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("url", "ftp://example.com/x"),
            ("event:settings.changed", "on"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(bad.contains("http or https"), "the reason is shown");
    assert!(app.store.webhooks().await.unwrap().is_empty());

    let made = admin
        .post(app.at("/settings/webhooks"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("url", url.as_str()),
            ("event:settings.changed", "on"),
            ("allow_private", "on"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let shown = crate::helpers::shown_secret(&made);
    assert!(shown.starts_with("whsec_"), "{shown}");
    *secret.lock().unwrap() = shown;
    let hook = app.store.webhooks().await.unwrap().remove(0);
    assert_eq!(hook.event_types, ["settings.changed"]);
    assert!(hook.allow_private);

    rename(&app.store, "Webhooks").await;
    wait_for(&received, Duration::from_secs(10), |r| {
        r.accepted.len() == 1
    })
    .await;
    assert_eq!(
        received.lock().unwrap().bad_signatures,
        0,
        "the secret shown verifies"
    );
    let detail = app
        .page(&admin, &format!("/settings/webhooks/{}", hook.id))
        .await;
    assert!(
        detail.contains("settings.changed") && detail.contains("204"),
        "the log shows the delivery"
    );
    let event = app.store.webhook_deliveries(&hook.id, 1).await.unwrap()[0].event_id;
    let r = admin
        .post(app.at(&format!("/settings/webhooks/{}/resend/{event}", hook.id)))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    wait_for(&received, Duration::from_secs(10), |r| {
        r.accepted.len() == 2
    })
    .await;

    let quality = app.signed_in("quality").await;
    let q_csrf = app.csrf(&quality).await;
    let r = quality
        .post(app.at(&format!("/settings/webhooks/{}/remove", hook.id)))
        .form(&[("csrf", q_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = admin
        .post(app.at(&format!("/settings/webhooks/{}/remove", hook.id)))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(app.store.webhooks().await.unwrap().is_empty());
}
