//! Self-service in the chat: until a person joins, the assistant answers
//! where the order is, passes a change of time or address to the company
//! (`order.change_requested`), arranges a call back, settles the chat on
//! "thank you" — once per message — and stops when the customer asks for a
//! person; the support page counts the chats settled without one.

use serde_json::{json, Value};

use crate::helpers::{order_json, published, TestApp};
use crate::on_both_backends;
use crate::surveys::{post, with_orders_and_survey};

on_both_backends!(the_chat_answers_common_questions_until_a_person_joins);

fn path_of(url: &str) -> String {
    url[url.find("/c/").expect("a status URL")..].to_owned()
}

async fn said(a: &TestApp, token: &str, id: &str) -> Vec<String> {
    let (_, detail) = a.get_json(&format!("/api/v1/cases/{id}"), token).await;
    detail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["direction"] == "outbound")
        .map(|e| e["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn the_chat_answers_common_questions_until_a_person_joins(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let now = doorstep_store::now_millis();
    let rfc = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap().to_string();
    let mut order = order_json("B-1", "+79163000001", "K-1");
    order["promised_from"] = json!(rfc(now + 3_600_000));
    order["promised_to"] = json!(rfc(now + 7_200_000));
    order["delivered_at"] = Value::Null;
    let integration =
        with_orders_and_survey(&a, vec![order, order_json("B-2", "+79163000002", "K-1")]).await;
    a.store.set_setting("quiet_hours", "").await.unwrap();

    // A chat from the company's app: the assistant offers what it can do.
    let (status, opened) = post(
        &a,
        &integration,
        "/api/v1/cases",
        &json!({"channel": "chat", "order_number": "B-1", "text": "Здравствуйте"}),
    )
    .await;
    assert_eq!(status, 201, "{opened}");
    let id = opened["id"].as_str().unwrap().to_owned();
    let page = path_of(opened["status_url"].as_str().unwrap());
    let menu = said(&a, &integration, &id).await;
    assert!(menu.iter().any(|t| t.contains("помощник")), "{menu:?}");

    let client = a.anonymous();
    let write = |text: &'static str, message_id: String| {
        let client = client.clone();
        let url = a.at(&format!("{page}/messages"));
        async move {
            let r = client
                .post(url)
                .form(&[
                    ("text", text),
                    ("message_id", message_id.as_str()),
                    ("lang", "ru"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303);
        }
    };
    // Where is it: on its way, with whom and when. Sent twice: one answer.
    let where_id = uuid::Uuid::new_v4().to_string();
    write("Где мой заказ?", where_id.clone()).await;
    write("Где мой заказ?", where_id).await;
    let now_said = said(&a, &integration, &id).await;
    let answers: Vec<&String> = now_said.iter().filter(|t| t.contains("в пути")).collect();
    assert_eq!(answers.len(), 1, "{now_said:?}");
    assert!(
        answers[0].contains("Иван Смирнов") && answers[0].contains("B-1"),
        "{}",
        answers[0]
    );

    // A change of address: asked for, then passed on as an event.
    let before = a.store.last_event_id().await.unwrap();
    write("Хочу изменить адрес", uuid::Uuid::new_v4().to_string()).await;
    write("ул. Ленина, 5, кв. 3", uuid::Uuid::new_v4().to_string()).await;
    // The change is passed to the company.
    let data = published(&a.store, before, "order.change_requested", |_| true)
        .await
        .remove(0);
    assert_eq!(
        (data["order_number"].as_str(), data["text"].as_str()),
        (Some("B-1"), Some("ул. Ленина, 5, кв. 3"))
    );
    // A call back: an incident in the dispatcher's queue, once.
    write(
        "Перезвоните мне, пожалуйста",
        uuid::Uuid::new_v4().to_string(),
    )
    .await;
    let queue = a
        .store
        .incidents(&doorstep_store::helpdesk::incidents::IncidentFilter {
            status: None,
            city: None,
            limit: 100,
        })
        .await
        .unwrap();
    let calls: Vec<_> = queue
        .iter()
        .filter(|i| i.rule_id == "callback_request")
        .collect();
    assert_eq!(calls.len(), 1, "{queue:?}");
    assert_eq!(calls[0].case_id.as_deref(), Some(id.as_str()));
    assert!(said(&a, &integration, &id)
        .await
        .iter()
        .any(|t| t.contains("+79163000001")));

    // "Thank you" settles the chat: no person joined.
    write("Спасибо!", uuid::Uuid::new_v4().to_string()).await;
    let (_, detail) = a
        .get_json(&format!("/api/v1/cases/{id}"), &integration)
        .await;
    assert_eq!(detail["status"], "resolved", "{detail}");
    assert_eq!(
        detail["first_response_at"],
        Value::Null,
        "no person answered"
    );

    // Another chat: the customer asks for a person; the assistant stops.
    let (_, other) = post(
        &a,
        &integration,
        "/api/v1/cases",
        &json!({"channel": "chat", "order_number": "B-2", "text": "Позовите оператора"}),
    )
    .await;
    let other_id = other["id"].as_str().unwrap().to_owned();
    let other_page = path_of(other["status_url"].as_str().unwrap());
    let r = client
        .post(a.at(&format!("{other_page}/messages")))
        .form(&[
            ("text", "Где заказ?"),
            ("message_id", &uuid::Uuid::new_v4().to_string()),
            ("lang", "ru"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let other_said = said(&a, &integration, &other_id).await;
    assert_eq!(
        other_said.len(),
        1,
        "only the promise of a person: {other_said:?}"
    );
    assert!(other_said[0].contains("Сотрудник"), "{other_said:?}");

    // The support page: one chat of two settled without a person.
    let quality = a.signed_in("quality").await;
    let support = a.page(&quality, "/support").await;
    assert!(support.contains("id=\"containment\""), "{support}");
    assert!(
        support.contains("(1 of 2)") || support.contains("(1 из 2)"),
        "{support}"
    );

    // An admin turns the assistant off: people answer every chat.
    let admin = a.signed_in("admin").await;
    let csrf = a.csrf(&admin).await;
    let r = admin
        .post(a.at("/settings/assistant"))
        .form(&[("csrf", csrf.as_str()), ("on", "off")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, quiet) = post(
        &a,
        &integration,
        "/api/v1/cases",
        &json!({"channel": "chat", "customer_phone": "+79163000009", "text": "Где мой заказ?"}),
    )
    .await;
    let quiet_id = quiet["id"].as_str().unwrap().to_owned();
    assert!(said(&a, &integration, &quiet_id).await.is_empty());
}
