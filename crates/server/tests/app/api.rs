//! The JSON API as the company's systems and terminals use it.

use serde_json::{json, Value};

use crate::helpers::{order_json, TestApp};
use crate::on_both_backends;

on_both_backends!(
    health_names_the_backend,
    openapi_lists_every_v1_route,
    orders_batch_answers_per_item_and_is_idempotent,
    order_lookup_respects_the_courier_of_a_terminal,
    bad_bodies_get_problems_that_say_what_to_fix,
    enrolment_code_buys_one_terminal_token,
);

async fn health_names_the_backend(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let body: Value = reqwest::get(app.at("/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body, json!({"status": "ok", "database": app.backend}));
}

async fn openapi_lists_every_v1_route(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let doc: Value = reqwest::get(app.at("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/orders",
        "/api/v1/orders/{order_number}",
        "/api/v1/terminal/enroll",
        "/api/v1/surveys",
        "/api/v1/surveys/{id}",
        "/api/v1/responses",
        "/api/v1/terminal/orders",
        "/api/v1/orders/{order_number}/survey-link",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

async fn orders_batch_answers_per_item_and_is_idempotent(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let token = app.token("integration", None).await;
    let mut bad = order_json("A-2", "12", "K-1");
    bad["promised_to"] = json!("31.02.2026 10:00");
    let batch = json!({"orders": [order_json("A-1", "8 (916) 123-45-67", "K-1"), bad, order_json("A-3", "+79160000000", "K-2")]});

    let response = app.post_orders(&token, &batch).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["inserted"].as_u64(), body["rejected"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(body["items"][0]["status"], "inserted");
    assert_eq!(body["items"][1]["status"], "rejected");
    let fields: Vec<&str> = body["items"][1]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["orders[1].customer_phone", "orders[1].promised_to"]
    );

    // The same batch again: nothing new, nothing doubled.
    let again: Value = app.post_orders(&token, &batch).await.json().await.unwrap();
    assert_eq!(
        (again["inserted"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(app.store.count_orders().await.unwrap(), 2);

    let (status, order) = app.get_json("/api/v1/orders/A-1", &token).await;
    assert_eq!(status, 200);
    assert_eq!(order["customer_phone"], "+79161234567");
    assert_eq!(order["promised_from"], "2026-11-03T11:00:00Z");
    assert_eq!(order["promised_to"], "2026-11-03T12:00:00Z");
    assert_eq!(order["amount"], "1234.50");
    assert_eq!(order["amount_minor"], 123_450);
    assert_eq!(order["segment"], "new");
    assert_eq!(order["delivery_status"], "delivered_on_time");

    let mut changed = order_json("A-1", "89161234567", "K-1");
    changed["delivered_at"] = Value::Null;
    let updated: Value = app
        .post_orders(&token, &json!({"orders": [changed]}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(updated["items"][0]["status"], "updated");
}

async fn order_lookup_respects_the_courier_of_a_terminal(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = app.token("integration", None).await;
    let batch = json!({"orders": [order_json("A-1", "+79161234567", "K-1"), order_json("B-1", "+79161234568", "K-2")]});
    assert_eq!(app.post_orders(&integration, &batch).await.status(), 200);
    let terminal = app.token("terminal", Some("K-1")).await;
    assert_eq!(app.get_json("/api/v1/orders/A-1", &terminal).await.0, 200);
    let (status, problem) = app.get_json("/api/v1/orders/B-1", &terminal).await;
    assert_eq!(
        status, 404,
        "a courier's terminal must not see other couriers' orders"
    );
    assert!(problem["detail"].as_str().unwrap().contains("no order"));
    // Terminals cannot import.
    assert_eq!(app.post_orders(&terminal, &batch).await.status(), 403);
}

async fn bad_bodies_get_problems_that_say_what_to_fix(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let token = app.token("integration", None).await;
    let client = app.anonymous();
    let response = client
        .post(app.at("/api/v1/orders"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"orders\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400, "malformed JSON is a bad request");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{problem}"
    );

    // JSON sent as something else: the media type is refused.
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = client
            .post(app.at("/api/v1/orders"))
            .bearer_auth(&token)
            .body("[]");
        if let Some(t) = content_type {
            request = request.header("content-type", t);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 415, "{content_type:?}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Value = response.json().await.unwrap();
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("application/json"),
            "{problem}"
        );
    }

    // One item of the wrong type is answered on its own, naming its field;
    // the others are imported.
    let mut bad = order_json("B-2", "+79161234567", "K-1");
    bad["city"] = json!(5);
    let body: Value = app
        .post_orders(
            &token,
            &json!([order_json("B-1", "+79161234567", "K-1"), bad]),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (body["inserted"].as_u64(), body["rejected"].as_u64()),
        (Some(1), Some(1)),
        "{body}"
    );
    assert_eq!(
        body["items"][1]["errors"][0]["field"], "orders[1].city",
        "{body}"
    );

    let wrong_shape: Value = app
        .post_orders(&token, &json!({"orders": "A-1"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(wrong_shape["status"], 422);
    assert!(
        wrong_shape["detail"].as_str().unwrap().contains("orders"),
        "{wrong_shape}"
    );

    let too_many: Vec<Value> = (0..1001)
        .map(|i| order_json(&format!("N-{i}"), "+79161234567", "K-1"))
        .collect();
    let problem: Value = app
        .post_orders(&token, &json!({"orders": too_many}))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("at most 1000"),
        "{problem}"
    );
    assert_eq!(app.store.count_orders().await.unwrap(), 1);

    let huge = "x".repeat(5 * 1024 * 1024);
    let response = client
        .post(app.at("/api/v1/orders"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("{{\"orders\": [], \"pad\": \"{huge}\"}}"))
        .send()
        .await;
    match response {
        Ok(response) => assert_eq!(response.status(), 413),
        // The server answers 413 as soon as it sees the length and closes
        // the connection; a client still sending the 5 MB may see it closed
        // mid-body instead of the answer. Anything else is a failure.
        Err(e) => {
            let closed = std::iter::successors(std::error::Error::source(&e), |s| s.source())
                .filter_map(|s| s.downcast_ref::<std::io::Error>())
                .any(|io| {
                    matches!(
                        io.kind(),
                        std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
                    )
                });
            assert!(closed, "neither 413 nor a closed connection: {e:?}");
        }
    }
    assert_eq!(app.store.count_orders().await.unwrap(), 1);
}

async fn enrolment_code_buys_one_terminal_token(backend: &str) {
    let app = TestApp::spawn(backend).await;
    app.store
        .upsert_courier("K-7", Some("Олег Волков"))
        .await
        .unwrap();
    let code = "ABCD-EFGH";
    app.store
        .create_enrollment_code(
            &doorstep::security::secret_hash(code),
            "K-7",
            doorstep_store::now_millis() + 60_000,
        )
        .await
        .unwrap();
    let client = app.anonymous();
    let response = client
        .post(app.at("/api/v1/terminal/enroll"))
        .json(&json!({"code": "abcd efgh", "device_name": "Samsung A14"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["courier_id"].as_str(), body["courier_name"].as_str()),
        (Some("K-7"), Some("Олег Волков"))
    );
    let token = body["token"].as_str().unwrap();
    assert_eq!(
        app.get_json("/api/v1/orders/none", token).await.0,
        404,
        "the new token authenticates"
    );
    let again = client
        .post(app.at("/api/v1/terminal/enroll"))
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 403, "a code works once");
}

/// Schemathesis (property-based testing from the OpenAPI document) finds
/// no answer the document does not describe, no server error, and no
/// schema-invalid request accepted: the document and the server agree.
/// Bounded to about a minute; `crates/server/tests/schemathesis.toml` says
/// which checks are off for which operations, and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_keeps_to_its_openapi_document() {
    use std::io::Write as _;
    let Ok(found) = std::process::Command::new("schemathesis")
        .arg("--version")
        .output()
    else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "schemathesis is missing; the test command installs it (pip install schemathesis)"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED (the OpenAPI conformance test): schemathesis is not installed; run the README's test command, which installs it"
        );
        return;
    };
    assert!(found.status.success());
    let app = TestApp::spawn("sqlite").await;
    let token = app.token("integration", None).await;
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis.toml");
    let url = app.at("/api/openapi.json");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("schemathesis")
            .args(["--no-color", "--config-file", config, "run", &url])
            .args(["-H", &format!("Authorization: Bearer {token}")])
            // The event stream never ends: a request-response tool cannot test it.
            .args(["--exclude-path", "/api/v1/events"])
            .args([
                "--max-examples",
                "30",
                "--seed",
                "20261202",
                "--request-timeout",
                "30",
            ])
            .output()
            .expect("run schemathesis")
    })
    .await
    .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found the API and its document disagree:\n{said}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("passed"), "{said}");
}
