//! Mystery-shopper checks: an inspector's device is enrolled with a code,
//! fills inspection surveys about the courier who delivered, each recorded
//! once (also when sent twice at once); inspections are reported apart and
//! never reach customers' scores; the other roles are refused.

use serde_json::{json, Value};

use crate::helpers::{order_json, TestApp};
use crate::on_both_backends;
use crate::surveys::{post, response, with_orders_and_survey};

on_both_backends!(an_inspector_checks_the_courier_apart_from_customers);

fn inspection_survey() -> Value {
    json!({
        "id": "check",
        "name": "Тайный покупатель",
        "inspection": true,
        "questions": [
            {"id": "on_time", "type": "scale", "text": {"ru": "Пунктуальность", "en": "Punctuality"}, "min": 1, "max": 5, "measures": "factor:punctuality", "required": true},
            {"id": "polite", "type": "scale", "text": {"ru": "Вежливость", "en": "Politeness"}, "min": 1, "max": 5, "measures": "factor:politeness"},
            {"id": "script", "type": "single_choice", "text": {"ru": "Скрипт соблюдён?", "en": "Script followed?"},
             "options": [{"id": "yes", "text": {"ru": "Да", "en": "Yes"}}, {"id": "no", "text": {"ru": "Нет", "en": "No"}}]}
        ]
    })
}

fn inspection(id: &str, order: &str, answers: &Value) -> Value {
    json!({
        "id": id, "order_number": order, "survey_id": "check",
        "started_at": "2026-11-03T14:40:00+03:00", "finished_at": "2026-11-03T14:45:00+03:00",
        "answers": answers
    })
}

async fn an_inspector_checks_the_courier_apart_from_customers(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let integration = with_orders_and_survey(
        &a,
        vec![
            order_json("M-1", "+79161234567", "K-1"),
            order_json("M-2", "+79161234568", "K-2"),
        ],
    )
    .await;
    let (status, body) = post(&a, &integration, "/api/v1/surveys", &inspection_survey()).await;
    assert_eq!(status, 201, "{body}");

    // The inspector's device: a one-time code, exchanged for a token.
    let code = doorstep::app::accounts::issue_inspector_code(&a.store, "Тайный покупатель 1")
        .await
        .unwrap();
    let r = a
        .anonymous()
        .post(a.at("/api/v1/terminal/enroll"))
        .json(&json!({"code": code, "device_name": "Phone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let enrolled: Value = r.json().await.unwrap();
    assert_eq!(enrolled["role"], "inspector", "{enrolled}");
    assert_eq!(enrolled["courier_name"], "Тайный покупатель 1");
    let inspector = enrolled["token"].as_str().unwrap().to_owned();

    // It is offered the inspection surveys only.
    let (status, forms) = a.get_json("/api/v1/inspections/surveys", &inspector).await;
    assert_eq!(status, 200, "{forms}");
    let ids: Vec<&str> = forms["surveys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["check"]);
    assert_eq!(forms["inspector"], "Тайный покупатель 1");

    // The same inspection twice at the same moment: recorded once.
    let first = inspection(
        "7b1e3c9a-2f4d-4c1b-9e8a-1d2c3b4a5f60",
        "M-1",
        &json!([{"question_id": "on_time", "value": 4}, {"question_id": "polite", "value": 5},
               {"question_id": "script", "value": "no"}]),
    );
    let (one, two) = tokio::join!(
        post(&a, &inspector, "/api/v1/inspections", &first),
        post(&a, &inspector, "/api/v1/inspections", &first),
    );
    let mut statuses = [one.0, two.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201], "{one:?} {two:?}");
    assert_eq!(one.1["courier_id"], "K-1", "{one:?}");
    let second = inspection(
        "8c2f4d0b-3a5e-4d2c-8f9b-2e3d4c5b6a71",
        "M-1",
        &json!([{"question_id": "on_time", "value": 2}, {"question_id": "script", "value": "yes"}]),
    );
    let (status, body) = post(&a, &inspector, "/api/v1/inspections", &second).await;
    assert_eq!(status, 201, "{body}");

    // The same id with other content, an unknown order, a customers'
    // survey, a bad answer: each refused, with what was wrong.
    let mut changed = first.clone();
    changed["answers"][0]["value"] = json!(1);
    let (status, body) = post(&a, &inspector, "/api/v1/inspections", &changed).await;
    assert_eq!(status, 409, "{body}");
    let unknown = inspection(
        "9d3a5e1c-4b6f-4e3d-9a0c-3f4e5d6c7b82",
        "NOPE",
        &json!([{"question_id": "on_time", "value": 3}]),
    );
    let (status, body) = post(&a, &inspector, "/api/v1/inspections", &unknown).await;
    assert_eq!(status, 404, "{body}");
    let mut customers = inspection(
        "ae4b6f2d-5c7a-4f4e-8b1d-4a5f6e7d8c93",
        "M-2",
        &json!([{"question_id": "nps", "value": 9}]),
    );
    customers["survey_id"] = json!("door");
    let (status, body) = post(&a, &inspector, "/api/v1/inspections", &customers).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("survey_id")),
        "{body}"
    );
    let bad = inspection(
        "bf5c7a3e-6d8b-4a5f-9c2e-5b6a7f8e9da4",
        "M-2",
        &json!([{"question_id": "on_time", "value": 9}]),
    );
    let (status, body) = post(&a, &inspector, "/api/v1/inspections", &bad).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("answers[0].value")),
        "{body}"
    );

    // Roles: an inspector is no courier and no integration; a courier's
    // terminal and the company's systems may not inspect; a customers'
    // response to an inspection survey is refused.
    let courier = a.token("terminal", Some("K-1")).await;
    for path in [
        "/api/v1/terminal/orders",
        "/api/v1/terminal/scores",
        "/api/v1/surveys",
    ] {
        let (status, _) = a.get_json(path, &inspector).await;
        assert_eq!(status, 403, "{path}");
    }
    let (status, _) = post(
        &a,
        &inspector,
        "/api/v1/responses",
        &json!([response(
            "cf6d8b4f-7e9c-4b6a-8d3f-6c7b8a9faeb5",
            "M-2",
            "completed",
            &json!([{"question_id": "nps", "value": 10}])
        )]),
    )
    .await;
    assert_eq!(status, 403);
    for token in [&courier, &integration] {
        let (status, _) = post(&a, token, "/api/v1/inspections", &second).await;
        assert_eq!(status, 403);
    }
    let (status, _) = a.get_json("/api/v1/inspections/surveys", &courier).await;
    assert_eq!(status, 403);
    let mut disguised = response(
        "d07e9c5a-8fad-4c7b-9e4a-7d8c9baafbc6",
        "M-1",
        "completed",
        &json!([{"question_id": "on_time", "value": 5}]),
    );
    disguised["survey_id"] = json!("check");
    let (status, body) = post(&a, &courier, "/api/v1/responses", &json!([disguised])).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["items"][0]["errors"][0]["field"], "responses[0].survey_id",
        "{body}"
    );

    // The terminal never offers an inspection survey to a customer.
    let (status, day) = a
        .get_json("/api/v1/terminal/orders?date=2026-11-03", &courier)
        .await;
    assert_eq!(status, 200, "{day}");
    assert!(
        day["orders"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["survey_id"] != "check"),
        "{day}"
    );

    // Reported apart: per courier and question; customers' scores untouched.
    let (status, figures) = a
        .get_json(
            "/api/v1/inspections?from=2026-11-01&to=2026-11-30",
            &integration,
        )
        .await;
    assert_eq!(status, 200, "{figures}");
    let couriers = figures["couriers"].as_array().unwrap();
    assert_eq!(couriers.len(), 1, "{figures}");
    assert_eq!(
        (
            couriers[0]["courier_id"].as_str(),
            couriers[0]["inspections"].as_u64()
        ),
        (Some("K-1"), Some(2))
    );
    let question = |id: &str| {
        couriers[0]["questions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["question_id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(question("on_time")["mean"], 3.0);
    assert_eq!(question("on_time")["answers"], 2);
    assert_eq!(question("script")["options"], json!({"no": 1, "yes": 1}));
    // One customer answered (about K-2): the only response anywhere.
    let (status, body) = post(
        &a,
        &integration,
        "/api/v1/responses",
        &json!([response(
            "e18fad6b-9abe-4d8c-8f5b-8e9dacbb0cd7",
            "M-2",
            "completed",
            &json!([{"question_id": "nps", "value": 10}])
        )]),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, metrics) = a
        .get_json(
            "/api/v1/metrics?from=2026-11-01&to=2026-11-30&group_by=courier",
            &integration,
        )
        .await;
    assert_eq!(status, 200, "{metrics}");
    let mut groups: Vec<(&str, i64)> = metrics["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["key"].as_str().unwrap(), g["responses"].as_i64().unwrap()))
        .collect();
    groups.sort_unstable();
    // K-1 is there for his delivery, with no response: inspections are none.
    assert_eq!(groups, [("K-1", 0), ("K-2", 1)], "{metrics}");

    // `doorstep report --section inspections`: the same sums to a file.
    let out = a.data_dir.0.join("inspections.csv");
    let done = crate::cli::doorstep(
        &a.db_url,
        &[
            "report",
            "--section",
            "inspections",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(String::from_utf8_lossy(&done.stdout).contains("2 inspections, couriers inspected: 1"));
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(
        csv.starts_with("courier_id,inspections,survey_id,question_id,kind,answers,mean,options\n")
            && csv.contains("K-1,2,check,on_time,scale,2,3,\n")
            && csv.contains("K-1,2,check,script,single_choice,2,,no:1;yes:1\n"),
        "{csv}"
    );
    let refused = crate::cli::doorstep(
        &a.db_url,
        &[
            "report",
            "--section",
            "inspections",
            "--city",
            "Москва",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--city does not apply to inspections"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // The courier's page shows them, named, apart from the scores.
    let quality = a.signed_in("quality").await;
    let page = a
        .page(&quality, "/couriers/K-1?from=2026-11-01&to=2026-11-30")
        .await;
    assert!(
        page.contains("Mystery-shopper inspections")
            && page.contains("2 inspections in the period")
            && page.contains("Punctuality")
            && page.contains("3.0 of 5")
            && page.contains("No: 1 · Yes: 1")
            && page.contains("Тайный покупатель 1"),
        "{page}"
    );
    let other = a
        .page(&quality, "/couriers/K-2?from=2026-11-01&to=2026-11-30")
        .await;
    assert!(
        other.contains("No inspection of this courier in the period"),
        "{other}"
    );
}
