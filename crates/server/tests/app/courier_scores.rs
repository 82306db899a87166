//! The courier's own scores on the terminal ("My scores"): his weeks beside
//! his city's, promoters' words without their contacts, and the city's
//! leaderboard only once the company turns it on.

use serde_json::{json, Value};

use crate::helpers::{order_json, TestApp};
use crate::on_both_backends;
use crate::surveys::{post, with_orders_and_survey};

on_both_backends!(a_courier_sees_his_own_scores_beside_his_citys);

async fn a_courier_sees_his_own_scores_beside_his_citys(backend: &str) {
    let a = TestApp::spawn(backend).await;
    // Every answer a week ago: last week, whatever day today is.
    let at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(7 * 24);
    let order = |n: String, courier: &str, name: &str| {
        let mut o = order_json(&n, "+79161234567", courier);
        o["courier_name"] = json!(name);
        o["promised_from"] = json!((at - jiff::SignedDuration::from_mins(60)).to_string());
        o["promised_to"] = json!(at.to_string());
        o["delivered_at"] = json!((at - jiff::SignedDuration::from_mins(5)).to_string());
        o
    };
    let mut orders = Vec::new();
    for i in 0..31 {
        orders.push(order(format!("S1-{i}"), "K-1", "Иван Смирнов"));
        orders.push(order(format!("S2-{i}"), "K-2", "Пётр Иванов"));
    }
    let integration = with_orders_and_survey(&a, orders).await;
    // K-1: twenty 10s, five 8s, six 2s (NPS +45.2); K-2: thirty-one 10s.
    let answer = |n: String, nps: u8, comment: Option<&str>| {
        let mut answers = vec![json!({"question_id": "nps", "value": nps})];
        if let Some(c) = comment {
            answers.push(json!({"question_id": "comment", "value": c}));
        }
        json!({"id": uuid::Uuid::new_v4().to_string(), "order_number": n, "survey_id": "door",
               "status": "completed", "started_at": (at - jiff::SignedDuration::from_secs(60)).to_string(),
               "finished_at": at.to_string(), "answers": answers})
    };
    let mut batch: Vec<Value> = Vec::new();
    for i in 0..31 {
        let (nps, comment) = match i {
            0 => (
                10,
                Some("Иван молодец, звоните +7 916 123-45-67 в любое время"),
            ),
            1..20 => (10, None),
            20..25 => (8, None),
            25 => (2, Some("Ужасно")),
            _ => (2, None),
        };
        batch.push(answer(format!("S1-{i}"), nps, comment));
        batch.push(answer(format!("S2-{i}"), 10, None));
    }
    let (status, body) = post(&a, &integration, "/api/v1/responses", &json!(batch)).await;
    assert_eq!(status, 201, "{body}");

    let k1 = a.token("terminal", Some("K-1")).await;
    let (status, mine) = a.get_json("/api/v1/terminal/scores", &k1).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["city"], "Москва");
    let weeks = mine["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 5, "this week and the four before");
    assert_eq!(
        (weeks[4]["so_far"].as_bool(), weeks[4]["surveys"].as_i64()),
        (Some(true), Some(0))
    );
    let last = &weeks[3];
    assert_eq!(last["nps_n"].as_i64(), Some(31), "{last}");
    let near = |v: &Value, want: f64| (v.as_f64().unwrap() - want).abs() < 0.06;
    assert!(near(&last["nps"], 45.16), "{last}");
    assert!(
        last["nps_ci95_low"].as_f64().unwrap() < 45.0
            && last["nps_ci95_high"].as_f64().unwrap() > 46.0,
        "{last}"
    );
    // The city: 51 promoters and 6 detractors of 62.
    assert!(near(&last["city_nps"], 72.58), "{last}");
    assert_eq!(last["city_nps_n"].as_i64(), Some(62));
    // A promoter's words, without his phone; a detractor's are not shown.
    assert_eq!(
        mine["compliments"],
        json!([{"date": at.to_zoned(a.state.deployment().tz()).date().to_string(),
                "text": "Иван молодец, звоните … в любое время"}])
    );
    assert!(mine["leaderboard"].is_null(), "off unless turned on");

    // Nobody else reads a courier's scores.
    let (status, _) = a.get_json("/api/v1/terminal/scores", &integration).await;
    assert_eq!(status, 403);
    let nobody = a.token("terminal", None).await;
    let (status, problem) = a.get_json("/api/v1/terminal/scores", &nobody).await;
    assert_eq!(status, 403, "{problem}");

    // The quality manager turns the leaderboard on; a dispatcher may not.
    let dispatcher = a.signed_in("dispatcher").await;
    let csrf = a.csrf(&dispatcher).await;
    let r = dispatcher
        .post(a.at("/couriers/leaderboard"))
        .form(&[("on", "on"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let quality = a.signed_in("quality").await;
    let csrf = a.csrf(&quality).await;
    let r = quality
        .post(a.at("/couriers/leaderboard"))
        .form(&[("on", "on"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = a.page(&quality, "/couriers?leaderboard=on").await;
    assert!(
        page.contains("Couriers now see their city&#39;s leaderboard.")
            || page.contains("Couriers now see their city's leaderboard."),
        "{page}"
    );
    let (_, mine) = a.get_json("/api/v1/terminal/scores", &k1).await;
    assert_eq!(
        mine["leaderboard"],
        json!([
            {"rank": 1, "name": "Пётр Иванов", "nps": 100.0, "nps_n": 31, "you": false},
            {"rank": 2, "name": "Иван Смирнов", "nps": last["nps"], "nps_n": 31, "you": true}
        ])
    );
}
