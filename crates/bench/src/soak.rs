//! `doorstep-bench soak [SECONDS]`: terminals on bad networks against a
//! server that is killed every minute — and, at the end, every answer
//! sent is stored once and counted once.
//!
//! Eight clients post batches of survey answers to `doorstep serve`, as the
//! courier terminal does, with what mobile networks do to it: a batch sent
//! again while the first is still running (two requests at once), old
//! answers sent again among new ones, requests given up after a few
//! milliseconds (the server sees them dropped at any point), and the server
//! itself killed with SIGKILL every minute and started again. Like the
//! terminal, a client keeps an answer until the server has confirmed it
//! (`created` or `duplicate`) and then forgets it. When the time is up,
//! every client sends what it still holds until all is confirmed; then the
//! database is read directly: the responses stored are exactly the ones
//! sent, each with its answers, and the scores (overall, by courier, by
//! day) count each once.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const CLIENTS: usize = 8;
/// Orders each client answers, for a run of `seconds`: enough that new
/// answers keep coming for most of it.
fn orders_per_client(seconds: u64) -> usize {
    (seconds as usize * 40).clamp(500, 25_000)
}
const COURIERS: usize = 20;
const CITIES: [&str; 4] = ["Москва", "Казань", "Київ", "Ташкент"];

/// How a run went.
#[derive(Debug, Default)]
pub struct Report {
    pub seconds: f64,
    pub requests: u64,
    pub cancelled: u64,
    pub twins: u64,
    pub resent: u64,
    pub refused_busy: u64,
    pub unreachable: u64,
    pub kills: u64,
    pub sent: usize,
    pub stored: i64,
    pub answers: i64,
}

/// One answer as a terminal holds it.
#[derive(Clone)]
struct Answer {
    id: String,
    body: Value,
    courier: usize,
    day: String,
    status: &'static str,
    nps: Option<i64>,
    answers: i64,
}

/// The server process, started again after each kill on the same address.
struct Server {
    doorstep: PathBuf,
    database: String,
    data: PathBuf,
    listen: String,
    child: Option<Child>,
}

impl Server {
    fn start(&mut self) -> anyhow::Result<()> {
        for _ in 0..50 {
            let mut child = Command::new(&self.doorstep)
                .args(["serve", "--listen", &self.listen, "--data-dir"])
                .arg(&self.data)
                .env("DOORSTEP_DATABASE", &self.database)
                .env("RUST_LOG", "error")
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()?;
            let mut line = String::new();
            let mut out = std::io::BufReader::new(child.stdout.take().context("stdout")?);
            std::io::BufRead::read_line(&mut out, &mut line)?;
            if line.contains("running at") {
                // Keep its stdout drained, so that it never blocks on it.
                std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
                self.child = Some(child);
                return Ok(());
            }
            // The address not free yet after a kill: try again.
            let _ = child.wait();
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("the server did not start again on {}", self.listen)
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The orders and survey the clients answer, through the API.
async fn prepare(
    url: &str,
    token: &str,
    today: jiff::civil::Date,
    per_client: usize,
) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let survey = json!({"id": "soak", "name": "Soak", "questions": [
        {"id": "nps", "type": "nps", "text": "Recommend us?", "required": true},
        {"id": "csi", "type": "scale", "min": 1, "max": 9, "measures": "csi", "text": "Overall"},
        {"id": "why", "type": "multi_choice", "text": "What went wrong?",
         "options": [{"id": "late"}, {"id": "damaged"}], "show_if": {"question": "nps", "max": 6}}
    ]});
    super::ingest::publish(url, token, &survey).await?;
    let orders: Vec<Value> = (0..CLIENTS * per_client)
        .map(|n| {
            let day = order_day(today, n);
            json!({
                "order_number": format!("S-{n:06}"), "customer_phone": format!("+7916{:07}", n % 3000),
                "city": CITIES[n % CITIES.len()], "courier_id": format!("K-{}", n % COURIERS),
                "promised_from": format!("{day}T10:00:00+03:00"), "promised_to": format!("{day}T12:00:00+03:00"),
                "delivered_at": format!("{day}T11:00:00+03:00")
            })
        })
        .collect();
    for chunk in orders.chunks(1000) {
        let r = client
            .post(format!("{url}api/v1/orders"))
            .bearer_auth(token)
            .json(&chunk)
            .send()
            .await?;
        if r.status() != 200 {
            bail!(
                "orders not imported: {}",
                r.text().await.unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// The day order `n` was delivered on: within the last week, today
/// included, so that answers arrive for days already built too.
fn order_day(today: jiff::civil::Date, n: usize) -> jiff::civil::Date {
    today
        .checked_sub(jiff::Span::new().days((n % 7) as i64))
        .unwrap_or(today)
}

fn answer(n: usize, today: jiff::civil::Date, rng: &mut StdRng) -> Answer {
    let day = order_day(today, n);
    let id = uuid::Builder::from_random_bytes(rng.gen())
        .into_uuid()
        .to_string();
    let roll = rng.gen_range(0..100);
    let status = match roll {
        0..80 => "completed",
        80..95 => "refused",
        _ => "timed_out",
    };
    let mut answers = Vec::new();
    let mut nps = None;
    if status == "completed" {
        let n = rng.gen_range(0..=10);
        nps = Some(n);
        answers.push(json!({"question_id": "nps", "value": n}));
        answers.push(json!({"question_id": "csi", "value": rng.gen_range(1..=9)}));
        if n <= 6 {
            answers.push(json!({"question_id": "why", "value": ["late"]}));
        }
    }
    // Today's answers finish a few seconds ago; earlier days' at noon.
    let finished = if day == today {
        jiff::Timestamp::now() - jiff::SignedDuration::from_secs(5)
    } else {
        day.at(12, 0, 0, 0)
            .to_zoned(jiff::tz::TimeZone::get("Europe/Moscow").unwrap_or(jiff::tz::TimeZone::UTC))
            .map_or_else(|_| jiff::Timestamp::now(), |z| z.timestamp())
    };
    let started = finished - jiff::SignedDuration::from_secs(60);
    Answer {
        body: json!({
            "id": id, "order_number": format!("S-{n:06}"), "survey_id": "soak", "status": status,
            "started_at": started.to_string(), "finished_at": finished.to_string(), "answers": answers
        }),
        id,
        courier: n % COURIERS,
        day: day.to_string(),
        status,
        nps,
        answers: answers.len() as i64,
    }
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    cancelled: AtomicU64,
    twins: AtomicU64,
    resent: AtomicU64,
    busy: AtomicU64,
    unreachable: AtomicU64,
}

/// What one batch's answer said: ids confirmed, and anything that must
/// never happen (an answer refused as a conflict, say).
enum Sent {
    Answered {
        confirmed: Vec<String>,
        created: Vec<String>,
    },
    NoAnswer,
}

async fn send(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    batch: &[Answer],
    timeout: Duration,
    counters: &Counters,
) -> anyhow::Result<Sent> {
    counters.requests.fetch_add(1, Ordering::Relaxed);
    let body: Vec<&Value> = batch.iter().map(|a| &a.body).collect();
    let sent = client
        .post(format!("{url}api/v1/responses"))
        .bearer_auth(token)
        .json(&body)
        .timeout(timeout)
        .send()
        .await;
    let response = match sent {
        Ok(r) => r,
        Err(e) if e.is_timeout() => {
            counters.cancelled.fetch_add(1, Ordering::Relaxed);
            return Ok(Sent::NoAnswer);
        }
        Err(_) => {
            counters.unreachable.fetch_add(1, Ordering::Relaxed);
            return Ok(Sent::NoAnswer);
        }
    };
    let status = response.status().as_u16();
    if status == 503 {
        counters.busy.fetch_add(1, Ordering::Relaxed);
        return Ok(Sent::NoAnswer);
    }
    let Ok(text) = response.text().await else {
        counters.unreachable.fetch_add(1, Ordering::Relaxed);
        return Ok(Sent::NoAnswer);
    };
    let result: Value = serde_json::from_str(&text).with_context(|| format!("{status}: {text}"))?;
    let mut confirmed = Vec::new();
    let mut created = Vec::new();
    for item in result["items"].as_array().context("items")? {
        let id = item["id"].as_str().unwrap_or_default().to_owned();
        match item["result"].as_str() {
            Some("created") => {
                created.push(id.clone());
                confirmed.push(id);
            }
            Some("duplicate") => confirmed.push(id),
            other => {
                bail!("an answer was refused ({other:?}), which a resend never should be: {item}")
            }
        }
    }
    Ok(Sent::Answered { confirmed, created })
}

/// One terminal: new answers, resends, twin requests and given-up
/// requests until `stop`; then sends what it holds until all is confirmed.
/// Returns every answer it sent and how many times each was `created`.
#[allow(clippy::too_many_arguments)]
async fn terminal(
    k: usize,
    url: String,
    token: String,
    today: jiff::civil::Date,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    seed: u64,
    per_client: usize,
) -> anyhow::Result<(Vec<Answer>, HashMap<String, u32>)> {
    let client = reqwest::Client::new();
    let mut rng = StdRng::seed_from_u64(seed + k as u64);
    let mut next_order = k * per_client;
    let last_order = next_order + per_client;
    let mut all: Vec<Answer> = Vec::new();
    let mut held: Vec<Answer> = Vec::new();
    let mut created: HashMap<String, u32> = HashMap::new();
    let note = |sent: Sent, held: &mut Vec<Answer>, created: &mut HashMap<String, u32>| {
        if let Sent::Answered {
            confirmed,
            created: new,
        } = sent
        {
            let confirmed: HashSet<String> = confirmed.into_iter().collect();
            held.retain(|a| !confirmed.contains(&a.id));
            for id in new {
                *created.entry(id).or_default() += 1;
            }
        }
    };
    while !stop.load(Ordering::Relaxed) {
        // New answers, as the courier goes from door to door.
        for _ in 0..rng.gen_range(1..=8) {
            if next_order < last_order {
                let a = answer(next_order, today, &mut rng);
                next_order += 1;
                all.push(a.clone());
                held.push(a);
            }
        }
        if all.is_empty() {
            break;
        }
        let mut batch: Vec<Answer> = held.iter().take(50).cloned().collect();
        // Answers confirmed long ago, sent again (a lost reply, a restored
        // backup) — and only those once every order is answered.
        if batch.is_empty() || rng.gen_bool(0.3) {
            for _ in 0..rng.gen_range(1..=5) {
                batch.push(all[rng.gen_range(0..all.len())].clone());
            }
            counters.resent.fetch_add(1, Ordering::Relaxed);
        }
        match rng.gen_range(0..10) {
            // Given up after a few milliseconds: dropped by the server anywhere.
            0..=2 => {
                let timeout = Duration::from_millis(rng.gen_range(2..40));
                let sent = send(&client, &url, &token, &batch, timeout, &counters).await?;
                note(sent, &mut held, &mut created);
            }
            // The same batch twice at once (a resend while the first runs).
            3..=4 => {
                counters.twins.fetch_add(1, Ordering::Relaxed);
                let t = Duration::from_secs(30);
                let (a, b) = tokio::join!(
                    send(&client, &url, &token, &batch, t, &counters),
                    send(&client, &url, &token, &batch, t, &counters)
                );
                note(a?, &mut held, &mut created);
                note(b?, &mut held, &mut created);
            }
            _ => {
                let sent = send(
                    &client,
                    &url,
                    &token,
                    &batch,
                    Duration::from_secs(30),
                    &counters,
                )
                .await?;
                note(sent, &mut held, &mut created);
            }
        }
        if rng.gen_bool(0.2) {
            tokio::time::sleep(Duration::from_millis(rng.gen_range(1..30))).await;
        }
    }
    // The network is back for good: send what is held until confirmed.
    let until = Instant::now() + Duration::from_mins(5);
    while !held.is_empty() {
        if Instant::now() > until {
            bail!("client {k}: {} answers never confirmed", held.len());
        }
        let batch: Vec<Answer> = held.iter().take(100).cloned().collect();
        let sent = send(
            &client,
            &url,
            &token,
            &batch,
            Duration::from_secs(30),
            &counters,
        )
        .await?;
        let answered = matches!(sent, Sent::Answered { .. });
        note(sent, &mut held, &mut created);
        if !answered {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok((all, created))
}

/// Runs the soak for `seconds` against `database`, killing the server every
/// `kill_every`; fails on the first promise broken.
pub fn run(
    doorstep: &Path,
    database: &str,
    dir: &Path,
    seconds: u64,
    kill_every: Duration,
) -> anyhow::Result<Report> {
    let token = super::ingest::token(doorstep, database)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut server = Server {
        doorstep: doorstep.to_owned(),
        database: database.to_owned(),
        data: dir.join(format!("soak-data-{port}")),
        listen: format!("127.0.0.1:{port}"),
        child: None,
    };
    server.start()?;
    let url = format!("http://127.0.0.1:{port}/");
    let runtime = tokio::runtime::Runtime::new()?;
    let today = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::get("Europe/Moscow")?)
        .date();
    let per_client = orders_per_client(seconds);
    runtime.block_on(prepare(&url, &token, today, per_client))?;
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|k| {
            runtime.spawn(terminal(
                k,
                url.clone(),
                token.clone(),
                today,
                Arc::clone(&stop),
                Arc::clone(&counters),
                seconds,
                per_client,
            ))
        })
        .collect();
    // The killer: SIGKILL every `kill_every`, started again at once.
    let server = Arc::new(Mutex::new(server));
    let mut kills = 0;
    let deadline = started + Duration::from_secs(seconds);
    let mut next_kill = started + kill_every;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        if Instant::now() >= next_kill && Instant::now() + Duration::from_secs(1) < deadline {
            let mut s = server.lock().map_err(|_| anyhow::anyhow!("server lock"))?;
            s.kill();
            kills += 1;
            s.start()?;
            next_kill += kill_every;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut sent: Vec<Answer> = Vec::new();
    let mut created: HashMap<String, u32> = HashMap::new();
    for c in clients {
        let (all, made) = runtime.block_on(c)??;
        sent.extend(all);
        for (id, n) in made {
            *created.entry(id).or_default() += n;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    if let Some((id, n)) = created.iter().find(|(_, n)| **n > 1) {
        bail!("answer {id} was answered `created` {n} times");
    }
    // The database, read directly, and the scores through the API.
    let (stored, answers, ids) = runtime.block_on(read_back(database))?;
    let expected_ids: HashSet<&str> = sent.iter().map(|a| a.id.as_str()).collect();
    let stored_ids: HashSet<&str> = ids.iter().map(String::as_str).collect();
    if stored_ids != expected_ids {
        bail!(
            "stored {} responses, sent {} distinct: {} missing, {} never sent",
            stored_ids.len(),
            expected_ids.len(),
            expected_ids.difference(&stored_ids).count(),
            stored_ids.difference(&expected_ids).count()
        );
    }
    let expected_answers: i64 = sent.iter().map(|a| a.answers).sum();
    if answers != expected_answers {
        bail!("stored {answers} answers, sent {expected_answers}: a response half-written");
    }
    runtime.block_on(check_scores(&url, &token, &sent, today))?;
    let c = &counters;
    Ok(Report {
        seconds,
        requests: c.requests.load(Ordering::Relaxed),
        cancelled: c.cancelled.load(Ordering::Relaxed),
        twins: c.twins.load(Ordering::Relaxed),
        resent: c.resent.load(Ordering::Relaxed),
        refused_busy: c.busy.load(Ordering::Relaxed),
        unreachable: c.unreachable.load(Ordering::Relaxed),
        kills,
        sent: sent.len(),
        stored,
        answers,
    })
}

/// Responses and answers stored, and the responses' ids.
async fn read_back(database: &str) -> anyhow::Result<(i64, i64, Vec<String>)> {
    const COUNT_RESPONSES: &str = "SELECT COUNT(*) FROM responses";
    const COUNT_ANSWERS: &str = "SELECT COUNT(*) FROM answers";
    const IDS: &str = "SELECT id FROM responses";
    // The same three queries on either backend's pool.
    macro_rules! read {
        ($pool:expr) => {{
            let pool = $pool;
            let (r,): (i64,) = sqlx::query_as(COUNT_RESPONSES).fetch_one(&pool).await?;
            let (a,): (i64,) = sqlx::query_as(COUNT_ANSWERS).fetch_one(&pool).await?;
            let ids: Vec<(String,)> = sqlx::query_as(IDS).fetch_all(&pool).await?;
            pool.close().await;
            Ok((r, a, ids.into_iter().map(|x| x.0).collect()))
        }};
    }
    if database.starts_with("sqlite:") {
        read!(sqlx::SqlitePool::connect(database).await?)
    } else {
        read!(sqlx::PgPool::connect(database).await?)
    }
}

/// The scores count each answer once: overall, by courier and by day.
async fn check_scores(
    url: &str,
    token: &str,
    sent: &[Answer],
    today: jiff::civil::Date,
) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let from = today.checked_sub(jiff::Span::new().days(8))?;
    // Expected: completed, refused + timed out, promoters, detractors.
    let tally = |answers: &mut dyn Iterator<Item = &Answer>| {
        let mut t = (0_i64, 0_i64, 0_i64, 0_i64);
        for a in answers {
            if a.status == "completed" {
                t.0 += 1;
            } else {
                t.1 += 1;
            }
            match a.nps {
                Some(9..=10) => t.2 += 1,
                Some(0..=6) => t.3 += 1,
                _ => {}
            }
        }
        t
    };
    for group in ["all", "courier", "day"] {
        let r = client
            .get(format!(
                "{url}api/v1/metrics?from={from}&to={today}&group_by={group}"
            ))
            .bearer_auth(token)
            .send()
            .await?;
        let body: Value = r.json().await?;
        let groups = body["groups"].as_array().context("groups")?;
        for g in groups {
            let key = g["key"].as_str().unwrap_or_default();
            let expected = tally(&mut sent.iter().filter(|a| match group {
                "courier" => key == format!("K-{}", a.courier),
                "day" => key == a.day,
                _ => true,
            }));
            let got = (
                g["responses"].as_i64().unwrap_or(-1),
                g["refusals"].as_i64().unwrap_or(-1),
                g["promoters"].as_i64().unwrap_or(-1),
                g["detractors"].as_i64().unwrap_or(-1),
            );
            if got != expected {
                bail!("scores by {group}, {key}: counted {got:?} (responses, refusals, promoters, detractors), sent {expected:?}");
            }
        }
        let total: i64 = groups
            .iter()
            .map(|g| g["responses"].as_i64().unwrap_or(0))
            .sum();
        let completed = sent.iter().filter(|a| a.status == "completed").count() as i64;
        if total != completed {
            bail!("scores by {group} count {total} responses, {completed} were sent");
        }
    }
    Ok(())
}

/// `doorstep-bench soak [SECONDS]` on both databases: a Markdown table.
pub fn bench(doorstep: &Path, dir: &Path, postgres: &str, seconds: u64) -> anyhow::Result<String> {
    let mut table = String::from(
        "| backend | time | requests | given up | twin requests | batches with resends | 503 busy | unreachable | kill -9 | answers sent | stored | answers stored | result |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for backend in ["SQLite", "PostgreSQL"] {
        let database = super::fresh_database(dir, postgres, backend, "soak")?;
        eprintln!("{backend}: soaking for {seconds} s…");
        let r = run(doorstep, &database, dir, seconds, Duration::from_mins(1))?;
        let _ = writeln!(
            table,
            "| {backend} | {:.0} s | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | each stored and counted once |",
            r.seconds, r.requests, r.cancelled, r.twins, r.resent, r.refused_busy, r.unreachable, r.kills, r.sent, r.stored, r.answers
        );
        if backend == "SQLite" {
            super::remove_sqlite(&dir.join("soak.db"));
        } else {
            super::psql(
                postgres,
                "postgres",
                "DROP DATABASE doorstep_soak WITH (FORCE)",
            )?;
        }
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The debug `doorstep` the workspace's tests built, beside this test.
    fn doorstep() -> PathBuf {
        let exe = std::env::current_exe().unwrap();
        let dir = exe.parent().and_then(Path::parent).unwrap();
        let path = dir.join("doorstep");
        assert!(
            path.exists(),
            "{} is not built: run the workspace's tests (cargo test --workspace)",
            path.display()
        );
        path
    }

    /// The soak for 30 seconds, the server killed every 10: run by the
    /// test suite on both databases.
    #[test]
    fn thirty_seconds_of_bad_networks_and_kills_lose_and_double_nothing_sqlite() {
        let dir =
            std::env::temp_dir().join(format!("doorstep-soak-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let database = format!("sqlite://{}", dir.join("soak.db").display());
        let report = run(&doorstep(), &database, &dir, 30, Duration::from_secs(10)).unwrap();
        eprintln!("{report:?}");
        assert!(
            report.kills >= 2 && report.cancelled > 0 && report.twins > 0 && report.sent > 100,
            "{report:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn thirty_seconds_of_bad_networks_and_kills_lose_and_double_nothing_postgres() {
        let dir =
            std::env::temp_dir().join(format!("doorstep-soak-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let admin = std::env::var("DOORSTEP_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(b, _)| b)
            .to_owned();
        let name = format!("doorstep_soak_{}", uuid::Uuid::new_v4().simple());
        super::super::psql(&base, "postgres", &format!("CREATE DATABASE {name}"))
            .expect("PostgreSQL for tests must be reachable");
        let report = run(
            &doorstep(),
            &format!("{base}/{name}"),
            &dir,
            30,
            Duration::from_secs(10),
        );
        let _ = super::super::psql(
            &base,
            "postgres",
            &format!("DROP DATABASE {name} WITH (FORCE)"),
        );
        let report = report.unwrap();
        eprintln!("{report:?}");
        assert!(
            report.kills >= 2 && report.cancelled > 0 && report.twins > 0 && report.sent > 100,
            "{report:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
