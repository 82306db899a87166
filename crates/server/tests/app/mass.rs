//! Mass notices: a dispatcher previews whom one cause's notice reaches —
//! undelivered orders of the city and window, each customer once, in
//! their language — and sends it; the job writes one notice per customer
//! even with two servers at it; each is in the customer's file and goes
//! with their erasure; a quality manager may look but not send.

use serde_json::{json, Value};

use crate::helpers::{order_json, TestApp};
use crate::on_both_backends;
use crate::surveys::{post, response, with_orders_and_survey};

on_both_backends!(a_dispatcher_tells_every_customer_one_cause_hits_once);

const MINUTE: i64 = 60_000;

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

fn order(number: &str, phone: &str, city: &str, promised_to: i64, delivered: bool) -> Value {
    let mut o = order_json(number, phone, "K-1");
    o["city"] = json!(city);
    o["promised_from"] = json!(rfc3339(promised_to - 60 * MINUTE));
    o["promised_to"] = json!(rfc3339(promised_to));
    o["delivered_at"] = if delivered {
        json!(rfc3339(promised_to - 10 * MINUTE))
    } else {
        Value::Null
    };
    o
}

/// A `datetime-local` value in Moscow time (the test deployment's zone).
fn local(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Moscow").unwrap())
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

async fn a_dispatcher_tells_every_customer_one_cause_hits_once(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let b = a.beside().await;
    let now = doorstep_store::now_millis();
    let hour = 60 * MINUTE;
    let mut anna = order("M-6", "+79162000006", "Москва", now + hour, false);
    anna["customer_email"] = json!("anna@example.com");
    with_orders_and_survey(
        &a,
        vec![
            order("M-1", "+79162000001", "Москва", now + hour, false),
            // The same customer's second order: one notice.
            order("M-2", "+79162000001", "Москва", now + 2 * hour, false),
            anna,
            // Anna answered in English before.
            order("M-7", "+79162000006", "Москва", now - 2 * hour, true),
            // Delivered, another city, another window: not reached.
            order("M-3", "+79162000003", "Москва", now + hour, true),
            order("M-4", "+79162000004", "Казань", now + hour, false),
            order("M-5", "+79162000005", "Москва", now + 30 * hour, false),
        ],
    )
    .await;
    let terminal = a.token("terminal", Some("K-1")).await;
    let mut answered = response(
        "0190f0c0-0000-7000-8000-00000000e007",
        "M-7",
        "completed",
        &json!([{"question_id": "nps", "value": 9}]),
    );
    answered["language"] = json!("en");
    answered["started_at"] = json!(rfc3339(now - 2 * hour));
    answered["finished_at"] = json!(rfc3339(now - 2 * hour + MINUTE));
    let (status, body) = post(&a, &terminal, "/api/v1/responses", &json!([answered])).await;
    assert_eq!(status, 201, "{body}");
    a.store.set_setting("quiet_hours", "").await.unwrap();

    let dispatcher = a.signed_in("dispatcher").await;
    let csrf = a.csrf(&dispatcher).await;
    let page = a.page(&dispatcher, "/dispatch/notices").await;
    assert!(page.contains("name=\"text_ru\""), "{page}");
    let form = |action: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("city", "Москва".to_owned()),
            ("partner", String::new()),
            ("courier", String::new()),
            ("from", local(now)),
            ("to", local(now + 3 * hour)),
            ("text_ru", "Заказ {order} задержится: пробки.".to_owned()),
            ("text_en", "Order {order} is delayed by traffic.".to_owned()),
            ("text_uk", String::new()),
            ("text_uz", String::new()),
            ("action", action.to_owned()),
        ]
    };
    let preview = dispatcher
        .post(a.at("/dispatch/notices"))
        .form(&form("preview"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        preview.contains("It reaches 2 customers with 3 undelivered orders")
            || preview.contains("Оповещение получат 2 клиентов с 3"),
        "{preview}"
    );
    assert!(
        preview.contains("Order D-100123 is delayed by traffic."),
        "{preview}"
    );
    // A window that ends before it starts is refused, saying why.
    let mut bad = form("preview");
    bad[5].1 = local(now - hour);
    let refused = dispatcher
        .post(a.at("/dispatch/notices"))
        .form(&bad)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(refused.contains("class=\"alert error\""), "{refused}");
    // A quality manager may look, not send.
    let quality = a.signed_in("quality").await;
    let csrf_q = a.csrf(&quality).await;
    let mut theirs = form("send");
    theirs[0].1 = csrf_q;
    let r = quality
        .post(a.at("/dispatch/notices"))
        .form(&theirs)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let r = dispatcher
        .post(a.at("/dispatch/notices"))
        .form(&form("send"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let place = r.headers()["location"].to_str().unwrap().to_owned();
    let id = place.rsplit('/').next().unwrap().to_owned();
    // Two servers write it at once: each customer once.
    let (one, two) = tokio::join!(
        doorstep::app::helpdesk::mass::run_due(&a.state),
        doorstep::app::helpdesk::mass::run_due(&b.state),
    );
    one.unwrap();
    two.unwrap();
    let mass = a.store.mass_notice(&id).await.unwrap().unwrap();
    assert_eq!((mass.status.as_str(), mass.customers), ("done", 2));
    let (written, _, _) = a.store.mass_notice_progress(&id).await.unwrap();
    assert_eq!(written, 2);
    let ivan = a.store.customer_notices("+79162000001").await.unwrap();
    assert_eq!(ivan.len(), 1, "{ivan:?}");
    assert_eq!(
        (
            ivan[0].channel.as_str(),
            ivan[0].language.as_str(),
            ivan[0].order_number.as_deref()
        ),
        ("sms", "ru", Some("M-1"))
    );
    assert!(
        ivan[0].body.contains("Заказ M-1 задержится"),
        "{}",
        ivan[0].body
    );
    let anna = a.store.customer_notices("+79162000006").await.unwrap();
    assert_eq!(
        (
            anna[0].channel.as_str(),
            anna[0].address.as_str(),
            anna[0].language.as_str()
        ),
        ("email", "anna@example.com", "en")
    );
    assert!(a
        .store
        .customer_notices("+79162000004")
        .await
        .unwrap()
        .is_empty());

    // Sent: the SMS through the gateway's event; in the customer's file.
    doorstep::app::helpdesk::notices::run_due(&a.state)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while a.store.customer_notices("+79162000001").await.unwrap()[0].status != "sent" {
        assert!(
            std::time::Instant::now() < deadline,
            "the SMS was not handed over"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let progress = a.page(&dispatcher, &place).await;
    assert!(
        progress.contains("Order") || progress.contains("Заказ"),
        "{progress}"
    );
    let file = a.page(&dispatcher, "/customers/+79162000001").await;
    assert!(file.contains("Заказ M-1 задержится"), "{file}");

    // Erased with the customer.
    let admin = a.signed_in("admin").await;
    let csrf_a = a.csrf(&admin).await;
    let r = admin
        .post(a.at("/customers/+79162000001/erase"))
        .form(&[("csrf", csrf_a.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert!(a
        .store
        .customer_notices("+79162000001")
        .await
        .unwrap()
        .is_empty());
    let (written, _, _) = a.store.mass_notice_progress(&id).await.unwrap();
    assert_eq!(written, 2, "the notice stays counted, its words gone");
}
