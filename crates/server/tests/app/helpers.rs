//! Spawns the real application per test, on its own fresh database, with
//! typed helpers so that tests read as stories.

use doorstep::http::App;
use doorstep::security::{hash_password, new_secret, secret_hash};
use doorstep_store::testing::TestDb;
use doorstep_store::{NewApiToken, Store};
use reqwest::redirect::Policy;
use reqwest::{Client, Response};
use serde_json::Value;

/// Runs each listed story once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name("sqlite").await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name("postgres").await } )* }
    };
}

pub struct TestApp {
    pub url: String,
    /// The running application's state (to run its background work now).
    pub state: doorstep::http::AppState,
    pub store: Store,
    pub backend: &'static str,
    /// The app's data directory (attachments), deleted with the app.
    pub data_dir: DataDir,
    pub db_url: String,
    /// The database, dropped with the first server (not with one beside it).
    db_owner: Option<TestDb>,
}

/// A fresh directory that is removed when dropped.
pub struct DataDir(pub std::path::PathBuf);

impl DataDir {
    pub fn new() -> DataDir {
        let dir =
            std::env::temp_dir().join(format!("doorstep-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create a test data directory");
        DataDir(dir)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    pub async fn spawn(backend: &str) -> TestApp {
        let db = TestDb::new(backend).await;
        let mut app = TestApp::on(backend, &db.url).await;
        app.db_owner = Some(db);
        app
    }

    /// A second server on the same database, as another `serve` process
    /// would be (its own connections, caches and background work).
    pub async fn beside(&self) -> TestApp {
        TestApp::on(self.backend, &self.db_url).await
    }

    async fn on(backend: &str, db_url: &str) -> TestApp {
        let store = Store::connect(db_url).await.expect("connect test database");
        let data_dir = DataDir::new();
        let app = App::new(store.clone(), data_dir.0.clone())
            .await
            .expect("build app");
        // Bind before spawning: the port is ready when this returns.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(doorstep::http::serve(
            listener,
            std::sync::Arc::clone(&app),
            std::time::Duration::from_secs(5),
        ));
        TestApp {
            url,
            state: app,
            store,
            backend: if backend == "sqlite" {
                "sqlite"
            } else {
                "postgres"
            },
            data_dir,
            db_url: db_url.to_owned(),
            db_owner: None,
        }
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// A fresh browser-like client: its own cookie jar, redirects not followed.
    /// A method so that tests read as `app.anonymous()`.
    #[allow(clippy::unused_self)]
    pub fn anonymous(&self) -> Client {
        client()
    }

    /// Makes a bearer token of `role` (integration or terminal) directly in the store.
    pub async fn token(&self, role: &str, courier: Option<&str>) -> String {
        let secret = new_secret("test");
        self.store
            .create_token(&NewApiToken {
                name: "test",
                role,
                token_hash: &secret_hash(&secret),
                courier_id: courier,
            })
            .await
            .unwrap();
        secret
    }

    /// Uploads an attachment under its SHA-256: (status, body, id).
    pub async fn upload(&self, token: &str, bytes: &[u8]) -> (u16, Value, String) {
        let id = doorstep::security::sha256_bytes_hex(bytes);
        let r = self
            .anonymous()
            .put(self.at(&format!("/api/v1/attachments/{id}")))
            .bearer_auth(token)
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null), id)
    }

    pub async fn add_user(&self, login: &str, role: &str) {
        let hash = hash_password(PASSWORD).unwrap();
        self.store
            .create_user(login, &hash, role, "en")
            .await
            .unwrap();
    }

    /// A browser-like client signed in as a new user of `role`.
    pub async fn signed_in(&self, role: &str) -> Client {
        self.add_user(role, role).await;
        let client = self.anonymous();
        let response = self.log_in(&client, role, PASSWORD).await;
        assert_eq!(response.status(), 303, "sign-in as {role} should redirect");
        client
    }

    pub async fn log_in(&self, client: &Client, login: &str, password: &str) -> Response {
        let page = self.page(client, "/login").await;
        let csrf = form_value(&page, "csrf");
        client
            .post(self.at("/login"))
            .form(&[
                ("login", login),
                ("password", password),
                ("csrf", &csrf),
                ("next", "/orders"),
            ])
            .send()
            .await
            .unwrap()
    }

    /// A page's HTML as `client` sees it.
    pub async fn page(&self, client: &Client, path: &str) -> String {
        client
            .get(self.at(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The CSRF token of the signed-in session, read from a page's form.
    pub async fn csrf(&self, client: &Client) -> String {
        let page = self.page(client, "/orders").await;
        form_value(&page, "csrf")
    }

    pub async fn post_orders(&self, token: &str, body: &Value) -> Response {
        self.anonymous()
            .post(self.at("/api/v1/orders"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .anonymous()
            .get(self.at(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

/// A fresh browser-like client: its own cookie jar, redirects not followed.
pub fn client() -> Client {
    Client::builder()
        .redirect(Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

/// The value of the first `<input name=NAME value=…>` in a page.
pub fn form_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in the page"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// An order as the company's system would send it.
pub fn order_json(number: &str, phone: &str, courier: &str) -> Value {
    serde_json::json!({
        "order_number": number,
        "customer_phone": phone,
        "customer_name": "Анна Петрова",
        "city": "Москва",
        "partner": "Лавка",
        "courier_id": courier,
        "courier_name": "Иван Смирнов",
        "promised_from": "2026-11-03T14:00:00+03:00",
        "promised_to": "03.11.2026 15:00",
        "delivered_at": "2026-11-03T11:42:00Z",
        "amount": 1234.5
    })
}

/// The data of the events named `name` after event `after` that `wanted`
/// picks, once there is one: events are numbered as they commit (on
/// PostgreSQL a moment later, so every committed one is numbered before
/// reading), and some come from background work. Fails the test when none
/// is published within 10 s.
pub async fn published(
    store: &Store,
    after: i64,
    name: &str,
    wanted: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        while store.number_events().await.unwrap() > 0 {}
        let found: Vec<Value> = store
            .events_after(after, 10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.name == name)
            .map(|e| serde_json::from_str::<Value>(&e.data).unwrap())
            .filter(|d| wanted(d))
            .collect();
        if !found.is_empty() {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {name} published after event {after}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A real 1×1 PNG: a photo as far as the server can tell.
pub fn tiny_png() -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
        .unwrap()
}

/// What the background jobs of a test server need.
pub fn job_settings(data_dir: &std::path::Path) -> doorstep::jobs::Settings {
    doorstep::jobs::Settings {
        data_dir: data_dir.to_owned(),
        attachment_days: 90,
        event_days: 7,
    }
}

/// The secret a "shown only once" page shows.
pub fn shown_secret(page: &str) -> String {
    page.split("id=\"secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the page shows a secret")
        .to_owned()
}
