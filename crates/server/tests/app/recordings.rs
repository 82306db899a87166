//! The conversation recorded with consent: a survey that records asks
//! first; the answers go up with the consent, the recording after them,
//! tied to its response once (also when sent twice at once); it plays on
//! the order page only for the roles that may hear voices, every play
//! logged; an erasure deletes it; the courier's habits count recordings
//! missing or far shorter than the survey.

use serde_json::{json, Value};

use crate::helpers::{order_json, TestApp};
use crate::on_both_backends;
use crate::surveys::{post, response};

on_both_backends!(a_recording_follows_its_answers_with_consent_only);

/// The start of a WebM file (the EBML header of an audio recording), made
/// different by `tag`: what a terminal's MediaRecorder uploads.
fn webm(tag: u8) -> Vec<u8> {
    let mut b = vec![
        0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01, 0x42, 0xF2,
        0x81, 0x04, 0x42, 0xF3, 0x81, 0x08, 0x42, 0x82, 0x84, b'w', b'e', b'b', b'm',
    ];
    b.extend(std::iter::repeat_n(tag, 64));
    b
}

fn recorded_survey() -> Value {
    json!({
        "id": "door",
        "name": "У двери",
        "recording": {"max_seconds": 120},
        "questions": [
            {"id": "nps", "type": "nps", "text": {"ru": "Порекомендуете нас?", "en": "Would you recommend us?"}, "required": true}
        ]
    })
}

fn with_consent(id: &str, order: &str, consent: bool) -> Value {
    let mut r = response(
        id,
        order,
        "completed",
        &json!([{"question_id": "nps", "value": 9}]),
    );
    r["recording_consent"] = json!(consent);
    r
}

async fn a_recording_follows_its_answers_with_consent_only(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let integration = a.token("integration", None).await;
    let r = a
        .post_orders(
            &integration,
            &json!({"orders": [
                order_json("S-1", "+79161230001", "K-1"),
                order_json("S-2", "+79161230002", "K-1"),
                order_json("S-3", "+79161230003", "K-1"),
                order_json("S-4", "+79161230004", "K-2"),
            ]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let (status, body) = post(&a, &integration, "/api/v1/surveys", &recorded_survey()).await;
    assert_eq!(status, 201, "{body}");
    let k1 = a.token("terminal", Some("K-1")).await;
    let k2 = a.token("terminal", Some("K-2")).await;
    let (one, two, three) = (
        "0a1b2c3d-0000-4000-8000-000000000001",
        "0a1b2c3d-0000-4000-8000-000000000002",
        "0a1b2c3d-0000-4000-8000-000000000003",
    );
    let (status, body) = post(
        &a,
        &k1,
        "/api/v1/responses",
        &json!([
            with_consent(one, "S-1", true),
            with_consent(two, "S-2", true),
            with_consent(three, "S-3", false)
        ]),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // The answers are on the server; the recording follows: the file, then its tie.
    let long = webm(1);
    let (status, _, long_id) = a.upload(&k1, &long).await;
    assert_eq!(status, 201);
    let tie = json!({"order_number": "S-1", "attachment_id": long_id, "duration_ms": 60_000});
    let path = format!("/api/v1/responses/{one}/recording");
    let (first, second) = tokio::join!(post(&a, &k1, &path, &tie), post(&a, &k1, &path, &tie));
    let mut statuses = [first.0, second.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201], "{first:?} {second:?}");

    // Another file for the same response, a declined one, another
    // courier's, an unknown response, a file never uploaded: refused.
    let short = webm(2);
    let (_, _, short_id) = a.upload(&k1, &short).await;
    let (status, body) = post(
        &a,
        &k1,
        &path,
        &json!({"order_number": "S-1", "attachment_id": short_id, "duration_ms": 5_000}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = post(
        &a,
        &k1,
        &format!("/api/v1/responses/{three}/recording"),
        &json!({"order_number": "S-3", "attachment_id": short_id, "duration_ms": 5_000}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = post(
        &a,
        &k2,
        &format!("/api/v1/responses/{two}/recording"),
        &json!({"order_number": "S-2", "attachment_id": short_id, "duration_ms": 10_000}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post(
        &a,
        &k1,
        "/api/v1/responses/0a1b2c3d-0000-4000-8000-00000000dead/recording",
        &json!({"order_number": "S-2", "attachment_id": short_id, "duration_ms": 10_000}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, body) = post(
        &a,
        &k1,
        &format!("/api/v1/responses/{two}/recording"),
        &json!({"order_number": "S-2", "attachment_id": "ab".repeat(32), "duration_ms": 10_000}),
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("attachment_id"))
    );
    // A recording far shorter than its survey (10 s of 90 s).
    let (status, body) = post(
        &a,
        &k1,
        &format!("/api/v1/responses/{two}/recording"),
        &json!({"order_number": "S-2", "attachment_id": short_id, "duration_ms": 10_000}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // A consent for a survey that records nothing is refused by name.
    let mut plain = recorded_survey();
    plain["id"] = json!("plain");
    plain.as_object_mut().unwrap().remove("recording");
    let (status, _) = post(&a, &integration, "/api/v1/surveys", &plain).await;
    assert_eq!(status, 201);
    let mut stray = with_consent("0a1b2c3d-0000-4000-8000-000000000004", "S-4", true);
    stray["survey_id"] = json!("plain");
    let (status, body) = post(&a, &k2, "/api/v1/responses", &json!([stray])).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["items"][0]["errors"][0]["field"], "responses[0].recording_consent",
        "{body}"
    );

    // The courier's habits: two consents, one recording kept (long enough).
    let day = doorstep_domain::time::day_number(jiff::civil::date(2026, 11, 3));
    let patterns = a
        .store
        .courier_patterns(day - 1, day + 1, &a.state.deployment().tz())
        .await
        .unwrap();
    let k1_habits = patterns.iter().find(|p| p.courier_id == "K-1").unwrap();
    assert_eq!(
        (k1_habits.recordings_agreed, k1_habits.recordings_kept),
        (2, 1),
        "{k1_habits:?}"
    );

    // The order page: played by those who may hear voices, each play logged.
    let quality = a.signed_in("quality").await;
    let page = a.page(&quality, "/orders/S-1").await;
    let href = format!("/orders/S-1/recordings/{one}");
    assert!(
        page.contains("Recorded conversation") && page.contains("1:00") && page.contains(&href),
        "{page}"
    );
    let got = quality.get(a.at(&href)).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "audio/webm");
    assert_eq!(got.bytes().await.unwrap().as_ref(), long.as_slice());
    let page = a.page(&quality, "/orders/S-1").await;
    assert!(
        page.contains("Played once") && page.contains("quality · "),
        "{page}"
    );
    let declined = a.page(&quality, "/orders/S-3").await;
    assert!(
        declined.contains("the customer did not agree to a recording"),
        "{declined}"
    );
    let operator = a.signed_in("operator").await;
    let page = a.page(&operator, "/orders/S-1").await;
    assert!(
        page.contains("Recorded conversation") && !page.contains(&href),
        "an operator sees that there is one, and cannot play it: {page}"
    );
    let refused = operator.get(a.at(&href)).send().await.unwrap();
    assert_eq!(refused.status(), 403);

    // The customer's erasure deletes the recording and its file.
    let erased =
        doorstep::app::survey::attachments::erase_customer(&a.store, &a.data_dir.0, "+79161230001")
            .await
            .unwrap()
            .expect("a customer with orders");
    assert!(erased.attachments.contains(&long_id), "{erased:?}");
    assert!(!doorstep::app::survey::attachments::path(&a.data_dir.0, &long_id).exists());
    let gone = quality.get(a.at(&href)).send().await.unwrap();
    assert_eq!(gone.status(), 404);
}
