//! Notices to customers: a case opened by a customer sends them its status
//! page — by e-mail through the deployment's mail server when their
//! address is known, else by SMS through the company's gateway (the
//! `notice.sent` event) — once per case however often the contact is sent,
//! never in the quiet hours of their city, and recorded on the case as an
//! automated message that moves no SLA clock.

use serde_json::{json, Value};

use crate::helpers::{order_json, published, TestApp};
use crate::on_both_backends;
use crate::smtp::SmtpServer;
use crate::surveys::{post, with_orders_and_survey};

on_both_backends!(a_new_case_sends_its_status_page_on_the_customers_channel_once);

async fn a_new_case_sends_its_status_page_on_the_customers_channel_once(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let smtp = SmtpServer::serving(&a.store).await;
    let mut with_email = order_json("A-1", "+79161234567", "K-1");
    with_email["customer_email"] = json!("anna@example.com");
    let integration = with_orders_and_survey(
        &a,
        vec![
            with_email,
            order_json("A-2", "+79167654321", "K-1"),
            order_json("A-3", "+79160000003", "K-1"),
        ],
    )
    .await;
    a.store.set_setting("quiet_hours", "").await.unwrap();

    let case = json!({"channel": "chat", "order_number": "A-1", "text": "Где заказ?", "external_id": "m-1"});
    let (status, first) = post(&a, &integration, "/api/v1/cases", &case).await;
    assert_eq!(status, 201, "{first}");
    let (status, _) = post(&a, &integration, "/api/v1/cases", &case).await;
    assert_eq!(status, 200, "the same contact again");
    let (_, second) = post(
        &a,
        &integration,
        "/api/v1/cases",
        &json!({"channel": "phone", "order_number": "A-2", "text": "Курьер не звонил"}),
    )
    .await;
    let id = first["id"].as_str().unwrap();
    assert_eq!(
        a.store.case_notices(id).await.unwrap().len(),
        1,
        "one notice however often the contact came"
    );

    let before = a.store.last_event_id().await.unwrap();
    doorstep::app::helpdesk::notices::run_due(&a.state)
        .await
        .unwrap();
    // The background job may have sent them first: wait for both.
    let mail = smtp.messages_once_any().await;
    assert_eq!(mail.len(), 1, "one e-mail");
    assert!(
        mail[0].to.iter().any(|t| t.contains("anna@example.com")),
        "{:?}",
        mail[0].to
    );
    let url = first["status_url"].as_str().unwrap();
    let path = &url[url.find("/c/").unwrap()..];
    assert!(
        body_of(&mail[0].data).contains(path),
        "the status page's address: {}",
        mail[0].data
    );
    let notices = a.store.case_notices(id).await.unwrap();
    assert_eq!(
        (notices[0].channel.as_str(), notices[0].status.as_str()),
        ("email", "sent")
    );
    let page = a.page(&a.anonymous(), path).await;
    assert!(
        page.contains("Где заказ?") && !page.contains("занимается им"),
        "the notice is not in the chat the customer sees: {page}"
    );

    // No e-mail known: an SMS, handed to the company's gateway.
    let sms_case = second["id"].as_str().unwrap();
    let sms = published(&a.store, before, "notice.sent", |d| {
        d["case_id"] == sms_case
    })
    .await
    .remove(0);
    assert_eq!(
        (
            sms["channel"].as_str(),
            sms["address"].as_str(),
            sms["delivered_by"].as_str()
        ),
        (Some("sms"), Some("+79167654321"), Some("gateway")),
        "{sms}"
    );
    assert!(sms["text"].as_str().unwrap().contains("/c/"));

    // On the case: an automated message, no reply by a person.
    let (_, detail) = a
        .get_json(&format!("/api/v1/cases/{id}"), &integration)
        .await;
    assert_eq!(detail["first_response_at"], Value::Null, "{detail}");
    assert!(detail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["direction"] == "outbound" && e["text"].as_str().unwrap().contains("/c/")));

    // In the quiet hours of the customer's city: it waits.
    a.store
        .set_setting("quiet_hours", "00:00-23:59")
        .await
        .unwrap();
    let (_, third) = post(
        &a,
        &integration,
        "/api/v1/cases",
        &json!({"channel": "chat", "order_number": "A-3", "text": "Ночью пишу"}),
    )
    .await;
    let waiting = a
        .store
        .case_notices(third["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1);
    assert!(
        waiting[0].send_after > doorstep_store::now_millis(),
        "sent after the quiet hours"
    );
    doorstep::app::helpdesk::notices::run_due(&a.state)
        .await
        .unwrap();
    let still = a
        .store
        .case_notices(third["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(still[0].status, "pending");
}

/// A message's text, its transfer encoding undone (base64 for non-ASCII).
fn body_of(data: &str) -> String {
    use base64::Engine;
    let data = data.replace("\r\n", "\n");
    let (headers, body) = data.split_once("\n\n").unwrap_or((&data, ""));
    if headers
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: base64")
    {
        let compact: String = body.split_whitespace().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .unwrap_or_default(),
        )
        .unwrap_or_default()
    } else {
        body.to_owned()
    }
}
