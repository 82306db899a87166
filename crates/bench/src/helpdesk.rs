//! `doorstep-bench helpdesk [CASES]`: the helpdesk's pages at scale — the
//! dispatcher's queue, the operator's inbox (my cases, a line's
//! unassigned) and a customer's personal file — with CASES cases (default
//! 100,000), as many incidents, 1,000,000 ledger entries, and one customer
//! with 500 orders, answers, cases and ledger entries. Each page is opened
//! through `doorstep serve` by a signed-in person; in the same run the raw
//! database runs the page's queries itself (our physical limit).

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::ingest::serve;
use super::metrics::{percentiles, signed_in};
use super::{psql, remove_sqlite};

const LEDGER_ENTRIES: usize = 1_000_000;
const CUSTOMERS: usize = 20_000;
const FILE_PHONE: &str = "+79990000500";
const FILE_ORDERS: usize = 500;
const ROUNDS: usize = 100;
/// The bench's accounts' password (what `metrics::signed_in` signs in with).
const PASSWORD: &str = "bench password";

pub(crate) enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Pool {
    pub(crate) async fn run(&self, statement: &str) -> anyhow::Result<()> {
        match self {
            Pool::Sqlite(p) => {
                sqlx::raw_sql(statement).execute(p).await?;
            }
            Pool::Postgres(p) => {
                sqlx::raw_sql(statement).execute(p).await?;
            }
        }
        Ok(())
    }

    async fn scalar(&self, query: &str) -> anyhow::Result<String> {
        Ok(match self {
            Pool::Sqlite(p) => sqlx::query_scalar::<_, String>(query).fetch_one(p).await?,
            Pool::Postgres(p) => sqlx::query_scalar::<_, String>(query).fetch_one(p).await?,
        })
    }

    /// Runs a read and fetches every row (what a page does with it).
    pub(crate) async fn read(&self, query: &str) -> anyhow::Result<usize> {
        Ok(match self {
            Pool::Sqlite(p) => sqlx::raw_sql(query).fetch_all(p).await?.len(),
            Pool::Postgres(p) => sqlx::raw_sql(query).fetch_all(p).await?.len(),
        })
    }
}

/// Writes `rows` (already-formatted value groups) into `table` in
/// statements of 1,000 rows, each in its own transaction of 50 statements.
pub(crate) async fn load(
    pool: &Pool,
    head: &str,
    rows: impl Iterator<Item = String>,
) -> anyhow::Result<()> {
    let mut statements = Vec::new();
    let mut current = Vec::with_capacity(1000);
    for row in rows {
        current.push(row);
        if current.len() == 1000 {
            statements.push(format!("{head} {};", current.join(",")));
            current.clear();
        }
    }
    if !current.is_empty() {
        statements.push(format!("{head} {};", current.join(",")));
    }
    for chunk in statements.chunks(50) {
        pool.run(&format!("BEGIN; {} COMMIT;", chunk.join(" ")))
            .await?;
    }
    Ok(())
}

pub(crate) fn add_user(
    doorstep: &Path,
    database: &str,
    login: &str,
    role: &str,
) -> anyhow::Result<()> {
    use std::io::Write;
    let mut child = Command::new(doorstep)
        .args([
            "user",
            "add",
            "--login",
            login,
            "--role",
            role,
            "--password-stdin",
        ])
        .env("DOORSTEP_DATABASE", database)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    child
        .stdin
        .take()
        .context("stdin")?
        .write_all(PASSWORD.as_bytes())?;
    if !child.wait()?.success() {
        bail!("user add {login} failed");
    }
    Ok(())
}

/// Fills the helpdesk's tables; returns the operator's and dispatcher's ids.
#[allow(clippy::too_many_lines)]
async fn fill(pool: &Pool, cases: usize, operator: &str) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(14);
    let now = jiff::Timestamp::now().as_millisecond();
    let year = 365 * 24 * 3_600_000_i64;
    let phone = |c: usize| format!("+7999{:07}", c % CUSTOMERS);
    // The personal file's customer: 500 orders, each answered.
    pool.run(&format!(
        "INSERT INTO customers (phone, name, email, first_order_at, first_order_number, created_at, updated_at) \
         VALUES ('{FILE_PHONE}', 'Анна Бенчмаркова', NULL, {}, 'F-0', {now}, {now})",
        now - year
    ))
    .await?;
    let order_at = |k: usize| now - year + (k as i64) * (year / FILE_ORDERS as i64);
    load(
        pool,
        "INSERT INTO orders (order_number, customer_phone, city, partner, courier_id, promised_from, promised_to, \
         delivered_at, amount_minor, created_at, updated_at) VALUES",
        (0..FILE_ORDERS).map(|k| {
            let at = order_at(k);
            format!(
                "('F-{k}', '{FILE_PHONE}', 'Москва', 'Партнёр 1', 'K-{}', {at}, {}, {}, {}, {now}, {now})",
                k % 40,
                at + 3_600_000,
                at + 3_000_000,
                100_000 + (k as i64) * 37
            )
        }),
    )
    .await?;
    load(
        pool,
        "INSERT INTO responses (order_number, id, survey_id, survey_version, status, channel, courier_id, city, \
         segment, delivered_at, started_at, finished_at, duration_ms, photo_taken, content_hash, received_at) VALUES",
        (0..FILE_ORDERS).map(|k| {
            let at = order_at(k) + 3_100_000;
            format!(
                "('F-{k}', 'fr-{k}', 'door', 1, 'completed', 'terminal', 'K-{}', 'Москва', 'repeat', {}, {at}, {}, 60000, FALSE, 'h{k}', {})",
                k % 40,
                at - 100_000,
                at + 60_000,
                at + 60_000
            )
        }),
    )
    .await?;
    load(
        pool,
        "INSERT INTO answers (order_number, response_id, question_id, kind, number_value) VALUES",
        (0..FILE_ORDERS).map(|k| format!("('F-{k}', 'fr-{k}', 'nps', 'nps', {})", k % 11)),
    )
    .await?;
    // Cases: one in twenty open (a third nobody's, a tenth the operator's).
    let statuses = ["new", "open", "waiting_customer"];
    let channels = ["phone", "chat", "email", "messenger", "app", "social"];
    let categories = ["late", "damaged", "incomplete", "wrong_item", "other"];
    let case_rows: Vec<String> = (0..cases)
        .map(|i| {
            let customer = if i % 200 == 0 { FILE_PHONE.to_owned() } else { phone(i) };
            let created = now - rng.gen_range(0..year);
            let open = i % 20 == 0;
            let status = if open { statuses[i / 20 % 3] } else if i % 3 == 0 { "resolved" } else { "closed" };
            let owner = match (open, i / 20 % 10) {
                (true, 0..=2) => "NULL".to_owned(),
                (true, 3) => format!("'{operator}'"),
                _ => format!("'op-{}'", i % 40),
            };
            let key = if open { format!("'order:B-{i}'") } else { "NULL".to_owned() };
            format!(
                "('c-{i}', {}, {key}, '{}', '{}', '{}', 'normal', '{status}', '{customer}', 'B-{i}', NULL, {owner}, NULL, \
                 'Где мой заказ {i}?', 1, NULL, NULL, NULL, NULL, NULL, {created}, {}, NULL, NULL)",
                1001 + i,
                channels[i % channels.len()],
                if i % 7 == 0 { "couriers" } else { "customers" },
                categories[i % categories.len()],
                created + 60_000
            )
        })
        .collect();
    load(
        pool,
        "INSERT INTO cases (id, number, open_key, channel, line, category, priority, status, customer_phone, order_number, \
         incident_id, owner_id, owner_login, subject, contacts, first_response_at, fault, fault_note, handed_to, handed_at, \
         created_at, updated_at, resolved_at, closed_at) VALUES",
        case_rows.into_iter(),
    )
    .await?;
    pool.run(&format!(
        "UPDATE case_sequence SET last_number = {}",
        1001 + cases
    ))
    .await?;
    load(
        pool,
        "INSERT INTO case_entries (id, case_id, kind, channel, direction, body, author, external_id, created_at) VALUES",
        (0..cases * 2).map(|k| {
            let i = k / 2;
            format!(
                "('e-{k}', 'c-{i}', 'contact', 'chat', '{}', 'Сообщение {k}', 'crm', NULL, {})",
                if k % 2 == 0 { "inbound" } else { "outbound" },
                now - (i as i64 % 1000) * 60_000
            )
        }),
    )
    .await?;
    load(
        pool,
        "INSERT INTO remedies (id, case_id, idempotency_key, fingerprint, remedy_type, amount_minor, currency, status, \
         customer_phone, requested_by, created_at, updated_at) VALUES",
        (0..cases / 2).map(|k| {
            let i = k * 2;
            let customer = if i % 200 == 0 { FILE_PHONE.to_owned() } else { phone(i) };
            format!(
                "('r-{k}', 'c-{i}', 'k', 'bonus_credit:30000:', 'bonus_credit', 30000, 'RUB', 'applied', '{customer}', 'op', {now}, {now})"
            )
        }),
    )
    .await?;
    // Incidents: as many as cases, two thousand in the live queue.
    let cities = ["Москва", "Київ", "Ташкент", "Новосибирск"];
    load(
        pool,
        "INSERT INTO incidents (id, order_number, rule_id, response_id, priority, priority_rank, reason, city, courier_id, \
         customer_phone, nps, status, owner_id, owner_login, claimed_at, due_at, attempts, outcome, closed_at, answered_at, \
         created_at) VALUES",
        (0..cases).map(|i| {
            let live = i < 2000;
            let at = if live { now - (i as i64) * 60_000 } else { now - 86_400_000 - (i as i64) * 300_000 };
            let customer = if i % 200 == 0 { FILE_PHONE.to_owned() } else { phone(i) };
            format!(
                "('i-{i}', 'I-{i}', 'detractor', 'ir-{i}', 'high', 1, 'NPS {}', '{}', 'K-{}', '{customer}', {}, '{}', {}, {}, {}, {at}, {}, {}, {}, {at}, {at})",
                i % 7,
                cities[i % cities.len()],
                i % 400,
                i % 7,
                if live { if i % 3 == 0 { "claimed" } else { "open" } } else { "closed" },
                if live && i % 3 != 0 { "NULL".to_owned() } else { "'disp'".to_owned() },
                if live && i % 3 != 0 { "NULL".to_owned() } else { "'disp'".to_owned() },
                if live && i % 3 != 0 { "NULL".to_owned() } else { (at + 600_000).to_string() },
                i64::from(!live),
                if live { "NULL" } else { "'recovered'" },
                if live { "NULL".to_owned() } else { (at + 900_000).to_string() },
            )
        }),
    )
    .await?;
    // The ledger: a million entries over twenty thousand customers.
    load(
        pool,
        "INSERT INTO ledger_entries (id, customer_phone, amount_minor, currency, kind, case_id, remedy_id, reverses, \
         idempotency_key, fingerprint, reason, author, created_at) VALUES",
        (0..LEDGER_ENTRIES).map(|k| {
            let customer = if k % 3333 == 0 { FILE_PHONE.to_owned() } else { phone(k) };
            let credit = k % 3 != 0;
            format!(
                "('l-{k}', '{customer}', {}, 'RUB', '{}', NULL, NULL, NULL, 'lk-{k}', 'f', 'bonus_credit', 'op', {})",
                if credit { 30000 } else { -10000 },
                if credit { "credit" } else { "debit" },
                now - (k as i64 % 100_000) * 60_000
            )
        }),
    )
    .await?;
    Ok(())
}

/// p50 and p95 (ms) of `ROUNDS` loads of `path`, after a few to warm up.
pub(crate) async fn page_times(
    client: &reqwest::Client,
    url: &str,
    path: &str,
) -> anyhow::Result<(f64, f64)> {
    page_times_over(client, url, path, ROUNDS).await
}

/// p50 and p95 (ms) of `rounds` loads of `path`, after a few to warm up.
pub(crate) async fn page_times_over(
    client: &reqwest::Client,
    url: &str,
    path: &str,
    rounds: usize,
) -> anyhow::Result<(f64, f64)> {
    let mut times = Vec::with_capacity(rounds);
    for round in 0..rounds + 5 {
        let began = Instant::now();
        let r = client
            .get(format!("{url}{}", path.trim_start_matches('/')))
            .send()
            .await?;
        let status = r.status();
        let _ = r.bytes().await?;
        if status != 200 {
            bail!("{path} answered {status}");
        }
        if round >= 5 {
            times.push(began.elapsed().as_secs_f64() * 1000.0);
        }
    }
    Ok(percentiles(times))
}

/// p95 (ms) of the raw database running `queries` one after another.
pub(crate) async fn raw_times(pool: &Pool, queries: &[String]) -> anyhow::Result<f64> {
    raw_times_over(pool, queries, ROUNDS).await
}

/// p95 (ms) of the raw database running `queries`, `rounds` times.
pub(crate) async fn raw_times_over(
    pool: &Pool,
    queries: &[String],
    rounds: usize,
) -> anyhow::Result<f64> {
    let mut times = Vec::with_capacity(rounds);
    for round in 0..rounds + 5 {
        let began = Instant::now();
        for q in queries {
            pool.read(q).await?;
        }
        if round >= 5 {
            times.push(began.elapsed().as_secs_f64() * 1000.0);
        }
    }
    Ok(percentiles(times).1)
}

pub fn run(doorstep: &Path, dir: &Path, postgres: &str, cases: usize) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Runtime::new()?;
    let mut table = String::from(
        "| backend | page | cases | ledger entries | p50 | p95 | raw p95 | p95 / raw |\n|---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for &backend in super::backends() {
        let database = super::fresh_database(dir, postgres, backend, "helpdesk")?;
        eprintln!("{backend}: people…");
        add_user(doorstep, &database, "bench-op", "operator")?;
        add_user(doorstep, &database, "bench-disp", "dispatcher")?;
        let rows = runtime.block_on(async {
            let pool = if backend == "SQLite" {
                Pool::Sqlite(sqlx::SqlitePool::connect(&database).await?)
            } else {
                Pool::Postgres(sqlx::PgPool::connect(&database).await?)
            };
            let operator = pool.scalar("SELECT id FROM users WHERE login = 'bench-op'").await?;
            eprintln!("{backend}: {cases} cases and incidents, {LEDGER_ENTRIES} ledger entries…");
            let began = Instant::now();
            fill(&pool, cases, &operator).await?;
            pool.run("ANALYZE").await?;
            eprintln!("{backend}: loaded in {:.0} s", began.elapsed().as_secs_f64());
            let server = serve(doorstep, &database, &dir.join("helpdesk-data"))?;
            let op = signed_in(&server.url, "bench-op").await?;
            let disp = signed_in(&server.url, "bench-disp").await?;
            let now = jiff::Timestamp::now().as_millisecond();
            let open = "('new', 'open', 'waiting_customer', 'waiting_department')";
            let case_order = "ORDER BY CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END, updated_at, id LIMIT 200";
            let counts = format!(
                "SELECT line, SUM(CASE WHEN owner_id IS NULL THEN 1 ELSE 0 END), SUM(CASE WHEN owner_id = '{operator}' THEN 1 ELSE 0 END) \
                 FROM cases WHERE status IN {open} GROUP BY line"
            );
            let file_path = format!("/customers/{}", FILE_PHONE.replace('+', "%2B"));
            let pages: Vec<(&str, &str, &reqwest::Client, Vec<String>)> = vec![
                (
                    "dispatcher's queue",
                    "/dispatch",
                    &disp,
                    vec![
                        format!("SELECT * FROM incidents WHERE status IN ('open', 'claimed') ORDER BY CASE WHEN due_at <= {now} THEN 0 ELSE 1 END, priority_rank, due_at, id LIMIT 300"),
                        "SELECT * FROM incidents WHERE status = 'closed' ORDER BY closed_at DESC, id DESC LIMIT 10".to_owned(),
                    ],
                ),
                (
                    "inbox: my cases",
                    "/cases?view=mine",
                    &op,
                    vec![format!("SELECT * FROM cases WHERE owner_id = '{operator}' AND status IN {open} {case_order}"), counts.clone()],
                ),
                (
                    "inbox: a line's unassigned",
                    "/cases?view=customers",
                    &op,
                    vec![format!("SELECT * FROM cases WHERE owner_id IS NULL AND status IN {open} AND line = 'customers' {case_order}"), counts.clone()],
                ),
                (
                    "personal file (500 orders)",
                    &file_path,
                    &op,
                    vec![
                        format!("SELECT * FROM orders WHERE customer_phone = '{FILE_PHONE}' ORDER BY promised_from DESC LIMIT 1000"),
                        format!("SELECT r.order_number, r.status, r.finished_at, (SELECT a.number_value FROM answers a WHERE a.order_number = r.order_number AND a.response_id = r.id AND a.kind = 'nps') FROM orders o JOIN responses r ON r.order_number = o.order_number WHERE o.customer_phone = '{FILE_PHONE}' ORDER BY r.finished_at DESC LIMIT 1000"),
                        format!("SELECT * FROM incidents WHERE customer_phone = '{FILE_PHONE}' ORDER BY created_at DESC"),
                        format!("SELECT * FROM cases WHERE customer_phone = '{FILE_PHONE}' ORDER BY created_at DESC"),
                        format!("SELECT e.* FROM case_entries e JOIN cases c ON c.id = e.case_id WHERE c.customer_phone = '{FILE_PHONE}' AND e.kind = 'contact' ORDER BY e.created_at LIMIT 1000"),
                        format!("SELECT * FROM remedies WHERE customer_phone = '{FILE_PHONE}' ORDER BY created_at DESC"),
                        format!("SELECT SUM(amount_minor) FROM ledger_entries WHERE customer_phone = '{FILE_PHONE}'"),
                        format!("SELECT * FROM ledger_entries WHERE customer_phone = '{FILE_PHONE}' ORDER BY created_at DESC LIMIT 1000"),
                    ],
                ),
            ];
            let mut rows = Vec::new();
            for (name, path, client, queries) in pages {
                eprintln!("{backend}: {name}…");
                let (p50, p95) = page_times(client, &server.url, path).await?;
                let raw = raw_times(&pool, &queries).await?;
                rows.push((name.to_owned(), p50, p95, raw));
            }
            drop(server);
            anyhow::Ok(rows)
        })?;
        for (name, p50, p95, raw) in rows {
            let _ = writeln!(
                table,
                "| {backend} | {name} | {cases} | {LEDGER_ENTRIES} | {p50:.1} ms | {p95:.1} ms | {raw:.1} ms | {:.1}× |",
                p95 / raw.max(0.001)
            );
        }
        if backend == "SQLite" {
            remove_sqlite(&dir.join("helpdesk.db"));
        } else {
            psql(
                postgres,
                "postgres",
                "DROP DATABASE doorstep_helpdesk WITH (FORCE)",
            )?;
        }
    }
    Ok(table)
}
