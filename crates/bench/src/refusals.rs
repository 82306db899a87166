//! `doorstep-bench refusals [REFUSALS]`: items refused at the door over a
//! year (default 2,400,000: 2% of ten million orders a month), with the
//! delivery rollup of 500 couriers' days beside them; a month's refusal
//! rates on the dashboard (by courier and by reason, with everything else
//! the dashboard shows) and on the causes page, timed through
//! `doorstep serve` (which reads the refusal rates' daily rollup); in the
//! same run the raw database counts the same month's refused orders from the
//! refusals themselves (overall, by courier, by reason) and sums the
//! delivered ones — what the figures cost without the rollup.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::helpdesk::{page_times_over, raw_times_over, Pool};
use super::ingest::{serve, token};
use super::support::pool_of;
use super::{psql, remove_sqlite};

/// Requests measured per page (after five to warm up).
const ROUNDS: usize = 10;
const DAY: i64 = 86_400_000;
const COURIERS: usize = 500;
const CITIES: [&str; 4] = ["Москва", "Новосибирск", "Київ", "Ташкент"];
const PARTNERS: [&str; 7] = ["p1", "p2", "p3", "p4", "p5", "p6", "p7"];
const REASONS: [&str; 6] = [
    "damaged",
    "wrong_item",
    "not_ordered",
    "changed_mind",
    "quality",
    "other",
];

/// The statements that insert the refusals and items gathered (emptied).
fn insert_refusals(
    statements: &mut Vec<String>,
    refusals: &mut Vec<String>,
    items: &mut Vec<String>,
) {
    statements.push(format!(
        "INSERT INTO refusals (id, order_number, whole_order, courier_id, city, partner, recorded_at, token_id) VALUES {};",
        refusals.join(",")
    ));
    statements.push(format!(
        "INSERT INTO refused_items (refusal_id, position, item, quantity, reason, note) VALUES {};",
        items.join(",")
    ));
    refusals.clear();
    items.clear();
}

/// A year of refusals (one item, a tenth of them two) and the delivery
/// rollup's rows, in statements of 1,000 rows, 50 to a transaction.
async fn fill(pool: &Pool, refusals: usize, now: i64) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(18);
    let began = Instant::now();
    let mut statements: Vec<String> = Vec::new();
    let flush = |statements: &mut Vec<String>| {
        let sql = format!("BEGIN; {} COMMIT;", statements.join(" "));
        statements.clear();
        sql
    };
    let mut refusals_rows = Vec::with_capacity(1000);
    let mut item_rows = Vec::with_capacity(1100);
    for i in 0..refusals {
        let at = now - 365 * DAY + (i as i64 * 365 * DAY) / refusals as i64;
        let courier = rng.gen_range(0..COURIERS);
        let city = CITIES[courier % CITIES.len()];
        let partner = PARTNERS[rng.gen_range(0..PARTNERS.len())];
        refusals_rows.push(format!(
            "('r-{i}', 'o-{i}', FALSE, 'K-{courier}', '{city}', '{partner}', {at}, NULL)"
        ));
        for position in 0..=usize::from(rng.gen_bool(0.1)) {
            item_rows.push(format!(
                "('r-{i}', {position}, 'item', 1, '{}', NULL)",
                REASONS[rng.gen_range(0..REASONS.len())]
            ));
        }
        if refusals_rows.len() == 1000 {
            insert_refusals(&mut statements, &mut refusals_rows, &mut item_rows);
            if statements.len() >= 100 {
                pool.run(&flush(&mut statements)).await?;
                if i % 500_000 < 1000 {
                    eprintln!(
                        "  {} refusals ({:.0} s)",
                        i + 1,
                        began.elapsed().as_secs_f64()
                    );
                }
            }
        }
    }
    if !refusals_rows.is_empty() {
        insert_refusals(&mut statements, &mut refusals_rows, &mut item_rows);
    }
    // Fifty refusals in a courier's day are 2% of his deliveries: each
    // courier's day in the rollup, with his city and one partner.
    let today = now / DAY;
    let per_day = (refusals as f64 / 0.02 / 365.0 / COURIERS as f64).round() as i64;
    let mut rows = Vec::with_capacity(1000);
    for day in today - 366..=today {
        for courier in 0..COURIERS {
            let city = CITIES[courier % CITIES.len()];
            let partner = PARTNERS[courier % PARTNERS.len()];
            let month = 202_600 + (day % 12) + 1;
            rows.push(format!(
                "({day}, {month}, '{city}', '{partner}', 'K-{courier}', {per_day}, {})",
                per_day * 9 / 10
            ));
            if rows.len() == 1000 {
                statements.push(format!(
                    "INSERT INTO rollup_delivery_days (day, month, city, partner, courier_id, delivered, on_time) VALUES {};",
                    rows.join(",")
                ));
                rows.clear();
            }
        }
    }
    if !rows.is_empty() {
        statements.push(format!(
            "INSERT INTO rollup_delivery_days (day, month, city, partner, courier_id, delivered, on_time) VALUES {};",
            rows.join(",")
        ));
    }
    if !statements.is_empty() {
        pool.run(&flush(&mut statements)).await?;
    }
    Ok(())
}

/// What the dashboard and the causes page ask of the refusals, run raw.
fn raw_queries(from: i64, to: i64, from_day: i64, to_day: i64) -> Vec<String> {
    let over = format!("FROM refusals r WHERE r.recorded_at >= {from} AND r.recorded_at < {to}");
    vec![
        format!("SELECT COUNT(DISTINCT r.order_number) {over}"),
        format!("SELECT r.courier_id, COUNT(DISTINCT r.order_number) {over} GROUP BY 1"),
        format!(
            "SELECT i.reason, COUNT(DISTINCT r.order_number) FROM refusals r JOIN refused_items i ON i.refusal_id = r.id \
             WHERE r.recorded_at >= {from} AND r.recorded_at < {to} GROUP BY 1"
        ),
        format!(
            "SELECT courier_id, SUM(delivered) FROM rollup_delivery_days WHERE day >= {from_day} AND day <= {to_day} GROUP BY 1"
        ),
    ]
}

/// The 30 local days before today in Moscow (the bench deployment's
/// zone): the dashboard's `from` and `to`, and their bounds in epoch ms.
pub(crate) struct LastMonth {
    pub from: jiff::civil::Date,
    pub to: jiff::civil::Date,
    pub lo: i64,
    pub hi: i64,
}

impl LastMonth {
    pub fn in_moscow() -> anyhow::Result<LastMonth> {
        let tz = jiff::tz::TimeZone::get("Europe/Moscow")?;
        let today = jiff::Timestamp::now().to_zoned(tz.clone()).date();
        let to = today.checked_sub(jiff::Span::new().days(1))?;
        let from = to.checked_sub(jiff::Span::new().days(29))?;
        Ok(LastMonth {
            from,
            to,
            lo: from.to_zoned(tz.clone())?.timestamp().as_millisecond(),
            hi: today.to_zoned(tz)?.timestamp().as_millisecond(),
        })
    }
}

pub fn run(doorstep: &Path, dir: &Path, postgres: &str, refusals: usize) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Runtime::new()?;
    let mut table = String::from(
        "| backend | a month's page | refusals in the year | p50 | p95 | raw p95 | p95 / raw |\n|---|---|---:|---:|---:|---:|---:|\n",
    );
    for &backend in super::backends() {
        let database = super::fresh_database(dir, postgres, backend, "refusals")?;
        let _ = token(doorstep, &database)?;
        super::helpdesk::add_user(doorstep, &database, "bench-q", "quality")?;
        let rows = runtime.block_on(async {
            let pool = pool_of(backend, &database).await?;
            let now = jiff::Timestamp::now().as_millisecond();
            eprintln!("{backend}: a year of {refusals} refusals…");
            let began = Instant::now();
            fill(&pool, refusals, now).await?;
            pool.run("ANALYZE").await?;
            eprintln!(
                "{backend}: loaded in {:.0} s",
                began.elapsed().as_secs_f64()
            );
            // The server's first start fills the refusal rates' rollup from
            // the refusals (the upgrade step of a database from before it).
            let began = Instant::now();
            let server = serve(doorstep, &database, &dir.join("refusals-data"))?;
            let build = began.elapsed().as_secs_f64();
            eprintln!("{backend}: rollup built in {build:.0} s");
            let client = super::metrics::signed_in(&server.url, "bench-q").await?;
            let LastMonth { from, to, lo, hi } = LastMonth::in_moscow()?;
            let day = |d: jiff::civil::Date| -> anyhow::Result<i64> {
                Ok((d - jiff::civil::date(1970, 1, 1)).get_days().into())
            };
            let raw =
                raw_times_over(&pool, &raw_queries(lo, hi, day(from)?, day(to)?), ROUNDS).await?;
            let mut rows = Vec::new();
            for (name, path) in [
                (
                    "/dashboard by courier",
                    format!("/dashboard?from={from}&to={to}&group_by=courier"),
                ),
                ("/causes", format!("/causes?from={from}&to={to}")),
            ] {
                eprintln!("{backend}: {name}…");
                let (p50, p95) = page_times_over(&client, &server.url, &path, ROUNDS).await?;
                rows.push((name, p50, p95, raw));
            }
            drop(server);
            anyhow::Ok((rows, build))
        })?;
        let (rows, build) = rows;
        for (name, p50, p95, raw) in rows {
            let _ = writeln!(
                table,
                "| {backend} | {name} | {refusals} | {p50:.1} ms | {p95:.1} ms | {raw:.1} ms | {:.2}× |",
                p95 / raw.max(0.001)
            );
        }
        let _ = writeln!(
            table,
            "| {backend} | the rollup built from every refusal (first start) | {refusals} | {build:.1} s | | | |"
        );
        if backend == "SQLite" {
            remove_sqlite(&dir.join("refusals.db"));
        } else {
            psql(
                postgres,
                "postgres",
                "DROP DATABASE doorstep_refusals WITH (FORCE)",
            )?;
        }
    }
    Ok(table)
}
