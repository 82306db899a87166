//! Root causes in the console: answers tagged from reason options and free
//! text, a Pareto per filter, comments one click away, re-tagging by hand,
//! and rules the quality manager edits (everything tagged again).

use serde_json::json;

use crate::helpers::{order_json, TestApp};
use crate::on_both_backends;
use crate::surveys::{post, response, with_orders_and_survey};

on_both_backends!(
    causes_come_from_choices_words_and_hands,
    a_causes_comments_come_page_by_page,
    a_fall_in_nps_leads_to_what_changed_in_two_clicks,
    key_drivers_show_what_moves_nps,
    on_time_rate_follows_the_orders
);

/// (cause id, answers) per row of the causes table, in its order.
fn counts(page: &str) -> Vec<(String, i64)> {
    let Some(body) = page.split("<tbody>").nth(1) else {
        return Vec::new();
    };
    body.split("<a href=\"/causes/")
        .skip(1)
        .map(|row| {
            let id: String = row.chars().take_while(|c| *c != '?' && *c != '"').collect();
            let n = row
                .split("<td class=\"num strong\">")
                .nth(1)
                .and_then(|r| r.split('<').next())
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(-1);
            (id, n)
        })
        .filter(|(_, n)| *n >= 0)
        .collect()
}

fn pairs(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
}

const PERIOD: &str = "from=2026-11-01&to=2026-11-30";

async fn a_fall_in_nps_leads_to_what_changed_in_two_clicks(backend: &str) {
    let app = TestApp::spawn(backend).await;
    // Moscow: forty promoters one week, forty late-delivery detractors the next.
    let integration = with_orders_and_survey(
        &app,
        (10..90)
            .map(|i| order_json(&format!("W-{i}"), &format!("+791612345{i}"), "K-1"))
            .collect(),
    )
    .await;
    let batch: Vec<serde_json::Value> = (10..90)
        .map(|i| {
            let mut r = if i < 50 {
                response(
                    &format!("0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d6{i}"),
                    &format!("W-{i}"),
                    "completed",
                    &json!([{"question_id": "nps", "value": 10}]),
                )
            } else {
                response(
                    &format!("0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d6{i}"),
                    &format!("W-{i}"),
                    "completed",
                    &json!([{"question_id": "nps", "value": 2},
                            {"question_id": "comment", "value": format!("Курьер опоздал на час, W-{i}")}]),
                )
            };
            let day = if i < 50 { "2026-11-03" } else { "2026-11-10" };
            r["started_at"] = json!(format!("{day}T14:40:00+03:00"));
            r["finished_at"] = json!(format!("{day}T14:41:30+03:00"));
            r
        })
        .collect();
    let (status, body) = post(&app, &integration, "/api/v1/responses", &json!(batch)).await;
    assert_eq!(status, 201, "{body}");
    let quality = app.signed_in("quality").await;
    // The dashboard marks the city whose NPS fell and links to what changed,
    // and every row leads to its causes and its orders.
    let dashboard = app
        .page(
            &quality,
            "/dashboard?from=2026-11-08&to=2026-11-14&group_by=city",
        )
        .await;
    let why = dashboard
        .split("href=\"")
        .map(|s| s.split('"').next().unwrap_or_default())
        .find(|h| h.starts_with("/dashboard/why?") && h.contains("city="))
        .unwrap_or_else(|| panic!("no “why” link: {dashboard}"))
        .replace("&#38;", "&");
    assert!(
        dashboard.contains("/causes?from=2026-11-08&#38;to=2026-11-14&#38;city="),
        "{dashboard}"
    );
    assert!(
        dashboard.contains("/orders?from=2026-11-08&#38;to=2026-11-14&#38;city="),
        "{dashboard}"
    );
    // Each point of the trend leads to that day's causes.
    assert!(
        dashboard.contains("<td>10.11.2026</td>")
            && dashboard.contains("/causes?from=2026-11-10&#38;to=2026-11-10"),
        "{dashboard}"
    );
    let page = app.page(&quality, &why).await;
    assert!(page.contains("The NPS fell beyond chance"), "{page}");
    assert!(
        page.contains("Late delivery") && page.contains("+100.0"),
        "late: 0% → 100% of the answers: {page}"
    );
    assert!(
        page.contains("Курьер опоздал на час"),
        "with its comments: {page}"
    );
    // A period with no change says so.
    let calm = app
        .page(&quality, "/dashboard/why?from=2026-11-01&to=2026-11-04")
        .await;
    assert!(
        calm.contains("within chance") || calm.contains("rose beyond chance"),
        "{calm}"
    );
}

async fn a_causes_comments_come_page_by_page(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = with_orders_and_survey(
        &app,
        (10..55)
            .map(|i| order_json(&format!("P-{i}"), &format!("+791612345{i}"), "K-1"))
            .collect(),
    )
    .await;
    let batch: Vec<serde_json::Value> = (10..55)
        .map(|i| {
            response(
                &format!("0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d6{i}"),
                &format!("P-{i}"),
                "completed",
                &json!([{"question_id": "nps", "value": 2},
                        {"question_id": "comment", "value": format!("Курьер опоздал, заказ P-{i}")}]),
            )
        })
        .collect();
    let (status, body) = post(&app, &integration, "/api/v1/responses", &json!(batch)).await;
    assert_eq!(status, 201, "{body}");
    let quality = app.signed_in("quality").await;
    let first = app.page(&quality, &format!("/causes/late?{PERIOD}")).await;
    let shown = first.matches("class=\"card comment\"").count();
    assert_eq!(shown, 40, "one page of forty");
    assert!(
        first.contains("Answers 1–40") && first.contains("rel=\"next\""),
        "{first}"
    );
    assert!(!first.contains("rel=\"prev\""));
    let second = app
        .page(&quality, &format!("/causes/late?{PERIOD}&page=2"))
        .await;
    assert_eq!(second.matches("class=\"card comment\"").count(), 5);
    assert!(second.contains("Answers 41–45") && second.contains("rel=\"prev\""));
    assert!(!second.contains("rel=\"next\""));
    // Together they are every answer, each once.
    for i in 10..55 {
        let mark = format!("заказ P-{i}<");
        assert_eq!(
            first.matches(&mark).count() + second.matches(&mark).count(),
            1,
            "P-{i}"
        );
    }
}

async fn causes_come_from_choices_words_and_hands(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = with_orders_and_survey(
        &app,
        (1..=5)
            .map(|i| order_json(&format!("A-{i}"), &format!("+7916123456{i}"), "K-1"))
            .collect(),
    )
    .await;
    let id = |i: u32| format!("0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d60{i}");
    let batch = json!([
        response(
            &id(1),
            "A-1",
            "completed",
            &json!([
            {"question_id": "nps", "value": 3}, {"question_id": "why", "value": ["damaged"]},
            {"question_id": "comment", "value": "Курьер опоздал и нахамил"}])
        ),
        response(
            &id(2),
            "A-2",
            "completed",
            &json!([
            {"question_id": "nps", "value": 4},
            {"question_id": "comment", "value": "Долго ждала, никто не предупредил"}])
        ),
        response(
            &id(3),
            "A-3",
            "completed",
            &json!([
            {"question_id": "nps", "value": 10},
            {"question_id": "comment", "value": "Очень вежливый курьер, спасибо"}])
        ),
        response(
            &id(4),
            "A-4",
            "completed",
            &json!([
            {"question_id": "nps", "value": 5},
            {"question_id": "comment", "value": "Коробка промокла под дождём"}])
        ),
    ]);
    let (status, body) = post(&app, &integration, "/api/v1/responses", &batch).await;
    assert_eq!(status, 201, "{body}");

    let quality = app.signed_in("quality").await;
    let page = app.page(&quality, &format!("/causes?{PERIOD}")).await;
    assert_eq!(
        counts(&page),
        pairs(&[("late", 2), ("damaged", 1), ("no_call", 1), ("rude", 1)]),
        "late twice (a word form each), damaged as chosen: {page}"
    );
    assert!(page.contains("<svg"), "the Pareto chart");
    assert!(page.contains("Of 3 detractors"), "{page}");
    assert!(page.contains("66.7%"), "late: 2 of the 3 detractors");
    let delight = app
        .page(&quality, &format!("/causes?{PERIOD}&polarity=delight"))
        .await;
    assert_eq!(counts(&delight), pairs(&[("polite", 1)]));
    let other_city = app
        .page(&quality, &format!("/causes?{PERIOD}&city=Казань"))
        .await;
    assert!(counts(&other_city).is_empty(), "filters apply");

    // The comments behind a cause, and those no rule understood.
    let late = app.page(&quality, &format!("/causes/late?{PERIOD}")).await;
    assert!(late.contains("Курьер опоздал и нахамил") && late.contains("Долго ждала"));
    assert!(!late.contains("Коробка"), "{late}");
    let untagged = app
        .page(&quality, &format!("/causes/untagged?{PERIOD}"))
        .await;
    assert!(
        untagged.contains("Коробка промокла под дождём"),
        "{untagged}"
    );
    assert!(!untagged.contains("опоздал"));

    // The manager re-tags A-2 by hand: rude only.
    let csrf = app.csrf(&quality).await;
    let r = quality
        .post(app.at("/causes/tags"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("order_number", "A-2"),
            ("response_id", &id(2)),
            ("cause", "rude"),
            ("back", &format!("/causes/rude?{PERIOD}")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let rude = app.page(&quality, &format!("/causes/rude?{PERIOD}")).await;
    assert!(
        rude.contains("Долго ждала") && rude.contains("by hand"),
        "{rude}"
    );
    let page = app.page(&quality, &format!("/causes?{PERIOD}")).await;
    assert_eq!(
        counts(&page),
        pairs(&[("rude", 2), ("damaged", 1), ("late", 1)])
    );

    // A broken vocabulary is refused with the reason, and nothing changes.
    let r = quality
        .post(app.at("/causes/rules"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("c0.id", "late"),
            ("c0.label_en", "Late"),
            ("c1.id", "late"),
            ("c1.label_en", "Late again"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("used by an earlier cause"));

    // New rules: late, rude without keywords, and a new cause for wet parcels.
    let r = quality
        .post(app.at("/causes/rules"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("c0.id", "late"),
            ("c0.fixed", "1"),
            ("c0.polarity", "discontent"),
            ("c0.label_en", "Late delivery"),
            ("c0.keywords_ru", "опоздал\r\nждал"),
            ("c1.id", "rude"),
            ("c1.fixed", "1"),
            ("c1.polarity", "discontent"),
            ("c1.label_en", "Impolite courier"),
            ("c2.id", "damaged"),
            ("c2.fixed", "1"),
            ("c2.label_en", "Damaged"),
            ("c2.remove", "1"),
            ("c3.id", "wet"),
            ("c3.polarity", "discontent"),
            ("c3.label_en", "Got wet"),
            ("c3.keywords_ru", "промок*"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let rules = app.page(&quality, "/causes/rules").await;
    assert!(rules.contains("Got wet") && !rules.contains(">damaged<"));
    let want = pairs(&[("late", 1), ("rude", 1), ("wet", 1)]);
    let mut page = String::new();
    for _ in 0..100 {
        page = app.page(&quality, &format!("/causes?{PERIOD}")).await;
        if counts(&page) == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        counts(&page),
        want,
        "tagged again; A-2 keeps its hand-set cause: {page}"
    );

    // New answers follow the new rules at once.
    let (status, body) = post(
        &app,
        &integration,
        "/api/v1/responses",
        &json!([response(
            &id(5),
            "A-5",
            "completed",
            &json!([
            {"question_id": "nps", "value": 2},
            {"question_id": "comment", "value": "Пакет промок насквозь"}])
        )]),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let page = app.page(&quality, &format!("/causes?{PERIOD}")).await;
    assert_eq!(
        counts(&page),
        pairs(&[("wet", 2), ("late", 1), ("rude", 1)])
    );

    // Others may not see customers' words or change the rules.
    let operator = app.signed_in("operator").await;
    let r = operator.get(app.at("/causes")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let dispatcher = app.signed_in("dispatcher").await;
    let d_csrf = app.csrf(&dispatcher).await;
    let r = dispatcher
        .post(app.at("/causes/tags"))
        .form(&[
            ("csrf", d_csrf.as_str()),
            ("order_number", "A-1"),
            ("response_id", &id(1)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

async fn key_drivers_show_what_moves_nps(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = app.token("integration", None).await;
    let orders: Vec<_> = (0..40)
        .map(|i| order_json(&format!("F-{i}"), &format!("+791612345{i:02}"), "K-1"))
        .collect();
    let r = app
        .post_orders(&integration, &json!({ "orders": orders }))
        .await;
    assert_eq!(r.status(), 200);
    let survey = json!({"id": "factors", "name": "Factors", "questions": [
        {"id": "nps", "type": "nps", "text": "Recommend?"},
        {"id": "speed", "type": "scale", "min": 1, "max": 5, "measures": "factor:speed", "text": {"en": "Speed", "ru": "Скорость"}},
        {"id": "polite", "type": "scale", "min": 1, "max": 5, "measures": "factor:courier", "text": {"en": "Politeness"}},
        {"id": "overall", "type": "scale", "min": 1, "max": 9, "measures": "csi", "text": "Overall"}
    ]});
    let (status, body) = post(&app, &integration, "/api/v1/surveys", &survey).await;
    assert_eq!(status, 201, "{body}");
    let batch: Vec<_> = (0..40_u32)
        .map(|i| {
            let nps = i % 11;
            json!({
                "id": format!("0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d7{i:02}"), "order_number": format!("F-{i}"),
                "survey_id": "factors", "status": "completed",
                "started_at": "2026-11-03T14:40:00+03:00", "finished_at": "2026-11-03T14:41:30+03:00",
                "answers": [
                    {"question_id": "nps", "value": nps},
                    // Speed follows the NPS answer; politeness does not.
                    {"question_id": "speed", "value": 1 + (nps * 4 + 5) / 10},
                    {"question_id": "polite", "value": 4 + i % 2},
                    {"question_id": "overall", "value": 5}
                ]
            })
        })
        .collect();
    let (status, body) = post(&app, &integration, "/api/v1/responses", &json!(batch)).await;
    assert_eq!(status, 201, "{body}");

    let quality = app.signed_in("quality").await;
    let page = app.page(&quality, &format!("/drivers?{PERIOD}")).await;
    let rows: Vec<&str> = page
        .split("<tr data-factor=\"")
        .skip(1)
        .map(|r| r.split('"').next().unwrap_or_default())
        .collect();
    assert_eq!(
        rows,
        vec!["speed", "courier"],
        "factors only, the one that matters first: {page}"
    );
    let speed = page.split("data-factor=\"speed\"").nth(1).unwrap();
    assert!(
        speed.contains("Speed") && speed.contains("+0.9"),
        "r ≈ 0.99: {speed}"
    );
    let courier = page.split("data-factor=\"courier\"").nth(1).unwrap();
    assert!(
        courier.starts_with(" data-quadrant=\"unknown\""),
        "politeness is not related beyond chance: {courier}"
    );
    assert!(courier.contains("not at 95%"));
    assert!(page.contains("<svg"), "the importance × performance chart");
    // Another city has no answers: the page says what to do.
    let empty = app
        .page(&quality, &format!("/drivers?{PERIOD}&city=Казань"))
        .await;
    assert!(empty.contains("factor:NAME"), "{empty}");
    let operator = app.signed_in("operator").await;
    let r = operator.get(app.at("/drivers")).send().await.unwrap();
    assert_eq!(r.status(), 403);
}

async fn on_time_rate_follows_the_orders(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = app.token("integration", None).await;
    let order = |n: &str, courier: &str, delivered: Option<&str>| {
        let mut o = order_json(n, "+79161234567", courier);
        o["promised_from"] = json!("2026-11-03T11:00:00Z");
        o["promised_to"] = json!("2026-11-03T12:00:00Z");
        o["delivered_at"] = json!(delivered);
        o
    };
    let orders = json!({"orders": [
        order("T-1", "K-1", Some("2026-11-03T11:42:00Z")),
        order("T-2", "K-1", Some("2026-11-03T13:30:00Z")),
        order("T-3", "K-2", Some("2026-11-03T11:59:00Z")),
        order("T-4", "K-2", None),
    ]});
    assert_eq!(app.post_orders(&integration, &orders).await.status(), 200);
    let by_courier = |body: &serde_json::Value| -> Vec<(String, i64, Option<f64>)> {
        body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["key"].as_str().unwrap().to_owned(),
                    g["delivered"].as_i64().unwrap(),
                    g["on_time_rate"].as_f64(),
                )
            })
            .collect()
    };
    let (status, body) = app
        .get_json(
            &format!("/api/v1/metrics?{PERIOD}&group_by=courier"),
            &integration,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        by_courier(&body),
        vec![
            ("K-1".into(), 2, Some(50.0)),
            ("K-2".into(), 1, Some(100.0))
        ],
        "delivered orders only; groups with deliveries and no answers are shown: {body}"
    );
    // The week has ended: its weekly rows are built and read from now on.
    let tz = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
    let (today, _) = doorstep_domain::time::local_day(jiff::Timestamp::now().as_millisecond(), &tz);
    assert!(app.store.build_weeks(today).await.unwrap() > 0);
    let (_, body) = app
        .get_json(
            &format!("/api/v1/metrics?{PERIOD}&group_by=courier"),
            &integration,
        )
        .await;
    assert_eq!(
        by_courier(&body),
        vec![
            ("K-1".into(), 2, Some(50.0)),
            ("K-2".into(), 1, Some(100.0))
        ],
        "the same from the weekly rows: {body}"
    );
    // Part of the week: the built days' rows, read into memory.
    let now = jiff::Timestamp::now().as_millisecond();
    assert!(app.store.build_days(&tz, now, |_, _| {}).await.unwrap() > 0);
    let two_days = "from=2026-11-03&to=2026-11-04&group_by=courier";
    let (_, body) = app
        .get_json(&format!("/api/v1/metrics?{two_days}"), &integration)
        .await;
    assert_eq!(
        by_courier(&body),
        vec![
            ("K-1".into(), 2, Some(50.0)),
            ("K-2".into(), 1, Some(100.0))
        ],
        "the same from the built days: {body}"
    );
    // T-2 was delivered in time after all (a corrected import, late for a
    // built week): the rollup follows at once, and after the week is built
    // again.
    let fixed = json!({"orders": [order("T-2", "K-1", Some("2026-11-03T11:50:00Z"))]});
    assert_eq!(app.post_orders(&integration, &fixed).await.status(), 200);
    let (_, body) = app
        .get_json(&format!("/api/v1/metrics?{two_days}"), &integration)
        .await;
    assert_eq!(
        by_courier(&body),
        vec![
            ("K-1".into(), 2, Some(100.0)),
            ("K-2".into(), 1, Some(100.0))
        ],
        "the built day's rows in memory are not served once it changed: {body}"
    );
    for built in [false, true] {
        if built {
            assert_eq!(app.store.build_weeks(today).await.unwrap(), 1);
        }
        let (_, body) = app
            .get_json(&format!("/api/v1/metrics?{PERIOD}"), &integration)
            .await;
        assert_eq!(
            by_courier(&body),
            vec![("all".into(), 3, Some(100.0))],
            "week built again: {built}"
        );
        // By partner the weekly rows keep the partner apart.
        let (_, body) = app
            .get_json(
                &format!("/api/v1/metrics?{PERIOD}&group_by=partner"),
                &integration,
            )
            .await;
        let partners = by_courier(&body);
        assert_eq!(partners.len(), 1, "one partner: {body}");
        assert_eq!(partners[0].1, 3, "{body}");
        assert_eq!(partners[0].0, "Лавка", "{body}");
    }
    // On time is an order's figure: by survey it has no meaning.
    let (_, body) = app
        .get_json(
            &format!("/api/v1/metrics?{PERIOD}&group_by=survey"),
            &integration,
        )
        .await;
    assert!(
        body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["on_time_rate"].is_null()),
        "{body}"
    );
    // A rebuild from the orders gives the same.
    app.store
        .rebuild_rollups(&jiff::tz::TimeZone::get("Europe/Moscow").unwrap(), |_| {})
        .await
        .unwrap();
    let (_, body) = app
        .get_json(
            &format!("/api/v1/metrics?{PERIOD}&group_by=courier"),
            &integration,
        )
        .await;
    assert_eq!(
        by_courier(&body),
        vec![
            ("K-1".into(), 2, Some(100.0)),
            ("K-2".into(), 1, Some(100.0))
        ]
    );
    let quality = app.signed_in("quality").await;
    let page = app.page(&quality, &format!("/dashboard?{PERIOD}")).await;
    assert!(
        page.contains("On-time rate") && page.contains("of 3 delivered orders"),
        "{page}"
    );
}
