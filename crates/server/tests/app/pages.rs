//! The console as people use it: signing in, the Orders pages, settings.

use serde_json::json;

use crate::helpers::{form_value, order_json, TestApp, PASSWORD};
use crate::on_both_backends;

on_both_backends!(
    sign_in_and_out,
    repeated_failures_lock_the_login_for_a_while,
    language_is_remembered_per_user,
    orders_search_by_phone_number_and_filters,
    settings_save_validate_and_manage_access,
    an_admin_enrols_a_courier_terminal_from_settings,
    pages_carry_security_headers_and_redirect_only_within_the_site,
);

async fn sign_in_and_out(backend: &str) {
    let app = TestApp::spawn(backend).await;
    app.add_user("anna", "operator").await;
    let client = app.anonymous();
    let wrong = app.log_in(&client, "anna", "wrong password").await;
    assert_eq!(wrong.status(), 200);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("Wrong login or password"));
    let unknown = app.log_in(&client, "nobody", PASSWORD).await;
    assert!(unknown
        .text()
        .await
        .unwrap()
        .contains("Wrong login or password"));

    // A form without the cookie's token is refused even with the right password.
    let fresh = app.anonymous();
    let forged = fresh
        .post(app.at("/login"))
        .form(&[
            ("login", "anna"),
            ("password", PASSWORD),
            ("csrf", "guess"),
            ("next", "/orders"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 200, "no session for a forged form");

    let ok = app.log_in(&client, "anna", PASSWORD).await;
    assert_eq!(ok.status(), 303);
    let cookie = ok
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("doorstep_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert_eq!(
        client.get(app.at("/orders")).send().await.unwrap().status(),
        200
    );

    // Open redirects are refused: `next` must be a path on this site.
    let page = client
        .get(app.at("/login?next=//evil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["location"], "/orders");

    let csrf = app.csrf(&client).await;
    let out = client
        .post(app.at("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(
        client.get(app.at("/orders")).send().await.unwrap().status(),
        303,
        "signed out"
    );
}

async fn language_is_remembered_per_user(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let client = app.signed_in("dispatcher").await;
    let page = app.page(&client, "/orders").await;
    assert!(page.contains("Orders") && page.contains("lang=\"en\""));
    let csrf = form_value(&page, "csrf");
    let r = client
        .post(app.at("/language"))
        .form(&[("lang", "ru"), ("csrf", csrf.as_str()), ("back", "/orders")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // A new sign-in elsewhere (no language cookie) still speaks Russian.
    let other = app.anonymous();
    app.log_in(&other, "dispatcher", crate::helpers::PASSWORD)
        .await;
    let page = app.page(&other, "/orders").await;
    assert!(
        page.contains("lang=\"ru\"")
            && page.contains("Заказы")
            && page.contains("Заказов пока нет"),
        "Russian console expected"
    );
}

async fn orders_search_by_phone_number_and_filters(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let token = app.token("integration", None).await;
    let mut late = order_json("B-77", "+79160000000", "K-2");
    late["city"] = json!("Ташкент");
    late["delivered_at"] = json!("2026-11-03T20:00:00+03:00");
    let mut kyiv = order_json("U-1", "+380630506152", "K-3");
    kyiv["city"] = json!("Київ");
    kyiv["customer_name"] = json!("Олег Коваль");
    let batch = json!({"orders": [order_json("A-100", "8 916 123-45-67", "K-1"), order_json("A-101", "+79161234567", "K-1"), late, kyiv]});
    assert_eq!(app.post_orders(&token, &batch).await.status(), 200);
    let (status, body) = crate::surveys::post(
        &app,
        &token,
        "/api/v1/surveys",
        &crate::surveys::door_survey(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let answer = |order: &str, nps: i64| {
        json!({"id": uuid::Uuid::new_v4().to_string(), "order_number": order, "survey_id": "door",
               "status": "completed", "started_at": "2026-11-03T12:00:00Z", "finished_at": "2026-11-03T12:01:00Z",
               "answers": [{"question_id": "nps", "value": nps}]})
    };
    let (status, body) = crate::surveys::post(
        &app,
        &token,
        "/api/v1/responses",
        &json!([answer("A-100", 3), answer("U-1", 10)]),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let client = app.signed_in("operator").await;
    let text = |path: &'static str| {
        let client = client.clone();
        let url = app.at(path);
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };

    let by_phone = text("/orders?q=8+(916)+123-45-67").await;
    assert!(
        by_phone.contains("2 orders found")
            && by_phone.contains("A-100")
            && !by_phone.contains("B-77")
    );
    // A number as its own country writes it, a name in any case.
    let ukrainian = text("/orders?q=063+050+61+52").await;
    assert!(
        ukrainian.contains("1 order found") && ukrainian.contains("U-1"),
        "{ukrainian}"
    );
    // коваль, ОЛЕГ
    for by_name in [
        text("/orders?q=%D0%BA%D0%BE%D0%B2%D0%B0%D0%BB%D1%8C").await,
        text("/orders?q=%D0%9E%D0%9B%D0%95%D0%93").await,
    ] {
        assert!(
            by_name.contains("1 order found") && by_name.contains("U-1"),
            "{by_name}"
        );
    }
    // Each order's answer, and the detractors alone.
    let detractors = text("/orders?answer=detractor").await;
    assert!(
        detractors.contains("1 order found")
            && detractors.contains("A-100")
            && detractors.contains("nps-answer detractor\" title=\"Detractors (0–6)\">3<"),
        "{detractors}"
    );
    let all = text("/orders").await;
    assert!(
        all.contains("nps-answer promoter") && all.contains(">10</a>"),
        "{all}"
    );
    let by_prefix = text("/orders?q=B-").await;
    assert!(by_prefix.contains("1 order found") && by_prefix.contains("B-77"));
    let by_city = text("/orders?city=%D0%A2%D0%B0%D1%88%D0%BA%D0%B5%D0%BD%D1%82").await;
    assert!(by_city.contains("B-77") && !by_city.contains("A-100"));
    let late_only = text("/orders?status=delivered_late").await;
    assert!(late_only.contains("B-77") && !late_only.contains("A-101"));
    let by_dates = text("/orders?from=2026-11-04&to=2026-11-30").await;
    assert!(by_dates.contains("No orders match"));
    let bad_date = text("/orders?from=31.02.2026").await;
    assert!(bad_date.contains("is not a date"));

    let detail = text("/orders/A-101").await;
    assert!(
        detail.contains("Анна Петрова")
            && detail.contains("03.11.2026 14:00–15:00")
            && detail.contains("repeat customer")
    );
    let customer = text("/customers/%2B79161234567").await;
    assert!(customer.contains("A-100") && customer.contains("A-101"));
    assert!(
        customer.contains("100.0% of 2 delivered"),
        "the on-time rate: {customer}"
    );
    let late_customer = text("/customers/%2B79160000000").await;
    assert!(
        late_customer.contains("0.0% of 1 delivered"),
        "{late_customer}"
    );
    let missing = client.get(app.at("/orders/NOPE")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

async fn settings_save_validate_and_manage_access(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("admin").await;
    let csrf = app.csrf(&admin).await;
    let save = |zone: &'static str| {
        let admin = admin.clone();
        let url = app.at("/settings/deployment");
        let csrf = csrf.clone();
        async move {
            admin
                .post(url)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("name", "Express"),
                    ("time_zone", zone),
                    ("phone_country", "UZ"),
                    ("currency", "uzs"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let bad = save("Mars/Olympus").await;
    assert_eq!(bad.status(), 200);
    assert!(bad
        .text()
        .await
        .unwrap()
        .contains("is not an IANA time zone"));
    assert_eq!(
        app.store.deployment().await.unwrap().name,
        "Doorstep",
        "nothing saved on error"
    );
    assert_eq!(save("Asia/Tashkent").await.status(), 303);
    let d = app.store.deployment().await.unwrap();
    assert_eq!(
        (
            d.time_zone.as_str(),
            d.phone_country.as_str(),
            d.currency.as_str()
        ),
        ("Asia/Tashkent", "UZ", "UZS")
    );

    // A new account, then signing in with it.
    let r = admin
        .post(app.at("/settings/users"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", "olga"),
            ("role", "quality"),
            ("password", "long enough pass"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let olga = app.anonymous();
    assert_eq!(
        app.log_in(&olga, "olga", "long enough pass").await.status(),
        303
    );
    let short = admin
        .post(app.at("/settings/users"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", "ivan"),
            ("role", "quality"),
            ("password", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert!(short
        .text()
        .await
        .unwrap()
        .contains("at least 10 characters"));

    // A token made in the console works on the API until revoked there.
    let page = admin
        .post(app.at("/settings/tokens"))
        .form(&[("csrf", csrf.as_str()), ("name", "1C export")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let secret = crate::helpers::shown_secret(&page);
    assert_eq!(
        app.post_orders(&secret, &json!({"orders": []}))
            .await
            .status(),
        200
    );
    let id = app.store.tokens().await.unwrap()[0].id.clone();
    let r = admin
        .post(app.at(&format!("/settings/tokens/{id}/revoke")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.post_orders(&secret, &json!({"orders": []}))
            .await
            .status(),
        401
    );
}

async fn repeated_failures_lock_the_login_for_a_while(backend: &str) {
    let app = TestApp::spawn(backend).await;
    app.add_user("anna", "operator").await;
    app.add_user("olga", "operator").await;
    let client = app.anonymous();
    for _ in 0..5 {
        assert_eq!(app.log_in(&client, "anna", "guess").await.status(), 200);
    }
    // Even the right password waits now, and the page says for how long.
    let locked = app.log_in(&client, "Anna", PASSWORD).await;
    assert_eq!(locked.status(), 429);
    assert!(locked
        .text()
        .await
        .unwrap()
        .contains("Too many failed attempts"));
    // Other people are not locked out.
    assert_eq!(app.log_in(&client, "olga", PASSWORD).await.status(), 303);

    // Enrolment codes cannot be guessed at speed either.
    for _ in 0..10 {
        let r = client
            .post(app.at("/api/v1/terminal/enroll"))
            .json(&serde_json::json!({"code": "AAAA-BBBB"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
    let r = client
        .post(app.at("/api/v1/terminal/enroll"))
        .json(&serde_json::json!({"code": "AAAA-BBBB"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
}

async fn an_admin_enrols_a_courier_terminal_from_settings(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = app.token("integration", None).await;
    let orders =
        serde_json::json!({"orders": [crate::helpers::order_json("A-1", "+79161234567", "K-7")]});
    assert_eq!(app.post_orders(&integration, &orders).await.status(), 200);
    let admin = app.signed_in("admin").await;
    let csrf = app.csrf(&admin).await;

    let unknown = admin
        .post(app.at("/settings/enrollment"))
        .form(&[("csrf", csrf.as_str()), ("courier_id", "K-404")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(unknown.contains("K-404"), "says which courier is unknown");

    let page = admin
        .post(app.at("/settings/enrollment"))
        .form(&[("csrf", csrf.as_str()), ("courier_id", "K-7")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("/terminal/\""),
        "shows where the terminal is: {page}"
    );
    let start = page.find("id=\"secret\">").unwrap() + "id=\"secret\">".len();
    let code = &page[start..start + page[start..].find('<').unwrap()];
    let r = app
        .anonymous()
        .post(app.at("/api/v1/terminal/enroll"))
        .json(&serde_json::json!({"code": code, "device_name": "Tablet 3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let enrolled: serde_json::Value = r.json().await.unwrap();
    assert_eq!(enrolled["courier_id"], "K-7");
    let (status, day) = app
        .get_json(
            "/api/v1/terminal/orders",
            enrolled["token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(status, 200, "{day}");
    // The code works once.
    let again = app
        .anonymous()
        .post(app.at("/api/v1/terminal/enroll"))
        .json(&serde_json::json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 403);
}

/// Every console page has a content security policy, is never cached and
/// sends no referrer away; cookies are Secure behind HTTPS; after sign-in
/// and a language switch only paths on this site are followed.
async fn pages_carry_security_headers_and_redirect_only_within_the_site(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let signed_in = app.signed_in("quality").await;
    let anonymous = app.anonymous();
    for (client, path) in [
        (&signed_in, "/orders"),
        (&signed_in, "/dashboard"),
        (&signed_in, "/surveys"),
        (&signed_in, "/causes"),
        (&signed_in, "/couriers"),
        (&anonymous, "/login"),
        (&anonymous, "/terminal/"),
    ] {
        let r = client.get(app.at(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path} has no content security policy: {h:?}"))
            .to_str()
            .unwrap();
        assert!(
            csp.contains("script-src 'self'")
                && csp.contains("frame-ancestors 'none'")
                && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(
            h["cache-control"] == "no-store"
                || (path == "/terminal/" && h["cache-control"] == "no-cache"),
            "{path}: {:?}",
            h["cache-control"]
        );
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        let body = r.text().await.unwrap();
        assert!(
            !body.contains("<script>"),
            "{path} has an inline script, which its policy blocks"
        );
    }
    // Cookies are Secure when the proxy says the visitor came over HTTPS.
    for (proto, secure) in [(None, false), (Some("https"), true)] {
        let mut request = app.anonymous().get(app.at("/login"));
        if let Some(p) = proto {
            request = request.header("x-forwarded-proto", p);
        }
        let r = request.send().await.unwrap();
        let cookies: Vec<&str> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert!(!cookies.is_empty());
        for c in cookies {
            assert_eq!(c.contains("; Secure"), secure, "{proto:?}: {c}");
        }
    }
    // Sign-in and the language switch go only to paths on this site.
    app.add_user("anna", "operator").await;
    for (next, expected) in [
        ("/causes?from=2026-11-01", "/causes?from=2026-11-01"),
        ("/\t/evil.example/", "/orders"),
        ("//evil.example/", "/orders"),
        ("/\\evil.example/", "/orders"),
        ("/orders\r\nSet-Cookie: x=1", "/orders"),
        ("https://evil.example/", "/orders"),
    ] {
        let client = app.anonymous();
        let page = app.page(&client, "/login").await;
        let csrf = form_value(&page, "csrf");
        let r = client
            .post(app.at("/login"))
            .form(&[
                ("login", "anna"),
                ("password", PASSWORD),
                ("csrf", &csrf),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{next:?}");
        assert_eq!(r.headers()["location"], expected, "{next:?}");
        let r = client
            .post(app.at("/language"))
            .form(&[
                ("lang", "ru"),
                ("csrf", &app.csrf(&client).await),
                ("back", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers()["location"],
            expected,
            "language switch, {next:?}"
        );
    }
}
