//! The customer's status page of a case through the real servers: its
//! address in the API, the conversation both ways with events reaching the
//! customer's page from another server, a message sent twice taken once,
//! the rating after resolution stored as a support-survey response that
//! raises a call-back, and no way from one case's page to another's.

use std::time::Duration;

use serde_json::{json, Value};

use crate::events::SseReader;
use crate::helpers::{order_json, TestApp};
use crate::on_both_backends;
use crate::surveys::{post, with_orders_and_survey};

on_both_backends!(
    a_customer_follows_and_rates_their_case_on_its_status_page,
    a_low_rating_of_a_case_without_an_order_raises_a_call_back
);

/// The path of a status URL (`http://host/c/TOKEN` → `/c/TOKEN`).
fn path_of(url: &str) -> String {
    let at = url
        .find("/c/")
        .unwrap_or_else(|| panic!("a status URL: {url}"));
    url[at..].to_owned()
}

async fn form(a: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    a.anonymous()
        .post(a.at(path))
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn a_customer_follows_and_rates_their_case_on_its_status_page(backend: &str) {
    let a = TestApp::spawn(backend).await;
    // People's side of the chat; the assistant has its own test (bot.rs).
    a.store.set_setting("chat_assistant", "off").await.unwrap();
    let b = a.beside().await;
    let integration = with_orders_and_survey(
        &a,
        vec![
            order_json("A-1", "+79161234567", "K-1"),
            order_json("A-2", "+79167654321", "K-1"),
        ],
    )
    .await;
    let (status, opened) = post(&a, &integration, "/api/v1/cases",
        &json!({"channel": "chat", "category": "late", "order_number": "A-1", "text": "Где мой заказ?"})).await;
    assert_eq!(status, 201, "{opened}");
    let id = opened["id"].as_str().unwrap().to_owned();
    let url = opened["status_url"]
        .as_str()
        .expect("a status_url")
        .to_owned();
    let (_, detail) = a
        .get_json(&format!("/api/v1/cases/{id}"), &integration)
        .await;
    assert_eq!(
        detail["status_url"],
        url.as_str(),
        "the same address every time"
    );
    let (_, other) = post(
        &a,
        &integration,
        "/api/v1/cases",
        &json!({"channel": "chat", "order_number": "A-2", "text": "Секретный вопрос соседа"}),
    )
    .await;
    let other_path = path_of(other["status_url"].as_str().unwrap());
    let page_path = path_of(&url);

    // The customer opens it in Russian: the case, its first message.
    let page = a
        .anonymous()
        .get(a.at(&page_path))
        .header("Accept-Language", "ru-RU,ru;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    let number = detail["number"].as_i64().unwrap();
    assert!(
        html.contains(&format!("Ваше обращение № {number}")),
        "{html}"
    );
    assert!(html.contains("Где мой заказ?") && !html.contains("Секретный вопрос соседа"));

    // The customer's page listens (on server B) while the operator answers
    // through server A: the page hears of it at once.
    let mut listening = SseReader::open_page(&b, &format!("{page_path}/events")).await;
    let (status, _) = post(&a, &integration, &format!("/api/v1/cases/{id}/contacts"),
        &json!({"channel": "chat", "direction": "outbound", "text": "Курьер будет через 10 минут."})).await;
    assert_eq!(status, 201);
    let heard = listening
        .next_named("case.updated", Duration::from_secs(5))
        .await
        .expect("the customer's page hears of the reply");
    assert_eq!(
        heard.data,
        json!({}),
        "nothing of the console's event is given away"
    );
    // The same reply's case.replied (for gateways) comes too, as bare.
    let replied = listening
        .next_named("case.replied", Duration::from_secs(5))
        .await
        .expect("case.replied");
    assert_eq!(replied.data, json!({}));
    // The neighbour's case changing is not heard on this page.
    post(
        &a,
        &integration,
        &format!("/api/v1/cases/{}/contacts", other["id"].as_str().unwrap()),
        &json!({"channel": "chat", "text": "Ещё вопрос"}),
    )
    .await;
    assert!(
        listening.next(Duration::from_millis(700)).await.is_none(),
        "another case's events are not this page's"
    );
    let html = a.page(&a.anonymous(), &page_path).await;
    assert!(
        html.contains("Курьер будет через 10 минут."),
        "the reply shows"
    );

    // The customer writes back; the same message sent twice is taken once.
    let message_id = uuid::Uuid::new_v4().to_string();
    for _ in 0..2 {
        let r = form(
            &b,
            &format!("{page_path}/messages"),
            &[
                ("text", "Спасибо, жду"),
                ("message_id", &message_id),
                ("lang", "ru"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
    }
    let (_, detail) = a
        .get_json(&format!("/api/v1/cases/{id}"), &integration)
        .await;
    let mine: Vec<&Value> = detail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["text"] == "Спасибо, жду")
        .collect();
    assert_eq!(mine.len(), 1, "{detail}");
    assert_eq!(
        (mine[0]["channel"].as_str(), mine[0]["direction"].as_str()),
        (Some("chat"), Some("inbound"))
    );
    assert_eq!(detail["contacts"], 2);
    // A photo in the chat: checked like the door's photos, kept once,
    // shown to the customer and to the support desk, to nobody else.
    let photo_id = uuid::Uuid::new_v4().to_string();
    let send_photo = |server: &TestApp, bytes: Vec<u8>, id: String| {
        let request = server
            .anonymous()
            .post(server.at(&format!("{page_path}/photos")))
            .header("x-message-id", id)
            .body(bytes);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        send_photo(&b, crate::helpers::tiny_png(), photo_id.clone()).await,
        204
    );
    assert_eq!(
        send_photo(&a, crate::helpers::tiny_png(), photo_id.clone()).await,
        204,
        "sent twice: taken once"
    );
    assert_eq!(
        send_photo(
            &a,
            b"not a picture at all".to_vec(),
            uuid::Uuid::new_v4().to_string()
        )
        .await,
        415
    );
    // Too big: refused with 413 — or, when the server answers before the
    // client has finished writing the body and closes the connection, the
    // client sees the pipe broken mid-body. Either way nothing is kept.
    let too_big = a
        .anonymous()
        .post(a.at(&format!("{page_path}/photos")))
        .header("x-message-id", uuid::Uuid::new_v4().to_string())
        .body(vec![0u8; 6 * 1024 * 1024])
        .send()
        .await;
    match too_big {
        Ok(r) => assert_eq!(r.status().as_u16(), 413),
        Err(e) => assert!(e.is_request(), "refused mid-body: {e:?}"),
    }
    let (_, detail) = a
        .get_json(&format!("/api/v1/cases/{id}"), &integration)
        .await;
    let photos = detail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["text"] == "📷")
        .count();
    assert_eq!(photos, 1, "{detail}");
    let html = a
        .page(&a.anonymous(), &format!("{page_path}?lang=en"))
        .await;
    let src_at = html
        .find(&format!("{page_path}/photos/"))
        .expect("the photo on the page");
    let photo_path: String = html[src_at..].chars().take_while(|c| *c != '"').collect();
    let r = a.anonymous().get(a.at(&photo_path)).send().await.unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["content-type"].to_str().unwrap()
        ),
        (200, "image/png")
    );
    let attachment = photo_path.rsplit('/').next().unwrap().to_owned();
    let r = a
        .anonymous()
        .get(a.at(&format!("{other_path}/photos/{attachment}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "another case's page does not show it");
    let operator = a.signed_in("operator").await;
    let r = operator
        .get(a.at(&format!("/cases/{number}/photos/{attachment}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the support desk sees it");
    let quality = a.signed_in("quality").await;
    let r = quality
        .get(a.at(&format!("/cases/{number}/photos/{attachment}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "the quality desk does not work cases");

    // An empty message is refused on the page, not stored.
    let r = form(
        &a,
        &format!("{page_path}/messages"),
        &[
            ("text", "  "),
            ("message_id", &uuid::Uuid::new_v4().to_string()),
        ],
    )
    .await;
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .contains("error=empty"));

    // Resolved: the page asks how it went; a 2 is a support-survey
    // response (it raises a call-back) and the case's CSAT.
    a.store
        .set_case_status(
            &id,
            doorstep_domain::helpdesk::cases::CaseStatus::Resolved,
            doorstep_store::helpdesk::Actor {
                id: "u-1",
                login: "olga",
                overrides: true,
            },
        )
        .await
        .unwrap()
        .unwrap();
    let html = a
        .page(&a.anonymous(), &format!("{page_path}?lang=en"))
        .await;
    assert!(
        html.contains("Your request is resolved.") && html.contains("How satisfied are you"),
        "{html}"
    );
    let r = form(
        &a,
        &format!("{page_path}/messages"),
        &[
            ("text", "ещё"),
            ("message_id", &uuid::Uuid::new_v4().to_string()),
        ],
    )
    .await;
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .contains("error=closed"));
    for (csat, ces) in [("2", "3"), ("2", "3"), ("5", "7")] {
        let r = form(
            &a,
            &format!("{page_path}/rating"),
            &[
                ("csat", csat),
                ("ces", ces),
                ("comment", "долго ждал"),
                ("lang", "en"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
    }
    let case = a.store.case(&id).await.unwrap().unwrap();
    assert_eq!(case.csat, Some(2), "the first answer stands");
    let (_, incidents) = a
        .get_json("/api/v1/incidents?status=open", &integration)
        .await;
    let raised = incidents["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["order_number"] == "A-1")
        .count();
    assert_eq!(raised, 1, "one call-back for the low CSAT: {incidents}");
    let (_, scores) = a
        .get_json("/api/v1/metrics?group_by=channel", &integration)
        .await;
    let support = scores["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "support")
        .unwrap_or_else(|| panic!("a support group: {scores}"));
    assert_eq!(support["responses"], 1, "{support}");
    let html = a
        .page(&a.anonymous(), &format!("{page_path}?lang=en"))
        .await;
    assert!(
        html.contains("Thank you for your answer (2 of 5)."),
        "{html}"
    );

    // No way to another case: an altered token, a made-up one.
    let mut altered = page_path.clone().into_bytes();
    let last = altered.len() - 1;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    for path in [
        altered.as_str(),
        "/c/1001",
        "/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let r = a.anonymous().get(a.at(path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        let r = form(
            &a,
            &format!("{path}/messages"),
            &[
                ("text", "hi"),
                ("message_id", &uuid::Uuid::new_v4().to_string()),
            ],
        )
        .await;
        assert_eq!(r.status(), 404, "{path}");
    }
    assert_ne!(other_path, page_path);
}

/// A customer who called about nothing in particular (no order) rates the
/// case 2 of 5: the whole rating is on the case's timeline, and one
/// call-back about the case (no order to hang it on) reaches the
/// dispatcher, linked to the case; a 5 elsewhere raises nothing.
async fn a_low_rating_of_a_case_without_an_order_raises_a_call_back(backend: &str) {
    use doorstep_domain::helpdesk::cases::CaseStatus;
    use doorstep_store::helpdesk::Actor;

    let a = TestApp::spawn(backend).await;
    let integration =
        with_orders_and_survey(&a, vec![order_json("A-1", "+79161234567", "K-1")]).await;
    let operator = Actor {
        id: "u-op",
        login: "olga",
        overrides: true,
    };
    let mut pages = Vec::new();
    for phone in ["+79165550001", "+79165550002"] {
        let (status, opened) = post(&a, &integration, "/api/v1/cases",
            &json!({"channel": "phone", "category": "other", "customer_phone": phone, "text": "Как поменять адрес в профиле?"})).await;
        assert_eq!(status, 201, "{opened}");
        let id = opened["id"].as_str().unwrap().to_owned();
        a.store
            .set_case_status(&id, CaseStatus::Resolved, operator)
            .await
            .unwrap()
            .expect("resolved");
        pages.push((
            id,
            opened["number"].as_i64().unwrap(),
            path_of(opened["status_url"].as_str().unwrap()),
        ));
    }
    for ((_, _, page), csat) in pages.iter().zip(["2", "5"]) {
        for _ in 0..2 {
            let r = form(
                &a,
                &format!("{page}/rating"),
                &[
                    ("csat", csat),
                    ("ces", "3"),
                    ("comment", "Долго искали, кто ответит"),
                    ("lang", "ru"),
                ],
            )
            .await;
            assert_eq!(r.status(), 303);
        }
    }
    let (low_id, low_number, _) = &pages[0];
    let (_, incidents) = a
        .get_json("/api/v1/incidents?status=open", &integration)
        .await;
    let raised: Vec<&Value> = incidents["incidents"].as_array().unwrap().iter().collect();
    assert_eq!(
        raised.len(),
        1,
        "one call-back, for the 2 only: {incidents}"
    );
    assert_eq!(raised[0]["order_number"], format!("case:{low_number}"));
    assert_eq!(raised[0]["case_id"], low_id.as_str());
    assert_eq!(raised[0]["rule_id"], "support_csat");

    let dispatcher = a.signed_in("dispatcher").await;
    let queue = a.page(&dispatcher, "/dispatch").await;
    assert!(
        queue.contains(&format!("href=\"/cases/{low_number}\"")),
        "the queue leads to the case: {queue}"
    );
    let incident = raised[0]["id"].as_str().unwrap();
    let page = a.page(&dispatcher, &format!("/dispatch/{incident}")).await;
    assert!(page.contains(&format!("case #{low_number}")), "{page}");
    let case_page = a.page(&dispatcher, &format!("/cases/{low_number}")).await;
    assert!(
        case_page.contains("The customer rated how the case was handled: CSAT 2/5, CES 3/7")
            && case_page.contains("Долго искали, кто ответит"),
        "the rating on the timeline: {case_page}"
    );
}
