//! A smoke test in real headless Chromium through chromedriver: sign in,
//! open Orders, search. Under CI a missing browser is a failure.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::{order_json, TestApp, PASSWORD};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromedriver() -> Option<(Driver, u16)> {
    let path = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(path) = path else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromedriver is missing; the test command installs it (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipping the browser test: chromedriver is not installed (run the README's test command)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    Some((Driver(child), port))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_open_orders_and_search_in_chromium() {
    let Some((_driver, port)) = chromedriver() else {
        return;
    };
    let app = TestApp::spawn("sqlite").await;
    app.add_user("anna", "operator").await;
    let token = app.token("integration", None).await;
    let batch = json!({"orders": [order_json("A-100", "+79161234567", "K-1"), order_json("B-200", "+79160000000", "K-2")]});
    assert_eq!(app.post_orders(&token, &batch).await.status(), 200);

    let c = browser(port).await;

    c.goto(&app.at("/orders")).await.unwrap();
    assert!(
        c.current_url().await.unwrap().path().starts_with("/login"),
        "signed out: the sign-in page"
    );
    c.find(Locator::Css("input[name=login]"))
        .await
        .unwrap()
        .send_keys("anna")
        .await
        .unwrap();
    c.find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    click(&c, Locator::Css("button[type=submit].primary")).await;
    c.wait()
        .for_element(Locator::Css("table.data"))
        .await
        .unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/orders");
    let body = text(&c, Locator::Css("main")).await;
    assert!(body.contains("A-100") && body.contains("B-200"), "{body}");

    let search = c.find(Locator::Css("input[name=q]")).await.unwrap();
    search.send_keys("8 916 123-45-67").await.unwrap();
    click(&c, Locator::Css("form.filters button[type=submit]")).await;
    c.wait()
        .for_element(Locator::XPath("//p[contains(., '1 order found')]"))
        .await
        .unwrap();
    assert!(c
        .current_url()
        .await
        .unwrap()
        .query()
        .unwrap_or("")
        .contains("q=8+916+123-45-67"));
    let body = text(&c, Locator::Css("main")).await;
    assert!(body.contains("A-100") && !body.contains("B-200"), "{body}");
    click(&c, Locator::LinkText("A-100")).await;
    let heading = text_when_there(&c, Locator::Css("h1")).await;
    assert_eq!(heading, "Order A-100");
    c.close().await.unwrap();
}

async fn click(c: &fantoccini::Client, at: Locator<'_>) {
    c.find(at).await.unwrap().click().await.unwrap();
}

async fn text(c: &fantoccini::Client, at: Locator<'_>) -> String {
    c.find(at).await.unwrap().text().await.unwrap()
}

/// The text of an element once it appears (after a navigation).
async fn text_when_there(c: &fantoccini::Client, at: Locator<'_>) -> String {
    c.wait()
        .for_element(at)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A headless Chromium session through chromedriver on `port`.
async fn browser(port: u16) -> fantoccini::Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,900", "--lang=en"]}),
    );
    let webdriver = format!("http://127.0.0.1:{port}");
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util_connector())
            .capabilities(caps.clone())
            .connect(&webdriver)
            .await
        {
            Ok(c) => return c,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("chromedriver did not start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answer_a_link_survey_in_chromium() {
    let Some((_driver, port)) = chromedriver() else {
        return;
    };
    let app = TestApp::spawn("sqlite").await;
    let token = app.token("integration", None).await;
    let batch = json!({"orders": [order_json("A-100", "+79161234567", "K-1")]});
    assert_eq!(app.post_orders(&token, &batch).await.status(), 200);
    let survey = json!({"id": "door", "name": "Door", "questions": [
        {"id": "nps", "type": "nps", "text": {"en": "Would you recommend us?", "ru": "Порекомендуете нас?"}, "required": true},
        {"id": "why", "type": "multi_choice", "text": {"en": "What went wrong?"}, "options": [{"id": "late", "text": {"en": "Late"}}],
         "show_if": {"question": "nps", "max": 6}}
    ]});
    let r = app
        .anonymous()
        .post(app.at("/api/v1/surveys"))
        .bearer_auth(&token)
        .json(&survey)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let issued = doorstep::links::issue(&app.store, "A-100", None, 7)
        .await
        .unwrap();

    let c = browser(port).await;
    c.goto(&app.at(&format!("/s/{}", issued.token)))
        .await
        .unwrap();
    let why = c
        .find(Locator::Css("fieldset[data-question=why]"))
        .await
        .unwrap();
    assert!(
        !why.is_displayed().await.unwrap(),
        "hidden until the NPS answer calls for it"
    );
    click(&c, Locator::XPath("//label[@class='point'][span='3']")).await;
    assert!(
        why.is_displayed().await.unwrap(),
        "a detractor is asked what went wrong"
    );
    click(&c, Locator::Css("input[name='q.why'][value=late]")).await;
    click(&c, Locator::Css("button.primary")).await;
    let heading = text_when_there(&c, Locator::Css("h1")).await;
    assert!(
        heading == "Thank you!" || heading == "Спасибо!",
        "{heading}"
    );
    c.close().await.unwrap();

    let (response, answers) = &app.store.order_responses("A-100").await.unwrap()[0];
    assert_eq!(response.channel, "link");
    let ids: Vec<&str> = answers.iter().map(|a| a.question_id.as_str()).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(answers
        .iter()
        .any(|a| a.question_id == "why" && a.option_ids.as_deref() == Some("[\"late\"]")));
}

fn hyper_util_connector() -> hyper_util::client::legacy::connect::HttpConnector {
    hyper_util::client::legacy::connect::HttpConnector::new()
}
