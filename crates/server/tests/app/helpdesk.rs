//! The dispatcher's loop through the real server: an unhappy answer
//! raises an incident whose event reaches a listener of another server;
//! the API lists it; two dispatchers claim it at once and one wins; the
//! owner calls back and closes it; other roles are refused.

use std::time::Duration;

use serde_json::json;

use crate::events::SseReader;
use crate::helpers::{order_json, TestApp, PASSWORD};
use crate::on_both_backends;
use crate::surveys::{post, response, with_orders_and_survey};

/// Posts a console form as `client` (signed in): the answer, unfollowed.
async fn submit(
    client: &reqwest::Client,
    url: String,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    client.post(url).form(fields).send().await.unwrap()
}

on_both_backends!(
    an_unhappy_answer_goes_from_the_door_to_a_dispatcher_who_closes_it,
    cases_remedies_and_the_ledger_through_the_api,
    a_rule_made_in_the_console_raises_incidents_for_vip_customers,
    the_whole_loop_from_the_door_to_a_settled_case
);

async fn an_unhappy_answer_goes_from_the_door_to_a_dispatcher_who_closes_it(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let b = a.beside().await;
    let integration = with_orders_and_survey(
        &a,
        vec![
            order_json("A-1", "+79161234567", "K-1"),
            order_json("A-2", "+79161234568", "K-1"),
        ],
    )
    .await;
    let terminal = a.token("terminal", Some("K-1")).await;
    let mut listener = SseReader::open(&b, &integration, None).await;

    let unhappy = response(
        "6d1c2a90-2222-4c1f-9a43-000000000001",
        "A-1",
        "completed",
        &json!([{"question_id": "nps", "value": 3}, {"question_id": "why", "value": ["late"]}]),
    );
    let happy = response(
        "6d1c2a90-2222-4c1f-9a43-000000000002",
        "A-2",
        "completed",
        &json!([{"question_id": "nps", "value": 9}]),
    );
    assert_eq!(
        post(&a, &terminal, "/api/v1/responses", &json!([unhappy, happy]))
            .await
            .0,
        201
    );
    let raised = listener
        .next_named("incident.created", Duration::from_secs(3))
        .await
        .expect("the incident reaches a listener of the other server");
    assert_eq!(raised.data["order_number"], "A-1");
    assert_eq!(raised.data["reason"], "NPS 3");
    assert_eq!(raised.data["priority"], "high");
    let id = raised.data["id"].as_str().unwrap().to_owned();
    // Sent again (a terminal's resend): no second incident.
    assert_eq!(
        post(&a, &terminal, "/api/v1/responses", &json!([unhappy]))
            .await
            .0,
        200
    );

    let (status, list) = a
        .get_json("/api/v1/incidents?status=open", &integration)
        .await;
    assert_eq!(status, 200, "{list}");
    let incidents = list["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "only the detractor: {list}");
    let i = &incidents[0];
    assert_eq!(i["id"], id.as_str());
    assert_eq!(i["order_number"], "A-1");
    assert_eq!(i["response_id"], "6d1c2a90-2222-4c1f-9a43-000000000001");
    assert_eq!(i["status"], "open");
    assert!(i["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(a.get_json("/api/v1/incidents", &terminal).await.0, 403);
    let (status, problem) = a
        .get_json("/api/v1/incidents?status=gone", &integration)
        .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "status");

    // The queue: dispatchers work it, quality looks on, operators do not see it.
    let operator = a.signed_in("operator").await;
    assert_eq!(
        operator
            .get(a.at("/dispatch"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let quality = a.signed_in("quality").await;
    let looked = a.page(&quality, "/dispatch").await;
    assert!(
        looked.contains("NPS 3") && !looked.contains("/claim"),
        "quality looks, cannot claim"
    );
    let quality_csrf = a.csrf(&quality).await;
    let r = submit(
        &quality,
        a.at(&format!("/dispatch/{id}/claim")),
        &[("csrf", quality_csrf.as_str())],
    )
    .await;
    assert_eq!(r.status(), 403, "quality may not claim");

    let mut dispatchers = Vec::new();
    for (server, login) in [(&a, "anna"), (&b, "boris")] {
        a.add_user(login, "dispatcher").await;
        let client = server.anonymous();
        assert_eq!(server.log_in(&client, login, PASSWORD).await.status(), 303);
        let csrf = server.csrf(&client).await;
        dispatchers.push((server, login, client, csrf));
    }
    let queue = a.page(&dispatchers[0].2, "/dispatch").await;
    assert!(queue.contains("NPS 3") && queue.contains("A-1") && queue.contains("/claim"));
    assert!(!queue.contains("A-2"), "a promoter raised nothing");
    let claims = dispatchers.iter().map(|(server, _, client, csrf)| {
        client
            .post(server.at(&format!("/dispatch/{id}/claim")))
            .form(&[("csrf", csrf.as_str()), ("from", "queue")])
            .send()
    });
    let answers = futures_util::future::join_all(claims).await;
    let places: Vec<String> = answers
        .into_iter()
        .map(|r| {
            let r = r.unwrap();
            assert_eq!(r.status(), 303);
            r.headers()["location"].to_str().unwrap().to_owned()
        })
        .collect();
    let won: Vec<usize> = (0..2)
        .filter(|k| places[*k] == format!("/dispatch/{id}"))
        .collect();
    assert_eq!(won.len(), 1, "exactly one claim wins: {places:?}");
    let (winner, loser) = (won[0], 1 - won[0]);
    let owner = dispatchers[winner].1;
    assert_eq!(
        places[loser],
        format!("/dispatch?taken={owner}"),
        "the other is told who"
    );
    let told = a.page(&dispatchers[loser].2, &places[loser]).await;
    assert!(told.contains(&format!("{owner} has already claimed")));
    let claimed = listener
        .next_named("incident.claimed", Duration::from_secs(3))
        .await
        .expect("the claim is an event");
    assert_eq!(claimed.data["owner"], owner);

    // The loser cannot work it; the owner logs a failed call, then closes.
    let (server, _, client, csrf) = &dispatchers[loser];
    let r = submit(
        client,
        server.at(&format!("/dispatch/{id}/close")),
        &[("csrf", csrf.as_str()), ("outcome", "recovered")],
    )
    .await;
    assert_eq!(
        r.headers()["location"],
        format!("/dispatch/{id}?taken={owner}")
    );
    let (server, _, client, csrf) = &dispatchers[winner];
    let r = submit(
        client,
        server.at(&format!("/dispatch/{id}/attempts")),
        &[
            ("csrf", csrf.as_str()),
            ("result", "not_reached"),
            ("note", "busy"),
            ("call_again_at", ""),
        ],
    )
    .await;
    assert_eq!(
        r.headers()["location"],
        format!("/dispatch/{id}?done=attempt")
    );
    let page = server.page(client, &format!("/dispatch/{id}")).await;
    assert!(
        page.contains("Not reached") && page.contains("busy"),
        "the attempt is on the page"
    );
    assert!(
        page.contains("Would you recommend us?") || page.contains("Порекомендуете"),
        "the answers are one glance away"
    );
    let r = submit(
        client,
        server.at(&format!("/dispatch/{id}/close")),
        &[("csrf", csrf.as_str()), ("outcome", "recovered")],
    )
    .await;
    assert_eq!(
        r.headers()["location"],
        format!("/dispatch/{id}?done=closed")
    );
    let closed = listener
        .next_named("incident.closed", Duration::from_secs(3))
        .await
        .expect("the close is an event");
    assert_eq!(closed.data["outcome"], "recovered");
    let (_, list) = a
        .get_json("/api/v1/incidents?status=closed", &integration)
        .await;
    let i = &list["incidents"][0];
    assert_eq!(
        (
            i["status"].as_str(),
            i["owner"].as_str(),
            i["attempts"].as_i64()
        ),
        (Some("closed"), Some(owner), Some(1))
    );
    let (_, open) = a.get_json("/api/v1/incidents", &integration).await;
    assert_eq!(
        open["incidents"].as_array().unwrap().len(),
        0,
        "the live queue is empty"
    );
}

/// The company's systems open a case, add to it, credit 300 (the same
/// credit sent at once to two servers credits once), reverse it, debit
/// the customer's spending; bad input is answered field by field, and a
/// terminal's token reaches none of it.
async fn cases_remedies_and_the_ledger_through_the_api(backend: &str) {
    let a = TestApp::spawn(backend).await;
    // People's side of the chat; the assistant has its own test (bot.rs).
    a.store.set_setting("chat_assistant", "off").await.unwrap();
    let b = a.beside().await;
    let integration =
        with_orders_and_survey(&a, vec![order_json("A-1", "+79161234567", "K-1")]).await;
    let terminal = a.token("terminal", Some("K-1")).await;
    let case = json!({"channel": "chat", "category": "late", "order_number": "A-1",
        "text": "Where is my order? It is two hours late.", "external_id": "chat-1"});
    let (status, opened) = post(&a, &integration, "/api/v1/cases", &case).await;
    assert_eq!(status, 201, "{opened}");
    assert_eq!(
        (opened["status"].as_str(), opened["result"].as_str()),
        (Some("new"), Some("created"))
    );
    let id = opened["id"].as_str().unwrap().to_owned();
    // The same message again (the CRM resent it): the same case.
    let (status, again) = post(&b, &integration, "/api/v1/cases", &case).await;
    assert_eq!(
        (status, again["id"].as_str(), again["result"].as_str()),
        (200, Some(id.as_str()), Some("resent"))
    );
    // A phone call about the same order joins the open case.
    let (status, joined) = post(&a, &integration, "/api/v1/cases",
        &json!({"channel": "phone", "customer_phone": "8 916 123-45-67", "order_number": "A-1", "text": "Calling about my order"})).await;
    assert_eq!(
        (status, joined["id"].as_str(), joined["result"].as_str()),
        (200, Some(id.as_str()), Some("joined"))
    );
    let (status, detail) = a
        .get_json(&format!("/api/v1/cases/{id}"), &integration)
        .await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(
        detail["customer_phone"], "+79161234567",
        "the order's customer"
    );
    assert_eq!(detail["contacts"], 2);
    assert_eq!(detail["entries"].as_array().unwrap().len(), 2);
    // The SLA: a chat case owes its first reply within 5 minutes and its
    // resolution within 8 hours (a line working all day, every day).
    let ms = |v: &serde_json::Value| {
        v.as_str()
            .unwrap_or_else(|| panic!("a time, not {v}"))
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond()
    };
    let created = ms(&detail["created_at"]);
    assert_eq!(
        ms(&detail["first_response_due_at"]) - created,
        5 * 60_000,
        "{detail}"
    );
    assert_eq!(ms(&detail["resolution_due_at"]) - created, 8 * 3_600_000);
    assert_eq!(detail["next_response_due_at"], serde_json::Value::Null);
    assert_eq!(detail["sla_state"], "within");
    // A reply, then the customer writes again: the next reply is owed
    // within 5 minutes of that contact.
    let contacts = format!("/api/v1/cases/{id}/contacts");
    let (status, _) = post(&a, &integration, &contacts,
        &json!({"channel": "chat", "direction": "outbound", "text": "The courier is 10 minutes away."})).await;
    assert_eq!(status, 201);
    let (status, _) = post(
        &a,
        &integration,
        &contacts,
        &json!({"channel": "chat", "text": "Still nobody here."}),
    )
    .await;
    assert_eq!(status, 201);
    let (_, detail) = a
        .get_json(&format!("/api/v1/cases/{id}"), &integration)
        .await;
    let last = detail["entries"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["direction"], "inbound", "{detail}");
    assert_eq!(
        ms(&detail["next_response_due_at"]) - ms(&last["created_at"]),
        5 * 60_000,
        "{detail}"
    );
    assert_eq!(detail["sla_state"], "within");
    // Waiting on the customer: the clocks stop.
    let moved = a
        .store
        .set_case_status(
            &id,
            doorstep_domain::helpdesk::cases::CaseStatus::WaitingCustomer,
            doorstep_store::helpdesk::Actor {
                id: "u-1",
                login: "operator",
                overrides: true,
            },
        )
        .await
        .unwrap();
    assert!(moved.is_ok(), "the case waits on the customer");
    let (_, detail) = a
        .get_json(&format!("/api/v1/cases/{id}"), &integration)
        .await;
    assert_eq!(detail["sla_state"], "paused", "{detail}");
    assert_eq!(detail["resolution_due_at"], serde_json::Value::Null);
    let number = detail["number"].as_i64().unwrap();
    assert_eq!(
        a.get_json(&format!("/api/v1/cases/{number}"), &integration)
            .await
            .1["id"],
        id.as_str(),
        "by number too"
    );

    for (body, field) in [
        (
            json!({"channel": "fax", "order_number": "A-1", "text": "x"}),
            "channel",
        ),
        (
            json!({"channel": "chat", "category": "weather", "order_number": "A-1", "text": "x"}),
            "category",
        ),
        (json!({"channel": "chat", "text": "x"}), "customer_phone"),
        (
            json!({"channel": "chat", "customer_phone": "12", "text": "x"}),
            "customer_phone",
        ),
        (
            json!({"channel": "chat", "order_number": "A-1", "text": "  "}),
            "text",
        ),
    ] {
        let (status, problem) = post(&a, &integration, "/api/v1/cases", &body).await;
        assert_eq!(status, 422, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }

    // A credit of 300.00, sent to both servers at once, credits once.
    let credit =
        json!({"type": "bonus_credit", "amount": 30000, "idempotency_key": "case-1-credit"});
    let path = format!("/api/v1/cases/{id}/remedies");
    let (first, second) = tokio::join!(
        post(&a, &integration, &path, &credit),
        post(&b, &integration, &path, &credit)
    );
    let mut statuses = [first.0, second.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201], "{first:?} {second:?}");
    assert_eq!(first.1["id"], second.1["id"]);
    assert_eq!(first.1["status"], "applied");
    let ledger_path = "/api/v1/customers/%2B79161234567/ledger";
    let (status, ledger) = a.get_json(ledger_path, &integration).await;
    assert_eq!(status, 200, "{ledger}");
    assert_eq!(
        (ledger["balance"].as_i64(), ledger["currency"].as_str()),
        (Some(30000), Some("RUB"))
    );
    assert_eq!(ledger["entries"].as_array().unwrap().len(), 1);
    let (status, _) = post(
        &a,
        &integration,
        &path,
        &json!({"type": "bonus_credit", "amount": 50000, "idempotency_key": "case-1-credit"}),
    )
    .await;
    assert_eq!(status, 409, "a key reused for another amount");
    // The playbook's default: a late order's compensation is 10% of it.
    let (status, comp) = post(
        &a,
        &integration,
        &path,
        &json!({"type": "compensation", "idempotency_key": "case-1-comp"}),
    )
    .await;
    assert_eq!(status, 201, "{comp}");
    assert_eq!(comp["amount"], 12345, "10% of the order's 1,234.50");
    let (status, redeliver) = post(
        &a,
        &integration,
        &path,
        &json!({"type": "redeliver_free", "idempotency_key": "case-1-redeliver"}),
    )
    .await;
    assert_eq!(
        (status, redeliver["status"].as_str()),
        (201, Some("requested"))
    );
    let (status, problem) = post(
        &a,
        &integration,
        &path,
        &json!({"type": "redeliver_free", "amount": 5, "idempotency_key": "k"}),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("amount"))
    );
    let outcome = format!(
        "/api/v1/remedies/{}/outcome",
        redeliver["id"].as_str().unwrap()
    );
    assert_eq!(
        post(&a, &integration, &outcome, &json!({"status": "done"}))
            .await
            .0,
        200
    );
    assert_eq!(
        post(&a, &integration, &outcome, &json!({"status": "done"}))
            .await
            .0,
        200
    );
    assert_eq!(
        post(&a, &integration, &outcome, &json!({"status": "failed"}))
            .await
            .0,
        409
    );

    // The customer spends 100 of 423.45; 400 more is refused.
    let (status, spent) = post(
        &a,
        &integration,
        ledger_path,
        &json!({"amount": 10000, "idempotency_key": "checkout-9"}),
    )
    .await;
    assert_eq!(
        (status, spent["balance"].as_i64()),
        (201, Some(32345)),
        "{spent}"
    );
    assert_eq!(
        post(
            &a,
            &integration,
            ledger_path,
            &json!({"amount": 10000, "idempotency_key": "checkout-9"})
        )
        .await
        .0,
        200,
        "a retried debit"
    );
    assert_eq!(
        post(
            &a,
            &integration,
            ledger_path,
            &json!({"amount": 40000, "idempotency_key": "checkout-10"})
        )
        .await
        .0,
        409
    );
    // The 300 was a mistake: reversed once.
    let (_, ledger) = a.get_json(ledger_path, &integration).await;
    let credit_entry = ledger["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["amount"] == 30000)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reverse = format!("{ledger_path}/{credit_entry}/reverse");
    let (status, reversed) = post(
        &a,
        &integration,
        &reverse,
        &json!({"reason": "wrong customer"}),
    )
    .await;
    assert_eq!(
        (status, reversed["balance"].as_i64()),
        (201, Some(2345)),
        "{reversed}"
    );
    assert_eq!(
        post(
            &b,
            &integration,
            &reverse,
            &json!({"reason": "wrong customer"})
        )
        .await
        .0,
        200
    );
    let (_, ledger) = a.get_json(ledger_path, &integration).await;
    assert_eq!(ledger["balance"], 2345);

    // Roles: a terminal's token and no token reach none of it.
    for path in ["/api/v1/cases", ledger_path, &format!("/api/v1/cases/{id}")] {
        assert_eq!(a.get_json(path, &terminal).await.0, 403, "{path}");
        assert_eq!(a.get_json(path, "nonsense").await.0, 401, "{path}");
    }
    assert_eq!(post(&a, &terminal, &path, &credit).await.0, 403);
    let (_, ledger) = a.get_json(ledger_path, &integration).await;
    assert_eq!(ledger["balance"], 2345, "nothing more was credited");
}

/// A quality manager adds a rule in the console (a refused form says
/// what to fix); an order marks its customer a VIP; a survey that timed
/// out at that door raises an urgent incident, one at an ordinary
/// customer's does not.
async fn a_rule_made_in_the_console_raises_incidents_for_vip_customers(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let integration =
        with_orders_and_survey(&a, vec![order_json("A-1", "+79161234567", "K-1")]).await;
    let mut vip = order_json("A-2", "+79161234568", "K-1");
    vip["customer_vip"] = json!(true);
    assert_eq!(
        a.post_orders(&integration, &json!([vip])).await.status(),
        200
    );
    let quality = a.signed_in("quality").await;
    let csrf = a.csrf(&quality).await;
    let refused = submit(
        &quality,
        a.at("/dispatch/rules"),
        &[
            ("csrf", csrf.as_str()),
            ("name", "Too loose"),
            ("type", "nps_at_most"),
            ("value", "10"),
            ("priority", "high"),
            ("enabled", "on"),
        ],
    )
    .await;
    assert_eq!(refused.status(), 200);
    let said = refused.text().await.unwrap();
    assert!(said.contains("use 0–9"), "says what to fix");
    let saved = submit(
        &quality,
        a.at("/dispatch/rules"),
        &[
            ("csrf", csrf.as_str()),
            ("name", "VIP left waiting"),
            ("type", "timed_out_at_vip"),
            ("priority", "urgent"),
            ("enabled", "on"),
        ],
    )
    .await;
    assert_eq!(saved.status(), 303);
    let page = a.page(&quality, "/dispatch/rules").await;
    assert!(
        page.contains("VIP left waiting") && page.contains("NPS 6 or less"),
        "both rules listed"
    );
    let terminal = a.token("terminal", Some("K-1")).await;
    let timed_out = |id: &str, order: &str| response(id, order, "timed_out", &json!([]));
    let batch = json!([
        timed_out("6d1c2a90-3333-4c1f-9a43-000000000001", "A-1"),
        timed_out("6d1c2a90-3333-4c1f-9a43-000000000002", "A-2"),
    ]);
    assert_eq!(
        post(&a, &terminal, "/api/v1/responses", &batch).await.0,
        201
    );
    let (_, list) = a
        .get_json("/api/v1/incidents?status=open", &integration)
        .await;
    let incidents = list["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "only the VIP's door: {list}");
    assert_eq!(incidents[0]["order_number"], "A-2");
    assert_eq!(incidents[0]["priority"], "urgent");
    // An operator may not edit the rules.
    let operator = a.signed_in("operator").await;
    assert_eq!(
        operator
            .get(a.at("/dispatch/rules"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}

/// The loop end to end: an answer with NPS 3 at the door raises an
/// incident that reaches an SSE client of the other server; a dispatcher
/// claims it and hands it to support as a case; 300 is credited (the same
/// credit retried, and sent at once to both servers, adds nothing); the
/// credit is reversed; an operator's compensation over the limit waits for
/// a dispatcher (an operator cannot approve it); the terminal's token
/// reaches none of it.
async fn the_whole_loop_from_the_door_to_a_settled_case(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let b = a.beside().await;
    let integration =
        with_orders_and_survey(&a, vec![order_json("A-1", "+79161234567", "K-1")]).await;
    let terminal = a.token("terminal", Some("K-1")).await;
    let mut listener = SseReader::open(&b, &integration, None).await;
    let answer = response(
        "6d1c2a90-4444-4c1f-9a43-000000000001",
        "A-1",
        "completed",
        &json!([{"question_id": "nps", "value": 3}, {"question_id": "why", "value": ["late"]}]),
    );
    assert_eq!(
        post(&a, &terminal, "/api/v1/responses", &json!([answer]))
            .await
            .0,
        201
    );
    let raised = listener
        .next_named("incident.created", Duration::from_secs(3))
        .await
        .expect("the incident reaches the other server's listener");
    let incident = raised.data["id"].as_str().unwrap().to_owned();

    let dispatcher = a.signed_in("dispatcher").await;
    let csrf = a.csrf(&dispatcher).await;
    let claimed = submit(
        &dispatcher,
        a.at(&format!("/dispatch/{incident}/claim")),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(
        claimed.headers()["location"],
        format!("/dispatch/{incident}")
    );
    let to_case = submit(
        &dispatcher,
        a.at(&format!("/dispatch/{incident}/case")),
        &[
            ("csrf", csrf.as_str()),
            ("category", "late"),
            ("line", "customers"),
            ("text", "Two hours late; asks for compensation"),
        ],
    )
    .await;
    assert_eq!(to_case.status(), 303);
    let case_page = to_case.headers()["location"].to_str().unwrap().to_owned();
    let number = case_page.trim_start_matches("/cases/").to_owned();
    let (_, case) = a
        .get_json(&format!("/api/v1/cases/{number}"), &integration)
        .await;
    assert_eq!(
        (case["status"].as_str(), case["category"].as_str()),
        (Some("new"), Some("late"))
    );
    assert_eq!(case["incident_id"], incident.as_str());
    assert_eq!(case["customer_phone"], "+79161234567");
    let (_, closed) = a
        .get_json("/api/v1/incidents?status=closed", &integration)
        .await;
    assert_eq!(closed["incidents"][0]["outcome"], "case_opened");

    // 300.00 credited; the same request again and at once on both servers.
    let credit = json!({"type": "bonus_credit", "amount": 30000, "idempotency_key": "loop-credit"});
    let path = format!("/api/v1/cases/{number}/remedies");
    assert_eq!(post(&a, &integration, &path, &credit).await.0, 201);
    let (again_a, again_b) = tokio::join!(
        post(&a, &integration, &path, &credit),
        post(&b, &integration, &path, &credit)
    );
    assert_eq!((again_a.0, again_b.0), (200, 200));
    let ledger_path = "/api/v1/customers/+79161234567/ledger";
    let (_, ledger) = a.get_json(ledger_path, &integration).await;
    assert_eq!(ledger["balance"], 30000, "credited once: {ledger}");
    let entry = ledger["entries"][0]["id"].as_str().unwrap().to_owned();
    let (status, reversed) = post(
        &a,
        &integration,
        &format!("{ledger_path}/{entry}/reverse"),
        &json!({"reason": "credited by mistake"}),
    )
    .await;
    assert_eq!((status, reversed["balance"].as_i64()), (201, Some(0)));

    // An operator's compensation over the limit (1,000.00) waits.
    let operator = a.signed_in("operator").await;
    let op_csrf = a.csrf(&operator).await;
    let asked = submit(
        &operator,
        a.at(&format!("{case_page}/remedies")),
        &[
            ("csrf", op_csrf.as_str()),
            ("type", "compensation"),
            ("amount", "1500"),
            ("key", "k1"),
        ],
    )
    .await;
    assert_eq!(
        asked.headers()["location"],
        format!("{case_page}?done=remedy_pending")
    );
    let (_, detail) = a
        .get_json(&format!("/api/v1/cases/{number}"), &integration)
        .await;
    let pending = detail["remedies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "pending_approval")
        .expect("waits")
        .clone();
    let remedy = pending["id"].as_str().unwrap();
    let refused = submit(
        &operator,
        a.at("/cases/decisions"),
        &[
            ("csrf", op_csrf.as_str()),
            ("remedy", remedy),
            ("decision", "approve"),
        ],
    )
    .await;
    assert_eq!(refused.status(), 403, "an operator cannot approve");
    let queue = a.page(&dispatcher, "/cases/approvals").await;
    assert!(
        queue.contains(&format!("value=\"{remedy}\"")),
        "in the approvers' queue"
    );
    let approved = submit(
        &dispatcher,
        a.at("/cases/decisions"),
        &[
            ("csrf", csrf.as_str()),
            ("remedy", remedy),
            ("decision", "approve"),
            ("from", "queue"),
        ],
    )
    .await;
    assert_eq!(
        approved.headers()["location"],
        "/cases/approvals?done=approved"
    );
    let (_, ledger) = a.get_json(ledger_path, &integration).await;
    assert_eq!(ledger["balance"], 150_000, "approved: credited");

    // The customer's personal file shows it all to the support desk.
    let file = a.page(&operator, "/customers/%2B79161234567").await;
    assert!(
        file.contains(&format!("Case {number}")) && file.contains("NPS 3"),
        "the file's timeline"
    );

    // A terminal's token reaches none of the helpdesk.
    for path in ["/api/v1/incidents", "/api/v1/cases", ledger_path] {
        assert_eq!(a.get_json(path, &terminal).await.0, 403, "{path}");
    }
    assert_eq!(post(&a, &terminal, &path, &credit).await.0, 403);
}
