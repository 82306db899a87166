//! Benchmarks that need the real binary and the raw databases side by side.
//!
//! `doorstep-bench helpdesk [CASES]`: the dispatcher's queue, the inbox and
//! a personal file at 100,000 cases and 1,000,000 ledger entries.
//!
//! `doorstep-bench import [--rows 100000,1000000] [--postgres URL]`
//! generates an orders CSV as an office exports it, imports it with
//! `target/release/doorstep import orders` into SQLite and PostgreSQL, and in
//! the same run loads the same rows, already normalised, with the raw
//! database's own bulk path (`sqlite3 .import`, `psql \copy`) into a table
//! with the same indexes: the physical limit. It prints a Markdown table for
//! BENCHMARKS.md.

mod call_figures;
mod calls;
mod chat;
mod events;
mod helpdesk;
mod ingest;
mod latency;
mod metrics;
mod refusals;
mod soak;
mod support;
mod told_first;

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const CITIES: &[&str] = &[
    "Москва",
    "Санкт-Петербург",
    "Новосибирск",
    "Екатеринбург",
    "Казань",
    "Київ",
    "Ташкент",
    "Алматы",
];
const FIRST: &[&str] = &[
    "Анна",
    "Мария",
    "Елена",
    "Ольга",
    "Иван",
    "Сергей",
    "Дмитрий",
    "Алексей",
    "Наталья",
    "Михаил",
];
const LAST: &[&str] = &[
    "Иванова",
    "Петрова",
    "Смирнова",
    "Кузнецов",
    "Попов",
    "Соколов",
    "Новикова",
    "Морозов",
    "Волкова",
    "Лебедев",
];

/// The raw table: the same columns, types and indexes as Doorstep's orders.
const RAW_SCHEMA: &str = "CREATE TABLE orders (order_number TEXT PRIMARY KEY, customer_phone TEXT NOT NULL, city TEXT NOT NULL, \
    partner TEXT, courier_id TEXT, promised_from BIGINT NOT NULL, promised_to BIGINT NOT NULL, delivered_at BIGINT, \
    amount_minor BIGINT, customer_seq BIGINT NOT NULL DEFAULT 1, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL); \
    CREATE INDEX orders_by_customer ON orders (customer_phone, promised_from); \
    CREATE INDEX orders_by_promised ON orders (promised_from); \
    CREATE INDEX orders_by_courier ON orders (courier_id, promised_from); \
    CREATE INDEX orders_by_city ON orders (city, promised_from);";

struct Run {
    seconds: f64,
    peak_rss_mb: f64,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let (Some("generate"), Some(rows), Some(out)) =
        (args.first().map(String::as_str), args.get(1), args.get(2))
    {
        // `doorstep-bench generate ROWS FILE`: just the office CSV, to try by hand.
        let raw = PathBuf::from(format!("{out}.raw"));
        generate(rows.parse()?, Path::new(out), &raw)?;
        std::fs::remove_file(raw)?;
        return Ok(());
    }
    let command = args.first().map(String::as_str);
    if let Some(
        which @ ("ingest" | "metrics" | "latency" | "soak" | "events" | "helpdesk" | "support"
        | "chat" | "calls" | "call-figures" | "refusals" | "told-first"),
    ) = command
    {
        let default = match which {
            "ingest" | "helpdesk" => 100_000,
            "latency" => 300_000,
            "soak" => 600,
            "support" | "calls" => 1_000_000,
            "call-figures" => 12_800_000,
            "refusals" => 2_400_000,
            "told-first" => 3_000_000,
            "events" | "chat" => 20,
            _ => 10_000_000,
        };
        let count = args
            .get(1)
            .map(|n| n.parse())
            .transpose()?
            .unwrap_or(default);
        let dir = std::env::temp_dir().join("doorstep-bench");
        std::fs::create_dir_all(&dir)?;
        let doorstep = &doorstep_binary()?;
        let postgres = "postgres://postgres@127.0.0.1:5432";
        let table = match which {
            "ingest" => ingest::run(doorstep, &dir, postgres, count)?,
            "latency" => latency::run(doorstep, &dir, postgres, count)?,
            "soak" => soak::bench(doorstep, &dir, postgres, count as u64)?,
            "events" => events::run(doorstep, &dir, postgres, count)?,
            "helpdesk" => helpdesk::run(doorstep, &dir, postgres, count)?,
            "support" => support::run(doorstep, &dir, postgres, count)?,
            "chat" => chat::run(doorstep, &dir, postgres, count)?,
            "calls" => calls::run(doorstep, &dir, postgres, count)?,
            "call-figures" => call_figures::run(doorstep, &dir, postgres, count)?,
            "refusals" => refusals::run(doorstep, &dir, postgres, count)?,
            "told-first" => told_first::run(doorstep, &dir, postgres, count)?,
            _ => metrics::run(doorstep, &dir, postgres, count)?,
        };
        println!("{table}");
        return Ok(());
    }
    if args.first().map(String::as_str) != Some("import") {
        bail!("usage: doorstep-bench import [--rows 100000,1000000] [--postgres URL] [--dir DIR]\n       doorstep-bench ingest [RESPONSES]\n       doorstep-bench latency [ANSWERS]\n       doorstep-bench soak [SECONDS]\n       doorstep-bench events [SECONDS]\n       doorstep-bench helpdesk [CASES]\n       doorstep-bench support [CASES]\n       doorstep-bench chat [SECONDS]\n       doorstep-bench calls [LINES]\n       doorstep-bench call-figures [CALLS]\n       doorstep-bench refusals [REFUSALS]\n       doorstep-bench told-first [ORDERS]\n       doorstep-bench metrics [ANSWERS]\n       doorstep-bench generate ROWS FILE");
    }
    let mut sizes = vec![100_000usize, 1_000_000];
    let mut postgres = "postgres://postgres@127.0.0.1:5432".to_owned();
    let mut dir = std::env::temp_dir().join("doorstep-bench");
    let mut i = 1;
    while i < args.len() {
        let value = args.get(i + 1).context("each option takes a value")?;
        match args[i].as_str() {
            "--rows" => {
                sizes = value
                    .split(',')
                    .map(|s| s.trim().parse())
                    .collect::<Result<_, _>>()?;
            }
            "--postgres" => postgres.clone_from(value),
            "--dir" => dir = PathBuf::from(value),
            other => bail!("unknown option {other}"),
        }
        i += 2;
    }
    std::fs::create_dir_all(&dir)?;
    let doorstep = &doorstep_binary()?;
    let mut table = String::from(
        "| backend | rows | doorstep import | rows/s | peak RSS | raw bulk load | raw rows/s | doorstep / raw |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for &rows in &sizes {
        let office = dir.join(format!("orders-{rows}.csv"));
        let raw = dir.join(format!("orders-{rows}-raw.csv"));
        eprintln!("generating {rows} rows…");
        generate(rows, &office, &raw)?;

        let db = dir.join(format!("bench-{rows}.db"));
        remove_sqlite(&db);
        let ours = run_measured(
            Command::new(doorstep)
                .args(["import", "orders"])
                .arg(&office)
                .env("DOORSTEP_DATABASE", format!("sqlite://{}", db.display())),
        )?;
        let raw_db = dir.join(format!("raw-{rows}.db"));
        remove_sqlite(&raw_db);
        let script = format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; {RAW_SCHEMA}\n.mode csv\n.import --skip 1 {} orders\n",
            raw.display()
        );
        let theirs = run_measured(Command::new("sqlite3").arg(&raw_db).stdin_text(&script))?;
        row(&mut table, "SQLite", rows, &ours, &theirs);
        remove_sqlite(&db);
        remove_sqlite(&raw_db);

        let name = format!("doorstep_bench_{rows}");
        psql(
            &postgres,
            "postgres",
            &format!("DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name};"),
        )?;
        let ours = run_measured(
            Command::new(doorstep)
                .args(["import", "orders"])
                .arg(&office)
                .env("DOORSTEP_DATABASE", format!("{postgres}/{name}")),
        )?;
        let raw_name = format!("doorstep_bench_raw_{rows}");
        psql(
            &postgres,
            "postgres",
            &format!("DROP DATABASE IF EXISTS {raw_name}; CREATE DATABASE {raw_name};"),
        )?;
        psql(&postgres, &raw_name, RAW_SCHEMA)?;
        let theirs = copy_measured(&postgres, &raw_name, "orders", &raw)?;
        row(&mut table, "PostgreSQL", rows, &ours, &theirs);
        psql(
            &postgres,
            "postgres",
            &format!("DROP DATABASE {name} WITH (FORCE); DROP DATABASE {raw_name} WITH (FORCE);"),
        )?;
        let _ = std::fs::remove_file(&office);
        let _ = std::fs::remove_file(&raw);
    }
    println!("{table}");
    Ok(())
}

/// The `doorstep` binary measured: `target/release/doorstep`, or another
/// build named by `BENCH_DOORSTEP` (for A/B runs against an older commit).
fn doorstep_binary() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("BENCH_DOORSTEP")
        .map_or_else(|| PathBuf::from("target/release/doorstep"), PathBuf::from);
    if !path.exists() {
        bail!("build the binary first: cargo build --release (or point BENCH_DOORSTEP at one)");
    }
    Ok(path)
}

/// The backends to run: both, or one with `BENCH_SQLITE_ONLY=1` /
/// `BENCH_POSTGRES_ONLY=1` (a quicker look while tuning).
fn backends() -> &'static [&'static str] {
    if std::env::var("BENCH_SQLITE_ONLY").is_ok() {
        &["SQLite"]
    } else if std::env::var("BENCH_POSTGRES_ONLY").is_ok() {
        &["PostgreSQL"]
    } else {
        &["SQLite", "PostgreSQL"]
    }
}

fn row(table: &mut String, backend: &str, rows: usize, ours: &Run, theirs: &Run) {
    let _ = writeln!(
        table,
        "| {backend} | {rows} | {:.1} s | {:.0} | {:.0} MB | {:.1} s | {:.0} | {:.2}× |",
        ours.seconds,
        rows as f64 / ours.seconds,
        ours.peak_rss_mb,
        theirs.seconds,
        rows as f64 / theirs.seconds,
        ours.seconds / theirs.seconds
    );
}

/// An empty database named `name` for `backend`: a fresh SQLite file in
/// `dir`, or a PostgreSQL database made again; its URL.
fn fresh_database(dir: &Path, postgres: &str, backend: &str, name: &str) -> anyhow::Result<String> {
    if backend == "SQLite" {
        let path = dir.join(format!("{name}.db"));
        remove_sqlite(&path);
        Ok(format!("sqlite://{}", path.display()))
    } else {
        psql(
            postgres,
            "postgres",
            &format!("DROP DATABASE IF EXISTS doorstep_{name}; CREATE DATABASE doorstep_{name}"),
        )?;
        Ok(format!("{postgres}/doorstep_{name}"))
    }
}

fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

fn psql(base: &str, db: &str, sql: &str) -> anyhow::Result<()> {
    // One statement per call; comments go first, they may hold a `;`.
    let code: String = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    for statement in code.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let status = Command::new("psql")
            .args([
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                &format!("{base}/{db}"),
                "-c",
                statement,
            ])
            .status()?;
        if !status.success() {
            bail!("psql failed: {statement}");
        }
    }
    Ok(())
}

trait StdinText {
    fn stdin_text(&mut self, text: &str) -> &mut Self;
}

/// Text for a child's standard input, kept in a temp file so the measured
/// process reads it at its own pace.
impl StdinText for Command {
    fn stdin_text(&mut self, text: &str) -> &mut Self {
        let path =
            std::env::temp_dir().join(format!("doorstep-bench-stdin-{}", std::process::id()));
        std::fs::write(&path, text).expect("write stdin file");
        self.stdin(std::fs::File::open(&path).expect("open stdin file"))
    }
}

/// PostgreSQL's own bulk load of a CSV file (with a header line) into
/// `table` of database `db`, measured.
fn copy_measured(postgres: &str, db: &str, table: &str, csv: &Path) -> anyhow::Result<Run> {
    let copy = format!(
        "\\copy {table} FROM '{}' WITH (FORMAT csv, HEADER true)",
        csv.display()
    );
    run_measured(Command::new("psql").args([
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        &format!("{postgres}/{db}"),
        "-c",
        &copy,
    ]))
}

/// Runs a process to completion; wall time and its own peak RSS. `wait4` is
/// the one call that gives a single child's rusage, hence the `unsafe`.
#[allow(unsafe_code)]
fn run_measured(cmd: &mut Command) -> anyhow::Result<Run> {
    // Errors go to a file: a pipe nobody reads while we wait would fill up
    // and stall the process.
    let errors = std::env::temp_dir().join(format!("doorstep-bench-stderr-{}", std::process::id()));
    let started = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&errors)?)
        .spawn()
        .context("start process")?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    let seconds = started.elapsed().as_secs_f64();
    if rc < 0 {
        bail!("wait4 failed");
    }
    let exit = libc::WEXITSTATUS(status);
    let err = std::fs::read_to_string(&errors).unwrap_or_default();
    let _ = std::fs::remove_file(&errors);
    if exit != 0 || !err.trim().is_empty() {
        bail!("{cmd:?} exited with {exit}: {err}");
    }
    Ok(Run {
        seconds,
        peak_rss_mb: usage.ru_maxrss as f64 / 1024.0,
    })
}

/// Writes the office CSV (`;`, local dates, decimal commas, `8 (9xx)` phones)
/// and the same rows normalised (E.164, epoch milliseconds, minor units).
fn generate(rows: usize, office: &Path, raw: &Path) -> anyhow::Result<()> {
    generate_over(rows, 90, office, raw)
}

/// 2026-09-01 00:00 Moscow (UTC+3), in epoch ms: where generated orders begin.
const ORDERS_FROM_MS: i64 = 1_788_210_000_000;

/// When generated order `i` of `rows` spread over `days` is promised (ms),
/// give or take the half hour [`generate_over`] adds at random.
fn promised_ms(i: usize, rows: usize, days: i64) -> i64 {
    ORDERS_FROM_MS + (i as i64 * (days * 24 * 60) / rows as i64) * 60_000
}

/// [`generate`] with the orders spread over `days` from 2026-09-01.
fn generate_over(rows: usize, days: i64, office: &Path, raw: &Path) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(7);
    let moscow = jiff::tz::TimeZone::get("Europe/Moscow")?;
    let mut a = BufWriter::new(std::fs::File::create(office)?);
    let mut b = BufWriter::new(std::fs::File::create(raw)?);
    writeln!(a, "order_number;customer_phone;customer_name;customer_email;city;partner;courier_id;courier_name;promised_from;promised_to;delivered_at;amount")?;
    writeln!(b, "order_number,customer_phone,city,partner,courier_id,promised_from,promised_to,delivered_at,amount_minor,customer_seq,created_at,updated_at")?;
    let customers = (rows / 3).max(1);
    for i in 0..rows {
        let customer = rng.gen_range(0..customers);
        let phone_national = 9_000_000_000u64 + customer as u64 * 7 % 999_999_999;
        let city = CITIES[customer % CITIES.len()];
        let partner = format!("Партнёр {}", rng.gen_range(1..=30));
        let courier = rng.gen_range(1..=400);
        // An export of a period, by promised time as accounting systems
        // write them: roughly chronological, customers coming back throughout.
        let from_ms = promised_ms(i, rows, days) + rng.gen_range(0..30) * 60_000;
        let to_ms = from_ms + 3_600_000;
        let delivered_ms = from_ms + rng.gen_range(0..80) * 60_000;
        let amount_minor: i64 = rng.gen_range(30_000..900_000);
        let local = |ms: i64| {
            jiff::Timestamp::from_millisecond(ms)
                .map(|t| {
                    t.to_zoned(moscow.clone())
                        .strftime("%d.%m.%Y %H:%M")
                        .to_string()
                })
                .unwrap_or_default()
        };
        let units = amount_minor / 100;
        let amount = if units >= 1000 {
            format!(
                "{} {:03},{:02}",
                units / 1000,
                units % 1000,
                amount_minor % 100
            )
        } else {
            format!("{units},{:02}", amount_minor % 100)
        };
        let phone_text = format!(
            "8 ({}) {}-{}-{}",
            &phone_national.to_string()[..3],
            &phone_national.to_string()[3..6],
            &phone_national.to_string()[6..8],
            &phone_national.to_string()[8..]
        );
        writeln!(
            a,
            "ORD-{i:08};{phone_text};{} {};client{customer}@example.com;{city};{partner};C-{courier};Курьер {courier};{};{};{};{amount}",
            FIRST[customer % FIRST.len()],
            LAST[(customer / 10) % LAST.len()],
            local(from_ms),
            local(to_ms),
            local(delivered_ms)
        )?;
        // Local times carry minutes only: round the normalised values the same way.
        let round = |ms: i64| ms - ms.rem_euclid(60_000);
        writeln!(
            b,
            "ORD-{i:08},+7{phone_national},{city},{partner},C-{courier},{},{},{},{amount_minor},1,0,0",
            round(from_ms),
            round(to_ms),
            round(delivered_ms)
        )?;
    }
    a.flush()?;
    b.flush()?;
    Ok(())
}
