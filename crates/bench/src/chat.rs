//! `doorstep-bench chat [SECONDS]`: chat message latency with 1,000 open
//! chats. 1,000 cases each have their customer's status page following its
//! events (`/c/{token}/events`) on server B; an operator's stream
//! (`GET /api/v1/events`) follows every case on server A — on PostgreSQL
//! two `serve` processes on one database, on SQLite one. Messages go both
//! ways at 20 a second: a customer writes on B (`POST /c/{token}/messages`)
//! and the operator hears it on A; the operator replies on A (`POST
//! /api/v1/cases/{id}/contacts`) and the customer's page on B hears it.
//! The latency is from just before the POST to the event's arrival.
//!
//! The raw database doing the same work, in the same run: a row inserted
//! and `pg_notify` sent in one transaction at the same rate, heard by
//! `LISTEN` connections (on SQLite: committed, then handed to in-process
//! receivers).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use rand::{Rng, SeedableRng};

use super::events::{percentiles, raw_postgres, raw_sqlite};
use super::ingest::{serve, token};
use super::{psql, remove_sqlite};

const CHATS: usize = 1000;
/// Messages a second, both ways together.
const RATE: usize = 20;

/// The message in flight on each case: who sent it and when.
type InFlight = Arc<Mutex<HashMap<String, (bool, Instant)>>>;

/// Follows one event stream, recording for each case event the latency of
/// the message in flight on that case sent the other way (`customer`:
/// this stream is the customer's page, hearing the operator's replies).
async fn follow(
    r: reqwest::Response,
    case: Option<String>,
    customer: bool,
    flight: InFlight,
    latencies: Arc<Mutex<Vec<f64>>>,
    until: Instant,
) -> anyhow::Result<()> {
    let mut body = r.bytes_stream();
    let mut buffer = String::new();
    while Instant::now() < until {
        let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_secs(2), body.next()).await
        else {
            continue;
        };
        let arrived = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk.context("event stream")?));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if !block.contains("event: case.updated") {
                continue;
            }
            let id = match &case {
                Some(id) => id.clone(),
                None => match block
                    .split("\"id\":\"")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                {
                    Some(id) => id.to_owned(),
                    None => continue,
                },
            };
            let mut flight = flight.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            // A message the other side sent, not yet heard here.
            if let Some(&(by_customer, at)) = flight.get(&id) {
                if by_customer != customer {
                    flight.remove(&id);
                    latencies
                        .lock()
                        .map_err(|_| anyhow::anyhow!("poisoned"))?
                        .push(arrived.duration_since(at).as_secs_f64() * 1000.0);
                }
            }
        }
    }
    Ok(())
}

struct Measured {
    to_operator: Vec<f64>,
    to_customer: Vec<f64>,
    sent: usize,
}

async fn measure(a: &str, b: &str, token: &str, seconds: usize) -> anyhow::Result<Measured> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    // The open chats.
    let mut chats = Vec::with_capacity(CHATS);
    for i in 0..CHATS {
        let r: serde_json::Value = client
            .post(format!("{a}api/v1/cases"))
            .bearer_auth(token)
            .json(&serde_json::json!({"channel": "chat", "customer_phone": format!("+7999{i:07}"), "text": "Здравствуйте!"}))
            .send()
            .await?
            .json()
            .await?;
        let id = r["id"].as_str().context("a case id")?.to_owned();
        let url = r["status_url"].as_str().context("a status_url")?;
        let path = url[url.find("/c/").context("a status path")?..].to_owned();
        chats.push((id, path));
    }
    let flight: InFlight = Arc::new(Mutex::new(HashMap::new()));
    let to_operator = Arc::new(Mutex::new(Vec::new()));
    let to_customer = Arc::new(Mutex::new(Vec::new()));
    let until = Instant::now() + Duration::from_secs(seconds as u64 + 8);
    let mut followers = Vec::new();
    let operator = client
        .get(format!("{a}api/v1/events"))
        .bearer_auth(token)
        .send()
        .await?;
    followers.push(tokio::spawn(follow(
        operator,
        None,
        false,
        Arc::clone(&flight),
        Arc::clone(&to_operator),
        until,
    )));
    for (id, path) in &chats {
        let page = client
            .get(format!("{}{}/events", b.trim_end_matches('/'), path))
            .send()
            .await?;
        anyhow::ensure!(
            page.status() == 200,
            "a status page's events: {}",
            page.status()
        );
        followers.push(tokio::spawn(follow(
            page,
            Some(id.clone()),
            true,
            Arc::clone(&flight),
            Arc::clone(&to_customer),
            until,
        )));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    eprintln!("{CHATS} chats open; {RATE} messages a second for {seconds} s…");
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / RATE as f64));
    let mut sent = 0;
    let mut sends = Vec::new();
    for n in 0..seconds * RATE {
        tick.tick().await;
        let (id, path) = &chats[rng.gen_range(0..CHATS)];
        let by_customer = n % 2 == 0;
        {
            let mut f = flight.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            if f.contains_key(id) {
                continue;
            }
            f.insert(id.clone(), (by_customer, Instant::now()));
        }
        sent += 1;
        let request = if by_customer {
            client
                .post(format!("{}{}/messages", b.trim_end_matches('/'), path))
                .form(&[
                    ("text", format!("Сообщение {n}")),
                    ("message_id", uuid::Uuid::new_v4().to_string()),
                ])
        } else {
            client
                .post(format!("{a}api/v1/cases/{id}/contacts"))
                .bearer_auth(token)
                .json(&serde_json::json!({"channel": "chat", "direction": "outbound", "text": format!("Ответ {n}")}))
        };
        sends.push(tokio::spawn(async move {
            let r = request.send().await?;
            anyhow::ensure!(
                r.status().is_success() || r.status().is_redirection(),
                "a message: {}",
                r.status()
            );
            anyhow::Ok(())
        }));
    }
    for s in sends {
        s.await??;
    }
    for f in followers {
        f.await??;
    }
    let take = |v: &Arc<Mutex<Vec<f64>>>| v.lock().map(|v| v.clone()).unwrap_or_default();
    Ok(Measured {
        to_operator: take(&to_operator),
        to_customer: take(&to_customer),
        sent,
    })
}

pub fn run(doorstep: &Path, dir: &Path, postgres: &str, seconds: usize) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Runtime::new()?;
    let mut table = String::from(
        "| backend | servers | open chats | messages sent | heard | customer → operator p50 | p99 | operator → customer p50 | p99 | raw p99 | p99 / raw |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for &backend in super::backends() {
        let database = super::fresh_database(dir, postgres, backend, "chat")?;
        let integration = token(doorstep, &database)?;
        let a = serve(doorstep, &database, &dir.join("chat-data-a"))?;
        let b = if backend == "SQLite" {
            None
        } else {
            Some(serve(doorstep, &database, &dir.join("chat-data-b"))?)
        };
        let b_url = b.as_ref().map_or(&a.url, |s| &s.url).clone();
        let ours = runtime.block_on(measure(&a.url, &b_url, &integration, seconds))?;
        drop(b);
        drop(a);
        let count = seconds * RATE;
        let raw = runtime.block_on(async {
            if backend == "SQLite" {
                raw_sqlite(dir, count, RATE).await
            } else {
                raw_postgres(postgres, count, RATE).await
            }
        })?;
        if backend == "SQLite" {
            remove_sqlite(&dir.join("chat.db"));
        } else {
            psql(
                postgres,
                "postgres",
                "DROP DATABASE doorstep_chat WITH (FORCE)",
            )?;
        }
        let (o50, o99, _) = percentiles(&ours.to_operator);
        let (c50, c99, _) = percentiles(&ours.to_customer);
        let (_, raw99, _) = percentiles(&raw);
        let _ = writeln!(
            table,
            "| {backend} | {} | {CHATS} | {} | {} | {o50:.1} ms | {o99:.1} ms | {c50:.1} ms | {c99:.1} ms | {raw99:.1} ms | {:.1}× |",
            if backend == "SQLite" { "1" } else { "2 (customers on B, operator on A)" },
            ours.sent,
            ours.to_operator.len() + ours.to_customer.len(),
            o99.max(c99) / raw99.max(0.001),
        );
    }
    Ok(table)
}
