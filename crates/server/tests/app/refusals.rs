//! Items refused at the door: recorded once per client id (also when the
//! same refusal arrives twice at once), checked with the field named, kept
//! on the order, and sent to the company as `order.items_refused`.

use serde_json::json;

use crate::helpers::{order_json, published, TestApp};
use crate::on_both_backends;
use crate::surveys::post;

on_both_backends!(a_courier_records_items_refused_at_the_door);

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
