//! Photos and voice from the door: checked by content, kept once, shown
//! only to the desks that handle them, deleted after the retention limit;
//! and the review request offered to promoters.

use serde_json::json;

use crate::helpers::{order_json, tiny_png, TestApp};
use crate::on_both_backends;
use crate::surveys::{link_for, post, response, with_orders_and_survey};

on_both_backends!(
    photos_are_checked_kept_once_and_shown_only_to_the_desks,
    a_promoters_review_link_is_recorded,
    a_customers_personal_data_is_erased_on_request,
    a_customer_known_only_by_e_mail_or_chat_is_erased
);

async fn photos_are_checked_kept_once_and_shown_only_to_the_desks(backend: &str) {
    let app = TestApp::spawn(backend).await;
    with_orders_and_survey(&app, vec![order_json("A-1", "+79161234567", "K-1")]).await;
    let terminal = app.token("terminal", Some("K-1")).await;
    let png = tiny_png();

    let (status, body, id) = app.upload(&terminal, &png).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (
            body["kind"].as_str(),
            body["content_type"].as_str(),
            body["created"].as_bool()
        ),
        (Some("photo"), Some("image/png"), Some(true))
    );
    let file = app.data_dir.0.join("attachments").join(&id[..2]).join(&id);
    assert_eq!(std::fs::read(&file).unwrap(), png, "kept under its hash");
    // A retried upload stores nothing new.
    let (status, body, _) = app.upload(&terminal, &png).await;
    assert_eq!((status, body["created"].as_bool()), (200, Some(false)));

    let put = |path: String, bytes: Vec<u8>, token: Option<String>| {
        let mut r = app.anonymous().put(app.at(&path)).body(bytes);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let html = b"<html><script>alert(1)</script></html>".to_vec();
    let r = put(
        format!(
            "/api/v1/attachments/{}",
            doorstep::security::sha256_bytes_hex(&html)
        ),
        html,
        Some(terminal.clone()),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 415, "not a photo nor a voice");
    let r = put(
        format!("/api/v1/attachments/{}", "0".repeat(64)),
        png.clone(),
        Some(terminal.clone()),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text().await.unwrap().contains("SHA-256"),
        "says the hash does not match"
    );
    let mut big = vec![0xFF, 0xD8, 0xFF, 0xE0];
    big.resize(6 * 1024 * 1024, 0);
    let r = put(
        format!(
            "/api/v1/attachments/{}",
            doorstep::security::sha256_bytes_hex(&big)
        ),
        big,
        Some(terminal.clone()),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 413, "photos are at most 5 MB");
    let r = put(format!("/api/v1/attachments/{id}"), png.clone(), None)
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // An answer may name only an uploaded photo.
    let missing = doorstep::security::sha256_bytes_hex(b"never uploaded");
    let answers = |photo: &str| json!([{"question_id": "nps", "value": 3}, {"question_id": "ok", "value": true}, {"question_id": "photo", "value": photo}]);
    let (status, body) = post(
        &app,
        &terminal,
        "/api/v1/responses",
        &json!([response(
            "6c1f0f4e-0000-4000-8000-000000000001",
            "A-1",
            "completed",
            &answers(&missing)
        )]),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["items"][0]["errors"]
            .to_string()
            .contains("was not uploaded"),
        "{body}"
    );
    let (status, body) = post(
        &app,
        &terminal,
        "/api/v1/responses",
        &json!([response(
            "6c1f0f4e-0000-4000-8000-000000000002",
            "A-1",
            "completed",
            &answers(&id)
        )]),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // Quality sees the photo on the order; an operator does not.
    let quality = app.signed_in("quality").await;
    let page = app.page(&quality, "/orders/A-1").await;
    assert!(
        page.contains(&format!("src=\"/attachments/{id}\"")),
        "{page}"
    );
    let r = quality
        .get(app.at(&format!("/attachments/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("private"));
    assert_eq!(r.bytes().await.unwrap().as_ref(), png.as_slice());
    let operator = app.signed_in("operator").await;
    let page = app.page(&operator, "/orders/A-1").await;
    assert!(
        !page.contains("/attachments/"),
        "an operator is not shown the photo"
    );
    let r = operator
        .get(app.at(&format!("/attachments/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Past the retention limit the file and its record go; the answer stays.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let deleted = doorstep::app::survey::attachments::purge(&app.store, &app.data_dir.0, 0)
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert!(!file.exists());
    let r = quality
        .get(app.at(&format!("/attachments/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let page = app.page(&quality, "/orders/A-1").await;
    assert!(page.contains("deleted after the retention limit"), "{page}");
}

async fn a_promoters_review_link_is_recorded(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = app.token("integration", None).await;
    let orders = json!({"orders": [order_json("A-1", "+79161234567", "K-1"), order_json("A-2", "+79161234568", "K-1")]});
    assert_eq!(app.post_orders(&integration, &orders).await.status(), 200);
    let mut survey = json!({
        "id": "door", "name": "У двери",
        "questions": [{"id": "nps", "type": "nps", "text": "Порекомендуете нас?"}],
        "review": {"links": [{"id": "maps", "label": {"ru": "Яндекс Карты", "en": "Yandex Maps"}, "url": "ftp://maps"}]}
    });
    let (status, body) = post(&app, &integration, "/api/v1/surveys", &survey).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("review.links[0].url"), "{body}");
    survey["review"]["links"][0]["url"] = json!("https://yandex.ru/maps/org/1");
    let (status, body) = post(&app, &integration, "/api/v1/surveys", &survey).await;
    assert_eq!(status, 201, "{body}");

    let promoter = |id: &str, order: &str, nps: u8, link: &str| {
        let mut r = response(
            id,
            order,
            "completed",
            &json!([{"question_id": "nps", "value": nps}]),
        );
        r["review_opened"] = json!(link);
        r
    };
    let (status, body) = post(
        &app,
        &integration,
        "/api/v1/responses",
        &json!([
            promoter("6c1f0f4e-0000-4000-8000-000000000011", "A-2", 6, "maps"),
            promoter("6c1f0f4e-0000-4000-8000-000000000012", "A-2", 10, "google"),
            promoter("6c1f0f4e-0000-4000-8000-000000000013", "A-1", 10, "maps"),
        ]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["items"][0]["errors"]
            .to_string()
            .contains("only from an NPS answer of 9"),
        "{body}"
    );
    assert!(
        body["items"][1]["errors"]
            .to_string()
            .contains("not one of this survey's review links"),
        "{body}"
    );
    assert_eq!(body["items"][2]["status"], 201, "{body}");
    let quality = app.signed_in("quality").await;
    let page = app.page(&quality, "/orders/A-1").await;
    assert!(
        page.contains("Opened the review link: <strong>Yandex Maps</strong>"),
        "{page}"
    );

    // By link: a promoter's thank-you page offers the links, and following
    // one is recorded before the customer is sent on.
    let path = link_for(&app, &integration, "A-2").await;
    let customer = app.anonymous();
    let page = customer
        .post(app.at(&path))
        .header("accept-language", "en")
        .form(&[("q.nps", "10"), ("action", "send")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let review = format!("{path}/review/maps");
    assert!(
        page.contains(&format!("href=\"{review}\"")) && page.contains("Yandex Maps"),
        "{page}"
    );
    let r = customer.get(app.at(&review)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "https://yandex.ru/maps/org/1");
    let page = app.page(&quality, "/orders/A-2").await;
    assert!(
        page.contains("Opened the review link: <strong>Yandex Maps</strong>"),
        "{page}"
    );
}

async fn a_customers_personal_data_is_erased_on_request(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = with_orders_and_survey(
        &app,
        vec![
            order_json("A-1", "+79161234567", "K-1"),
            order_json("A-2", "+79161234567", "K-1"),
        ],
    )
    .await;
    let terminal = app.token("terminal", Some("K-1")).await;
    let (_, _, photo) = app.upload(&terminal, &tiny_png()).await;
    let answers = json!([{"question_id": "nps", "value": 3}, {"question_id": "comment", "value": "Курьер Анна Петрова, кв. 12"},
        {"question_id": "ok", "value": true}, {"question_id": "photo", "value": photo}]);
    let (status, body) = post(
        &app,
        &terminal,
        "/api/v1/responses",
        &json!([response(
            "6c1f0f4e-0000-4000-8000-000000000021",
            "A-1",
            "completed",
            &answers
        )]),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let link = link_for(&app, &integration, "A-2").await;
    // A case the customer opened: its status-page notice names their phone.
    let (status, case) = post(
        &app,
        &integration,
        "/api/v1/cases",
        &json!({"channel": "chat", "order_number": "A-1", "text": "Звоните на +79161234567"}),
    )
    .await;
    assert_eq!(status, 201, "{case}");
    let case_id = case["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.store.case_notices(&case_id).await.unwrap()[0].address,
        "+79161234567"
    );
    // …and a photo they sent in its chat.
    let url = case["status_url"].as_str().unwrap();
    let status_path = &url[url.find("/c/").unwrap()..];
    let mut chat_photo = tiny_png();
    chat_photo.extend_from_slice(b"chat");
    let r = app
        .anonymous()
        .post(app.at(&format!("{status_path}/photos")))
        .header("x-message-id", uuid::Uuid::new_v4().to_string())
        .body(chat_photo.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let chat_photo_id = doorstep::security::sha256_bytes_hex(&chat_photo);
    let chat_file = app
        .data_dir
        .0
        .join("attachments")
        .join(&chat_photo_id[..2])
        .join(&chat_photo_id);
    assert!(chat_file.exists());

    // Only an admin may, and only when confirming.
    let operator = app.signed_in("operator").await;
    let csrf = app.csrf(&operator).await;
    let r = operator
        .post(app.at("/customers/+79161234567/erase"))
        .form(&[("csrf", csrf.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let admin = app.signed_in("admin").await;
    let page = app.page(&admin, "/customers/+79161234567").await;
    assert!(page.contains("Erase personal data"), "{page}");
    let csrf = app.csrf(&admin).await;
    let r = admin
        .post(app.at("/customers/+79161234567/erase"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        app.store.customer("+79161234567").await.unwrap().is_some(),
        "not without confirming"
    );

    let r = admin
        .post(app.at("/customers/+79161234567/erase"))
        .form(&[("csrf", csrf.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        to.starts_with("/customers/erased-") && to.ends_with("?erased=1"),
        "{to}"
    );
    assert!(app.store.customer("+79161234567").await.unwrap().is_none());
    let page = app.page(&admin, &to).await;
    assert!(
        page.contains("personal data is erased")
            && !page.contains("Анна Петрова")
            && !page.contains("+79161234567"),
        "{page}"
    );
    let page = app.page(&admin, "/orders/A-1").await;
    assert!(
        !page.contains("кв. 12") && !page.contains("/attachments/"),
        "{page}"
    );
    assert!(
        !app.data_dir
            .0
            .join("attachments")
            .join(&photo[..2])
            .join(&photo)
            .exists(),
        "the photo's file is gone"
    );
    let (_, kept) = &app.store.order_responses("A-1").await.unwrap()[0];
    let nps = kept.iter().find(|a| a.question_id == "nps").unwrap();
    assert_eq!(nps.number_value, Some(3.0), "scores stay");
    let r = app.anonymous().get(app.at(&link)).send().await.unwrap();
    assert_eq!(r.status(), 404, "open survey links are withdrawn");
    assert!(!chat_file.exists(), "the chat photo's file is gone");
    let notice = &app.store.case_notices(&case_id).await.unwrap()[0];
    assert!(
        !notice.address.contains("7916") && !notice.body.contains("7916"),
        "the notice's address and text are erased: {notice:?}"
    );
}

/// A customer who only ever e-mailed, and one who only wrote from a
/// messenger: found by the address (any case of letters), and by a case
/// of theirs; what they wrote and where they wrote from go, the cases stay.
async fn a_customer_known_only_by_e_mail_or_chat_is_erased(backend: &str) {
    use doorstep_domain::helpdesk::cases::Direction;
    use doorstep_store::helpdesk::cases::NewCase;

    let app = TestApp::spawn(backend).await;
    let new = |text: &'static str, conversation: &'static str| NewCase {
        channel: if conversation.starts_with("email:") {
            "email"
        } else {
            "messenger"
        },
        line: "customers",
        category: "other",
        priority: "normal",
        order_number: None,
        customer_phone: None,
        text,
        external_id: None,
        direction: Direction::Inbound,
        author: "mail",
        incident_id: None,
        conversation: Some(conversation),
    };
    let mailed = app
        .store
        .open_case(&new(
            "My parcel from anna@example.com",
            "email:anna@example.com",
        ))
        .await
        .unwrap()
        .case()
        .clone();
    app.store
        .add_mail_message("<m1@example.com>", &mailed.id, "in")
        .await
        .unwrap();
    let chatted = app
        .store
        .open_case(&new("Hi, it is Boris from tg", "gateway:tg:5551234"))
        .await
        .unwrap()
        .case()
        .clone();
    let other = app
        .store
        .open_case(&new("Someone else", "email:carl@example.com"))
        .await
        .unwrap()
        .case()
        .clone();

    let dir = &app.data_dir.0;
    let nobody =
        doorstep::app::survey::attachments::erase_customer(&app.store, dir, "zoe@example.com")
            .await
            .unwrap();
    assert!(nobody.is_none(), "no such address");
    let erased = doorstep::app::survey::attachments::erase_customer(
        &app.store,
        dir,
        "Anna <ANNA@Example.com>",
    )
    .await
    .unwrap()
    .expect("found by the address");
    assert_eq!((erased.cases, erased.orders), (1, 0));
    let erased = doorstep::app::survey::attachments::erase_customer(
        &app.store,
        dir,
        &format!("#{}", chatted.number),
    )
    .await
    .unwrap()
    .expect("found by the case");
    assert_eq!(erased.cases, 1);

    for case in [&mailed, &chatted] {
        let kept = app
            .store
            .case(&case.id)
            .await
            .unwrap()
            .expect("the case stays");
        assert_eq!(
            (kept.conversation.as_deref(), kept.subject.as_str()),
            (None, "—")
        );
        let entries = app.store.case_entries(&case.id).await.unwrap();
        assert!(
            entries
                .iter()
                .filter(|e| e.kind == "contact")
                .all(|e| e.body == "—"),
            "{entries:?}"
        );
    }
    assert!(app.store.mail_thread(&mailed.id).await.unwrap().is_empty());
    let untouched = app.store.case(&other.id).await.unwrap().unwrap();
    assert_eq!(
        untouched.conversation.as_deref(),
        Some("email:carl@example.com")
    );
    // The address writes again: a new case, not the erased one.
    let again = app
        .store
        .open_case(&new("Me again", "email:anna@example.com"))
        .await
        .unwrap()
        .case()
        .clone();
    assert_ne!(again.id, mailed.id);
}
