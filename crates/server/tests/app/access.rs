//! The role matrix of the README, enforced: each role is refused where it
//! does not belong (pages: sign-in redirect without a session, 403 with the
//! wrong role; API: 401 without a valid token, 403 with the wrong role).

use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    console_pages_follow_the_role_matrix,
    api_routes_follow_the_token_roles,
    admin_forms_refuse_other_roles_and_forged_posts
);

/// (path, [admin, quality, dispatcher, operator]) — true where the role may open it.
const PAGES: &[(&str, [bool; 4])] = &[
    ("/orders", [true, true, true, true]),
    ("/dashboard", [true, true, true, true]),
    ("/dashboard/report.csv", [true, true, true, true]),
    ("/surveys", [true, true, false, false]),
    ("/surveys/new", [true, true, false, false]),
    ("/couriers", [true, true, false, false]),
    ("/dispatch", [true, true, true, false]),
    ("/cases", [true, false, true, true]),
    ("/cases/new", [true, false, true, true]),
    ("/cases/approvals", [true, false, true, false]),
    ("/dispatch/loop", [true, true, true, false]),
    ("/dispatch/rules", [true, true, false, false]),
    ("/settings/categories", [true, false, false, false]),
    ("/settings", [true, false, false, false]),
    ("/settings/webhooks", [true, false, false, false]),
    ("/settings/sla", [true, false, false, false]),
    ("/settings/channels", [true, false, false, false]),
    ("/support", [true, true, true, false]),
    ("/calls", [true, true, true, false]),
];

async fn console_pages_follow_the_role_matrix(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let anonymous = app.anonymous();
    for (path, _) in PAGES {
        let r = anonymous.get(app.at(path)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{path} without a session");
        let location = r.headers()["location"].to_str().unwrap();
        assert!(
            location.starts_with("/login?next="),
            "{path} should send to sign-in, got {location}"
        );
    }
    for (i, role) in ["admin", "quality", "dispatcher", "operator"]
        .iter()
        .enumerate()
    {
        let client = app.signed_in(role).await;
        for (path, allowed) in PAGES {
            let status = client
                .get(app.at(path))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            let expected = if allowed[i] { 200 } else { 403 };
            assert_eq!(status, expected, "{role} on {path}");
        }
        // The navigation shows only what the role may open.
        let page = app.page(&client, "/orders").await;
        assert_eq!(
            page.contains("href=\"/settings\""),
            *role == "admin",
            "{role} settings link"
        );
    }
}

async fn api_routes_follow_the_token_roles(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = app.token("integration", None).await;
    let terminal = app.token("terminal", None).await;
    let client = app.anonymous();
    let body = json!({"orders": []});

    let none = client
        .post(app.at("/api/v1/orders"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["content-type"], "application/problem+json");
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    assert_eq!(
        client
            .get(app.at("/api/v1/orders/A-1"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(app.post_orders("made-up-token", &body).await.status(), 401);
    assert_eq!(app.post_orders(&terminal, &body).await.status(), 403);
    assert_eq!(app.post_orders(&integration, &body).await.status(), 200);
    assert_eq!(
        app.get_json("/api/v1/orders/A-1", &integration).await.0,
        404
    );
    assert_eq!(app.get_json("/api/v1/orders/A-1", &terminal).await.0, 404);

    // A console session is no API credential.
    let admin = app.signed_in("admin").await;
    assert_eq!(
        admin
            .get(app.at("/api/v1/orders/A-1"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // Revoked elsewhere (as by `doorstep token revoke`, another process):
    // refused once its `token.revoked` event is heard, within a second or
    // so, although the server had checked the token a moment before.
    let tokens = app.store.tokens().await.unwrap();
    let id = &tokens.iter().find(|t| t.role == "integration").unwrap().id;
    assert!(app.store.revoke_token(id).await.unwrap());
    let revoked = std::time::Instant::now();
    loop {
        let status = app.post_orders(&integration, &body).await.status();
        if status == 401 {
            break;
        }
        assert!(
            revoked.elapsed() < std::time::Duration::from_secs(5),
            "a revoked token still answered {status} five seconds later"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let events = app.store.events_after(0, 1_000).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.name == "token.revoked" && e.data.contains(id.as_str())),
        "the revocation is published"
    );
}

async fn admin_forms_refuse_other_roles_and_forged_posts(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let quality = app.signed_in("quality").await;
    let csrf = app.csrf(&quality).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("name", "x"),
        ("time_zone", "UTC"),
        ("phone_country", "RU"),
        ("currency", "RUB"),
    ];
    let r = quality
        .post(app.at("/settings/deployment"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "quality may not change settings");

    let admin = app.signed_in("admin").await;
    let forged = [
        ("csrf", "not-the-token"),
        ("name", "x"),
        ("time_zone", "UTC"),
        ("phone_country", "RU"),
        ("currency", "RUB"),
    ];
    let r = admin
        .post(app.at("/settings/deployment"))
        .form(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        403,
        "a post without the session's CSRF token is refused"
    );
    assert_eq!(app.store.deployment().await.unwrap().name, "Doorstep");

    let anonymous = app.anonymous();
    let r = anonymous
        .post(app.at("/settings/tokens"))
        .form(&[("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(app.store.tokens().await.unwrap().is_empty());
}
