//! `doorstep-bench support [CASES]`: the support figures (first-contact
//! resolution, repeat contacts, SLA attainment, median first reply, CSAT)
//! of a year of CASES cases (default 1,000,000) by week and by line,
//! through `GET /api/v1/support/metrics` on `doorstep serve`; in the same
//! run the raw database counts the same facts with plain GROUP BYs (our
//! physical limit).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::helpdesk::{load, page_times_over, raw_times_over, Pool};
use super::ingest::{serve, token};
use super::{psql, remove_sqlite};

/// Requests measured per figure (after five to warm up).
const ROUNDS: usize = 10;

const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;

/// A year of cases with the facts the SLA judging keeps on them.
async fn fill(pool: &Pool, cases: usize, now: i64) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(16);
    let channels = ["phone", "chat", "email", "messenger", "app", "social"];
    let categories = ["late", "damaged", "incomplete", "wrong_item", "other"];
    let rows = (0..cases).map(move |i| {
        let created = now - 365 * DAY + (i as i64) * (365 * DAY / cases as i64);
        let channel = channels[i % channels.len()];
        let quick = matches!(channel, "chat" | "messenger" | "app" | "social");
        let budget = if quick { 5 * MINUTE } else { 60 * MINUTE };
        let first_ms = rng.gen_range(MINUTE..budget * 5 / 4);
        let resolved = created + rng.gen_range(30 * MINUTE..12 * 60 * MINUTE);
        let contacts = if rng.gen_bool(0.8) { 1 } else { 2 };
        let repeated = if rng.gen_bool(0.07) { (resolved + DAY).to_string() } else { "NULL".to_owned() };
        let csat = if rng.gen_bool(0.3) { rng.gen_range(1..=5).to_string() } else { "NULL".to_owned() };
        let csat_at = if csat == "NULL" { "NULL".to_owned() } else { (resolved + 3_600_000).to_string() };
        format!(
            "('s-{i}', {}, NULL, '{channel}', '{}', '{}', 'normal', 'closed', '+7999{:07}', 'S-{i}', 'op-{}', \
             'Где мой заказ?', {contacts}, {}, {created}, {resolved}, {resolved}, {resolved}, 'met', {}, {}, {}, {}, {first_ms}, \
             {repeated}, {csat}, {csat_at})",
            1001 + i,
            if i % 7 == 0 { "couriers" } else { "customers" },
            categories[i % categories.len()],
            i % 400_000,
            i % 40,
            created + first_ms,
            created + budget,
            first_ms <= budget,
            created + 8 * 60 * MINUTE,
            resolved <= created + 8 * 60 * MINUTE,
        )
    });
    load(
        pool,
        "INSERT INTO cases (id, number, open_key, channel, line, category, priority, status, customer_phone, order_number, \
         owner_login, subject, contacts, first_response_at, created_at, updated_at, resolved_at, closed_at, sla_state, \
         first_response_due_at, first_response_met, resolution_due_at, resolution_met, first_response_ms, repeated_at, \
         csat, csat_at) VALUES",
        rows,
    )
    .await?;
    pool.run(&format!(
        "UPDATE case_sequence SET last_number = {}",
        1001 + cases
    ))
    .await
}

/// The same facts counted by the raw database, one statement each, for
/// a grouping expression `key` (`line`, or the week's number).
fn raw_queries(key: &str, from: i64, to: i64) -> Vec<String> {
    let range = |at: &str| format!("{at} >= {from} AND {at} < {to}");
    vec![
        format!(
            "SELECT {key}, COUNT(*), COUNT(DISTINCT customer_phone), COUNT(DISTINCT CASE WHEN contacts >= 2 OR repeated_at IS NOT NULL THEN customer_phone END) \
             FROM cases WHERE {} GROUP BY {key}",
            range("created_at")
        ),
        format!(
            "SELECT {key}, COUNT(*), SUM(CASE WHEN contacts = 1 AND repeated_at IS NULL THEN 1 ELSE 0 END) FROM cases WHERE {} GROUP BY {key}",
            range("resolved_at")
        ),
        format!(
            "SELECT {key}, COUNT(*), SUM(CASE WHEN first_response_met THEN 1 ELSE 0 END) FROM cases WHERE {} AND first_response_met IS NOT NULL GROUP BY {key}",
            range("first_response_due_at")
        ),
        format!(
            "SELECT {key}, COUNT(*), SUM(CASE WHEN resolution_met THEN 1 ELSE 0 END) FROM cases WHERE {} AND resolution_met IS NOT NULL GROUP BY {key}",
            range("resolution_due_at")
        ),
        format!(
            "SELECT {key}, COUNT(*), SUM(CASE WHEN csat >= 4 THEN 1 ELSE 0 END) FROM cases WHERE {} AND csat IS NOT NULL GROUP BY {key}",
            range("csat_at")
        ),
    ]
}

pub fn run(doorstep: &Path, dir: &Path, postgres: &str, cases: usize) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Runtime::new()?;
    let mut table = String::from(
        "| backend | figures | cases | p50 | p95 | raw p95 | p95 / raw |\n|---|---|---:|---:|---:|---:|---:|\n",
    );
    for &backend in super::backends() {
        let database = super::fresh_database(dir, postgres, backend, "support")?;
        let integration = token(doorstep, &database)?;
        let rows = runtime.block_on(async {
            let pool = pool_of(backend, &database).await?;
            let now = jiff::Timestamp::now().as_millisecond();
            eprintln!("{backend}: a year of {cases} cases…");
            let began = Instant::now();
            fill(&pool, cases, now).await?;
            pool.run("ANALYZE").await?;
            eprintln!(
                "{backend}: loaded in {:.0} s",
                began.elapsed().as_secs_f64()
            );
            // The days' rows, as the job `support.build` keeps them.
            let build = rollups_rebuild(doorstep, &database)?;
            eprintln!("{backend}: days built in {build:.0} s");
            let server = serve(doorstep, &database, &dir.join("support-data"))?;
            let client = bearer_client(&integration)?;
            let today = jiff::Timestamp::now()
                .to_zoned(jiff::tz::TimeZone::get("Europe/Moscow")?)
                .date();
            let from = today.checked_sub(jiff::Span::new().days(364))?;
            let (lo, hi) = (now - 366 * DAY, now + DAY);
            let week = "created_at / 604800000";
            let mut rows = Vec::new();
            for (name, group, key) in [
                ("a year by week", "week", week),
                ("a year by line", "line", "line"),
            ] {
                eprintln!("{backend}: {name}…");
                let path =
                    format!("/api/v1/support/metrics?from={from}&to={today}&group_by={group}");
                let (p50, p95) = page_times_over(&client, &server.url, &path, ROUNDS).await?;
                let raw = raw_times_over(&pool, &raw_queries(key, lo, hi), ROUNDS).await?;
                rows.push((name, p50, p95, raw));
            }
            drop(server);
            anyhow::Ok((rows, build))
        })?;
        let (rows, build) = rows;
        for (name, p50, p95, raw) in rows {
            let _ = writeln!(
                table,
                "| {backend} | {name} | {cases} | {p50:.1} ms | {p95:.1} ms | {raw:.1} ms | {:.2}× |",
                p95 / raw.max(0.001)
            );
        }
        let _ = writeln!(
            table,
            "| {backend} | building the year's days (`doorstep rollups rebuild`) | {cases} | {build:.1} s | | | |"
        );
        if backend == "SQLite" {
            remove_sqlite(&dir.join("support.db"));
        } else {
            psql(
                postgres,
                "postgres",
                "DROP DATABASE doorstep_support WITH (FORCE)",
            )?;
        }
    }
    Ok(table)
}

/// A pool on the bench's database.
pub(crate) async fn pool_of(backend: &str, database: &str) -> anyhow::Result<Pool> {
    Ok(if backend == "SQLite" {
        Pool::Sqlite(sqlx::SqlitePool::connect(database).await?)
    } else {
        Pool::Postgres(sqlx::PgPool::connect(database).await?)
    })
}

/// `doorstep rollups rebuild` on the database: how long it took, in s.
pub(crate) fn rollups_rebuild(doorstep: &Path, database: &str) -> anyhow::Result<f64> {
    let began = Instant::now();
    let status = std::process::Command::new(doorstep)
        .args(["rollups", "rebuild"])
        .env("DOORSTEP_DATABASE", database)
        .stdout(std::process::Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "doorstep rollups rebuild failed");
    Ok(began.elapsed().as_secs_f64())
}

/// A client that sends the integration token.
pub(crate) fn bearer_client(token: &str) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .default_headers(
            [(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {token}").parse()?,
            )]
            .into_iter()
            .collect(),
        )
        .build()?)
}
