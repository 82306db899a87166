//! Items refused at the door: recorded once per client id (also when the
//! same refusal arrives twice at once), checked with the field named, kept
//! on the order, and sent to the company as `order.items_refused`.

use serde_json::json;

use crate::helpers::{order_json, published, TestApp};
use crate::on_both_backends;
use crate::surveys::post;

on_both_backends!(
    a_courier_records_items_refused_at_the_door,
    refusal_rates_on_the_dashboard_and_the_causes_page
);

async fn a_courier_records_items_refused_at_the_door(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let integration = a.token("integration", None).await;
    let r = a
        .post_orders(
            &integration,
            &json!({"orders": [order_json("F-1", "+79161234567", "K-1"), order_json("F-2", "+79161234568", "K-2")]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let k1 = a.token("terminal", Some("K-1")).await;
    let refusal = json!({
        "id": "5f0c1c9e-8d7b-4e59-9a0b-0c1d2e3f4a5b",
        "items": [
            {"item": "Молоко 1 л", "quantity": 2, "reason": "damaged"},
            {"item": "Торт", "reason": "other", "note": "не тот вкус"}
        ]
    });
    // The same refusal twice at the same moment: recorded once.
    let (one, two) = tokio::join!(
        post(&a, &k1, "/api/v1/orders/F-1/refusals", &refusal),
        post(&a, &k1, "/api/v1/orders/F-1/refusals", &refusal),
    );
    let mut statuses = [one.0, two.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201], "{one:?} {two:?}");
    let (status, again) = post(&a, &k1, "/api/v1/orders/F-1/refusals", &refusal).await;
    assert_eq!((status, again["result"].as_str()), (200, Some("duplicate")));

    let (status, order) = a.get_json("/api/v1/orders/F-1", &integration).await;
    assert_eq!(status, 200, "{order}");
    let items = order["refused_items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{order}");
    assert_eq!(
        (
            items[0]["item"].as_str(),
            items[0]["quantity"].as_i64(),
            items[0]["reason"].as_str()
        ),
        (Some("Молоко 1 л"), Some(2), Some("damaged"))
    );
    assert_eq!(items[1]["note"], "не тот вкус");

    // The company hears of it once.
    let heard = published(&a.store, 0, "order.items_refused", |_| true).await;
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert_eq!(
        (
            heard[0]["order_number"].as_str(),
            heard[0]["courier_id"].as_str(),
            heard[0]["items"][0]["reason"].as_str()
        ),
        (Some("F-1"), Some("K-1"), Some("damaged"))
    );

    // The whole order refused, through the company's own systems.
    let (status, body) = post(
        &a,
        &integration,
        "/api/v1/orders/F-2/refusals",
        &json!({"id": "9b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d8aa", "whole_order": true,
                "items": [{"reason": "changed_mind"}]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // Bad input is named; another courier's order is not his to touch.
    let (status, problem) = post(
        &a,
        &k1,
        "/api/v1/orders/F-1/refusals",
        &json!({"id": "0d0c1c9e-8d7b-4e59-9a0b-0c1d2e3f4a5b", "items": [{"item": "Хлеб", "reason": "smelly"}]}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem["errors"][0]["field"], "items[0].reason",
        "{problem}"
    );
    let (status, problem) = post(
        &a,
        &k1,
        "/api/v1/orders/F-1/refusals",
        &json!({"id": "not-a-uuid", "items": [{"item": "Хлеб", "reason": "quality"}]}),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("id"))
    );
    let (status, _) = post(
        &a,
        &k1,
        "/api/v1/orders/F-2/refusals",
        &json!({"id": "1d0c1c9e-8d7b-4e59-9a0b-0c1d2e3f4a5b", "items": [{"item": "Хлеб", "reason": "quality"}]}),
    )
    .await;
    assert_eq!(status, 404);

    // The order page and the customer's personal file show them.
    let operator = a.signed_in("operator").await;
    let page = a.page(&operator, "/orders/F-1").await;
    assert!(
        page.contains("Refused at the door")
            && page.contains("Молоко 1 л")
            && page.contains("Damaged")
            && page.contains("не тот вкус"),
        "{page}"
    );
    let file = a.page(&operator, "/customers/%2B79161234568").await;
    assert!(
        file.contains("Refused the whole order") && file.contains("Changed their mind"),
        "{file}"
    );
}

/// An order delivered an hour ago (so that it falls in the dashboard's
/// default period, as refusals recorded now do).
fn delivered_now(number: &str, city: &str, courier: &str) -> serde_json::Value {
    let at = |hours: i64| {
        (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(hours))
            .round(jiff::Unit::Second)
            .unwrap()
            .to_string()
    };
    let mut o = order_json(
        number,
        &format!("+7916{}", &number[2..].repeat(7)[..7]),
        courier,
    );
    o["city"] = json!(city);
    o["promised_from"] = json!(at(3));
    o["promised_to"] = json!(at(1));
    o["delivered_at"] = json!(at(1));
    o
}

async fn refusal_rates_on_the_dashboard_and_the_causes_page(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let integration = a.token("integration", None).await;
    let r = a
        .post_orders(
            &integration,
            &json!({"orders": [
                delivered_now("R-1", "Москва", "K-1"),
                delivered_now("R-2", "Москва", "K-1"),
                delivered_now("R-3", "Москва", "K-2"),
                delivered_now("R-4", "Київ", "K-3"),
            ]}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    for (id, order, body) in [
        (
            "2a0c1c9e-8d7b-4e59-9a0b-0c1d2e3f4a51",
            "R-1",
            json!({"items": [
            {"item": "Молоко", "reason": "damaged"}, {"item": "Сыр", "reason": "quality"}]}),
        ),
        (
            "2a0c1c9e-8d7b-4e59-9a0b-0c1d2e3f4a52",
            "R-2",
            json!({"whole_order": true, "items": [{"reason": "changed_mind"}]}),
        ),
        (
            "2a0c1c9e-8d7b-4e59-9a0b-0c1d2e3f4a54",
            "R-4",
            json!({"items": [{"item": "Хлеб", "reason": "wrong_item"}]}),
        ),
    ] {
        let mut body = body;
        body["id"] = json!(id);
        let (status, answer) = post(
            &a,
            &integration,
            &format!("/api/v1/orders/{order}/refusals"),
            &body,
        )
        .await;
        assert_eq!(status, 201, "{answer}");
    }

    let quality = a.signed_in("quality").await;
    // By city (the dashboard's grouping) and by reason, of delivered orders.
    let page = a.page(&quality, "/dashboard").await;
    let section = &page[page.find("id=\"refusals\"").expect(&page)..];
    for wanted in [
        "75.0% (3 of 4)",
        "Київ</td><td class=\"num\">100.0% (1 of 1)",
        "Москва</td><td class=\"num\">66.7% (2 of 3)",
        "Damaged</td><td class=\"num\">25.0% (1 of 4)",
        "Changed their mind</td><td class=\"num\">25.0% (1 of 4)",
    ] {
        assert!(section.contains(wanted), "{wanted:?} not in {section}");
    }
    // By courier, when the dashboard is.
    let page = a.page(&quality, "/dashboard?group_by=courier").await;
    assert!(
        page.contains("Иван Смирнов (K-1)</td><td class=\"num\">100.0% (2 of 2)"),
        "{page}"
    );
    // Refusals have no survey: with a survey filter they are not shown.
    let page = a.page(&quality, "/dashboard?survey=door").await;
    assert!(!page.contains("id=\"refusals\""), "{page}");

    // An order counts once however many refusals it gets (two at the same
    // moment too), and once per reason.
    let second = |id: &'static str, reason: &'static str| json!({"id": id, "items": [{"item": "Сыр", "reason": reason}]});
    let (damaged, poor) = (
        second("3a0c1c9e-8d7b-4e59-9a0b-0c1d2e3f4a53", "damaged"),
        second("3b0c1c9e-8d7b-4e59-9a0b-0c1d2e3f4a53", "quality"),
    );
    let path = "/api/v1/orders/R-3/refusals";
    let (one, two) = tokio::join!(
        post(&a, &integration, path, &damaged),
        post(&a, &integration, path, &poor)
    );
    assert_eq!((one.0, two.0), (201, 201), "{one:?} {two:?}");
    let (status, _) = post(
        &a,
        &integration,
        "/api/v1/orders/R-1/refusals",
        &json!({"id": "3c0c1c9e-8d7b-4e59-9a0b-0c1d2e3f4a51", "items": [
            {"item": "Кефир", "reason": "damaged"}, {"item": "Хлеб", "reason": "not_ordered"}]}),
    )
    .await;
    assert_eq!(status, 201);
    let counted = [
        "100.0% (4 of 4)",
        "Москва</td><td class=\"num\">100.0% (3 of 3)",
        "Damaged</td><td class=\"num\">50.0% (2 of 4)",
        "Quality</td><td class=\"num\">50.0% (2 of 4)",
        "Not ordered</td><td class=\"num\">25.0% (1 of 4)",
    ];
    let page = a.page(&quality, "/dashboard").await;
    let section = &page[page.find("id=\"refusals\"").expect(&page)..];
    for wanted in counted {
        assert!(section.contains(wanted), "{wanted:?} not in {section}");
    }
    // `rollups rebuild` counts them again from the refusals: the same.
    let tz = a.state.deployment().tz();
    assert_eq!(a.store.rebuild_refusal_days(&tz).await.unwrap(), 4);
    let page = a.page(&quality, "/dashboard").await;
    let section = &page[page.find("id=\"refusals\"").expect(&page)..];
    for wanted in counted {
        assert!(
            section.contains(wanted),
            "after the rebuild, {wanted:?} not in {section}"
        );
    }

    // The causes page: each reason beside the root causes it means.
    let page = a.page(&quality, "/causes").await;
    let section = &page[page.find("id=\"refusals\"").expect(&page)..];
    assert!(
        section.contains("href=\"/causes/damaged")
            && section.contains("href=\"/causes/wrong")
            && section.contains("none: add the reason"),
        "{section}"
    );
}
