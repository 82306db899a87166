//! `doorstep-bench events [SECONDS]`: how long a stored answer takes to
//! reach listeners of the event stream. Terminals post 1,000 responses a
//! second (20 clients, a batch of 5 every 100 ms each) to one `doorstep
//! serve`; 100 clients listen on `GET /api/v1/events` — on PostgreSQL of a
//! second `serve` process on the same database, on SQLite of the same one.
//! The latency of an event is from just before its POST was sent to its
//! arrival at a listener, over every (event, listener) pair.
//!
//! The raw database doing the same work, in the same run: on PostgreSQL a
//! row inserted and `pg_notify` sent in one transaction at the same rate,
//! heard by 100 `LISTEN` connections; on SQLite a row committed and then
//! handed to 100 in-process receivers.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;

use super::ingest::{import_orders, publish, responses, serve, survey, token};
use super::{psql, remove_sqlite};

const SENDERS: usize = 20;
const BATCH: usize = 5;
const PERIOD: Duration = Duration::from_millis(100);
/// Listeners (`BENCH_LISTENERS` to try others).
fn listener_count() -> usize {
    std::env::var("BENCH_LISTENERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100)
}

/// When each response was sent: its index by id (fixed before the run),
/// and per index the microseconds since the run's start (0: not yet) —
/// read by the listeners without a lock, so that the bench's own
/// bookkeeping costs the shared cores as little as it can.
struct Sent {
    index: HashMap<String, usize>,
    at_us: Vec<std::sync::atomic::AtomicU64>,
    start: Instant,
}

impl Sent {
    fn mark(&self, id: &str) {
        if let Some(&i) = self.index.get(id) {
            let us = self.start.elapsed().as_micros() as u64 + 1;
            self.at_us[i].store(us, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Milliseconds from the send of `id` to `arrived`.
    fn latency(&self, id: &str, arrived: Instant) -> Option<f64> {
        let i = *self.index.get(id)?;
        let us = self.at_us[i].load(std::sync::atomic::Ordering::Relaxed);
        (us > 0).then(|| {
            let arrived_us = arrived.duration_since(self.start).as_micros() as u64 + 1;
            arrived_us.saturating_sub(us) as f64 / 1000.0
        })
    }
}

pub fn run(doorstep: &Path, dir: &Path, postgres: &str, seconds: usize) -> anyhow::Result<String> {
    let rate = SENDERS * BATCH * (1000 / PERIOD.as_millis() as usize);
    let count = rate * seconds;
    let office = dir.join("events-orders.csv");
    let raw_orders = dir.join("events-orders-raw.csv");
    let raw_responses = dir.join("events-responses.csv");
    let raw_answers = dir.join("events-answers.csv");
    eprintln!("generating {count} orders and responses…");
    super::generate_over(count, 1, &office, &raw_orders)?;
    let items = responses(count, count, 1, &raw_responses, &raw_answers)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let mut table = String::from(
        "| backend | servers | responses/s posted | listeners | POST p99 | events heard | missed | p50 | p99 | max | raw p99 | p99 / raw | incidents heard | incident p50 | incident p99 | incident p99 / raw |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for &backend in super::backends() {
        let database = super::fresh_database(dir, postgres, backend, "events")?;
        eprintln!("{backend}: importing orders…");
        import_orders(doorstep, &database, &office)?;
        let token = token(doorstep, &database)?;
        let writer = serve(doorstep, &database, &dir.join("events-data-a"))?;
        let reader = if backend == "SQLite" {
            None
        } else {
            Some(serve(doorstep, &database, &dir.join("events-data-b"))?)
        };
        let listen_url = reader.as_ref().map_or(&writer.url, |r| &r.url).clone();
        let ours = runtime.block_on(async {
            publish(&writer.url, &token, &survey()).await?;
            eprintln!(
                "{backend}: {rate} responses/s for {seconds} s, {} listeners…",
                listener_count()
            );
            measure(&writer.url, &listen_url, &token, &items).await
        })?;
        // The servers' connections go back before the raw run takes its
        // 100 listeners and 20 writers (PostgreSQL allows 100 by default).
        drop(reader);
        drop(writer);
        eprintln!("{backend}: the raw database, the same rate and listeners…");
        let raw = runtime.block_on(async {
            if backend == "SQLite" {
                raw_sqlite(dir, count, rate).await
            } else {
                raw_postgres(postgres, count, rate).await
            }
        })?;
        if backend == "SQLite" {
            remove_sqlite(&dir.join("events.db"));
        } else {
            psql(
                postgres,
                "postgres",
                "DROP DATABASE doorstep_events WITH (FORCE)",
            )?;
        }
        let (p50, p99, max) = percentiles(&ours.latencies);
        let (_, raw_p99, _) = percentiles(&raw);
        let (i50, i99, _) = percentiles(&ours.incidents);
        let _ = writeln!(
            table,
            "| {backend} | {} | {:.0} | {} | {:.1} ms | {} | {} | {p50:.1} ms | {p99:.1} ms | {max:.0} ms | {raw_p99:.1} ms | {:.1}× | {} | {i50:.1} ms | {i99:.1} ms | {:.1}× |",
            if backend == "SQLite" { "1" } else { "2 (post to A, listen on B)" },
            ours.posted as f64 / ours.seconds,
            listener_count(),
            percentiles(&ours.posts).1,
            ours.latencies.len(),
            ours.missed,
            p99 / raw_p99.max(0.001),
            ours.incidents.len(),
            i99 / raw_p99.max(0.001),
        );
    }
    for f in [office, raw_orders, raw_responses, raw_answers] {
        let _ = std::fs::remove_file(f);
    }
    Ok(table)
}

struct Measured {
    latencies: Vec<f64>,
    /// From the POST of a detractor's answer to its `incident.created`
    /// (ms), as every listener heard it.
    incidents: Vec<f64>,
    /// How long each POST took (ms).
    posts: Vec<f64>,
    missed: usize,
    posted: usize,
    seconds: f64,
}

pub(crate) fn percentiles(samples: &[f64]) -> (f64, f64, f64) {
    if samples.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99), sorted[sorted.len() - 1])
}

async fn measure(
    post_url: &str,
    listen_url: &str,
    token: &str,
    items: &[Value],
) -> anyhow::Result<Measured> {
    let sent = Arc::new(Sent {
        index: items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| Some((item["id"].as_str()?.to_owned(), i)))
            .collect(),
        at_us: (0..items.len())
            .map(|_| std::sync::atomic::AtomicU64::new(0))
            .collect(),
        start: Instant::now(),
    });
    let client = reqwest::Client::new();
    // Listeners first, each ready (its response headers in) before posting.
    let mut listeners = Vec::new();
    for _ in 0..listener_count() {
        let r = client
            .get(format!("{listen_url}api/v1/events"))
            .bearer_auth(token)
            .send()
            .await?;
        if r.status() != 200 {
            bail!("the event stream answered {}", r.status());
        }
        let sent = Arc::clone(&sent);
        let expected = items.len();
        listeners.push(tokio::spawn(listen(r, sent, expected)));
    }
    let started = Instant::now();
    let queue: Vec<Value> = items
        .chunks(BATCH)
        .map(|c| Value::Array(c.to_vec()))
        .collect();
    let queue = Arc::new(Mutex::new(queue));
    let mut senders = Vec::new();
    for _ in 0..SENDERS {
        let (client, queue, sent, url, token) = (
            client.clone(),
            Arc::clone(&queue),
            Arc::clone(&sent),
            format!("{post_url}api/v1/responses"),
            token.to_owned(),
        );
        senders.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(PERIOD);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut posts = Vec::new();
            loop {
                tick.tick().await;
                let Some(batch) = queue.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.pop()
                else {
                    return anyhow::Ok(posts);
                };
                let began = Instant::now();
                for item in batch.as_array().into_iter().flatten() {
                    if let Some(id) = item["id"].as_str() {
                        sent.mark(id);
                    }
                }
                super::ingest::post_batch(&client, &url, &token, &batch).await?;
                posts.push(began.elapsed().as_secs_f64() * 1000.0);
            }
        }));
    }
    let mut posts = Vec::new();
    for s in senders {
        posts.extend(s.await??);
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut latencies = Vec::new();
    let mut incidents = Vec::new();
    let mut missed = 0;
    for l in listeners {
        let (heard, got, raised) = l.await??;
        missed += items.len() - heard;
        latencies.extend(got);
        incidents.extend(raised);
    }
    Ok(Measured {
        latencies,
        incidents,
        posts,
        missed,
        posted: items.len(),
        seconds,
    })
}

/// One listener: latencies (ms) of the `response.created` events it heard,
/// until it has heard `expected` or nothing came for 5 s, and of the
/// `incident.created` events (by the response that raised each).
async fn listen(
    r: reqwest::Response,
    sent: Arc<Sent>,
    expected: usize,
) -> anyhow::Result<(usize, Vec<f64>, Vec<f64>)> {
    use futures_util::StreamExt;
    let mut body = r.bytes_stream();
    let mut buffer = String::new();
    let mut latencies = Vec::with_capacity(expected);
    let mut incidents = Vec::new();
    let mut heard = 0;
    while heard < expected {
        let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_secs(5), body.next()).await
        else {
            break;
        };
        let arrived = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk.context("event stream")?));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if block.contains("event: incident.created") {
                if let Some(ms) = block
                    .split("\"response_id\":\"")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .and_then(|id| sent.latency(id, arrived))
                {
                    incidents.push(ms);
                }
                continue;
            }
            if !block.contains("event: response.created") {
                continue;
            }
            // The response's id, without parsing the whole event.
            let Some(id) = block
                .split("\"id\":\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
            else {
                continue;
            };
            if let Some(ms) = sent.latency(id, arrived) {
                heard += 1;
                latencies.push(ms);
            }
        }
    }
    Ok((heard, latencies, incidents))
}

/// Raw PostgreSQL: `count` rows, each inserted with a `pg_notify` in one
/// transaction at `rate` a second (from 20 connections), heard by 100
/// `LISTEN` connections; the latencies (ms) from the start of the insert.
pub(crate) async fn raw_postgres(
    postgres: &str,
    count: usize,
    rate: usize,
) -> anyhow::Result<Vec<f64>> {
    use sqlx::Connection;
    psql(
        postgres,
        "postgres",
        "DROP DATABASE IF EXISTS doorstep_events_raw; CREATE DATABASE doorstep_events_raw",
    )?;
    let url = format!("{postgres}/doorstep_events_raw");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(SENDERS as u32)
        .connect(&url)
        .await?;
    sqlx::query("CREATE TABLE events (id BIGINT PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL, created_at BIGINT NOT NULL)")
        .execute(&pool)
        .await?;
    let sent: Arc<Mutex<HashMap<i64, Instant>>> =
        Arc::new(Mutex::new(HashMap::with_capacity(count)));
    // The writers' connections and the listeners' must fit under the
    // server's max_connections (100 by default, three kept for
    // superusers): with the defaults, 77 listeners beside 20 writers.
    let (max,): (String,) = sqlx::query_as("SHOW max_connections")
        .fetch_one(&pool)
        .await?;
    let room = max
        .parse::<usize>()
        .unwrap_or(100)
        .saturating_sub(SENDERS + 3);
    let raw_listeners = listener_count().min(room.max(1));
    if raw_listeners < listener_count() {
        eprintln!("raw PostgreSQL: {raw_listeners} LISTEN connections (max_connections {max} leaves no room for more)");
    }
    let mut listeners = Vec::new();
    for _ in 0..raw_listeners {
        let mut l = sqlx::postgres::PgListener::connect(&url).await?;
        l.listen("raw_events").await?;
        let sent = Arc::clone(&sent);
        listeners.push(tokio::spawn(async move {
            let mut got = Vec::with_capacity(count);
            while got.len() < count {
                let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(5), l.recv()).await else {
                    break;
                };
                let arrived = Instant::now();
                let id: i64 = n.payload().parse().unwrap_or(-1);
                if let Some(at) = sent.lock().ok().and_then(|s| s.get(&id).copied()) {
                    got.push(arrived.duration_since(at).as_secs_f64() * 1000.0);
                }
            }
            got
        }));
    }
    let per_sender = count / SENDERS;
    let interval = Duration::from_secs_f64(SENDERS as f64 / rate as f64);
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let (pool, sent) = (pool.clone(), Arc::clone(&sent));
        senders.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            for i in 0..per_sender {
                tick.tick().await;
                let id = (s * per_sender + i) as i64;
                sent.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.insert(id, Instant::now());
                let mut conn = pool.acquire().await?;
                let mut tx = conn.begin().await?;
                sqlx::query("INSERT INTO events (id, name, data, created_at) VALUES ($1, 'response.created', '{}', 0)")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("SELECT pg_notify('raw_events', $1)")
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            anyhow::Ok(())
        }));
    }
    for s in senders {
        s.await??;
    }
    let mut all = Vec::new();
    for l in listeners {
        all.extend(l.await?);
    }
    pool.close().await;
    psql(
        postgres,
        "postgres",
        "DROP DATABASE doorstep_events_raw WITH (FORCE)",
    )?;
    Ok(all)
}

/// Raw SQLite: `count` rows committed one a transaction at `rate` a second
/// through one connection, each handed after its commit to 100 in-process
/// receivers; the latencies (ms) from the start of the insert.
pub(crate) async fn raw_sqlite(dir: &Path, count: usize, rate: usize) -> anyhow::Result<Vec<f64>> {
    use sqlx::ConnectOptions;
    let path = dir.join("events-raw.db");
    remove_sqlite(&path);
    let mut conn = format!("sqlite://{}", path.display())
        .parse::<sqlx::sqlite::SqliteConnectOptions>()?
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
        .connect()
        .await?;
    sqlx::query("CREATE TABLE events (id BIGINT PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL, created_at BIGINT NOT NULL)")
        .execute(&mut conn)
        .await?;
    let (tx, _) = tokio::sync::broadcast::channel::<(i64, Instant)>(count.max(1));
    let listeners: Vec<_> = (0..listener_count())
        .map(|_| {
            let mut rx = tx.subscribe();
            tokio::spawn(async move {
                let mut got = Vec::with_capacity(count);
                while got.len() < count {
                    let Ok(Ok((_, at))) =
                        tokio::time::timeout(Duration::from_secs(5), rx.recv()).await
                    else {
                        break;
                    };
                    got.push(at.elapsed().as_secs_f64() * 1000.0);
                }
                got
            })
        })
        .collect();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    for i in 0..count {
        tick.tick().await;
        let at = Instant::now();
        sqlx::query("INSERT INTO events (id, name, data, created_at) VALUES ($1, 'response.created', '{}', 0)")
            .bind(i as i64)
            .execute(&mut conn)
            .await?;
        let _ = tx.send((i as i64, at));
    }
    drop(tx);
    let mut all = Vec::new();
    for l in listeners {
        all.extend(l.await?);
    }
    remove_sqlite(&path);
    Ok(all)
}
