//! Late orders told first: the `orders.late` job finds orders past their
//! promised window and not delivered, and once per order raises an
//! incident of category `late`, opens a case and writes a proactive
//! notice — never in the quiet hours of the customer's city, never twice
//! (also with two servers at once) — and the dashboard counts the late
//! orders told before the customer's first contact.

use serde_json::{json, Value};

use crate::helpers::{order_json, TestApp};
use crate::on_both_backends;
use crate::smtp::SmtpServer;
use crate::surveys::{post, response, with_orders_and_survey};

on_both_backends!(
    a_late_order_gets_one_incident_case_and_notice,
    two_servers_tell_a_late_customer_once
);

const MINUTE: i64 = 60_000;

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

/// An order promised in `[to − 1 h, to]`, not delivered.
fn undelivered(number: &str, phone: &str, promised_to: i64) -> Value {
    let mut o = order_json(number, phone, "K-1");
    o["promised_from"] = json!(rfc3339(promised_to - 60 * MINUTE));
    o["promised_to"] = json!(rfc3339(promised_to));
    o["delivered_at"] = Value::Null;
    o
}

/// The period the figures are read over, and the moment they are read at.
fn period(now: i64) -> (i64, i64, i64) {
    (
        now - 3 * 60 * MINUTE,
        now + 3 * 60 * MINUTE,
        now + 62 * MINUTE,
    )
}

/// The late orders' facts over [`period`], in a stable order.
async fn window(a: &TestApp, now: i64) -> Vec<doorstep_domain::helpdesk::late::LateFacts> {
    let (from, to, at) = period(now);
    let mut facts = a.store.late_order_facts(from, to, at).await.unwrap();
    facts.sort_by_key(|f| (f.told_at, f.first_contact_at, f.nps));
    facts
}

async fn late_cases(a: &TestApp, order: &str) -> Vec<doorstep_store::helpdesk::cases::Case> {
    let mut filter = doorstep_store::helpdesk::cases::CaseFilter::new(
        doorstep_store::helpdesk::cases::CaseView::All,
    );
    filter.search = Some(order.to_owned());
    a.store
        .cases(&filter)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.order_number.as_deref() == Some(order))
        .collect()
}

async fn a_late_order_gets_one_incident_case_and_notice(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let smtp = SmtpServer::serving(&a.store).await;
    let now = doorstep_store::now_millis();
    let mut delivered = undelivered("A-2", "+79160000002", now - 30 * MINUTE);
    delivered["delivered_at"] = json!(rfc3339(now - 20 * MINUTE));
    let mut with_email = undelivered("A-1", "+79160000001", now - 10 * MINUTE);
    with_email["customer_email"] = json!("anna@example.com");
    let integration = with_orders_and_survey(
        &a,
        vec![
            with_email,
            delivered,
            // Not late yet: its window ends in an hour.
            undelivered("A-3", "+79160000003", now + 60 * MINUTE),
            // Late for two days: missed long ago, not told now.
            undelivered("A-4", "+79160000004", now - 48 * 60 * MINUTE),
            // The customer called before Doorstep noticed.
            undelivered("A-5", "+79160000005", now - 5 * MINUTE),
        ],
    )
    .await;
    a.store.set_setting("quiet_hours", "").await.unwrap();
    let (status, called) = post(
        &a,
        &integration,
        "/api/v1/cases",
        &json!({"channel": "phone", "order_number": "A-5", "text": "Где мой заказ?"}),
    )
    .await;
    assert_eq!(status, 201, "{called}");

    doorstep::app::helpdesk::late::run_due(&a.state, now)
        .await
        .unwrap();
    // Once more, and as if later: nothing new for the orders handled.
    doorstep::app::helpdesk::late::run_due(&a.state, now + MINUTE)
        .await
        .unwrap();

    // an incident of category late, handed to a case told first.
    let cases = late_cases(&a, "A-1").await;
    assert_eq!(cases.len(), 1, "one case: {cases:?}");
    let case = &cases[0];
    assert_eq!(
        (
            case.category.as_str(),
            case.channel.as_str(),
            case.line.as_str()
        ),
        ("late", "proactive", "customers")
    );
    // Nobody asked yet: no first reply is owed (the case is resolved in
    // its working day like any other).
    assert_eq!(case.first_response_due_at, None, "{case:?}");
    assert!(case.resolution_due_at.is_some());
    let incidents = a.store.customer_incidents("+79160000001").await.unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(
        (
            incidents[0].rule_id.as_str(),
            incidents[0].outcome.as_deref(),
            incidents[0].case_id.as_deref()
        ),
        ("late", Some("case_opened"), Some(case.id.as_str()))
    );
    let notices = a.store.case_notices(&case.id).await.unwrap();
    assert_eq!(notices.len(), 1, "{notices:?}");
    let notice = &notices[0];
    assert_eq!(
        (
            notice.kind.as_str(),
            notice.channel.as_str(),
            notice.address.as_str()
        ),
        ("late", "email", "anna@example.com")
    );
    // The apology in the customer's language with the playbook's offer
    // (the late category's first remedy: a 300.00 bonus) and the page.
    assert!(notice.body.contains("A-1"), "{}", notice.body);
    assert!(notice.body.contains("300.00 RUB"), "{}", notice.body);
    assert!(notice.body.contains("/c/"), "{}", notice.body);
    // The customer sees the apology in the chat of their status page.
    let url = &notice.body[notice.body.find("/c/").unwrap()..];
    let page = a.page(&a.anonymous(), url.trim()).await;
    assert!(page.contains("300.00 RUB"), "{page}");

    // Not late, delivered, or missed long ago: nothing.
    for order in ["A-2", "A-3", "A-4"] {
        assert!(late_cases(&a, order).await.is_empty(), "{order}");
    }
    // the customer's own case took the lateness (no second case).
    let five = late_cases(&a, "A-5").await;
    assert_eq!(five.len(), 1);
    assert_eq!(five[0].id, called["id"].as_str().unwrap());

    // A-3 is late once its window is over: the clock decides.
    doorstep::app::helpdesk::late::run_due(&a.state, now + 61 * MINUTE)
        .await
        .unwrap();
    assert_eq!(late_cases(&a, "A-3").await.len(), 1);

    // Quiet hours in the customer's city: the notice waits.
    a.store
        .set_setting("quiet_hours", "00:00-23:59")
        .await
        .unwrap();
    let r = a
        .post_orders(
            &integration,
            &json!({"orders": [undelivered("A-6", "+79160000006", now - MINUTE)]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    doorstep::app::helpdesk::late::run_due(&a.state, now)
        .await
        .unwrap();
    let six = late_cases(&a, "A-6").await;
    let waiting = a.store.case_notices(&six[0].id).await.unwrap();
    assert!(
        waiting[0].send_after > now + 60_000,
        "sent after the quiet hours"
    );

    // Sent: A-1 was told first (by e-mail); A-5 called first; A-3's
    // notice is due at the controlled clock's time, A-6's after the quiet
    // hours; A-2 was delivered late before the job saw it.
    doorstep::app::helpdesk::notices::run_due(&a.state)
        .await
        .unwrap();
    let mail = smtp.messages_once_any().await;
    assert_eq!(mail.len(), 1, "one e-mail, to A-1's customer");
    let facts = window(&a, now).await;
    // A-1, A-2 (delivered late), A-3, A-5, A-6 are late (A-4's window
    // closed before the period).
    assert_eq!(facts.len(), 5, "{facts:?}");
    assert_eq!(
        facts.iter().filter(|f| f.told_first()).count(),
        1,
        "{facts:?}"
    );
    // A-1's customer answers the survey: their NPS is counted.
    let terminal = a.token("terminal", Some("K-1")).await;
    let mut answer = response(
        "0190f0c0-0000-7000-8000-00000000a001",
        "A-1",
        "completed",
        &json!([{"question_id": "nps", "value": 9}]),
    );
    answer["started_at"] = json!(rfc3339(now));
    answer["finished_at"] = json!(rfc3339(now + MINUTE));
    let (status, body) = post(&a, &terminal, "/api/v1/responses", &json!([answer])).await;
    assert_eq!(status, 201, "{body}");
    let facts = window(&a, now).await;
    assert!(
        facts.iter().any(|f| f.told_first() && f.nps == Some(9)),
        "{facts:?}"
    );
    // The facts kept by each write are those found from scratch.
    let kept = window(&a, now).await;
    // The database's count gives the figures the rows give.
    let (from, to, at) = period(now);
    let tally = a.store.late_order_tally(from, to, at).await.unwrap();
    use doorstep_domain::helpdesk::late::ToldFirst;
    assert_eq!(ToldFirst::of_tally(&tally), ToldFirst::of(&kept));
    assert_eq!(ToldFirst::of(&kept).told_first.count, 1);
    assert!(a.store.rebuild_late_facts().await.unwrap() >= 5);
    assert_eq!(window(&a, now).await, kept);
    // A-2's status corrected: delivered within its window after all, it
    // is no longer late; A-5's corrected to late again, it is back.
    let mut in_time = undelivered("A-2", "+79160000002", now - 30 * MINUTE);
    in_time["delivered_at"] = json!(rfc3339(now - 40 * MINUTE));
    let mut five = undelivered("A-5", "+79160000005", now - 5 * MINUTE);
    five["delivered_at"] = json!(rfc3339(now - 2 * MINUTE));
    let r = a
        .post_orders(&integration, &json!({"orders": [in_time]}))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(window(&a, now).await.len(), 4);
    let r = a
        .post_orders(&integration, &json!({"orders": [five]}))
        .await;
    assert_eq!(r.status(), 200);
    let after = window(&a, now).await;
    assert_eq!(
        after.len(),
        4,
        "A-5 delivered late is still late: {after:?}"
    );
    assert!(
        after
            .iter()
            .any(|f| f.first_contact_at.is_some() && !f.told_first()),
        "A-5 called first, as before: {after:?}"
    );
    a.store.rebuild_late_facts().await.unwrap();
    assert_eq!(window(&a, now).await, after);
    // On the dashboard: the late orders and how many were told first.
    let quality = a.signed_in("quality").await;
    let page = a.page(&quality, "/dashboard").await;
    assert!(page.contains("id=\"told-first\""), "{page}");
    assert!(
        page.contains("Late orders: told first?") || page.contains("предупредили первыми"),
        "{page}"
    );
}

async fn two_servers_tell_a_late_customer_once(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let b = a.beside().await;
    let now = doorstep_store::now_millis();
    let orders: Vec<Value> = (0..20)
        .map(|i| {
            undelivered(
                &format!("L-{i}"),
                &format!("+7916100{i:04}"),
                now - MINUTE - i,
            )
        })
        .collect();
    with_orders_and_survey(&a, orders).await;
    a.store.set_setting("quiet_hours", "").await.unwrap();
    let (one, two) = tokio::join!(
        doorstep::app::helpdesk::late::run_due(&a.state, now),
        doorstep::app::helpdesk::late::run_due(&b.state, now),
    );
    one.unwrap();
    two.unwrap();
    for i in 0..20 {
        let order = format!("L-{i}");
        let cases = late_cases(&a, &order).await;
        assert_eq!(cases.len(), 1, "{order}: {cases:?}");
        assert_eq!(
            a.store.case_notices(&cases[0].id).await.unwrap().len(),
            1,
            "{order}"
        );
        assert_eq!(
            a.store
                .customer_incidents(&format!("+7916100{i:04}"))
                .await
                .unwrap()
                .len(),
            1,
            "{order}"
        );
    }
    assert!(a.store.late_orders_due(now, 100).await.unwrap().is_empty());
}
