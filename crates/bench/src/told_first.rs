//! `doorstep-bench told-first [ORDERS]`: the dashboard's "Late orders:
//! told first?" over a month of ORDERS orders (default 3,000,000: a company
//! delivering 100,000 a day), 2% of them late (half delivered after the
//! window, half never), as the `orders.late` job leaves them: six in ten
//! late orders told (a case, a sent notice), three in ten contacted by the
//! customer (one of them before the notice left), a quarter answered with
//! an NPS, and a tenth of all orders answered (with the late facts Doorstep
//! keeps of them, written at once). The month's dashboard is timed
//! through `doorstep serve`; in the same run the raw database reads the
//! kept facts the figures read (our physical limit), looks each late
//! order's notice, first contact and NPS up where they are kept (what the
//! figures cost before the facts were kept) and, for scale, counts the
//! month's orders — what reading them all
//! would cost. `BENCH_KEEP=1` keeps the databases to look into.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;

use super::helpdesk::{page_times_over, raw_times_over, Pool};
use super::ingest::{serve, token};
use super::refusals::LastMonth;
use super::support::pool_of;
use super::{psql, remove_sqlite};

/// Requests measured per page (after five to warm up).
const ROUNDS: usize = 20;
const DAY: i64 = 86_400_000;
const MINUTE: i64 = 60_000;
/// One order in this many is late.
const LATE_EVERY: usize = 50;

/// Rows gathered per table, written 1,000 to a statement.
#[derive(Default)]
struct Rows {
    orders: Vec<String>,
    answers: Vec<String>,
    cases: Vec<String>,
    notices: Vec<String>,
    late: Vec<String>,
    entries: Vec<String>,
}

impl Rows {
    /// The statements inserting what was gathered (emptied).
    fn statements(&mut self, out: &mut Vec<String>) {
        let tables: [(&str, &mut Vec<String>); 6] = [
            (
                "orders (order_number, customer_phone, city, partner, courier_id, promised_from, promised_to, delivered_at, amount_minor, created_at, updated_at)",
                &mut self.orders,
            ),
            (
                "answers (order_number, response_id, question_id, kind, number_value, option_ids, text_value, flag)",
                &mut self.answers,
            ),
            (
                "cases (id, number, open_key, channel, line, category, priority, status, customer_phone, order_number, subject, contacts, created_at, updated_at)",
                &mut self.cases,
            ),
            (
                "notices (id, case_id, kind, channel, address, language, subject, body, status, send_after, sent_at, created_at, customer_phone, order_number)",
                &mut self.notices,
            ),
            (
                "late_orders (order_number, case_id, notice_id, promised_to, detected_at)",
                &mut self.late,
            ),
            (
                "case_entries (id, case_id, kind, channel, direction, body, author, created_at)",
                &mut self.entries,
            ),
        ];
        for (table, rows) in tables {
            if !rows.is_empty() {
                out.push(format!("INSERT INTO {table} VALUES {};", rows.join(",")));
                rows.clear();
            }
        }
    }
}

/// A month of `orders` ending at `end`, late ones with what the job and
/// the customers left, in statements of 1,000 rows, 50 to a transaction.
async fn fill(pool: &Pool, orders: usize, end: i64) -> anyhow::Result<()> {
    let began = Instant::now();
    let start = end - 30 * DAY;
    let mut rows = Rows::default();
    let mut statements: Vec<String> = Vec::new();
    let mut late = 0usize;
    let mut case_number = 10_000i64;
    for i in 0..orders {
        let promised_to = start + (i as i64 * 30 * DAY) / orders as i64;
        let promised_from = promised_to - 120 * MINUTE;
        let phone = format!("+7999{:07}", i % 1_000_000);
        let is_late = i % LATE_EVERY == 0;
        let delivered = if !is_late {
            (promised_to - 30 * MINUTE).to_string()
        } else if late.is_multiple_of(2) {
            (promised_to + 40 * MINUTE).to_string()
        } else {
            "NULL".to_owned()
        };
        rows.orders.push(format!(
            "('o-{i}', '{phone}', 'Москва', 'p{}', 'K-{}', {promised_from}, {promised_to}, {delivered}, 150000, {promised_from}, {promised_from})",
            i % 7,
            i % 500
        ));
        if i.is_multiple_of(10) || (is_late && late.is_multiple_of(4)) {
            rows.answers.push(format!(
                "('o-{i}', 'r-{i}', 'nps', 'nps', {}, NULL, NULL, NULL)",
                (i / 10) % 11
            ));
        }
        if is_late {
            let told = late % 10 < 6;
            let contacted = (4..7).contains(&(late % 10));
            if told || contacted {
                case_number += 1;
                rows.cases.push(format!(
                    "('c-{i}', {case_number}, NULL, 'proactive', 'customers', 'late', 'normal', 'open', '{phone}', 'o-{i}', 'late', {}, {promised_to}, {promised_to})",
                    i64::from(contacted)
                ));
            }
            if told {
                let sent = promised_to + 5 * MINUTE;
                rows.notices.push(format!(
                    "('n-{i}', 'c-{i}', 'late', 'email', 'c{i}@example.com', 'ru', 'Опаздываем', 'Заказ задерживается', 'sent', {promised_to}, {sent}, {promised_to}, '{phone}', 'o-{i}')"
                ));
                rows.late.push(format!(
                    "('o-{i}', 'c-{i}', 'n-{i}', {promised_to}, {promised_to})"
                ));
            }
            if contacted {
                // One in three wrote before the notice left.
                let at = promised_to + if late % 10 == 4 { 2 } else { 20 } * MINUTE;
                rows.entries.push(format!(
                    "('e-{i}', 'c-{i}', 'contact', 'chat', 'inbound', 'Где заказ?', 'customer', {at})"
                ));
            }
            late += 1;
        }
        if rows.orders.len() == 1000 {
            rows.statements(&mut statements);
            if statements.len() >= 50 {
                pool.run(&format!("BEGIN; {} COMMIT;", statements.join(" ")))
                    .await?;
                statements.clear();
                if i % 500_000 < 1000 {
                    eprintln!(
                        "  {} orders ({:.0} s)",
                        i + 1,
                        began.elapsed().as_secs_f64()
                    );
                }
            }
        }
    }
    rows.statements(&mut statements);
    if !statements.is_empty() {
        pool.run(&format!("BEGIN; {} COMMIT;", statements.join(" ")))
            .await?;
    }
    // The late facts Doorstep keeps as it writes, written here at once
    // from the rows above (the statement of `0035_late_facts.sql`), with
    // the tables' statistics known, as autovacuum would have them.
    pool.run("ANALYZE").await?;
    let migration = include_str!("../../store/migrations/0035_late_facts.sql");
    let fill = &migration[migration
        .find("INSERT INTO late_facts")
        .context("the migration fills the late facts")?..];
    pool.run(fill).await?;
    Ok(())
}

/// What the figures read — the kept facts of the period's late orders,
/// counted by told first and NPS —,
/// the same facts looked up for each late order where they are kept (what
/// the figures read before the facts were kept), and a count of the
/// period's orders.
fn raw_queries(from: i64, to: i64, now: i64) -> [Vec<String>; 3] {
    let kept = format!(
        "SELECT CAST(CASE WHEN told_at IS NOT NULL \
           AND (first_contact_at IS NULL OR told_at < first_contact_at) THEN 1 ELSE 0 END AS BIGINT), \
         nps, COUNT(*) FROM late_facts \
         WHERE promised_to >= {from} AND promised_to < {to} \
         AND (delivered_at > promised_to OR (delivered_at IS NULL AND promised_to < {now})) \
         GROUP BY 1, 2"
    );
    let facts = format!(
        "SELECT (SELECT n.sent_at FROM late_orders l JOIN notices n ON n.id = l.notice_id \
            WHERE l.order_number = o.order_number) AS told_at, \
         (SELECT MIN(e.created_at) FROM cases c JOIN case_entries e ON e.case_id = c.id \
            WHERE c.order_number = o.order_number AND e.kind = 'contact' AND e.direction = 'inbound') \
            AS first_contact_at, \
         (SELECT MAX(a.number_value) FROM answers a WHERE a.order_number = o.order_number \
            AND a.kind = 'nps' AND a.number_value IS NOT NULL) AS nps \
         FROM orders o WHERE o.promised_to >= {from} AND o.promised_to < {to} \
         AND (o.delivered_at IS NULL OR o.delivered_at > o.promised_to) \
         AND (o.delivered_at > o.promised_to OR (o.delivered_at IS NULL AND o.promised_to < {now}))"
    );
    let all = format!(
        "SELECT COUNT(*), SUM(CASE WHEN delivered_at IS NULL OR delivered_at > promised_to THEN 1 ELSE 0 END) \
         FROM orders WHERE promised_to >= {from} AND promised_to < {to}"
    );
    [vec![kept], vec![facts], vec![all]]
}

pub fn run(doorstep: &Path, dir: &Path, postgres: &str, orders: usize) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Runtime::new()?;
    let mut table = String::from(
        "| backend | orders in the month | late | load | what | p50 | p95 |\n|---|---:|---:|---:|---|---:|---:|\n",
    );
    for &backend in super::backends() {
        let database = super::fresh_database(dir, postgres, backend, "told_first")?;
        let _ = token(doorstep, &database)?;
        super::helpdesk::add_user(doorstep, &database, "bench-q", "quality")?;
        let (rows, load) = runtime.block_on(async {
            let pool = pool_of(backend, &database).await?;
            let LastMonth { from, to, lo, hi } = LastMonth::in_moscow()?;
            eprintln!("{backend}: a month of {orders} orders…");
            let began = Instant::now();
            fill(&pool, orders, hi).await?;
            pool.run("ANALYZE").await?;
            let load = began.elapsed().as_secs_f64();
            eprintln!("{backend}: loaded in {load:.0} s");
            let server = serve(doorstep, &database, &dir.join("told-first-data"))?;
            let client = super::metrics::signed_in(&server.url, "bench-q").await?;
            let now = jiff::Timestamp::now().as_millisecond();
            let [kept, facts, all] = raw_queries(lo, hi, now);
            let raw_kept = raw_times_over(&pool, &kept, ROUNDS).await?;
            let raw_facts = raw_times_over(&pool, &facts, ROUNDS).await?;
            let raw_all = raw_times_over(&pool, &all, ROUNDS).await?;
            eprintln!("{backend}: the dashboard…");
            let (p50, p95) = page_times_over(
                &client,
                &server.url,
                &format!("/dashboard?from={from}&to={to}"),
                ROUNDS,
            )
            .await?;
            drop(server);
            anyhow::Ok((
                vec![
                    ("the month's dashboard (doorstep)", Some(p50), p95),
                    ("raw: the kept facts the figures read", None, raw_kept),
                    ("raw: each late order's facts looked up", None, raw_facts),
                    ("raw: counting the month's orders", None, raw_all),
                ],
                load,
            ))
        })?;
        for (what, p50, p95) in rows {
            let _ = writeln!(
                table,
                "| {backend} | {orders} | {} | {load:.0} s | {what} | {} | {p95:.1} ms |",
                orders.div_ceil(LATE_EVERY),
                p50.map_or(String::new(), |p| format!("{p:.1} ms")),
            );
        }
        if std::env::var_os("BENCH_KEEP").is_some() {
            eprintln!("{backend}: kept {database} (BENCH_KEEP)");
        } else if backend == "SQLite" {
            remove_sqlite(&dir.join("told_first.db"));
        } else {
            psql(
                postgres,
                "postgres",
                "DROP DATABASE doorstep_told_first WITH (FORCE)",
            )?;
        }
    }
    Ok(table)
}
