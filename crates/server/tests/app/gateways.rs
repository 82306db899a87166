//! Messenger gateways through the real servers: a signed message opens a
//! case on the messenger channel, the same message sent to two servers at
//! once is taken once, the next message of the chat joins the case, a
//! reply goes out as `case.replied` naming the chat; unsigned, wrongly
//! signed, replayed and malformed messages are refused with a reason.

use serde_json::{json, Value};

use crate::helpers::{published, TestApp};
use crate::on_both_backends;
use crate::surveys::post;

on_both_backends!(a_telegram_bot_brings_messages_and_takes_replies);

async fn send(
    app: &TestApp,
    gateway: &str,
    secret: &str,
    body: &Value,
    age_s: i64,
) -> (u16, Value) {
    let text = body.to_string();
    let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let at = jiff::Timestamp::now().as_second() - age_s;
    let r = app
        .anonymous()
        .post(app.at(&format!("/hooks/gateways/{gateway}")))
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", at.to_string())
        .header(
            "webhook-signature",
            doorstep::webhooks::sign(secret, &id, at, &text),
        )
        .body(text)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn a_telegram_bot_brings_messages_and_takes_replies(backend: &str) {
    let a = TestApp::spawn(backend).await;
    // People's side of the chat; the assistant has its own test (bot.rs).
    a.store.set_setting("chat_assistant", "off").await.unwrap();
    let b = a.beside().await;
    let secret = doorstep::webhooks::new_secret();
    a.store
        .add_gateway("tg", "telegram", "messenger", &secret)
        .await
        .unwrap()
        .expect("added");
    let first = json!({"message_id": "1001", "conversation_id": "42", "text": "Здравствуйте, курьер не приехал"});
    // The bot retries at once on two servers: one case, one contact.
    let (x, y) = tokio::join!(
        send(&a, "tg", &secret, &first, 0),
        send(&b, "tg", &secret, &first, 0)
    );
    let mut statuses = [x.0, y.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201], "{x:?} {y:?}");
    assert_eq!(x.1["case_id"], y.1["case_id"]);
    let case_id = x.1["case_id"].as_str().unwrap().to_owned();
    // The next message of the chat joins the case.
    let (status, joined) = send(
        &a,
        "tg",
        &secret,
        &json!({"message_id": "1002", "conversation_id": "42", "text": "Я жду уже час"}),
        0,
    )
    .await;
    assert_eq!(
        (status, joined["result"].as_str()),
        (200, Some("joined")),
        "{joined}"
    );
    assert_eq!(joined["case_id"], case_id.as_str());
    let case = a.store.case(&case_id).await.unwrap().unwrap();
    assert_eq!(
        (
            case.channel.as_str(),
            case.contacts,
            case.conversation.as_deref()
        ),
        ("messenger", 2, Some("telegram:42"))
    );

    // An operator's reply goes out as case.replied, naming the chat.
    let integration = a.token("integration", None).await;
    let before = a.store.last_event_id().await.unwrap();
    let (status, _) = post(&a, &integration, &format!("/api/v1/cases/{case_id}/contacts"),
        &json!({"channel": "messenger", "direction": "outbound", "text": "Курьер будет через 5 минут"})).await;
    assert_eq!(status, 201);
    let data = published(&a.store, before, "case.replied", |_| true)
        .await
        .remove(0);
    assert_eq!(
        (
            data["gateway"].as_str(),
            data["conversation_id"].as_str(),
            data["text"].as_str()
        ),
        (
            Some("telegram"),
            Some("42"),
            Some("Курьер будет через 5 минут")
        ),
        "{data}"
    );

    // Refused, each with its reason.
    let unsigned = a
        .anonymous()
        .post(a.at("/hooks/gateways/tg"))
        .header("content-type", "application/json")
        .body(first.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    let (status, problem) = send(&a, "tg", "whsec_c29tZW9uZSBlbHNl", &first, 0).await;
    assert_eq!(status, 401);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("does not match"),
        "{problem}"
    );
    let (status, problem) = send(&a, "tg", &secret, &first, 3600).await;
    assert_eq!(status, 401);
    assert!(
        problem["detail"].as_str().unwrap().contains("replay"),
        "{problem}"
    );
    let (status, problem) = send(
        &a,
        "tg",
        &secret,
        &json!({"message_id": "9", "conversation_id": "42"}),
        0,
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let (status, _) = send(
        &a,
        "tg",
        &secret,
        &json!({"message_id": " ", "conversation_id": "42", "text": "x"}),
        0,
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = send(&a, "nobody", &secret, &first, 0).await;
    assert_eq!(status, 404);
}
