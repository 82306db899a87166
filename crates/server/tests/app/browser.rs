//! A smoke test in real headless Chromium through chromedriver: sign in,
//! open Orders, search. Under CI a missing browser is a failure.

use std::io::Write as _;
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
        // Past the test harness's capture, so that it shows among the results.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED (a browser test): chromedriver is not installed; run the README's test command, which installs it"
        );
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

/// Clicks an element, scrolled to the middle of the window first so that
/// the sticky top bar never covers it.
async fn click(c: &fantoccini::Client, at: Locator<'_>) {
    let element = c.find(at).await.unwrap();
    c.execute(
        "arguments[0].scrollIntoView({block: 'center'});",
        vec![serde_json::to_value(&element).unwrap()],
    )
    .await
    .unwrap();
    element.click().await.unwrap();
}

async fn text(c: &fantoccini::Client, at: Locator<'_>) -> String {
    c.find(at).await.unwrap().text().await.unwrap()
}

/// The text of an element once it appears (after a navigation). The
/// element first found may still be the old page's, gone by the time its
/// text is asked for: then it is looked up again.
async fn text_when_there(c: &fantoccini::Client, at: Locator<'_>) -> String {
    let mut last = None;
    for _ in 0..50 {
        let element = c.wait().for_element(at).await.unwrap();
        match element.text().await {
            Ok(text) => return text,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{at:?} kept going stale: {last:?}");
}

/// A headless Chromium session through chromedriver on `port`.
async fn browser(port: u16) -> fantoccini::Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,900", "--lang=en",
                         // A fake microphone (a tone), granted without asking: the terminal's recordings.
                         "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]}),
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
    let issued = doorstep::app::survey::links::issue(&app.store, "A-100", None, 7)
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
    // The form's page may still be there for a moment after the click.
    let mut heading = String::new();
    for _ in 0..50 {
        heading = text_when_there(&c, Locator::Css("h1")).await;
        if heading == "Thank you!" || heading == "Спасибо!" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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

/// The browser's network: a TCP relay in front of the app that the test can
/// cut (every connection dropped, new ones closed at once) and restore.
struct Network {
    port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Network {
    async fn start(target: &str) -> Network {
        use std::sync::atomic::Ordering;
        let target = target.trim_start_matches("http://").to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (up2, links2) = (up.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                links2.lock().unwrap().push(task.abort_handle());
            }
        });
        Network { port, up, links }
    }

    fn at(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Evaluates `expression` in the page until it is true (or fails the test).
async fn until(c: &fantoccini::Client, expression: &str, what: &str) {
    for _ in 0..150 {
        let got = c
            .execute(&format!("return !!({expression});"), vec![])
            .await
            .unwrap_or(serde_json::Value::Bool(false));
        if got == serde_json::Value::Bool(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let screen = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap_or_default();
    panic!("waited 15 s for {what}; the screen says: {screen}");
}

/// With `DOORSTEP_SCREENSHOTS=DIR`, saves what the browser shows as
/// `DIR/name.png`, to look at the screens a test went through.
async fn snap(c: &fantoccini::Client, name: &str) {
    if let Ok(dir) = std::env::var("DOORSTEP_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

/// The count of finished surveys the terminal still has to send.
async fn waiting(c: &fantoccini::Client) -> i64 {
    until(c, "document.getElementById('waiting')", "the sync status").await;
    c.execute(
        "return Number(document.getElementById('waiting').dataset.count);",
        vec![],
    )
    .await
    .unwrap()
    .as_i64()
    .unwrap()
}

/// Starts the survey of `order` from the terminal's home screen.
async fn start_survey(c: &fantoccini::Client, order: &str) {
    until(
        c,
        "document.querySelector('input[name=order]')",
        "the home screen",
    )
    .await;
    let input = c.find(Locator::Css("input[name=order]")).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(order).await.unwrap();
    click(c, Locator::Css("form button[type=submit]")).await;
    until(c, "document.getElementById('begin')", "the survey's set-up").await;
    click(c, Locator::Id("begin")).await;
    until(
        c,
        "document.querySelector('[data-question=nps]')",
        "the first question",
    )
    .await;
}

/// Opens the terminal at `url` and enrols it with `code`.
async fn enrol(c: &fantoccini::Client, url: &str, code: &str) {
    c.goto(url).await.unwrap();
    until(
        c,
        "document.querySelector('input[name=code]')",
        "the enrolment form",
    )
    .await;
    snap(c, "enrol").await;
    c.find(Locator::Css("input[name=code]"))
        .await
        .unwrap()
        .send_keys(code)
        .await
        .unwrap();
    click(c, Locator::Css("form button[type=submit]")).await;
}

/// Courier K-1's orders `numbers`, delivered now, and `survey` published:
/// what a terminal test starts from. Returns an enrolment code for K-1.
async fn courier_day(app: &TestApp, numbers: &[&str], survey: &serde_json::Value) -> String {
    let integration = app.token("integration", None).await;
    let now = jiff::Timestamp::now();
    let orders: Vec<serde_json::Value> = numbers
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut o = order_json(n, &format!("+7916123450{i}"), "K-1");
            o["promised_from"] = json!(now.to_string());
            o["promised_to"] = json!((now + jiff::SignedDuration::from_mins(30)).to_string());
            o["delivered_at"] = json!(now.to_string());
            o
        })
        .collect();
    assert_eq!(
        app.post_orders(&integration, &json!({ "orders": orders }))
            .await
            .status(),
        200
    );
    let r = app
        .anonymous()
        .post(app.at("/api/v1/surveys"))
        .bearer_auth(&integration)
        .json(survey)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let code = doorstep::security::enrollment_code();
    app.store
        .create_enrollment_code(
            &doorstep::security::secret_hash(&doorstep::security::normalize_code(&code)),
            "K-1",
            doorstep_store::now_millis() + 3_600_000,
        )
        .await
        .unwrap();
    code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_surveys_offline_and_sends_each_answer_once() {
    let Some((_driver, port)) = chromedriver() else {
        return;
    };
    let app = TestApp::spawn("sqlite").await;
    let survey = json!({"id": "door", "name": "Door", "timeout_seconds": 6, "questions": [
        {"id": "nps", "type": "nps", "text": {"en": "Would you recommend us?", "ru": "Порекомендуете нас?"}, "required": true},
        {"id": "ok", "type": "consent", "text": {"en": "May we take a photo of the parcel?", "ru": "Можно сфотографировать посылку?"}},
        {"id": "photo", "type": "photo", "text": {"en": "The parcel", "ru": "Посылка"}, "show_if": {"question": "ok", "equals": true}},
        {"id": "comment", "type": "text", "text": {"en": "Anything else?", "ru": "Что-нибудь ещё?"}}
    ], "review": {"min_score": 9, "links": [{"id": "maps", "label": {"en": "Review us on Maps", "ru": "Отзыв на Картах"}, "url": "https://maps.example/review"}]}});
    let code = courier_day(&app, &["T-1", "T-2", "T-3"], &survey).await;
    let photo = app.data_dir.0.join("parcel.png");
    std::fs::write(&photo, crate::helpers::tiny_png()).unwrap();
    let network = Network::start(&app.url).await;

    let c = browser(port).await;
    // Enrol while online: the app, the day's orders and the surveys arrive.
    enrol(&c, &network.at("/terminal"), &code).await;
    until(
        &c,
        "document.querySelector('[data-order=\"T-3\"]')",
        "the day's orders",
    )
    .await;
    until(
        &c,
        "navigator.serviceWorker.controller",
        "the service worker to take the page",
    )
    .await;
    snap(&c, "home").await;

    network.cut();

    // 1. Completed, with a photo after consent, and a review link opened.
    start_survey(&c, "T-1").await;
    snap(&c, "nps").await;
    click(&c, Locator::Css("button[data-value='9']")).await;
    until(
        &c,
        "document.querySelector('[data-question=ok]')",
        "the consent question",
    )
    .await;
    snap(&c, "consent").await;
    click(&c, Locator::Css("button[data-value=yes]")).await;
    until(
        &c,
        "document.querySelector('[data-question=photo]')",
        "the photo question",
    )
    .await;
    c.execute(
        "document.querySelector('input[name=photo]').hidden = false;",
        vec![],
    )
    .await
    .unwrap();
    c.find(Locator::Css("input[name=photo]"))
        .await
        .unwrap()
        .send_keys(photo.to_str().unwrap())
        .await
        .unwrap();
    until(
        &c,
        "document.querySelector('img.preview')",
        "the photo's preview",
    )
    .await;
    snap(&c, "photo").await;
    click(&c, Locator::Id("next")).await;
    until(
        &c,
        "document.querySelector('[data-question=comment] textarea')",
        "the comment question",
    )
    .await;
    c.find(Locator::Css("textarea"))
        .await
        .unwrap()
        .send_keys("Quick and polite")
        .await
        .unwrap();
    click(&c, Locator::Id("next")).await;
    until(
        &c,
        "document.querySelector('[data-link=maps]')",
        "the review request",
    )
    .await;
    snap(&c, "review").await;
    let tabs = c.windows().await.unwrap().len();
    click(&c, Locator::Css("[data-link=maps]")).await;
    until(&c, "document.getElementById('done')", "the thanks").await;
    for handle in c.windows().await.unwrap().into_iter().skip(tabs) {
        let _ = handle; // the review site opened in its own tab; nothing to check offline
    }
    click(&c, Locator::Id("done")).await;
    assert_eq!(waiting(&c).await, 1, "kept on the device while offline");
    snap(&c, "offline-home").await;

    // A reload with no network: the app opens from the service worker and
    // still holds the answer.
    c.refresh().await.unwrap();
    assert_eq!(waiting(&c).await, 1);

    // 2. Refused at the door.
    start_survey(&c, "T-2").await;
    click(&c, Locator::Id("refuse")).await;
    until(&c, "document.getElementById('done')", "the thanks").await;
    click(&c, Locator::Id("done")).await;
    assert_eq!(waiting(&c).await, 2);

    // 3. Left to time out, with a reload in the middle.
    start_survey(&c, "T-3").await;
    click(&c, Locator::Css("button[data-value='3']")).await;
    until(
        &c,
        "document.querySelector('[data-question=ok]')",
        "the consent question",
    )
    .await;
    c.refresh().await.unwrap();
    until(
        &c,
        "document.getElementById('resume')",
        "the offer to resume",
    )
    .await;
    snap(&c, "resume").await;
    until(
        &c,
        "document.querySelector('.alert.warn:not([hidden])')",
        "the time-out",
    )
    .await;
    assert_eq!(waiting(&c).await, 3);
    assert_eq!(
        app.store.count_responses().await.unwrap(),
        0,
        "nothing reached the server yet"
    );

    // The network is back: everything goes up, once.
    network.restore();
    click(&c, Locator::Css("#sync button")).await;
    until(&c, "document.getElementById('waiting') && document.getElementById('waiting').dataset.count === '0'", "every answer sent").await;
    assert_eq!(app.store.count_responses().await.unwrap(), 3);
    let one = |n: &'static str| {
        let store = app.store.clone();
        async move { store.order_responses(n).await.unwrap().remove(0) }
    };
    let (r1, a1) = one("T-1").await;
    assert_eq!(
        (
            r1.status.as_str(),
            r1.channel.as_str(),
            r1.mode.as_deref(),
            r1.review_opened.as_deref()
        ),
        ("completed", "terminal", Some("handover"), Some("maps"))
    );
    let answer = |answers: &[doorstep_store::StoredAnswer], q: &str| {
        answers.iter().find(|a| a.question_id == q).cloned()
    };
    assert_eq!(answer(&a1, "nps").unwrap().number_value, Some(9.0));
    assert_eq!(answer(&a1, "ok").unwrap().flag, Some(true));
    assert_eq!(
        answer(&a1, "comment").unwrap().text_value.as_deref(),
        Some("Quick and polite")
    );
    let photo_id = answer(&a1, "photo").unwrap().text_value.unwrap();
    let kept = app
        .store
        .attachment(&photo_id)
        .await
        .unwrap()
        .expect("the photo was uploaded");
    assert_eq!(kept.kind, "photo");
    let (r2, a2) = one("T-2").await;
    assert_eq!((r2.status.as_str(), a2.len()), ("refused", 0));
    let (r3, a3) = one("T-3").await;
    assert_eq!(r3.status, "timed_out");
    assert_eq!(a3.len(), 1, "the answer given before the pause is kept");
    assert_eq!(answer(&a3, "nps").unwrap().number_value, Some(3.0));

    // As if the replies had been lost: the terminal sends all three again,
    // and the server stores nothing new.
    c.execute_async(
        "const done = arguments[arguments.length - 1];
         const open = indexedDB.open('doorstep-terminal');
         open.onsuccess = () => {
           const tx = open.result.transaction('sessions', 'readwrite');
           const store = tx.objectStore('sessions');
           store.getAll().onsuccess = (e) => { for (const s of e.target.result) { s.sent = false; store.put(s); } };
           tx.oncomplete = () => done(true);
         };",
        vec![],
    )
    .await
    .unwrap();
    c.refresh().await.unwrap();
    until(&c, "document.getElementById('waiting') && document.getElementById('waiting').dataset.count === '0'", "the re-sent answers confirmed").await;
    assert_eq!(
        app.store.count_responses().await.unwrap(),
        3,
        "sending again adds nothing"
    );

    // Items refused at the door: saved on the device, sent once.
    c.find(Locator::Css("input[name=order]"))
        .await
        .unwrap()
        .send_keys("T-2")
        .await
        .unwrap();
    click(&c, Locator::Id("refusal")).await;
    until(
        &c,
        "document.getElementById('refusal-form')",
        "the refusal form",
    )
    .await;
    c.find(Locator::Css("#refusal-form input[name=item]"))
        .await
        .unwrap()
        .send_keys("Молоко 1 л")
        .await
        .unwrap();
    c.execute(
        "document.querySelector('#refusal-form select[name=reason]').value = 'damaged';",
        vec![],
    )
    .await
    .unwrap();
    snap(&c, "refusal").await;
    click(&c, Locator::Id("refusal-save")).await;
    until(
        &c,
        "document.getElementById('my-scores')",
        "home after the refusal",
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let got = app.store.refused_items(&["T-2"]).await.unwrap();
        if !got.is_empty() {
            assert_eq!(
                (got.len(), got[0].item.as_str(), got[0].reason.as_str()),
                (1, "Молоко 1 л", "damaged")
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the refusal never arrived"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // "My scores": online, the courier's week so far and the promoter's
    // words; offline after a reload, the same from the device.
    click(&c, Locator::Id("my-scores")).await;
    until(
        &c,
        "document.getElementById('compliments') && document.getElementById('compliments').textContent.includes('Quick and polite')",
        "the courier's scores and the promoter's words",
    )
    .await;
    snap(&c, "my-scores").await;
    network.cut();
    c.refresh().await.unwrap();
    until(
        &c,
        "document.getElementById('my-scores')",
        "the home screen offline",
    )
    .await;
    click(&c, Locator::Id("my-scores")).await;
    until(
        &c,
        "document.getElementById('scores-note') && document.getElementById('compliments') && document.querySelector('tr.so-far')",
        "the scores kept on the device, marked as counted earlier",
    )
    .await;
    snap(&c, "my-scores-offline").await;
    c.close().await.unwrap();
}

/// Signs `login` in through the sign-in page.
async fn sign_in(c: &fantoccini::Client, app: &TestApp, login: &str, then: &str) {
    c.goto(&app.at(&format!("/login?next={then}")))
        .await
        .unwrap();
    c.find(Locator::Css("input[name=login]"))
        .await
        .unwrap()
        .send_keys(login)
        .await
        .unwrap();
    c.find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    click(c, Locator::Css("button[type=submit].primary")).await;
}

/// The editor's definition as it stands.
async fn definition(c: &fantoccini::Client) -> serde_json::Value {
    let text = c
        .execute(
            "return document.querySelector('textarea[name=definition]').value;",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_str(text.as_str().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quality_manager_builds_a_survey_in_chromium() {
    let Some((_driver, port)) = chromedriver() else {
        return;
    };
    let app = TestApp::spawn("sqlite").await;
    app.add_user("vera", "quality").await;
    let c = browser(port).await;
    sign_in(&c, &app, "vera", "/surveys/new").await;
    until(
        &c,
        "document.querySelectorAll('.ed-question').length === 3",
        "the editor with the starter questions",
    )
    .await;
    snap(&c, "editor").await;

    c.find(Locator::Css("input[name=id]"))
        .await
        .unwrap()
        .send_keys("door-test")
        .await
        .unwrap();
    c.find(Locator::XPath("//label[span='Name']/input"))
        .await
        .unwrap()
        .send_keys("Door test")
        .await
        .unwrap();
    // A scale question, written in both languages, moved above the comment.
    click(&c, Locator::Css("[data-add=scale]")).await;
    until(
        &c,
        "document.querySelectorAll('.ed-question').length === 4",
        "the new question",
    )
    .await;
    let card = "(//section[contains(@class,'ed-question')])[4]";
    c.find(Locator::XPath(&format!(
        "{card}//fieldset[legend='Question']//label[span='en']/input"
    )))
    .await
    .unwrap()
    .send_keys("How fast was it?")
    .await
    .unwrap();
    c.find(Locator::XPath(&format!(
        "{card}//fieldset[legend='Question']//label[span='ru']/input"
    )))
    .await
    .unwrap()
    .send_keys("Насколько быстро?")
    .await
    .unwrap();
    click(
        &c,
        Locator::XPath(&format!("{card}//button[@aria-label='Move up']")),
    )
    .await;
    // The "what went wrong" question goes.
    click(
        &c,
        Locator::XPath(
            "(//section[contains(@class,'ed-question')])[2]//button[@aria-label='Remove']",
        ),
    )
    .await;
    until(
        &c,
        "document.querySelectorAll('.ed-question').length === 3",
        "the question removed",
    )
    .await;
    let d = definition(&c).await;
    let ids: Vec<&str> = d["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["type"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["nps", "scale", "text"], "{d}");
    assert_eq!(d["questions"][1]["text"]["en"], "How fast was it?");
    let preview = text(&c, Locator::Id("preview")).await;
    assert!(
        preview.contains("How fast was it?"),
        "the preview follows: {preview}"
    );
    click(
        &c,
        Locator::XPath("//div[@class='ed-langs']/button[.='ru']"),
    )
    .await;
    let preview = text(&c, Locator::Id("preview")).await;
    assert!(
        preview.contains("Насколько быстро?"),
        "in each language: {preview}"
    );
    snap(&c, "editor-changed").await;

    click(&c, Locator::Css("#survey-form button[type=submit].primary")).await;
    until(
        &c,
        "location.pathname === '/surveys/door-test'",
        "the published survey",
    )
    .await;
    let body = text(&c, Locator::Css("main")).await;
    assert!(
        body.contains("Version 1 is published") && body.contains("How fast was it?"),
        "{body}"
    );
    let stored = app.store.survey("door-test", None).await.unwrap().unwrap();
    let d: serde_json::Value = serde_json::from_str(&stored.definition).unwrap();
    assert_eq!(d["questions"][1]["measures"], "csi");
    assert_eq!(d["name"], "Door test");
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_dashboard_updates_itself_when_an_answer_arrives() {
    let Some((_driver, port)) = chromedriver() else {
        return;
    };
    let app = TestApp::spawn("sqlite").await;
    let integration = app.token("integration", None).await;
    let now = jiff::Timestamp::now();
    let mut orders = Vec::new();
    for n in ["L-1", "L-2"] {
        let mut o = order_json(
            n,
            if n == "L-1" {
                "+79160000001"
            } else {
                "+79160000002"
            },
            "K-1",
        );
        o["promised_from"] = json!(now.to_string());
        o["promised_to"] = json!((now + jiff::SignedDuration::from_mins(30)).to_string());
        orders.push(o);
    }
    assert_eq!(
        app.post_orders(&integration, &json!({ "orders": orders }))
            .await
            .status(),
        200
    );
    nps_survey(&app, &integration).await;
    let answer = |id: &str, order: &str, nps: u8| {
        json!([{"id": id, "order_number": order, "survey_id": "door", "status": "completed",
                "started_at": now.to_string(), "finished_at": now.to_string(),
                "answers": [{"question_id": "nps", "value": nps}]}])
    };
    let post = |body: serde_json::Value| {
        app.anonymous()
            .post(app.at("/api/v1/responses"))
            .bearer_auth(&integration)
            .json(&body)
            .send()
    };
    assert_eq!(
        post(answer("6c1f0f4e-0000-4000-8000-000000000101", "L-1", 10))
            .await
            .unwrap()
            .status(),
        201
    );

    app.add_user("vera", "quality").await;
    let c = browser(port).await;
    sign_in(&c, &app, "vera", "/dashboard").await;
    until(&c, "document.querySelector('.tile-value') && document.getElementById('live').classList.contains('on')", "the live dashboard").await;
    let nps = text(&c, Locator::Css(".tile-value")).await;
    assert_eq!(nps, "+100.0", "one promoter");
    // A detractor's answer arrives; the open page follows without a reload.
    c.execute("window.notReloaded = true;", vec![])
        .await
        .unwrap();
    assert_eq!(
        post(answer("6c1f0f4e-0000-4000-8000-000000000102", "L-2", 0))
            .await
            .unwrap()
            .status(),
        201
    );
    until(
        &c,
        "document.querySelector('.tile-value').textContent.startsWith('0.0')",
        "NPS (1 − 1) / 2 = 0",
    )
    .await;
    assert_eq!(
        c.execute("return window.notReloaded === true;", vec![])
            .await
            .unwrap(),
        serde_json::Value::Bool(true)
    );
    snap(&c, "dashboard-live").await;
    c.close().await.unwrap();
}

/// Publishes a one-question NPS survey `door`.
async fn nps_survey(app: &TestApp, integration: &str) {
    let survey = json!({"id": "door", "name": "Door", "questions": [{"id": "nps", "type": "nps", "text": "NPS"}]});
    let r = app
        .anonymous()
        .post(app.at("/api/v1/surveys"))
        .bearer_auth(integration)
        .json(&survey)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

/// The show-if fixtures the Rust rule is tested against
/// (`crates/domain/tests/show_if.json`), run through the terminal's own
/// script in Chromium: both must show the same questions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminals_show_if_rule_agrees_with_the_shared_fixtures_in_chromium() {
    let Some((_driver, port)) = chromedriver() else {
        return;
    };
    let app = TestApp::spawn("sqlite").await;
    let fixtures: serde_json::Value =
        serde_json::from_str(include_str!("../../../domain/tests/show_if.json")).unwrap();
    let c = browser(port).await;
    c.goto(&app.at("/terminal/")).await.unwrap();
    let mut shown = serde_json::Value::Null;
    for _ in 0..50 {
        shown = c
            .execute(
                "const [fx] = arguments; if (typeof DoorstepShowIf === 'undefined') return null; \
                 return fx.cases.map((k) => DoorstepShowIf.shown(fx.survey, k.answers).shown.map((q) => q.id));",
                vec![fixtures.clone()],
            )
            .await
            .unwrap();
        if !shown.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cases = fixtures["cases"].as_array().unwrap();
    let shown = shown
        .as_array()
        .expect("the terminal's show-if script loaded");
    assert_eq!(shown.len(), cases.len());
    for (case, got) in cases.iter().zip(shown) {
        assert_eq!(got, &case["shown"], "{}", case["name"]);
    }
    c.close().await.unwrap();
}

/// The closed loop in Chromium: the dispatcher's open queue shows an
/// unhappy answer as it arrives (no reload, the tab's title counts it),
/// the dispatcher claims it and hands it to support; the case page offers
/// the late category's playbook with its amount; one click credits the
/// bonus account and the balance shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_and_an_operator_close_the_loop_in_chromium() {
    let Some((_driver, port)) = chromedriver() else {
        return;
    };
    let app = TestApp::spawn("sqlite").await;
    let integration = app.token("integration", None).await;
    assert_eq!(
        app.post_orders(
            &integration,
            &json!([order_json("A-7", "+79161234567", "K-1")])
        )
        .await
        .status(),
        200
    );
    nps_survey(&app, &integration).await;
    app.add_user("dina", "dispatcher").await;
    let c = browser(port).await;
    sign_in(&c, &app, "dina", "/dispatch").await;
    until(
        &c,
        "document.getElementById('live') && document.getElementById('live').classList.contains('on')",
        "the live queue",
    )
    .await;
    c.execute("window.notReloaded = true;", vec![])
        .await
        .unwrap();
    let now = jiff::Timestamp::now().to_string();
    let answer = json!([{"id": "6c1f0f4e-0000-4000-8000-000000000201", "order_number": "A-7", "survey_id": "door",
        "status": "completed", "started_at": now, "finished_at": now,
        "answers": [{"question_id": "nps", "value": 2}]}]);
    let r = app
        .anonymous()
        .post(app.at("/api/v1/responses"))
        .bearer_auth(&integration)
        .json(&answer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    until(
        &c,
        "document.querySelector('#queue-rows') && document.querySelector('#queue-rows').textContent.includes('NPS 2')",
        "the incident in the open queue",
    )
    .await;
    assert_eq!(
        c.execute("return window.notReloaded === true;", vec![])
            .await
            .unwrap(),
        serde_json::Value::Bool(true),
        "arrived without a reload"
    );
    snap(&c, "dispatch-live").await;
    click(&c, Locator::Css("#queue-rows button[type=submit]")).await;
    until(&c, "location.pathname.startsWith('/dispatch/') && !!document.querySelector('form[action$=\"/case\"]')", "the claimed incident").await;
    c.execute(
        "document.querySelector('form[action$=\"/case\"] select[name=category]').value = 'late';",
        vec![],
    )
    .await
    .unwrap();
    click(
        &c,
        Locator::Css("form[action$='/case'] button[type=submit]"),
    )
    .await;
    until(
        &c,
        "location.pathname.startsWith('/cases/')",
        "the case it became",
    )
    .await;
    // The late category's first remedy: a 300.00 bonus credit.
    let amount = c
        .execute(
            "return document.querySelector('form.remedy input[name=amount]').value;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(amount, json!("300.00"));
    click(&c, Locator::Css("form.remedy button[type=submit]")).await;
    until(
        &c,
        "location.search.includes('done=remedy') && document.body.textContent.includes('300.00 RUB')",
        "the credit and the balance",
    )
    .await;
    snap(&c, "case-credited").await;
    let balance = app
        .get_json("/api/v1/customers/+79161234567/ledger", &integration)
        .await
        .1;
    assert_eq!(balance["balance"], 30000);
    c.close().await.unwrap();
}

crate::on_both_backends!(a_customer_and_an_operator_chat_live_in_chromium);

/// How soon one side of a chat must see the other's message in this test:
/// a debug build sharing two cores with the rest of the suite (the
/// release build's latency is measured by `doorstep-bench chat`).
const SEEN_WITHIN: Duration = Duration::from_secs(2);

/// How long until `expression` holds in `c`'s page (checked every 25 ms),
/// or `None` after `limit`.
async fn seen_within(
    c: &fantoccini::Client,
    expression: &str,
    limit: Duration,
) -> Option<Duration> {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        let got = c
            .execute(&format!("return !!({expression});"), vec![])
            .await
            .unwrap_or(serde_json::Value::Bool(false));
        if got == serde_json::Value::Bool(true) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    None
}

/// The customer opens the case's status page, the operator its page in
/// the console (on another server); each sees the other typing, then the
/// other's message appear
/// without reloading within a second; the operator resolves the case; the
/// customer rates it 2 — a support-survey answer in the scores, and a
/// call-back in the dispatcher's queue.
async fn a_customer_and_an_operator_chat_live_in_chromium(backend: &str) {
    let Some((_driver, port)) = chromedriver() else {
        return;
    };
    let a = TestApp::spawn(backend).await;
    let b = a.beside().await;
    let integration =
        crate::surveys::with_orders_and_survey(&a, vec![order_json("A-7", "+79161234567", "K-1")])
            .await;
    let (status, opened) = crate::surveys::post(&a, &integration, "/api/v1/cases",
        &json!({"channel": "chat", "category": "late", "order_number": "A-7", "text": "Where is my order?"})).await;
    assert_eq!(status, 201, "{opened}");
    let url = opened["status_url"].as_str().unwrap();
    let path = &url[url.find("/c/").unwrap()..];
    let number = opened["number"].as_i64().unwrap();
    a.add_user("olga", "operator").await;

    let operator = browser(port).await;
    operator.goto(&a.at("/login")).await.unwrap();
    operator
        .find(Locator::Css("input[name=login]"))
        .await
        .unwrap()
        .send_keys("olga")
        .await
        .unwrap();
    operator
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    click(&operator, Locator::Css("button[type=submit].primary")).await;
    operator
        .wait()
        .for_element(Locator::Css("table.data"))
        .await
        .unwrap();
    operator
        .goto(&a.at(&format!("/cases/{number}")))
        .await
        .unwrap();
    until(
        &operator,
        "document.querySelector('#live.on')",
        "the case page to follow its events",
    )
    .await;

    let customer = browser(port).await;
    customer.goto(&b.at(path)).await.unwrap();
    until(
        &customer,
        "document.querySelector('#live.on')",
        "the status page to follow its events",
    )
    .await;
    let page = text(&customer, Locator::Css("main")).await;
    assert!(
        page.contains(&format!("Your request No. {number}")) && page.contains("Where is my order?"),
        "{page}"
    );

    // The customer writes (server B); the operator's page (server A) shows it.
    customer
        .find(Locator::Css("#chat-text"))
        .await
        .unwrap()
        .send_keys("The courier is not answering the phone")
        .await
        .unwrap();
    until(
        &operator,
        "!document.querySelector('#typing').hidden",
        "the customer's typing shown on the case page",
    )
    .await;
    click(&customer, Locator::Css("#chat-form button")).await;
    let took = seen_within(
        &operator,
        "document.querySelector('#timeline').innerText.includes('The courier is not answering the phone')",
        Duration::from_secs(5),
    )
    .await
    .expect("the operator sees the customer's message");
    assert!(took < SEEN_WITHIN, "the operator saw it after {took:?}");
    until(
        &customer,
        "document.querySelector('#messages').innerText.includes('not answering')",
        "the customer's own message",
    )
    .await;
    assert_eq!(
        customer
            .execute("return document.querySelector('#chat-text').value", vec![])
            .await
            .unwrap(),
        json!(""),
        "the box is emptied for the next message"
    );

    // The operator answers from the case; the customer's page shows it.
    operator
        .find(Locator::Css("#reply-text"))
        .await
        .unwrap()
        .send_keys("He is two minutes away, sorry for the wait")
        .await
        .unwrap();
    until(
        &customer,
        "!document.querySelector('#typing').hidden",
        "the operator's typing shown on the status page",
    )
    .await;
    click(
        &operator,
        Locator::XPath("//textarea[@id='reply-text']/ancestor::form//button[@type='submit']"),
    )
    .await;
    let took = seen_within(
        &customer,
        "document.querySelector('#messages').innerText.includes('two minutes away')",
        Duration::from_secs(5),
    )
    .await
    .expect("the customer sees the reply");
    assert!(took < SEEN_WITHIN, "the customer saw it after {took:?}");

    // Resolved: the customer's page asks how it went, without a reload.
    until(
        &operator,
        "document.querySelector('button[name=status][value=resolved]')",
        "the status buttons",
    )
    .await;
    click(
        &operator,
        Locator::Css("button[name=status][value=resolved]"),
    )
    .await;
    until(
        &customer,
        "document.querySelector('#rating')",
        "the rating form on the customer's page",
    )
    .await;
    click(
        &customer,
        Locator::XPath("//form[@id='rating']//label[@class='point'][span='2']"),
    )
    .await;
    click(&customer, Locator::Css("#rating button.primary")).await;
    until(
        &customer,
        "document.body.innerText.includes('Thank you for your answer (2 of 5)')",
        "the thanks",
    )
    .await;

    let case = a.store.case_by_number(number).await.unwrap().unwrap();
    assert_eq!(case.csat, Some(2));
    let (_, scores) = a
        .get_json("/api/v1/metrics?group_by=channel", &integration)
        .await;
    assert!(
        scores["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["key"] == "support" && g["responses"] == 1),
        "the answer is in the scores: {scores}"
    );
    let (_, incidents) = a
        .get_json("/api/v1/incidents?status=open", &integration)
        .await;
    assert!(
        incidents["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["order_number"] == "A-7"),
        "a call-back for the low CSAT: {incidents}"
    );
    customer.close().await.unwrap();
    operator.close().await.unwrap();
}

/// Waits up to 15 s for `check` to find something in the store.
async fn stored<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..150 {
        if let Some(found) = check().await {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("waited 15 s for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_records_the_conversation_only_with_consent_in_chromium() {
    let Some((_driver, port)) = chromedriver() else {
        return;
    };
    let app = TestApp::spawn("sqlite").await;
    let survey = json!({"id": "door", "name": "Door", "recording": {"max_seconds": 60}, "questions": [
        {"id": "nps", "type": "nps", "text": {"en": "Would you recommend us?", "ru": "Порекомендуете нас?"}, "required": true},
        {"id": "comment", "type": "text", "text": {"en": "Anything else?", "ru": "Что-нибудь ещё?"}}
    ]});
    let code = courier_day(&app, &["V-1", "V-2"], &survey).await;
    let c = browser(port).await;
    enrol(&c, &app.at("/terminal"), &code).await;
    until(
        &c,
        "document.querySelector('[data-order=\"V-2\"]')",
        "the day's orders",
    )
    .await;

    // 1. The customer agrees: asked before any question, then recorded
    //    from the first question to the end.
    let begin = |order: &'static str| {
        let c = c.clone();
        async move {
            let input = c.find(Locator::Css("input[name=order]")).await.unwrap();
            input.clear().await.unwrap();
            input.send_keys(order).await.unwrap();
            click(&c, Locator::Css("form button[type=submit]")).await;
            until(
                &c,
                "document.getElementById('begin')",
                "the survey's set-up",
            )
            .await;
            click(&c, Locator::Id("begin")).await;
            until(
                &c,
                "document.getElementById('record-consent')",
                "the recording consent",
            )
            .await;
        }
    };
    begin("V-1").await;
    snap(&c, "record-consent").await;
    click(&c, Locator::Id("record-yes")).await;
    until(
        &c,
        "document.querySelector('[data-question=nps]')",
        "the first question",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    click(&c, Locator::Css("button[data-value='10']")).await;
    until(
        &c,
        "document.querySelector('[data-question=comment] textarea')",
        "the comment question",
    )
    .await;
    c.find(Locator::Css("textarea"))
        .await
        .unwrap()
        .send_keys("Friendly")
        .await
        .unwrap();
    click(&c, Locator::Id("next")).await;
    until(&c, "document.getElementById('done')", "the thanks").await;
    click(&c, Locator::Id("done")).await;
    let recording = stored("the recording tied to V-1's response", async || {
        app.store
            .recordings("V-1")
            .await
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    assert!(
        recording.duration_ms >= 1000
            && recording
                .content_type
                .as_deref()
                .is_some_and(|t| t.starts_with("audio/")),
        "{recording:?}"
    );
    let (response, _) = app.store.order_responses("V-1").await.unwrap().remove(0);
    assert_eq!(response.recording_consent, Some(true));
    assert_eq!(recording.response_id, response.id);

    // 2. The customer says no: nothing is recorded, the survey goes on.
    begin("V-2").await;
    click(&c, Locator::Id("record-no")).await;
    until(
        &c,
        "document.querySelector('[data-question=nps]')",
        "the first question",
    )
    .await;
    click(&c, Locator::Css("button[data-value='8']")).await;
    until(
        &c,
        "document.querySelector('[data-question=comment]')",
        "the comment question",
    )
    .await;
    click(&c, Locator::Id("next")).await;
    until(&c, "document.getElementById('done')", "the thanks").await;
    click(&c, Locator::Id("done")).await;
    let (declined, _) = stored("V-2's response", async || {
        app.store
            .order_responses("V-2")
            .await
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(declined.recording_consent, Some(false));
    until(&c, "document.getElementById('waiting') && document.getElementById('waiting').dataset.count === '0'", "every answer sent").await;
    let kept: i64 = c
        .execute(
            "return await new Promise((ok) => { const r = indexedDB.open('doorstep-terminal'); r.onsuccess = () => { \
               const x = r.result.transaction(['blobs', 'kv']); \
               const blobs = x.objectStore('blobs').getAll(); const waiting = x.objectStore('kv').get('recordings'); \
               x.oncomplete = () => ok(blobs.result.length + (waiting.result || []).length); }; });",
            vec![],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    assert_eq!(
        kept, 0,
        "the sent recording is not kept, and none was made for V-2"
    );
    assert!(app.store.recordings("V-2").await.unwrap().is_empty());
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inspector_checks_a_courier_on_the_terminal_in_chromium() {
    let Some((_driver, port)) = chromedriver() else {
        return;
    };
    let app = TestApp::spawn("sqlite").await;
    let integration = app.token("integration", None).await;
    assert_eq!(
        app.post_orders(
            &integration,
            &json!({"orders": [order_json("I-1", "+79161234501", "K-7")]})
        )
        .await
        .status(),
        200
    );
    let survey = json!({"id": "check", "name": "Mystery shopper", "inspection": true, "questions": [
        {"id": "polite", "type": "scale", "min": 1, "max": 5, "measures": "factor:politeness", "required": true,
         "text": {"en": "Politeness", "ru": "Вежливость"}},
        {"id": "script", "type": "single_choice", "text": {"en": "Script followed?", "ru": "Скрипт соблюдён?"},
         "options": [{"id": "yes", "text": {"en": "Yes", "ru": "Да"}}, {"id": "no", "text": {"en": "No", "ru": "Нет"}}]}
    ]});
    let r = app
        .anonymous()
        .post(app.at("/api/v1/surveys"))
        .bearer_auth(&integration)
        .json(&survey)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let code = doorstep::app::accounts::issue_inspector_code(&app.store, "Shopper Anna")
        .await
        .unwrap();
    let c = browser(port).await;
    enrol(&c, &app.at("/terminal"), &code).await;
    // An inspector's device: no day of orders, the inspection form.
    until(
        &c,
        "document.getElementById('inspect-start')",
        "the inspection form",
    )
    .await;
    snap(&c, "inspector-home").await;
    let home = text(&c, Locator::Css("main")).await;
    assert!(home.contains("Inspector: Shopper Anna"), "{home}");
    c.find(Locator::Css("input[name=order]"))
        .await
        .unwrap()
        .send_keys("I-1")
        .await
        .unwrap();
    click(&c, Locator::Id("inspect-start")).await;
    until(
        &c,
        "document.querySelector('[data-question=polite]')",
        "the first check",
    )
    .await;
    assert!(
        c.find(Locator::Id("refuse")).await.is_err(),
        "an inspection has no \"No, thanks\""
    );
    click(&c, Locator::Css("button[data-value='4']")).await;
    until(
        &c,
        "document.querySelector('[data-question=script]')",
        "the script check",
    )
    .await;
    click(&c, Locator::Css("button[data-value=no]")).await;
    until(
        &c,
        "document.getElementById('inspect-start')",
        "the inspection form again",
    )
    .await;
    until(&c, "document.getElementById('waiting') && document.getElementById('waiting').dataset.count === '0'", "the inspection sent").await;
    let figures = app
        .store
        .inspection_answers(Some("K-7"), 0, i64::MAX)
        .await
        .unwrap();
    let mut got: Vec<(String, Option<f64>, Option<String>)> = figures
        .into_iter()
        .map(|a| (a.question_id, a.number_value, a.option_ids))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        [
            ("polite".to_owned(), Some(4.0), None),
            ("script".to_owned(), None, Some(r#"["no"]"#.to_owned()))
        ]
    );
    assert_eq!(
        app.store.count_responses().await.unwrap(),
        0,
        "never a customer's answer"
    );
    c.close().await.unwrap();
}
