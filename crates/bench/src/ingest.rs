//! `doorstep-bench ingest`: survey responses posted to a running
//! `doorstep serve` in two shapes side by side — half of them in batches of
//! 100 by 8 concurrent clients (terminals syncing a day), the other half one
//! answer per request by 64 concurrent clients (link surveys, a terminal
//! sending each survey as it ends), each request's time taken — beside the
//! raw database bulk-loading the same response and answer rows.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use super::{psql, remove_sqlite, run_measured, StdinText};

const CLIENTS: usize = 8;
const BATCH: usize = 100;
/// Clients sending one answer per request at once.
const SINGLE_CLIENTS: usize = 64;
pub(crate) const SURVEY_DDL: &str = include_str!("../../store/migrations/0002_surveys.sql");

pub(crate) fn survey() -> Value {
    json!({"id": "bench", "name": "Bench door survey", "questions": [
        {"id": "nps", "type": "nps", "text": "Recommend us?", "required": true},
        {"id": "csi", "type": "scale", "min": 1, "max": 9, "measures": "csi", "text": "Overall"},
        {"id": "speed", "type": "scale", "min": 1, "max": 5, "measures": "factor:speed", "text": "Speed"},
        {"id": "why", "type": "multi_choice", "text": "What went wrong?", "options": [{"id": "late"}, {"id": "damaged"}, {"id": "rude"}],
         "show_if": {"question": "nps", "max": 6}},
        {"id": "comment", "type": "text", "text": "Anything else?"}
    ]})
}

/// The responses to the first `count` of `orders` generated orders spread
/// over `days` (each started within the hour after its order was promised)
/// as the API takes them, and the same rows for the raw load.
pub(crate) fn responses(
    count: usize,
    orders: usize,
    days: i64,
    raw_responses: &Path,
    raw_answers: &Path,
) -> anyhow::Result<Vec<Value>> {
    let mut rng = StdRng::seed_from_u64(11);
    let mut r = BufWriter::new(std::fs::File::create(raw_responses)?);
    let mut a = BufWriter::new(std::fs::File::create(raw_answers)?);
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let id = uuid::Builder::from_random_bytes(rng.gen())
            .into_uuid()
            .to_string();
        let order = format!("ORD-{i:08}");
        let nps: i64 = rng.gen_range(0..=10);
        let mut answers = vec![
            json!({"question_id": "nps", "value": nps}),
            json!({"question_id": "csi", "value": rng.gen_range(1..=9)}),
            json!({"question_id": "speed", "value": rng.gen_range(1..=5)}),
        ];
        if nps <= 6 {
            answers.push(json!({"question_id": "why", "value": ["late"]}));
        }
        if rng.gen_bool(0.2) {
            answers.push(json!({"question_id": "comment", "value": "Всё хорошо, спасибо курьеру"}));
        }
        let start = super::promised_ms(i, orders, days) + 45 * 60_000;
        writeln!(r, "{order},{id},bench,1,completed,api,,,,C-1,Москва,,new,,{start},{},90000,0,{id},{start}", start + 90_000)?;
        for answer in &answers {
            let q = answer["question_id"].as_str().unwrap_or_default();
            match &answer["value"] {
                Value::Number(n) => writeln!(a, "{order},{id},{q},scale,{n},,,")?,
                Value::Array(_) => {
                    writeln!(a, "{order},{id},{q},multi_choice,,\"[\"\"late\"\"]\",,")?;
                }
                other => writeln!(
                    a,
                    "{order},{id},{q},text,,,\"{}\",",
                    other.as_str().unwrap_or_default()
                )?,
            }
        }
        out.push(json!({
            "id": id, "order_number": order, "survey_id": "bench", "status": "completed",
            "started_at": jiff::Timestamp::from_millisecond(start)?.to_string(),
            "finished_at": jiff::Timestamp::from_millisecond(start + 90_000)?.to_string(),
            "answers": answers
        }));
    }
    r.flush()?;
    a.flush()?;
    Ok(out)
}

pub(crate) struct Server {
    child: std::process::Child,
    pub(crate) url: String,
    /// Kept open: the server writes to it.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// `BENCH_SERVER_LOG=FILE` keeps the server's warnings and errors there.
pub(crate) fn serve(doorstep: &Path, database: &str, data: &Path) -> anyhow::Result<Server> {
    match std::env::var_os("BENCH_SERVER_LOG") {
        Some(file) => {
            let filter = std::env::var("BENCH_SERVER_LOG_FILTER").unwrap_or_else(|_| "warn".into());
            serve_logging(doorstep, database, data, Some((&filter, Path::new(&file))))
        }
        None => serve_logging(doorstep, database, data, None),
    }
}

/// `doorstep serve`, its log (`RUST_LOG=log`) written to `log_file`.
pub(crate) fn serve_logging(
    doorstep: &Path,
    database: &str,
    data: &Path,
    log: Option<(&str, &Path)>,
) -> anyhow::Result<Server> {
    let stderr = match log {
        Some((_, file)) => Stdio::from(std::fs::File::create(file)?),
        None => Stdio::null(),
    };
    let mut child = Command::new(doorstep)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env("DOORSTEP_DATABASE", database)
        .env("DOORSTEP_ADMIN_PASSWORD", "bench password")
        .env("RUST_LOG", log.map_or("warn", |(filter, _)| filter))
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()?;
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().context("server stdout")?);
    stdout.read_line(&mut line)?;
    let url = line
        .split("running at ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .context("server did not start")?
        .to_owned();
    Ok(Server {
        child,
        url,
        _stdout: stdout,
    })
}

pub(crate) fn token(doorstep: &Path, database: &str) -> anyhow::Result<String> {
    let out = Command::new(doorstep)
        .args([
            "token",
            "create",
            "--name",
            "bench",
            "--role",
            "integration",
        ])
        .env("DOORSTEP_DATABASE", database)
        .output()?;
    if !out.status.success() {
        bail!(
            "token create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// `doorstep import orders FILE` into `database`.
pub(crate) fn import_orders(doorstep: &Path, database: &str, office: &Path) -> anyhow::Result<()> {
    let status = Command::new(doorstep)
        .args(["import", "orders"])
        .arg(office)
        .env("DOORSTEP_DATABASE", database)
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("order import failed");
    }
    Ok(())
}

/// Publishes `survey` through the API.
pub(crate) async fn publish(url: &str, token: &str, survey: &Value) -> anyhow::Result<()> {
    let r = reqwest::Client::new()
        .post(format!("{url}api/v1/surveys"))
        .bearer_auth(token)
        .json(survey)
        .send()
        .await?;
    if r.status() != 201 {
        bail!("survey not created: {}", r.text().await.unwrap_or_default());
    }
    Ok(())
}

/// The median and 99th percentile of request times, in ms.
fn latencies(ms: &mut [f64]) -> (f64, f64) {
    if ms.is_empty() {
        return (0.0, 0.0);
    }
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

/// Posts every body with `clients` concurrent clients; seconds taken and
/// each request's time (ms).
async fn post_timed(
    url: &str,
    token: &str,
    bodies: Vec<Value>,
    clients: usize,
) -> anyhow::Result<(f64, Vec<f64>)> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, queue, url, token) = (
            client.clone(),
            Arc::clone(&queue),
            format!("{url}api/v1/responses"),
            token.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let mut ms = Vec::new();
            loop {
                let next = queue
                    .lock()
                    .map_err(|_| anyhow::anyhow!("queue poisoned"))?
                    .pop();
                let Some(body) = next else {
                    return anyhow::Ok(ms);
                };
                let sent = Instant::now();
                post_batch(&client, &url, &token, &body).await?;
                ms.push(sent.elapsed().as_secs_f64() * 1000.0);
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok((started.elapsed().as_secs_f64(), all))
}

/// Posts every batch with CLIENTS concurrent clients; seconds taken.
pub(crate) async fn post_all(url: &str, token: &str, batches: Vec<Value>) -> anyhow::Result<f64> {
    Ok(post_timed(url, token, batches, CLIENTS).await?.0)
}

pub fn run(doorstep: &Path, dir: &Path, postgres: &str, count: usize) -> anyhow::Result<String> {
    let office = dir.join("ingest-orders.csv");
    let raw_orders = dir.join("ingest-orders-raw.csv");
    let raw_responses = dir.join("ingest-responses.csv");
    let raw_answers = dir.join("ingest-answers.csv");
    eprintln!("generating {count} orders and responses…");
    // The orders' (and answers') days: a quarter by default;
    // BENCH_DAYS=1 puts them all on one busy day.
    let days: i64 = std::env::var("BENCH_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(90);
    super::generate_over(count, days, &office, &raw_orders)?;
    let items = responses(count, count, days, &raw_responses, &raw_answers)?;
    let answers = items
        .iter()
        .map(|i| i["answers"].as_array().map_or(0, Vec::len))
        .sum::<usize>();
    // The first half in batches, the second one answer per request.
    let half = items.len() / 2;
    let batches: Vec<Value> = items[..half]
        .chunks(BATCH)
        .map(|c| Value::Array(c.to_vec()))
        .collect();
    let singles: Vec<Value> = items[half..]
        .iter()
        .map(|i| Value::Array(vec![i.clone()]))
        .collect();
    let runtime = tokio::runtime::Runtime::new()?;
    let mut table = String::from(
        "| backend | shape | responses (answers) | doorstep API | responses/s | request p50 | request p99 | CPU s / 1,000 responses | raw bulk load (all) | raw responses/s | raw / doorstep rate |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for &backend in super::backends() {
        let (database, raw_db) = if backend == "SQLite" {
            let path = dir.join("ingest.db");
            remove_sqlite(&path);
            (format!("sqlite://{}", path.display()), String::new())
        } else {
            psql(postgres, "postgres", "DROP DATABASE IF EXISTS doorstep_ingest; CREATE DATABASE doorstep_ingest; DROP DATABASE IF EXISTS doorstep_ingest_raw; CREATE DATABASE doorstep_ingest_raw")?;
            (
                format!("{postgres}/doorstep_ingest"),
                format!("{postgres}/doorstep_ingest_raw"),
            )
        };
        eprintln!("{backend}: importing orders…");
        import_orders(doorstep, &database, &office)?;
        if backend == "PostgreSQL" {
            psql(postgres, "doorstep_ingest", "ANALYZE")?;
        }
        let token = token(doorstep, &database)?;
        let data = dir.join("ingest-data");
        let server = serve(doorstep, &database, &data)?;
        let url = server.url.clone();
        let shapes = runtime.block_on(async {
            publish(&url, &token, &survey()).await?;
            eprintln!("{backend}: posting {half} responses in batches of {BATCH}…");
            let busy = busy_cpu_seconds();
            let (seconds, mut ms) = post_timed(&url, &token, batches.clone(), CLIENTS).await?;
            let batched = (seconds, busy_cpu_seconds() - busy, latencies(&mut ms));
            // A company's tables have current statistics (autovacuum sees
            // to it within a minute); the run above filled an empty table
            // in seconds, and plans made while it looked empty would scan it.
            if backend == "PostgreSQL" {
                psql(postgres, "doorstep_ingest", "ANALYZE")?;
            }
            eprintln!(
                "{backend}: posting {} responses one per request…",
                singles.len()
            );
            let busy = busy_cpu_seconds();
            let (seconds, mut ms) =
                post_timed(&url, &token, singles.clone(), SINGLE_CLIENTS).await?;
            let single = (seconds, busy_cpu_seconds() - busy, latencies(&mut ms));
            Ok::<_, anyhow::Error>([batched, single])
        })?;
        drop(server);
        let raw = if backend == "SQLite" {
            let path = dir.join("ingest-raw.db");
            remove_sqlite(&path);
            let script = format!(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;\n{SURVEY_DDL}\n.mode csv\nBEGIN;\n.import {} responses\n.import {} answers\nCOMMIT;\n",
                raw_responses.display(),
                raw_answers.display()
            );
            let run = run_measured(Command::new("sqlite3").arg(&path).stdin_text(&script))?;
            remove_sqlite(&path);
            remove_sqlite(&dir.join("ingest.db"));
            run
        } else {
            psql(postgres, "doorstep_ingest_raw", SURVEY_DDL)?;
            let copy = format!(
                "\\copy responses FROM '{}' WITH (FORMAT csv)\n\\copy answers FROM '{}' WITH (FORMAT csv)\n",
                raw_responses.display(),
                raw_answers.display()
            );
            let run = run_measured(
                Command::new("psql")
                    .args(["-q", "-v", "ON_ERROR_STOP=1", "-1", "-d", &raw_db])
                    .stdin_text(&copy),
            )?;
            psql(postgres, "postgres", "DROP DATABASE doorstep_ingest WITH (FORCE); DROP DATABASE doorstep_ingest_raw WITH (FORCE)")?;
            run
        };
        let raw_rate = count as f64 / raw.seconds;
        for (i, (shape, (seconds, cpu, (p50, p99)))) in [
            (format!("batches of {BATCH}, {CLIENTS} clients"), shapes[0]),
            (
                format!("1 per request, {SINGLE_CLIENTS} clients"),
                shapes[1],
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let n = if i == 0 { half } else { count - half };
            let rate = n as f64 / seconds;
            let _ = writeln!(
                table,
                "| {} | {shape} | {n} ({}) | {seconds:.1} s | {rate:.0} | {p50:.1} ms | {p99:.1} ms | {:.3} | {} | {} | {:.1}× |",
                if i == 0 { backend } else { "" },
                if i == 0 { answers.to_string() } else { String::from("…") },
                1000.0 * cpu / n as f64,
                if i == 0 { format!("{:.1} s", raw.seconds) } else { String::new() },
                if i == 0 { format!("{raw_rate:.0}") } else { String::new() },
                raw_rate / rate,
            );
        }
    }
    for f in [office, raw_orders, raw_responses, raw_answers] {
        let _ = std::fs::remove_file(f);
    }
    Ok(table)
}

/// The machine's busy CPU time so far (every core, every process: the
/// server, the database and the clients), in seconds, from `/proc/stat`;
/// zero where there is none. The CPU a run costs is steadier than its wall
/// time on a machine whose cores are shared with other work.
fn busy_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return 0.0;
    };
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user, nice, system, (idle, iowait), irq, softirq: busy; 100 ticks a second.
    [0, 1, 2, 5, 6]
        .iter()
        .filter_map(|&i| ticks.get(i))
        .sum::<f64>()
        / 100.0
}

/// Posts one batch of responses; an answer other than 201 is an error.
pub(crate) async fn post_batch(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    batch: &Value,
) -> anyhow::Result<()> {
    let r = client
        .post(url)
        .bearer_auth(token)
        .json(batch)
        .send()
        .await?;
    if r.status() != 201 {
        bail!(
            "batch answered {}: {}",
            r.status(),
            r.text().await.unwrap_or_default()
        );
    }
    Ok(())
}
