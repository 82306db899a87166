//! Surveys through the API: definitions checked and versioned, responses
//! stored exactly once.

use serde_json::{json, Value};

use crate::helpers::{order_json, tiny_png, TestApp};
use crate::on_both_backends;

on_both_backends!(
    metrics_follow_metrics_md,
    a_couriers_page_shows_scores_signals_and_comments,
    new_answers_are_announced_as_events,
    the_dashboard_shows_scores_breakdowns_and_downloads,
    a_customer_answers_once_by_link,
    a_link_survey_speaks_the_customers_language,
    a_quality_manager_publishes_surveys_from_the_console,
    a_terminal_gets_its_days_orders_with_their_surveys,
    survey_definitions_are_checked_and_versioned,
    responses_are_stored_exactly_once,
    a_terminal_answers_only_for_its_courier
);

pub fn door_survey() -> Value {
    json!({
        "id": "door",
        "name": "У двери",
        "timeout_seconds": 60,
        "questions": [
            {"id": "nps", "type": "nps", "text": {"ru": "Порекомендуете нас?", "en": "Would you recommend us?"}, "required": true},
            {"id": "why", "type": "multi_choice", "text": {"ru": "Что не так?", "en": "What went wrong?"},
             "options": [{"id": "late", "text": "Опоздание"}, {"id": "damaged"}], "show_if": {"question": "nps", "max": 6}},
            {"id": "csi", "type": "scale", "text": "Оцените доставку", "min": 1, "max": 9, "measures": "csi"},
            {"id": "ease", "type": "scale", "text": "Было легко?", "min": 1, "max": 7, "measures": "ces"},
            {"id": "comment", "type": "text", "text": "Комментарий"},
            {"id": "ok", "type": "consent", "text": "Можно фото?"},
            {"id": "photo", "type": "photo", "text": "Фото", "show_if": {"question": "ok", "equals": true}}
        ]
    })
}

/// Imports `orders` and publishes the door survey; the integration token.
pub async fn with_orders_and_survey(app: &TestApp, orders: Vec<Value>) -> String {
    let integration = app.token("integration", None).await;
    let r = app
        .post_orders(&integration, &json!({ "orders": orders }))
        .await;
    assert_eq!(r.status(), 200);
    let (status, body) = post(app, &integration, "/api/v1/surveys", &door_survey()).await;
    assert_eq!(status, 201, "{body}");
    integration
}

pub async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let r = app
        .anonymous()
        .post(app.at(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn survey_definitions_are_checked_and_versioned(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = app.token("integration", None).await;
    let terminal = app.token("terminal", None).await;

    let bad = json!({"name": "x", "questions": [{"id": "s", "type": "scale", "text": "?", "min": 5, "max": 1}]});
    let (status, problem) = post(&app, &integration, "/api/v1/surveys", &bad).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["questions[0].max", "questions[0].measures"]);
    let (status, problem) = post(
        &app,
        &integration,
        "/api/v1/surveys",
        &json!({"name": "x", "questions": [{"id": "q", "type": "emoji", "text": "?"}]}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        problem["detail"].as_str().unwrap().contains("emoji"),
        "{problem}"
    );

    let (status, created) = post(&app, &integration, "/api/v1/surveys", &door_survey()).await;
    assert_eq!(
        (status, &created),
        (201, &json!({"id": "door", "version": 1}))
    );
    let (status, _) = post(&app, &integration, "/api/v1/surveys", &door_survey()).await;
    assert_eq!(status, 409, "the id is taken");
    let (status, _) = post(&app, &terminal, "/api/v1/surveys", &door_survey()).await;
    assert_eq!(status, 403, "terminals do not write surveys");

    let (status, listed) = app.get_json("/api/v1/surveys", &terminal).await;
    assert_eq!(status, 200);
    assert_eq!(listed[0]["id"], "door");
    assert_eq!(listed[0]["questions"].as_array().unwrap().len(), 7);
    assert_eq!(
        listed[0]["questions"][1]["show_if"],
        json!({"question": "nps", "max": 6.0})
    );

    let mut edited = door_survey();
    edited["questions"].as_array_mut().unwrap().truncate(3);
    let r = app
        .anonymous()
        .put(app.at("/api/v1/surveys/door"))
        .bearer_auth(&integration)
        .json(&edited)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"id": "door", "version": 2})
    );
    let (_, listed) = app.get_json("/api/v1/surveys", &integration).await;
    assert_eq!(
        (
            listed[0]["version"].as_i64(),
            listed[0]["questions"].as_array().unwrap().len()
        ),
        (Some(2), 3)
    );
    // The console shows the published survey and its questions.
    let quality = app.signed_in("quality").await;
    let list = app.page(&quality, "/surveys").await;
    assert!(
        list.contains("У двери") && list.contains("href=\"/surveys/door\""),
        "surveys page lists it"
    );
    let detail = app.page(&quality, "/surveys/door").await;
    assert!(
        detail.contains("Would you recommend us?") && detail.contains("Version 2"),
        "preview in the reader's language"
    );
    assert!(
        detail.contains("PUT /api/v1/surveys/{id}"),
        "the edit note renders its braces"
    );
    assert_eq!(
        quality
            .get(app.at("/surveys/nope"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    let r = app
        .anonymous()
        .put(app.at("/api/v1/surveys/nope"))
        .bearer_auth(&integration)
        .json(&edited)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

pub fn response(id: &str, order: &str, status: &str, answers: &Value) -> Value {
    json!({
        "id": id, "order_number": order, "survey_id": "door", "status": status,
        "started_at": "2026-11-03T14:40:00+03:00", "finished_at": "2026-11-03T14:41:30+03:00",
        "answers": answers
    })
}

async fn responses_are_stored_exactly_once(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = with_orders_and_survey(
        &app,
        vec![
            order_json("A-1", "+79161234567", "K-1"),
            order_json("A-2", "+79161234568", "K-1"),
            order_json("A-3", "+79161234569", "K-1"),
            order_json("A-4", "+79161234560", "K-1"),
        ],
    )
    .await;
    let terminal = app.token("terminal", Some("K-1")).await;
    let (status, _, photo) = app.upload(&terminal, &tiny_png()).await;
    assert_eq!(status, 201);

    let completed = response(
        "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d001",
        "A-1",
        "completed",
        &json!([
            {"question_id": "nps", "value": 4}, {"question_id": "why", "value": ["late", "damaged"]},
            {"question_id": "csi", "value": 6}, {"question_id": "ok", "value": true}, {"question_id": "photo", "value": photo}
        ]),
    );
    let refused = response(
        "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d002",
        "A-2",
        "refused",
        &json!([]),
    );
    let timed_out = response(
        "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d003",
        "A-3",
        "timed_out",
        &json!([{"question_id": "nps", "value": 9}]),
    );
    let batch = json!([completed, refused, timed_out]);
    let (status, body) = post(&app, &terminal, "/api/v1/responses", &batch).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["created"], 3);

    // Sent again (a retry after a lost reply): stored nothing new.
    let (status, body) = post(
        &app,
        &terminal,
        "/api/v1/responses",
        &json!({"responses": batch}),
    )
    .await;
    assert_eq!(
        (status, body["duplicates"].as_u64()),
        (200, Some(3)),
        "{body}"
    );
    assert_eq!(app.store.count_responses().await.unwrap(), 3);

    // The same id with other content is a conflict, and changes nothing.
    let mut changed = batch[0].clone();
    changed["answers"][0]["value"] = json!(10);
    changed["answers"].as_array_mut().unwrap().remove(1);
    let (status, body) = post(&app, &terminal, "/api/v1/responses", &json!([changed])).await;
    assert_eq!(
        (status, body["items"][0]["result"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );

    let (status, answers) = app
        .store
        .response_answers("0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, "completed");
    let nps = answers.iter().find(|a| a.question_id == "nps").unwrap();
    assert_eq!(nps.number_value, Some(4.0));
    let why = answers.iter().find(|a| a.question_id == "why").unwrap();
    assert_eq!(why.option_ids.as_deref(), Some("[\"late\",\"damaged\"]"));
    assert_eq!(
        app.store
            .response_answers("0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d003")
            .await
            .unwrap()
            .unwrap()
            .0,
        "timed_out"
    );

    // A bad item never blocks the good ones; each says what is wrong.
    let mixed = json!([
        response(
            "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d004",
            "A-2",
            "completed",
            &json!([{"question_id": "nps", "value": 11}])
        ),
        response(
            "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d005",
            "NOPE",
            "completed",
            &json!([{"question_id": "nps", "value": 10}])
        ),
        response(
            "not-a-uuid",
            "A-2",
            "completed",
            &json!([{"question_id": "nps", "value": 10}])
        ),
        response(
            "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d006",
            "A-2",
            "completed",
            &json!([{"question_id": "nps", "value": 10}, {"question_id": "why", "value": ["late"]}])
        ),
        response(
            "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d007",
            "A-2",
            "completed",
            &json!([{"question_id": "nps", "value": 10}, {"question_id": "photo", "value": "att-2"}])
        ),
        response(
            "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d008",
            "A-4",
            "completed",
            &json!([{"question_id": "nps", "value": 10}])
        ),
    ]);
    let (status, body) = post(&app, &integration, "/api/v1/responses", &mixed).await;
    assert_eq!(status, 200, "{body}");
    let statuses: Vec<u64> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [422, 404, 422, 422, 422, 201]);
    assert_eq!(app.store.count_responses().await.unwrap(), 4);

    let first_error = &body["items"][0]["errors"][0];
    assert_eq!(first_error["field"], "responses[0].answers[0].value");
    assert!(first_error["message"].as_str().unwrap().contains("0 to 10"));
    assert!(body["items"][3]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("was not shown"));
    assert!(body["items"][4]["errors"].to_string().contains("consent"));
    assert_eq!(app.store.count_responses().await.unwrap(), 4);

    // Asked once per survey: a second session for A-1 (another id) is refused.
    let again = response(
        "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d009",
        "A-1",
        "refused",
        &json!([]),
    );
    let (status, body) = post(&app, &terminal, "/api/v1/responses", &json!([again])).await;
    assert_eq!(
        (status, body["items"][0]["result"].as_str()),
        (409, Some("already_surveyed")),
        "{body}"
    );
}

async fn a_terminal_answers_only_for_its_courier(backend: &str) {
    let app = TestApp::spawn(backend).await;
    with_orders_and_survey(
        &app,
        vec![
            order_json("A-1", "+79161234567", "K-1"),
            order_json("B-1", "+79161234568", "K-2"),
        ],
    )
    .await;
    let terminal = app.token("terminal", Some("K-1")).await;
    let other = response(
        "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d101",
        "B-1",
        "refused",
        &json!([]),
    );
    let (status, body) = post(&app, &terminal, "/api/v1/responses", &json!([other])).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(app.store.count_responses().await.unwrap(), 0);
    let (status, _) = post(&app, "no-token", "/api/v1/responses", &json!([])).await;
    assert_eq!(status, 401);
}

async fn a_terminal_gets_its_days_orders_with_their_surveys(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let mut big = order_json("A-2", "+79161234568", "K-1");
    big["amount"] = json!("7 500");
    let integration = with_orders_and_survey(
        &app,
        vec![
            order_json("A-1", "+79161234567", "K-1"),
            big,
            order_json("B-1", "+79161234569", "K-2"),
        ],
    )
    .await;
    let mut vip = door_survey();
    vip["id"] = json!("vip");
    vip["targeting"] = json!({"amount_min": 5000, "priority": 10});
    assert_eq!(
        post(&app, &integration, "/api/v1/surveys", &vip).await.0,
        201
    );
    let terminal = app.token("terminal", Some("K-1")).await;
    let refused = response(
        "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d201",
        "A-1",
        "refused",
        &json!([]),
    );
    assert_eq!(
        post(&app, &terminal, "/api/v1/responses", &json!([refused]))
            .await
            .0,
        201
    );

    let (status, day) = app
        .get_json("/api/v1/terminal/orders?date=2026-11-03", &terminal)
        .await;
    assert_eq!(status, 200, "{day}");
    assert_eq!(day["courier_id"], "K-1");
    let orders = day["orders"].as_array().unwrap();
    let summary: Vec<(&str, &str, bool)> = orders
        .iter()
        .map(|o| {
            (
                o["order_number"].as_str().unwrap(),
                o["survey_id"].as_str().unwrap(),
                o["surveyed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("A-2", "vip", false), ("A-1", "door", true)],
        "only K-1's orders, each with its survey"
    );
    assert_eq!(day["surveys"].as_array().unwrap().len(), 2);
    let (_, other_day) = app
        .get_json("/api/v1/terminal/orders?date=2026-11-04", &terminal)
        .await;
    assert!(other_day["orders"].as_array().unwrap().is_empty());
    let (status, problem) = app
        .get_json("/api/v1/terminal/orders?date=03.11.2026", &terminal)
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        app.get_json("/api/v1/terminal/orders", &integration)
            .await
            .0,
        403
    );
    let unassigned = app.token("terminal", None).await;
    assert_eq!(
        app.get_json("/api/v1/terminal/orders", &unassigned).await.0,
        403
    );
}

pub async fn link_for(app: &TestApp, token: &str, order: &str) -> String {
    let (status, body) = post(
        app,
        token,
        &format!("/api/v1/orders/{order}/survey-link"),
        &json!({}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let url = body["url"].as_str().unwrap();
    url[url.find("/s/").unwrap()..].to_owned()
}

async fn a_customer_answers_once_by_link(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = with_orders_and_survey(
        &app,
        vec![
            order_json("A-1", "+79161234567", "K-1"),
            order_json("A-2", "+79161234568", "K-1"),
            order_json("A-3", "+79161234569", "K-1"),
        ],
    )
    .await;
    let customer = app.anonymous();
    let path = link_for(&app, &integration, "A-1").await;
    let page = customer
        .get(app.at(&path))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Would you recommend us?") && page.contains("data-show-if"),
        "the survey, in English"
    );
    assert!(
        !page.contains("name=\"q.photo\""),
        "no photo question without a camera"
    );

    let answers = [
        ("q.nps", "3"),
        ("q.why", "late"),
        ("q.why", "damaged"),
        ("q.csi", "7"),
        ("q.comment", "Курьер опоздал"),
        ("action", "send"),
    ];
    let done = customer
        .post(app.at(&path))
        .header("accept-language", "en")
        .form(&answers)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Thank you!"));
    let stored = app.store.order_responses("A-1").await.unwrap();
    assert_eq!(stored.len(), 1);
    let (response, answers_stored) = &stored[0];
    assert_eq!(
        (response.channel.as_str(), response.status.as_str()),
        ("link", "completed")
    );
    let why = answers_stored
        .iter()
        .find(|a| a.question_id == "why")
        .unwrap();
    assert_eq!(why.option_ids.as_deref(), Some("[\"late\",\"damaged\"]"));

    // A second visit or submission is answered politely, and stores nothing.
    let again = customer
        .get(app.at(&path))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(again.contains("Already answered"));
    let twice = customer
        .post(app.at(&path))
        .form(&answers)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(twice.contains("Already answered") || twice.contains("Уже отвечено"));
    assert_eq!(app.store.count_responses().await.unwrap(), 1);
    // A new link for an answered order is refused, saying why.
    let (status, body) = post(
        &app,
        &integration,
        "/api/v1/orders/A-1/survey-link",
        &json!({}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("answered survey \"door\" already"),
        "{body}"
    );

    // A promoter's hidden "what went wrong" is dropped, not refused; a
    // missing required answer asks again.
    let path = link_for(&app, &integration, "A-2").await;
    let missing = customer
        .post(app.at(&path))
        .header("accept-language", "en")
        .form(&[("q.csi", "8"), ("action", "send")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 422);
    assert!(missing.text().await.unwrap().contains("Please answer"));
    let promoter = customer
        .post(app.at(&path))
        .form(&[("q.nps", "10"), ("q.why", "late"), ("action", "send")])
        .send()
        .await
        .unwrap();
    assert_eq!(promoter.status(), 200);
    let (_, kept) = &app.store.order_responses("A-2").await.unwrap()[0];
    assert_eq!(
        kept.iter()
            .map(|a| a.question_id.as_str())
            .collect::<Vec<_>>(),
        ["nps"]
    );

    // "No, thanks" is a refusal, counted.
    let path = link_for(&app, &integration, "A-3").await;
    let refused = customer
        .post(app.at(&path))
        .header("accept-language", "en")
        .form(&[("action", "refuse")])
        .send()
        .await
        .unwrap();
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Thank you all the same"));
    assert_eq!(
        app.store.order_responses("A-3").await.unwrap()[0].0.status,
        "refused"
    );

    assert_eq!(
        customer
            .get(app.at("/s/not-a-token"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let (status, _) = post(
        &app,
        &integration,
        "/api/v1/orders/NOPE/survey-link",
        &json!({}),
    )
    .await;
    assert_eq!(status, 404);
}

async fn a_link_survey_speaks_the_customers_language(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = with_orders_and_survey(
        &app,
        vec![
            order_json("L-1", "+380630506152", "K-1"),
            order_json("L-2", "+380630506152", "K-1"),
            order_json("L-3", "+79161234569", "K-1"),
        ],
    )
    .await;
    let four =
        |ru: &str, en: &str, uk: &str, uz: &str| json!({"ru": ru, "en": en, "uk": uk, "uz": uz});
    let survey = json!({
        "id": "four", "name": "Four languages",
        "title": four("Как доставка?", "How was it?", "Як доставка?", "Qanday oʻtdi?"),
        "targeting": {"priority": 10},
        "questions": [
            {"id": "nps", "type": "nps", "required": true,
             "text": four("Порекомендуете?", "Recommend us?", "Порекомендуєте?", "Tavsiya qilasizmi?")},
            {"id": "ease", "type": "scale", "min": 1, "max": 7, "measures": "ces",
             "text": four("Было легко?", "Was it easy?", "Було легко?", "Oson boʻldimi?")}
        ]
    });
    let (status, body) = post(&app, &integration, "/api/v1/surveys", &survey).await;
    assert_eq!(status, 201, "{body}");
    let customer = app.anonymous();
    let open = |path: String, accept: &'static str| {
        let request = customer
            .get(app.at(&path))
            .header("accept-language", accept);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let l1 = link_for(&app, &integration, "L-1").await;
    // The browser's language, of those the survey has, with the page's
    // words, the ends of its scales and a switch to the others.
    let page = open(l1.clone(), "uk-UA,uk;q=0.9,en;q=0.5").await;
    assert!(page.contains("<html lang=\"uk\">"), "{page}");
    assert!(
        page.contains("Порекомендуєте?") && page.contains("Як доставка?"),
        "{page}"
    );
    assert!(
        page.contains("Надіслати") && page.contains("Точно ні"),
        "{page}"
    );
    assert!(
        page.contains("Зовсім не згоден"),
        "the effort scale's ends: {page}"
    );
    assert!(
        page.contains("href=\"?lang=uz\"") && page.contains("action=\"?lang=uk\""),
        "{page}"
    );
    let page = open(l1.clone(), "uz").await;
    assert!(
        page.contains("Tavsiya qilasizmi?") && page.contains("Yuborish"),
        "{page}"
    );
    // The switch wins over the browser.
    let page = open(format!("{l1}?lang=ru"), "uk").await;
    assert!(
        page.contains("Порекомендуете?") && page.contains("<html lang=\"ru\">"),
        "{page}"
    );
    let done = customer
        .post(app.at(&l1))
        .header("accept-language", "uk")
        .form(&[("q.nps", "9"), ("action", "send")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Дякуємо!"));
    let stored = app.store.order_responses("L-1").await.unwrap();
    assert_eq!(stored[0].0.language.as_deref(), Some("uk"));
    // The same customer's next order: the language they answered in before,
    // whatever this browser says.
    let l2 = link_for(&app, &integration, "L-2").await;
    assert!(open(l2, "en").await.contains("Порекомендуєте?"));
    // Someone else's, in a language the survey lacks: the next best.
    let l3 = link_for(&app, &integration, "L-3").await;
    assert!(open(l3, "de, uz;q=0.4, ru;q=0.6")
        .await
        .contains("Порекомендуете?"));
}

async fn a_quality_manager_publishes_surveys_from_the_console(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let quality = app.signed_in("quality").await;
    let page = app.page(&quality, "/surveys/new").await;
    assert!(
        page.contains("name=\"definition\"") && page.contains("survey-editor.js"),
        "{page}"
    );
    let csrf = app.csrf(&quality).await;
    let publish =
        |path: &str, form: Vec<(&str, String)>| quality.post(app.at(path)).form(&form).send();

    // A broken definition comes back with every problem and what was sent.
    let mut survey = door_survey();
    survey.as_object_mut().unwrap().remove("id");
    survey["questions"][2]["max"] = json!(0);
    let r = publish(
        "/surveys/new",
        vec![
            ("csrf", csrf.clone()),
            ("id", "door".into()),
            ("definition", survey.to_string()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("questions[2].max"), "{page}");
    assert!(
        page.contains("Оцените доставку"),
        "the manager's work is kept"
    );

    survey["questions"][2]["max"] = json!(9);
    let r = publish(
        "/surveys/new",
        vec![
            ("csrf", csrf.clone()),
            ("id", "door".into()),
            ("definition", survey.to_string()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/surveys/door?published=1");
    let page = app.page(&quality, "/surveys/door?published=1").await;
    assert!(page.contains("Version 1 is published"), "{page}");

    // The same id twice is refused; editing publishes version 2.
    let r = publish(
        "/surveys/new",
        vec![
            ("csrf", csrf.clone()),
            ("id", "door".into()),
            ("definition", survey.to_string()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("exists already"));
    let page = app.page(&quality, "/surveys/door/edit").await;
    assert!(page.contains("Publishing makes version 2"), "{page}");
    survey["name"] = json!("У двери, v2");
    let r = publish(
        "/surveys/door/edit",
        vec![("csrf", csrf.clone()), ("definition", survey.to_string())],
    )
    .await
    .unwrap();
    assert_eq!(r.headers()["location"], "/surveys/door?published=2");
    let stored = app.store.survey("door", None).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.name.as_str()), (2, "У двери, v2"));

    // A language one text has and another lacks: the editor says where,
    // and publishes only when told to anyway.
    survey["questions"][0]["text"]["uk"] = json!("Порекомендуєте нас?");
    let r = publish(
        "/surveys/door/edit",
        vec![("csrf", csrf.clone()), ("definition", survey.to_string())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("questions[1].text: no text in uk")
            && page.contains("name=\"confirm_languages\""),
        "{page}"
    );
    assert_eq!(
        app.store
            .survey("door", None)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
    let r = publish(
        "/surveys/door/edit",
        vec![
            ("csrf", csrf.clone()),
            ("definition", survey.to_string()),
            ("confirm_languages", "1".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.headers()["location"], "/surveys/door?published=3");

    // Without the form's token, or without the quality desk's role: refused.
    let r = publish(
        "/surveys/door/edit",
        vec![("definition", survey.to_string())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    let operator = app.signed_in("operator").await;
    let r = operator.get(app.at("/surveys/new")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        app.store
            .survey("door", None)
            .await
            .unwrap()
            .unwrap()
            .version,
        3
    );
}

async fn metrics_follow_metrics_md(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = with_orders_and_survey(
        &app,
        vec![
            order_json("A-1", "+79161234567", "K-1"),
            order_json("A-2", "+79161234568", "K-1"),
            order_json("A-3", "+79161234569", "K-1"),
            order_json("A-4", "+79161234560", "K-2"),
        ],
    )
    .await;
    let batch = json!([
        response(
            "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d301",
            "A-1",
            "completed",
            &json!([{"question_id": "nps", "value": 10}, {"question_id": "csi", "value": 9}])
        ),
        response(
            "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d302",
            "A-2",
            "completed",
            &json!([{"question_id": "nps", "value": 9}, {"question_id": "csi", "value": 6}])
        ),
        response(
            "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d303",
            "A-3",
            "completed",
            &json!([{"question_id": "nps", "value": 3}, {"question_id": "why", "value": ["late"]}])
        ),
        response(
            "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d304",
            "A-4",
            "refused",
            &json!([])
        ),
    ]);
    let (status, body) = post(&app, &integration, "/api/v1/responses", &batch).await;
    assert_eq!(status, 201, "{body}");

    let (status, m) = app
        .get_json(
            "/api/v1/metrics?from=2026-11-01&to=2026-11-30&group_by=courier",
            &integration,
        )
        .await;
    assert_eq!(status, 200, "{m}");
    let groups = m["groups"].as_array().unwrap();
    let k1 = groups.iter().find(|g| g["key"] == "K-1").unwrap();
    assert_eq!(
        (k1["responses"].as_i64(), k1["refusals"].as_i64()),
        (Some(3), Some(0))
    );
    assert_eq!(
        (
            k1["promoters"].as_i64(),
            k1["passives"].as_i64(),
            k1["detractors"].as_i64()
        ),
        (Some(2), Some(0), Some(1))
    );
    assert!(
        (k1["nps"].as_f64().unwrap() - 100.0 / 3.0).abs() < 1e-9,
        "{k1}"
    );
    assert!(k1["nps_ci95_low"].as_f64().unwrap() < k1["nps"].as_f64().unwrap());
    assert_eq!(
        k1["csi"].as_f64(),
        Some(7.5),
        "mean on the survey's 1–9 scale"
    );
    assert_eq!(k1["csi_100"].as_f64(), Some(81.25));
    assert!(k1["ces"].is_null(), "no CES answers: null");
    assert_eq!(k1["too_few"], true);
    assert_eq!(k1["label"], "Иван Смирнов");
    let k2 = groups.iter().find(|g| g["key"] == "K-2").unwrap();
    assert_eq!(
        (k2["responses"].as_i64(), k2["refusals"].as_i64()),
        (Some(0), Some(1))
    );
    assert!(k2["nps"].is_null());

    // The strict reading counts refusals as detractors.
    let (_, all) = app
        .get_json(
            "/api/v1/metrics?from=2026-11-01&to=2026-11-30&refusal_policy=count_as_detractors",
            &integration,
        )
        .await;
    assert_eq!(all["groups"][0]["key"], "all");
    assert_eq!(all["groups"][0]["nps"].as_f64(), Some(0.0), "{all}");
    assert_eq!(all["refusal_policy"], "count_as_detractors");
    // By week: the Monday of the answers' week, in the deployment's zone.
    let (_, weeks) = app
        .get_json(
            "/api/v1/metrics?from=2026-11-01&to=2026-11-30&group_by=week",
            &integration,
        )
        .await;
    assert_eq!(weeks["groups"][0]["key"], "2026-11-02", "{weeks}");
    // Each courier's trend: a group and a time within it.
    let (_, trend) = app
        .get_json(
            "/api/v1/metrics?from=2026-11-01&to=2026-11-30&group_by=courier,week",
            &integration,
        )
        .await;
    assert_eq!(trend["group_by"], "courier,week");
    let k1 = trend["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "K-1")
        .unwrap();
    assert_eq!(
        (k1["period"].as_str(), k1["responses"].as_i64()),
        (Some("2026-11-02"), Some(3)),
        "{trend}"
    );
    assert_eq!(
        app.get_json("/api/v1/metrics?group_by=week,courier", &integration)
            .await
            .0,
        422
    );
    // Outside the period: nothing.
    let (_, none) = app
        .get_json(
            "/api/v1/metrics?from=2026-10-01&to=2026-10-31",
            &integration,
        )
        .await;
    assert_eq!(
        none["groups"][0]["responses"].as_i64().unwrap_or(0),
        0,
        "{none}"
    );

    let (status, bad) = app
        .get_json("/api/v1/metrics?group_by=planet", &integration)
        .await;
    assert_eq!(status, 422);
    assert!(
        bad["detail"].as_str().unwrap().contains("group_by"),
        "{bad}"
    );
    let terminal = app.token("terminal", Some("K-1")).await;
    assert_eq!(app.get_json("/api/v1/metrics", &terminal).await.0, 403);
    let r = app
        .anonymous()
        .get(app.at("/api/v1/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

async fn the_dashboard_shows_scores_breakdowns_and_downloads(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let mut kazan = order_json("A-3", "+79161234569", "K-2");
    kazan["city"] = json!("Казань");
    let integration = with_orders_and_survey(
        &app,
        vec![
            order_json("A-1", "+79161234567", "K-1"),
            order_json("A-2", "+79161234568", "K-1"),
            kazan,
        ],
    )
    .await;
    let batch = json!([
        response(
            "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d401",
            "A-1",
            "completed",
            &json!([{"question_id": "nps", "value": 10}, {"question_id": "csi", "value": 8}])
        ),
        response(
            "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d402",
            "A-2",
            "refused",
            &json!([])
        ),
        response(
            "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d403",
            "A-3",
            "completed",
            &json!([{"question_id": "nps", "value": 2}, {"question_id": "why", "value": ["late"]}])
        ),
    ]);
    assert_eq!(
        post(&app, &integration, "/api/v1/responses", &batch)
            .await
            .0,
        201
    );

    let operator = app.signed_in("operator").await;
    let page = app
        .page(&operator, "/dashboard?from=2026-11-01&to=2026-11-30")
        .await;
    assert!(
        page.contains("Москва") && page.contains("Казань"),
        "by city by default: {page}"
    );
    assert!(page.contains("too few answers"), "small groups are marked");
    assert!(
        page.contains("NPS by day") && page.contains("<svg"),
        "the trend, drawn on the server: {page}"
    );
    assert!(
        page.contains("0.0") || page.contains("+0.0"),
        "NPS of the period: (1 − 1) / 2: {page}"
    );
    assert!(
        page.contains("50.0%"),
        "refusal rate 1 of 3 … response rate 2 of 3 = 66.7%: {page}"
    );
    let page = app.page(&operator, "/dashboard?from=2026-11-01&to=2026-11-30&city=%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0&group_by=courier").await;
    assert!(
        page.contains("<span class=\"muted small nowrap\">K-1</span>")
            && !page.contains("<span class=\"muted small nowrap\">K-2</span>"),
        "filtered to one city, by courier: {page}"
    );
    assert!(page.contains("+100.0"), "{page}");
    let page = app
        .page(&operator, "/dashboard?from=2026-11-30&to=2026-11-01")
        .await;
    assert!(page.contains("is after to"), "a bad period says so: {page}");

    let csv = operator
        .get(app.at("/dashboard/report.csv?from=2026-11-01&to=2026-11-30&group_by=city"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("doorstep-city-2026-11-01-2026-11-30.csv"));
    let body = csv.text().await.unwrap();
    assert!(
        body.starts_with("key,label,responses") && body.contains("Казань,Казань,1,0,"),
        "{body}"
    );
    let xlsx = operator
        .get(app.at("/dashboard/report.xlsx?from=2026-11-01&to=2026-11-30"))
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), 200);
    assert!(
        xlsx.bytes().await.unwrap().starts_with(b"PK"),
        "an XLSX is a zip"
    );
    let r = app
        .anonymous()
        .get(app.at("/dashboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "signed out: to the sign-in page");
}

async fn new_answers_are_announced_as_events(backend: &str) {
    use futures_util::StreamExt;
    let app = TestApp::spawn(backend).await;
    let integration =
        with_orders_and_survey(&app, vec![order_json("A-1", "+79161234567", "K-1")]).await;
    let terminal = app.token("terminal", Some("K-1")).await;
    assert_eq!(app.get_json("/api/v1/events", &terminal).await.0, 403);
    let stream = app
        .anonymous()
        .get(app.at("/api/v1/events"))
        .bearer_auth(&integration)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut body = stream.bytes_stream();
    let batch = json!([response(
        "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d501",
        "A-1",
        "completed",
        &json!([{"question_id": "nps", "value": 9}])
    )]);
    assert_eq!(
        post(&app, &terminal, "/api/v1/responses", &batch).await.0,
        201
    );
    // Other events may come first (the survey's publication, numbered
    // after its commit on PostgreSQL): read until the answer's.
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3);
    while !seen
        .split("\n\n")
        .any(|block| block.contains("event: response.created") && block.contains("\"nps\""))
    {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("an event within 3 s")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: response.created"), "{seen}");
    assert!(
        seen.contains("\"order_number\":\"A-1\"") && seen.contains("\"nps\":9"),
        "{seen}"
    );
    assert!(!seen.contains("+7916"), "no personal data in events");
}

async fn a_couriers_page_shows_scores_signals_and_comments(backend: &str) {
    let app = TestApp::spawn(backend).await;
    let integration = with_orders_and_survey(
        &app,
        vec![
            order_json("A-1", "+79161234567", "K-1"),
            order_json("A-2", "+79161234568", "K-1"),
        ],
    )
    .await;
    let batch = json!([
        response(
            "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d601",
            "A-1",
            "completed",
            &json!([{"question_id": "nps", "value": 10}, {"question_id": "comment", "value": "Очень вежливый курьер"}])
        ),
        response(
            "0b7e4c1e-36a4-4c1f-9a43-0f3ab2b7d602",
            "A-2",
            "completed",
            &json!([{"question_id": "nps", "value": 3}, {"question_id": "why", "value": ["late"]}])
        ),
    ]);
    assert_eq!(
        post(&app, &integration, "/api/v1/responses", &batch)
            .await
            .0,
        201
    );
    let quality = app.signed_in("quality").await;
    let fleet = app
        .page(&quality, "/couriers?from=2026-11-01&to=2026-11-30")
        .await;
    assert!(fleet.contains("href=\"/couriers/K-1\""), "{fleet}");
    let page = app
        .page(&quality, "/couriers/K-1?from=2026-11-01&to=2026-11-30")
        .await;
    assert!(page.contains("Иван Смирнов · K-1"), "{page}");
    assert!(
        page.contains("Очень вежливый курьер"),
        "the latest comments"
    );
    assert!(
        page.contains("Too few completed surveys"),
        "two surveys are not compared with the fleet"
    );
    assert!(
        page.contains("<svg") && page.contains("0.0"),
        "trend and NPS (1 − 1) / 2: {page}"
    );
    let r = quality.get(app.at("/couriers/K-404")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let operator = app.signed_in("operator").await;
    let r = operator.get(app.at("/couriers/K-1")).send().await.unwrap();
    assert_eq!(r.status(), 403);
}
