//! `doorstep-bench latency`: single answers posted by 8 terminals at once
//! while the server builds the rollups of past days in the background —
//! the per-request latency a courier's terminal sees, beside the raw
//! database committing the same rows one response per transaction.
//!
//! The bench loads ANSWERS responses over the past days (through the API),
//! marks every built day and week not built (as late answers would), then
//! starts `doorstep serve`, whose background step begins building them at
//! once. Meanwhile 8 clients each post one new answer per request, one
//! request after another, until the build is over (at least 10 s); the
//! latencies of those requests are the result. The raw run: the same 8
//! clients inserting one response and its answers per transaction straight
//! into a database with the same tables, for as long.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use super::ingest::{
    import_orders, post_all, publish, responses, serve_logging, survey, token, SURVEY_DDL,
};
use super::{generate_over, psql, remove_sqlite};

const CLIENTS: usize = 8;
/// The days the generated orders span.
const DAYS: i64 = 7;
/// Orders kept aside for the single answers posted during the builds.
const SPARE_ORDERS: usize = 200_000;
const AT_LEAST: Duration = Duration::from_secs(10);
const AT_MOST: Duration = Duration::from_mins(3);

/// Latencies in milliseconds, sorted: (count, p50, p99, max).
fn summary(mut ms: Vec<f64>) -> (usize, f64, f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
    (ms.len(), at(0.50), at(0.99), ms[ms.len() - 1])
}

/// A single answer to the bench survey for order `n`, finished now.
fn single(n: usize) -> Value {
    let now = jiff::Timestamp::now();
    json!([{
        "id": uuid::Uuid::new_v4().to_string(), "order_number": format!("ORD-{n:08}"),
        "survey_id": "bench", "status": "completed",
        "started_at": (now - jiff::SignedDuration::from_secs(90)).to_string(), "finished_at": now.to_string(),
        "answers": [{"question_id": "nps", "value": n % 11}, {"question_id": "csi", "value": 1 + n % 9}]
    }])
}

/// The build's log line, once it is written: how long the build took (ms),
/// if the server says (a server from before it did: `Some(None)`).
#[allow(clippy::option_option)] // three cases: not yet, done untimed, done in N ms
fn build_done(log: &Path) -> Option<Option<u64>> {
    let text = std::fs::read_to_string(log).ok()?;
    let line = text.lines().find(|l| l.contains("rollups built"))?;
    // Without the terminal's colour codes, if any.
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    Some(
        plain
            .split("elapsed_ms=")
            .nth(1)
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|s| s.parse().ok()),
    )
}

/// Marks every built day and week not built, as late answers for all of
/// them would: the server's background step builds them all again.
async fn unbuild(database: &str, sqlite: bool) -> anyhow::Result<()> {
    const UNBUILD: &str =
        "UPDATE rollup_day_state SET built = FALSE; UPDATE rollup_week_state SET built = FALSE";
    if sqlite {
        let pool = sqlx::SqlitePool::connect(database).await?;
        sqlx::raw_sql(UNBUILD).execute(&pool).await?;
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(database).await?;
        sqlx::raw_sql(UNBUILD).execute(&pool).await?;
        pool.close().await;
    }
    Ok(())
}

/// Posts single answers from CLIENTS clients until `stop`; latencies in ms.
async fn post_singles(
    url: &str,
    token: &str,
    first: usize,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<Vec<f64>> {
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for k in 0..CLIENTS {
        let (client, url, token, stop) = (
            client.clone(),
            format!("{url}api/v1/responses"),
            token.to_owned(),
            Arc::clone(&stop),
        );
        tasks.push(tokio::spawn(async move {
            let mut ms = Vec::new();
            let mut n = first + k;
            while !stop.load(Ordering::Relaxed) {
                let body = single(n);
                n += CLIENTS;
                let sent = Instant::now();
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?;
                let status = r.status();
                r.bytes().await?;
                ms.push(sent.elapsed().as_secs_f64() * 1000.0);
                if status != 201 {
                    bail!("a single answer was answered {status}");
                }
            }
            anyhow::Ok(ms)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

/// The raw database committing one response and two answers per
/// transaction from CLIENTS clients for `duration`; latencies in ms.
async fn raw_singles(url: &str, sqlite: bool, duration: Duration) -> anyhow::Result<Vec<f64>> {
    enum Pool {
        Lite(sqlx::SqlitePool),
        Pg(sqlx::PgPool),
    }
    let pool = if sqlite {
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
        let options = options
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        // One writer, as SQLite allows.
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        sqlx::raw_sql(SURVEY_DDL).execute(&pool).await?;
        Pool::Lite(pool)
    } else {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(CLIENTS as u32)
            .connect(url)
            .await?;
        sqlx::raw_sql(SURVEY_DDL).execute(&pool).await?;
        Pool::Pg(pool)
    };
    let pool = Arc::new(pool);
    let until = Instant::now() + duration;
    let mut tasks = Vec::new();
    for k in 0..CLIENTS {
        let pool = Arc::clone(&pool);
        tasks.push(tokio::spawn(async move {
            let mut ms = Vec::new();
            let mut n = k;
            while Instant::now() < until {
                let id = uuid::Uuid::new_v4().to_string();
                let order = format!("ORD-{n:08}");
                n += CLIENTS;
                let now = jiff::Timestamp::now().as_millisecond();
                let response = "INSERT INTO responses (order_number, id, survey_id, survey_version, status, channel, \
                    city, segment, started_at, finished_at, duration_ms, photo_taken, content_hash, received_at) \
                    VALUES ($1, $2, 'bench', 1, 'completed', 'api', 'Москва', 'new', $3, $3, 0, FALSE, $2, $3)";
                let answer = "INSERT INTO answers (order_number, response_id, question_id, kind, number_value) \
                    VALUES ($1, $2, $3, 'scale', $4)";
                let sent = Instant::now();
                match pool.as_ref() {
                    Pool::Lite(p) => {
                        let mut tx = p.begin_with("BEGIN IMMEDIATE").await?;
                        sqlx::query(response).bind(&order).bind(&id).bind(now).execute(&mut *tx).await?;
                        for (q, v) in [("nps", 9.0), ("csi", 7.0)] {
                            sqlx::query(answer).bind(&order).bind(&id).bind(q).bind(v).execute(&mut *tx).await?;
                        }
                        tx.commit().await?;
                    }
                    Pool::Pg(p) => {
                        let mut tx = p.begin().await?;
                        sqlx::query(response).bind(&order).bind(&id).bind(now).execute(&mut *tx).await?;
                        for (q, v) in [("nps", 9.0), ("csi", 7.0)] {
                            sqlx::query(answer).bind(&order).bind(&id).bind(q).bind(v).execute(&mut *tx).await?;
                        }
                        tx.commit().await?;
                    }
                }
                ms.push(sent.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(ms)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

pub fn run(doorstep: &Path, dir: &Path, postgres: &str, count: usize) -> anyhow::Result<String> {
    let office = dir.join("latency-orders.csv");
    let raw_orders = dir.join("latency-orders-raw.csv");
    let raw_responses = dir.join("latency-responses.csv");
    let raw_answers = dir.join("latency-answers.csv");
    eprintln!(
        "generating {} orders and {count} responses…",
        count + SPARE_ORDERS
    );
    // A week of orders: busy days, of 70,000 answers each at the default size.
    generate_over(count + SPARE_ORDERS, DAYS, &office, &raw_orders)?;
    let items = responses(
        count,
        count + SPARE_ORDERS,
        DAYS,
        &raw_responses,
        &raw_answers,
    )?;
    let batches: Vec<Value> = items
        .chunks(100)
        .map(|c| Value::Array(c.to_vec()))
        .collect();
    let runtime = tokio::runtime::Runtime::new()?;
    let mut table = String::from(
        "| backend | answers in past days | background build | single answers posted | p50 | p99 | max | raw p99 | p99 / raw |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for &backend in super::backends() {
        let sqlite = backend == "SQLite";
        let (database, raw_db) = if sqlite {
            let path = dir.join("latency.db");
            remove_sqlite(&path);
            let raw = dir.join("latency-raw.db");
            remove_sqlite(&raw);
            (
                format!("sqlite://{}", path.display()),
                format!("sqlite://{}", raw.display()),
            )
        } else {
            psql(postgres, "postgres", "DROP DATABASE IF EXISTS doorstep_latency; CREATE DATABASE doorstep_latency; DROP DATABASE IF EXISTS doorstep_latency_raw; CREATE DATABASE doorstep_latency_raw")?;
            (
                format!("{postgres}/doorstep_latency"),
                format!("{postgres}/doorstep_latency_raw"),
            )
        };
        eprintln!("{backend}: importing orders…");
        import_orders(doorstep, &database, &office)?;
        let token = token(doorstep, &database)?;
        let data = dir.join("latency-data");
        let log = dir.join("latency-serve.log");
        {
            let server = serve_logging(doorstep, &database, &data, None)?;
            let url = server.url.clone();
            runtime.block_on(async {
                publish(&url, &token, &survey()).await?;
                eprintln!("{backend}: loading {count} answers of past days…");
                post_all(&url, &token, batches.clone()).await.map(|_| ())
            })?;
        }
        eprintln!("{backend}: marking every built day and week not built…");
        runtime.block_on(unbuild(&database, sqlite))?;
        eprintln!("{backend}: posting single answers while the server builds…");
        let server = serve_logging(doorstep, &database, &data, Some(("info,sqlx=warn", &log)))?;
        let url = server.url.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let (latencies, build_ms, took) = runtime.block_on(async {
            let posting = tokio::spawn({
                let (url, token, stop) = (url.clone(), token.clone(), Arc::clone(&stop));
                async move { post_singles(&url, &token, count, stop).await }
            });
            let started = Instant::now();
            let mut build_ms = None;
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if build_ms.is_none() {
                    build_ms = build_done(&log)
                        .map(|ms| ms.unwrap_or(started.elapsed().as_millis() as u64));
                }
                if (build_ms.is_some() && started.elapsed() >= AT_LEAST)
                    || started.elapsed() > AT_MOST
                {
                    break;
                }
            }
            stop.store(true, Ordering::Relaxed);
            let latencies = posting.await.context("posting task")??;
            anyhow::Ok((latencies, build_ms, started.elapsed()))
        })?;
        drop(server);
        let Some(build_ms) = build_ms else {
            bail!(
                "the background build did not finish within {} s",
                AT_MOST.as_secs()
            );
        };
        eprintln!("{backend}: the raw database, for as long…");
        let raw = runtime.block_on(raw_singles(&raw_db, sqlite, took))?;
        let (n, p50, p99, max) = summary(latencies);
        let (_, _, raw_p99, _) = summary(raw);
        let _ = writeln!(
            table,
            "| {backend} | {count} | {:.1} s | {n} in {:.0} s | {p50:.1} ms | {p99:.1} ms | {max:.0} ms | {raw_p99:.1} ms | {:.1}× |",
            build_ms as f64 / 1000.0,
            took.as_secs_f64(),
            p99 / raw_p99
        );
        if sqlite {
            remove_sqlite(&dir.join("latency.db"));
            remove_sqlite(&dir.join("latency-raw.db"));
        } else {
            psql(postgres, "postgres", "DROP DATABASE doorstep_latency WITH (FORCE); DROP DATABASE doorstep_latency_raw WITH (FORCE)")?;
        }
        let _ = std::fs::remove_dir_all(&data);
        let _ = std::fs::remove_file(&log);
    }
    for f in [office, raw_orders, raw_responses, raw_answers] {
        let _ = std::fs::remove_file(f);
    }
    Ok(table)
}
