//! `doorstep-bench call-figures [CALLS]`: the contact center's figures for
//! a month of a year of CALLS calls (default 12,800,000: 35,000 a day, seed
//! 003's Nova Poshta) by hour of the day, by queue and by agent, through
//! `GET /api/v1/calls/metrics` on `doorstep serve`; in the same run the raw
//! database sums the same month's calls with one GROUP BY (our physical
//! limit, and what the figures cost without the kept slots).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::helpdesk::{page_times_over, raw_times_over, Pool};
use super::ingest::{serve, token};
use super::support::{bearer_client, pool_of, rollups_rebuild};
use super::{psql, remove_sqlite};

/// Requests measured per figure (after five to warm up).
const ROUNDS: usize = 10;

const DAY: i64 = 86_400_000;

/// Calls an hour of the day, relative: a morning peak, a quiet night.
const SHAPE: [u32; 24] = [
    1, 1, 0, 0, 0, 1, 2, 6, 10, 14, 13, 11, 10, 9, 9, 8, 8, 9, 10, 9, 7, 5, 3, 2,
];

/// A year of calls, written straight into `calls` in statements of 1,000
/// rows, 50 to a transaction (streamed: memory stays flat).
async fn fill(pool: &Pool, calls: usize, now: i64) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(27);
    let queues = ["support", "support", "support", "couriers", "partners"];
    let reasons = [
        "where_is_order",
        "change_delivery",
        "complaint",
        "payment",
        "courier",
        "other",
    ];
    let weights: u32 = SHAPE.iter().sum();
    let per_day = (calls / 365).max(1);
    let head = "INSERT INTO calls (id, queue, caller, customer_phone, entered_at, answered_at, ended_at, agent, \
                wait_seconds, talk_seconds, outcome, entered, updated_at, reason) VALUES";
    let mut statement = Vec::with_capacity(1000);
    let mut batch: Vec<String> = Vec::with_capacity(50);
    let began = Instant::now();
    for i in 0..calls {
        let day = (i / per_day) as i64;
        // The hour by the day's shape, then a moment in it.
        let mut pick = rng.gen_range(0..weights);
        let mut hour = 0;
        while pick >= SHAPE[hour] {
            pick -= SHAPE[hour];
            hour += 1;
        }
        let entered =
            now - 365 * DAY + day * DAY + hour as i64 * 3_600_000 + rng.gen_range(0..3_600_000);
        let queue = queues[i % queues.len()];
        let wait: i64 = rng.gen_range(1..if (9..=11).contains(&hour) { 120 } else { 40 });
        let roll = rng.gen_range(0..100);
        let row = if roll < 90 {
            let talk: i64 = rng.gen_range(40..400);
            format!(
                "('y-{i}', '{queue}', NULL, NULL, {entered}, {}, {}, 'SIP/{}', {wait}, {talk}, 'answered', TRUE, {entered}, {})",
                entered + wait * 1000,
                entered + (wait + talk) * 1000,
                100 + rng.gen_range(0..60),
                if rng.gen_bool(0.9) { format!("'{}'", reasons[rng.gen_range(0..reasons.len())]) } else { "NULL".into() },
            )
        } else {
            format!(
                "('y-{i}', '{queue}', NULL, NULL, {entered}, NULL, {}, NULL, {wait}, NULL, '{}', TRUE, {entered}, NULL)",
                entered + wait * 1000,
                if roll < 98 { "abandoned" } else { "unanswered" },
            )
        };
        statement.push(row);
        if statement.len() == 1000 {
            batch.push(format!("{head} {};", statement.join(",")));
            statement.clear();
            if batch.len() == 50 {
                pool.run(&format!("BEGIN; {} COMMIT;", batch.join(" ")))
                    .await?;
                batch.clear();
                if i % 1_000_000 < 50_000 {
                    eprintln!("  {} calls ({:.0} s)", i + 1, began.elapsed().as_secs_f64());
                }
            }
        }
    }
    if !statement.is_empty() {
        batch.push(format!("{head} {};", statement.join(",")));
    }
    if !batch.is_empty() {
        pool.run(&format!("BEGIN; {} COMMIT;", batch.join(" ")))
            .await?;
    }
    Ok(())
}

/// The same month summed by the raw database from the calls: by slot and
/// queue (what the hours and periods are folded from), by queue, by agent.
fn raw_query(group: &str, from: i64, to: i64) -> String {
    let key = match group {
        "agent" => "queue, COALESCE(agent, '')",
        "queue" => "queue",
        _ => "entered_at / 900000, queue",
    };
    format!(
        "SELECT {key}, COUNT(*), SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END), \
         SUM(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN outcome = 'abandoned' AND wait_seconds <= 5 THEN 1 ELSE 0 END), \
         SUM(CASE WHEN answered_at IS NOT NULL AND wait_seconds <= 20 THEN 1 ELSE 0 END), \
         SUM(CASE WHEN answered_at IS NOT NULL THEN wait_seconds ELSE 0 END), \
         SUM(CASE WHEN outcome = 'answered' AND talk_seconds IS NOT NULL THEN 1 ELSE 0 END), \
         SUM(CASE WHEN outcome = 'answered' THEN talk_seconds ELSE 0 END), MAX(wait_seconds) \
         FROM calls WHERE entered AND outcome <> 'waiting' AND entered_at >= {from} AND entered_at < {to} GROUP BY {key}"
    )
}

pub fn run(doorstep: &Path, dir: &Path, postgres: &str, calls: usize) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Runtime::new()?;
    let mut table = String::from(
        "| backend | a month's figures | calls in the year | p50 | p95 | raw p95 | p95 / raw |\n|---|---|---:|---:|---:|---:|---:|\n",
    );
    for &backend in super::backends() {
        let database = super::fresh_database(dir, postgres, backend, "callfigures")?;
        let integration = token(doorstep, &database)?;
        let (rows, build) = runtime.block_on(async {
            let pool = pool_of(backend, &database).await?;
            let now = jiff::Timestamp::now().as_millisecond();
            eprintln!("{backend}: a year of {calls} calls…");
            let began = Instant::now();
            fill(&pool, calls, now).await?;
            pool.run("ANALYZE").await?;
            eprintln!(
                "{backend}: loaded in {:.0} s",
                began.elapsed().as_secs_f64()
            );
            // The slots, as every write of calls keeps them.
            let build = rollups_rebuild(doorstep, &database)?;
            eprintln!("{backend}: slots built in {build:.0} s");
            let server = serve(doorstep, &database, &dir.join("callfigures-data"))?;
            let client = bearer_client(&integration)?;
            let tz = jiff::tz::TimeZone::get("Europe/Moscow")?;
            let today = jiff::Timestamp::now().to_zoned(tz.clone()).date();
            let to = today.checked_sub(jiff::Span::new().days(1))?;
            let from = to.checked_sub(jiff::Span::new().days(29))?;
            let (lo, hi) = (
                from.to_zoned(tz.clone())?.timestamp().as_millisecond(),
                today.to_zoned(tz.clone())?.timestamp().as_millisecond(),
            );
            let mut rows = Vec::new();
            for (name, group) in [
                ("by hour of the day", "hour"),
                ("by queue", "queue"),
                ("by agent", "agent"),
            ] {
                eprintln!("{backend}: {name}…");
                let path = format!("/api/v1/calls/metrics?from={from}&to={to}&group_by={group}");
                let (p50, p95) = page_times_over(&client, &server.url, &path, ROUNDS).await?;
                let raw = raw_times_over(&pool, &[raw_query(group, lo, hi)], ROUNDS).await?;
                rows.push((name, p50, p95, raw));
            }
            drop(server);
            anyhow::Ok((rows, build))
        })?;
        for (name, p50, p95, raw) in rows {
            let _ = writeln!(
                table,
                "| {backend} | {name} | {calls} | {p50:.1} ms | {p95:.1} ms | {raw:.1} ms | {:.2}× |",
                p95 / raw.max(0.001)
            );
        }
        let _ = writeln!(
            table,
            "| {backend} | `doorstep rollups rebuild` (the slots built from every call) | {calls} | {build:.1} s | | | |"
        );
        if backend == "SQLite" {
            remove_sqlite(&dir.join("callfigures.db"));
        } else {
            psql(
                postgres,
                "postgres",
                "DROP DATABASE doorstep_callfigures WITH (FORCE)",
            )?;
        }
    }
    Ok(table)
}
