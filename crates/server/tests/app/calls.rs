//! Call events from a PBX through `POST /api/v1/calls/events`: each kept
//! once, each call written from all of its events, other events ignored,
//! broken ones rejected by name; only an integration token may send them.

use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::surveys::post;

on_both_backends!(a_pbx_sends_call_events_through_the_api);

async fn a_pbx_sends_call_events_through_the_api(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let integration = a.token("integration", None).await;
    let first = json!({"events": [
        {"call_id": "p-1", "event": "ENTERQUEUE", "at": "2026-11-02T10:00:00+03:00", "queue": "support",
         "data": ["", "8 916 123-45-67", "1"]},
        {"call_id": "p-1", "event": "CONNECT", "at": 1_793_602_818, "queue": "support", "agent": "Olga",
         "data": ["18", "p-1.2", "3"]},
        {"call_id": "p-1", "event": "AGENTLOGIN", "at": 1_793_602_818, "queue": "support"},
        {"call_id": "p-2", "event": "ABANDON", "at": "yesterday", "queue": "support", "data": ["1", "1", "4"]},
        {"call_id": "p-3", "event": "ABANDON", "at": 1_793_602_818, "queue": "support", "data": ["1", "1", "soon"]},
        {"call_id": "p-4", "event": "ENTERQUEUE", "queue": "support"}
    ]});
    let (status, body) = post(&a, &integration, "/api/v1/calls/events", &first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["accepted"].as_i64(),
            body["ignored"].as_i64(),
            body["rejected"].as_i64()
        ),
        (Some(2), Some(1), Some(3)),
        "{body}"
    );
    assert_eq!(body["new_events"], 2);
    assert_eq!(
        body["items"][3]["errors"][0]["field"], "events[3].at",
        "{body}"
    );
    assert_eq!(
        body["items"][4]["errors"][0]["field"], "events[4].data",
        "{body}"
    );
    assert!(
        body["items"][5]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("missing field `at`"),
        "{body}"
    );
    let call = a.store.call("p-1").await.unwrap().unwrap();
    assert_eq!(
        (
            call.outcome.as_str(),
            call.wait_seconds,
            call.agent.as_deref()
        ),
        ("talking", Some(18), Some("Olga"))
    );
    assert_eq!(call.customer_phone.as_deref(), Some("+79161234567"));

    // The end comes later; the first batch again adds nothing.
    let (_, body) = post(
        &a,
        &integration,
        "/api/v1/calls/events",
        &json!([{"call_id": "p-1", "event": "COMPLETEAGENT", "at": 1_793_602_958, "queue": "support",
                 "agent": "Olga", "data": ["18", "140", "1"]}]),
    )
    .await;
    assert_eq!(body["new_events"], 1, "{body}");
    let (_, again) = post(&a, &integration, "/api/v1/calls/events", &first).await;
    assert_eq!(again["new_events"], 0, "{again}");
    let call = a.store.call("p-1").await.unwrap().unwrap();
    assert_eq!(
        (call.outcome.as_str(), call.talk_seconds),
        ("answered", Some(140))
    );

    let terminal = a.token("terminal", None).await;
    let (status, _) = post(&a, &terminal, "/api/v1/calls/events", &first).await;
    assert_eq!(status, 403);
    let (status, problem) = post(
        &a,
        &integration,
        "/api/v1/calls/events",
        &json!({"calls": []}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
}
