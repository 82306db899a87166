//! The call-back queue: low ratings that no alert rule caught reach the
//! dispatcher's queue at the quality manager's threshold; what a reached
//! customer names as the cause is filed with their answer, and the causes
//! page counts it.

use serde_json::json;

use crate::helpers::{order_json, TestApp};
use crate::on_both_backends;
use crate::surveys::{post, response, with_orders_and_survey};

on_both_backends!(low_ratings_no_rule_caught_are_called_back_and_teach_the_causes);

async fn low_ratings_no_rule_caught_are_called_back_and_teach_the_causes(backend: &str) {
    let a = TestApp::spawn(backend).await;
    with_orders_and_survey(
        &a,
        (1..=5)
            .map(|i| order_json(&format!("C-{i}"), &format!("+7916555000{i}"), "K-1"))
            .collect(),
    )
    .await;
    let terminal = a.token("terminal", Some("K-1")).await;
    let answer = |i: u32, nps: u32, csi: u32| {
        response(
            &format!("0190f0c0-0000-7000-8000-00000000c00{i}"),
            &format!("C-{i}"),
            "completed",
            &json!([{"question_id": "nps", "value": nps}, {"question_id": "csi", "value": csi}]),
        )
    };
    // A passive with a CSI of 3 of 9 (low), a passive content with 8 of
    // 9, a detractor (the detractor rule takes them).
    let (status, body) = post(
        &a,
        &terminal,
        "/api/v1/responses",
        &json!([answer(1, 8, 3), answer(2, 8, 8), answer(3, 2, 2)]),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let queue = |a: &TestApp| {
        let store = a.store.clone();
        async move {
            store
                .incidents(&doorstep_store::helpdesk::incidents::IncidentFilter {
                    status: None,
                    city: None,
                    limit: 100,
                })
                .await
                .unwrap()
        }
    };
    let open = queue(&a).await;
    let mut seen: Vec<(String, String, String)> = open
        .iter()
        .map(|i| (i.order_number.clone(), i.rule_id.clone(), i.reason.clone()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("C-1".into(), "low_rating".into(), "rating 3 of 9".into()),
            ("C-3".into(), "detractor".into(), "NPS 2".into()),
        ],
        "the low rating no rule caught, and the detractor once"
    );

    // The quality manager turns the queue off: a low rating stays put.
    let quality = a.signed_in("quality").await;
    let csrf = a.csrf(&quality).await;
    let r = quality
        .post(a.at("/dispatch/rules/callback"))
        .form(&[("csrf", csrf.as_str()), ("threshold", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = a.page(&quality, "/dispatch/rules").await;
    assert!(page.contains("<option value=\"0\" selected>"), "{page}");
    post(
        &a,
        &terminal,
        "/api/v1/responses",
        &json!([answer(4, 8, 1)]),
    )
    .await;
    assert!(!queue(&a).await.iter().any(|i| i.order_number == "C-4"));
    // A dispatcher may not change it.
    let dispatcher = a.signed_in("dispatcher").await;
    let csrf_d = a.csrf(&dispatcher).await;
    let r = dispatcher
        .post(a.at("/dispatch/rules/callback"))
        .form(&[("csrf", csrf_d.as_str()), ("threshold", "4")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Reached: the customer says the courier was late. Filed as a cause
    // of their answer, told on a call-back.
    let id = open
        .iter()
        .find(|i| i.order_number == "C-1")
        .unwrap()
        .id
        .clone();
    let page = a.page(&dispatcher, &format!("/dispatch/{id}")).await;
    assert!(page.contains("name=\"cause\""), "{page}");
    let r = dispatcher
        .post(a.at(&format!("/dispatch/{id}/attempts")))
        .form(&[
            ("csrf", csrf_d.as_str()),
            ("result", "reached"),
            ("note", "ждал два часа"),
            ("call_again_at", ""),
            ("cause", "late"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cause = a
        .page(&quality, "/causes/late?from=2026-11-01&to=2026-11-30")
        .await;
    assert!(
        cause.contains("C-1"),
        "the causes page learnt from the call: {cause}"
    );
    // The Pareto of causes counts it.
    let causes = a
        .page(&quality, "/causes?from=2026-11-01&to=2026-11-30")
        .await;
    assert!(causes.contains("href=\"/causes/late"), "{causes}");
}
