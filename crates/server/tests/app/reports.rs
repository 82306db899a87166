//! Reports e-mailed on a schedule, through a real SMTP server started by
//! the test: the mail server set and tested from the console, schedules
//! added, each period sent once, a refused sending retried.

use serde_json::json;

use crate::helpers::{order_json, TestApp};
use crate::on_both_backends;
use crate::smtp::SmtpServer;
use crate::surveys::{post, with_orders_and_survey};

on_both_backends!(reports_are_emailed_on_schedule);

async fn reports_are_emailed_on_schedule(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let smtp = SmtpServer::start().await;
    let integration = with_orders_and_survey(
        &app,
        vec![
            order_json("R-1", "+79161234567", "K-1"),
            order_json("R-2", "+79161234568", "K-1"),
        ],
    )
    .await;
    // Two answers finished yesterday (24 hours ago is yesterday anywhere).
    let finished = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24);
    let started = finished - jiff::SignedDuration::from_secs(90);
    let answer = |id: &str, order: &str, nps: u8| {
        json!({"id": id, "order_number": order, "survey_id": "door", "status": "completed",
               "started_at": started.to_string(), "finished_at": finished.to_string(),
               "answers": [{"question_id": "nps", "value": nps}]})
    };
    let (status, body) = post(
        &app,
        &integration,
        "/api/v1/responses",
        &json!([
            answer("0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d801", "R-1", 10),
            answer("0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d802", "R-2", 9)
        ]),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // The admin sets the mail server; a bad sender is named.
    let admin = app.signed_in("admin").await;
    let csrf = app.csrf(&admin).await;
    let port = smtp.port.to_string();
    let smtp_form = |csrf: &str, from: &'static str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("host", "127.0.0.1".to_owned()),
            ("port", port.clone()),
            ("security", "none".to_owned()),
            ("from", from.to_owned()),
        ]
    };
    let r = admin
        .post(app.at("/reports/smtp"))
        .form(&smtp_form(&csrf, "nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("from: &#34;nope&#34; is not an e-mail address"));
    let r = admin
        .post(app.at("/reports/smtp"))
        .form(&smtp_form(&csrf, "Doorstep <reports@example.com>"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = admin
        .post(app.at("/reports/smtp/test"))
        .form(&[("csrf", csrf.as_str()), ("to", "quality@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("accepted by the mail server"));
    let test = &smtp.messages()[0];
    assert_eq!(test.from, "reports@example.com");
    assert_eq!(test.to, vec!["quality@example.com"]);
    assert!(
        test.data.contains("Subject: Doorstep: test e-mail"),
        "{}",
        test.data
    );

    // The quality manager schedules a daily report; bad addresses are named.
    let quality = app.signed_in("quality").await;
    let q_csrf = app.csrf(&quality).await;
    let schedule = |recipients: &'static str, frequency: &'static str| {
        vec![
            ("csrf", q_csrf.clone()),
            ("frequency", frequency.to_owned()),
            ("group_by", "city".to_owned()),
            ("format", "xlsx".to_owned()),
            ("recipients", recipients.to_owned()),
        ]
    };
    let r = quality
        .post(app.at("/reports/schedules"))
        .form(&schedule("head@example.com, not-an-address", "daily"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("not e-mail addresses: &#34;not-an-address&#34;"));
    let r = quality
        .post(app.at("/reports/schedules"))
        .form(&schedule("head@example.com, ops@example.com", "daily"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);

    // A call the PBX reported yesterday, answered in 10 s: the mail gives
    // the contact center's figures under the scores.
    let at = |s: i64| (finished.as_second() + s) as f64;
    let (status, body) = post(
        &app,
        &integration,
        "/api/v1/calls/events",
        &json!([
            {"call_id": "m1", "event": "ENTERQUEUE", "at": at(0), "queue": "support", "data": ["", "+79161234567", "1"]},
            {"call_id": "m1", "event": "CONNECT", "at": at(10), "queue": "support", "agent": "Olga", "data": ["10", "", "1"]},
            {"call_id": "m1", "event": "COMPLETECALLER", "at": at(70), "queue": "support", "agent": "Olga", "data": ["10", "60", "1"]}
        ]),
    )
    .await;
    assert_eq!(
        (status, body["rejected"].as_i64()),
        (200, Some(0)),
        "{body}"
    );

    // A mystery shopper checked K-1 yesterday: the mail gives it apart.
    let (status, body) = post(
        &app,
        &integration,
        "/api/v1/surveys",
        &json!({"id": "check", "name": "Mystery shopper", "inspection": true, "questions": [
            {"id": "polite", "type": "scale", "min": 1, "max": 5, "measures": "factor:politeness",
             "text": {"en": "Politeness", "ru": "Вежливость"}}]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let definition: doorstep_domain::survey::SurveyDefinition = serde_json::from_value(json!({
        "name": "Mystery shopper", "inspection": true, "questions": [
            {"id": "polite", "type": "scale", "min": 1, "max": 5, "measures": "factor:politeness", "text": "Politeness"}]}))
    .unwrap();
    let answers = doorstep_domain::survey::check_answers(
        &definition,
        doorstep_domain::survey::ResponseStatus::Completed,
        &[("polite".to_owned(), json!(4))],
    )
    .unwrap();
    let order = app.store.order("R-1").await.unwrap().unwrap();
    app.store
        .record_inspection(&doorstep_store::inspections::NewInspection {
            id: "5e6f7a8b-0000-4000-8000-000000000001",
            order: &order,
            survey_id: "check",
            survey_version: 1,
            inspector: "Shopper",
            token_id: None,
            started_at: started.as_millisecond(),
            finished_at: finished.as_millisecond(),
            content_hash: "x",
            answers: &answers,
        })
        .await
        .unwrap();

    // The round sends yesterday's report once, to both, with the file.
    assert_eq!(
        doorstep::app::survey::schedules::run_due(&app.state)
            .await
            .unwrap(),
        1
    );
    let messages = smtp.messages();
    assert_eq!(messages.len(), 2);
    let report = &messages[1];
    assert_eq!(report.to, vec!["head@example.com", "ops@example.com"]);
    let yesterday = finished.to_zoned(app.state.deployment().tz()).date();
    assert!(report.data.contains("service quality"), "{}", report.data);
    assert!(
        report
            .data
            .contains(&format!("doorstep-city-{yesterday}-{yesterday}.xlsx")),
        "the breakdown attached: {}",
        report.data
    );
    assert!(report
        .data
        .contains("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
    assert!(
        report.data.contains("+100.0 (n =3D 2") || report.data.contains("+100.0 (n = 2"),
        "NPS of the two answers: {}",
        report.data
    );
    assert!(
        report.data.contains("Offered: 1")
            && report
                .data
                .contains("Service level: 100.0% (80% within 20 s)")
            && report.data.contains("ASA: 10 s"),
        "the calls: {}",
        report.data
    );
    assert!(
        report
            .data
            .contains("Mystery-shopper inspections (apart from customers' scores)")
            && report.data.contains("One inspection of one courier")
            && (report.data.contains("Politeness: 4.0 of 5 (n =3D 1)")
                || report.data.contains("Politeness: 4.0 of 5 (n = 1)")),
        "the inspections, apart: {}",
        report.data
    );
    assert_eq!(
        doorstep::app::survey::schedules::run_due(&app.state)
            .await
            .unwrap(),
        0,
        "a period goes out once"
    );

    // A mail server that refuses: the schedule says so and tries again.
    let r = quality
        .post(app.at("/reports/schedules"))
        .form(&schedule("head@example.com", "weekly"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    *smtp.refuse.lock().unwrap() = true;
    assert_eq!(
        doorstep::app::survey::schedules::run_due(&app.state)
            .await
            .unwrap(),
        0
    );
    let page = app.page(&quality, "/reports").await;
    assert!(
        page.contains("not sent") && page.contains("mailbox unavailable"),
        "{page}"
    );
    *smtp.refuse.lock().unwrap() = false;
    assert_eq!(
        doorstep::app::survey::schedules::run_due(&app.state)
            .await
            .unwrap(),
        1,
        "retried"
    );
    assert_eq!(smtp.messages().len(), 3);

    // Only admins touch the mail server; operators see no reports.
    let r = quality
        .post(app.at("/reports/smtp"))
        .form(&smtp_form(&q_csrf, "Doorstep <reports@example.com>"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let operator = app.signed_in("operator").await;
    let r = operator.get(app.at("/reports")).send().await.unwrap();
    assert_eq!(r.status(), 403);
}
