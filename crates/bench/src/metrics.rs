//! `doorstep-bench metrics [ANSWERS]`: a year of survey answers (10 million
//! by default) and their delivered orders bulk-loaded into Doorstep's own
//! tables, the rollups rebuilt from them with `doorstep rollups rebuild`,
//! then the dashboard's queries timed over HTTP (p50 and p95 of 20 runs
//! each) beside the raw database's `GROUP BY` over the answers doing the
//! same count in the same run, and the console's fleet-signal and
//! key-driver pages (signed in) beside the grouped joins they replace.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::bail;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::ingest::{serve, token};
use super::{psql, remove_sqlite, StdinText};

const COURIERS: usize = 500;
const CITIES: &[&str] = &[
    "Москва",
    "Санкт-Петербург",
    "Новосибирск",
    "Екатеринбург",
    "Казань",
    "Київ",
    "Ташкент",
    "Алматы",
    "Самара",
    "Омск",
];
const PARTNERS: &[&str] = &[
    "Лавка",
    "Аптека",
    "Цветы",
    "Электроника",
    "Книги",
    "Одежда",
    "Зоотовары",
];
/// 2025-12-01T00:00:00+03:00 and one year on.
const YEAR_START_MS: i64 = 1_764_536_400_000;
const YEAR_MS: i64 = 365 * 86_400_000;
const RUNS: usize = 20;
const PAGE_RUNS: usize = 10;

const SURVEY: &str = r#"{"name":"Bench","timeout_seconds":120,"questions":[{"id":"nps","type":"nps","text":"nps","required":true},{"id":"csi","type":"scale","text":"csi","min":1,"max":9,"measures":"csi"},{"id":"ces","type":"scale","text":"ces","min":1,"max":7,"measures":"ces"},{"id":"speed","type":"scale","text":"speed","min":1,"max":5,"measures":"factor:speed","weight":0.5}]}"#;

/// Writes responses, answers and their orders (delivered, some late) as
/// Doorstep's tables hold them, until `answers` answers; returns
/// (responses, answers).
fn generate(
    answers: usize,
    responses_csv: &Path,
    answers_csv: &Path,
    orders_csv: &Path,
) -> anyhow::Result<(usize, usize)> {
    let mut rng = StdRng::seed_from_u64(2026);
    let mut r = BufWriter::new(std::fs::File::create(responses_csv)?);
    let mut a = BufWriter::new(std::fs::File::create(answers_csv)?);
    let mut o = BufWriter::new(std::fs::File::create(orders_csv)?);
    let (mut responses, mut written) = (0, 0);
    // Responses arrive in time order, as they do (some up to two hours
    // late, from terminals that were offline): about 3.32 answers each.
    let gap = YEAR_MS as f64 / (answers as f64 / 3.32);
    while written < answers {
        let order = format!("M-{responses:09}");
        let id = uuid::Builder::from_random_bytes(rng.gen()).into_uuid();
        let courier = rng.gen_range(0..COURIERS);
        let city = CITIES[courier % CITIES.len()];
        let partner = PARTNERS[rng.gen_range(0..PARTNERS.len())];
        let segment = if rng.gen_bool(0.3) { "new" } else { "repeat" };
        let finished = (YEAR_START_MS + (responses as f64 * gap) as i64
            - rng.gen_range(0..7_200_000))
        .clamp(YEAR_START_MS, YEAR_START_MS + YEAR_MS - 1);
        let roll: f64 = rng.gen();
        let (status, count) = if roll < 0.8 {
            ("completed", 4)
        } else if roll < 0.92 {
            ("refused", 0)
        } else {
            ("timed_out", rng.gen_range(1..=2))
        };
        writeln!(
            r,
            "{order},{id},bench,1,{status},terminal,handover,ru,,K-{courier:04},{city},{partner},{segment},{},{},{finished},60000,0,{id},{finished},,0,,0",
            finished - 600_000,
            finished - 60_000
        )?;
        let delivered = finished - 600_000;
        let promised_to = delivered + rng.gen_range(-1_800_000..5_400_000);
        writeln!(
            o,
            "{order},+7900{:07},{city},{partner},K-{courier:04},{},{promised_to},{delivered},,0,0",
            rng.gen_range(0..5_000_000),
            promised_to - 7_200_000
        )?;
        let mood = (courier % 7) as i64 - 3;
        let values = [
            ("nps", (rng.gen_range(4..=10) + mood / 2).clamp(0, 10)),
            ("csi", rng.gen_range(3..=9)),
            ("ces", rng.gen_range(2..=7)),
            ("speed", rng.gen_range(1..=5)),
        ];
        for (q, v) in values.iter().take(count) {
            let kind = if *q == "nps" { "nps" } else { "scale" };
            writeln!(a, "{order},{id},{q},{kind},{v},,,")?;
        }
        responses += 1;
        written += count;
    }
    r.flush()?;
    a.flush()?;
    o.flush()?;
    Ok((responses, written))
}

/// (p50, p95) of timings in milliseconds.
pub(crate) fn percentiles(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.95))
}

/// The same count as "NPS by courier and week" straight from the answers.
fn raw_sql(from_ms: i64, to_ms: i64) -> String {
    format!(
        "SELECT r.courier_id, (r.finished_at + 10800000) / 604800000 AS week, COUNT(*) AS n, \
         SUM(CASE WHEN a.number_value >= 9 THEN 1 ELSE 0 END) AS promoters, \
         SUM(CASE WHEN a.number_value <= 6 THEN 1 ELSE 0 END) AS detractors \
         FROM responses r JOIN answers a ON a.order_number = r.order_number AND a.response_id = r.id \
         WHERE a.question_id = 'nps' AND r.status = 'completed' AND r.finished_at >= {from_ms} AND r.finished_at < {to_ms} \
         GROUP BY 1, 2"
    )
}

/// The couriers' habits over a period straight from the answers, as the
/// fleet view counted them before its daily rows existed (one grouped join).
fn raw_habits_sql(from_ms: i64, to_ms: i64) -> String {
    format!(
        "SELECT r.courier_id, COUNT(*), AVG(r.duration_ms), AVG(r.started_at - r.delivered_at), \
         COUNT(a.number_value), SUM(CASE WHEN a.number_value = 10 THEN 1 ELSE 0 END), MAX(s.same) \
         FROM responses r LEFT JOIN answers a \
           ON a.order_number = r.order_number AND a.response_id = r.id AND a.kind = 'nps' \
         LEFT JOIN (SELECT courier_id, MAX(n) AS same FROM (SELECT courier_id, answer_signature, COUNT(*) AS n \
           FROM responses WHERE status = 'completed' AND answer_signature IS NOT NULL \
           AND finished_at >= {from_ms} AND finished_at < {to_ms} GROUP BY 1, 2) x GROUP BY 1) s \
           ON s.courier_id = r.courier_id \
         WHERE r.status = 'completed' AND r.courier_id IS NOT NULL \
           AND r.finished_at >= {from_ms} AND r.finished_at < {to_ms} GROUP BY r.courier_id"
    )
}

/// The key drivers' sums over a period straight from the answers.
fn raw_pairs_sql(from_ms: i64, to_ms: i64) -> String {
    format!(
        "SELECT f.question_id, COUNT(*), SUM(f.number_value), SUM(y.number_value), \
         SUM(f.number_value * f.number_value), SUM(y.number_value * y.number_value), \
         SUM(f.number_value * y.number_value) FROM responses r \
         JOIN answers y ON y.order_number = r.order_number AND y.response_id = r.id AND y.kind = 'nps' \
         JOIN answers f ON f.order_number = r.order_number AND f.response_id = r.id AND f.kind = 'scale' \
         WHERE r.status = 'completed' AND r.finished_at >= {from_ms} AND r.finished_at < {to_ms} \
         GROUP BY f.question_id"
    )
}

/// Median milliseconds of `runs` runs of `sql` by the database's own client.
fn raw_median(
    backend: &str,
    sqlite: &Path,
    database: &str,
    sql: &str,
    runs: usize,
) -> anyhow::Result<f64> {
    let mut ms = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let ok = if backend == "SQLite" {
            Command::new("sqlite3")
                .arg(sqlite)
                .stdin_text(&format!("{sql};\n"))
                .stdout(Stdio::null())
                .status()?
                .success()
        } else {
            Command::new("psql")
                .args(["-q", "-d", database, "-c", sql])
                .stdout(Stdio::null())
                .status()?
                .success()
        };
        if !ok {
            bail!("the raw query failed: {sql}");
        }
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(percentiles(ms).0)
}

/// The console's pages over the loaded year, signed in as the admin:
/// (page, path, raw SQL doing the same count).
fn pages() -> Vec<(&'static str, &'static str, String)> {
    let day = 86_400_000;
    let end = YEAR_START_MS + YEAR_MS;
    vec![
        (
            "/couriers, 90 days",
            "/couriers?from=2026-09-02&to=2026-11-30",
            raw_habits_sql(end - 90 * day, end),
        ),
        (
            "/couriers, year",
            "/couriers?from=2025-12-01&to=2026-11-30",
            raw_habits_sql(YEAR_START_MS, end),
        ),
        (
            "/drivers, month",
            "/drivers?from=2026-11-01&to=2026-11-30",
            raw_pairs_sql(end - 30 * day, end),
        ),
        (
            "/drivers, year",
            "/drivers?from=2025-12-01&to=2026-11-30",
            raw_pairs_sql(YEAR_START_MS, end),
        ),
    ]
}

/// A client signed in to the console at `url` as `login` (the bench's
/// accounts all have the password "bench password").
pub(crate) async fn signed_in(url: &str, login: &str) -> anyhow::Result<reqwest::Client> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let page = client
        .get(format!("{url}login"))
        .send()
        .await?
        .text()
        .await?;
    let marker = "name=\"csrf\" value=\"";
    let csrf = page
        .split(marker)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let signed = client
        .post(format!("{url}login"))
        .form(&[
            ("login", login),
            ("password", "bench password"),
            ("csrf", csrf.as_str()),
            ("next", "/orders"),
        ])
        .send()
        .await?;
    if signed.status() != 303 {
        bail!("could not sign in as {login}: {}", signed.status());
    }
    Ok(client)
}

/// Signs in as the bench's admin and times each page (p50, p95 of `runs`).
async fn time_pages(url: &str, runs: usize) -> anyhow::Result<Vec<(f64, f64)>> {
    let client = signed_in(url, "admin").await?;
    let mut out = Vec::new();
    for (_, path, _) in pages() {
        let address = format!("{url}{}", path.trim_start_matches('/'));
        let mut ms = Vec::new();
        for run in 0..=runs {
            let started = Instant::now();
            let r = client.get(&address).send().await?;
            if !r.status().is_success() {
                bail!("{address}: {}", r.status());
            }
            let body = r.text().await?;
            if run >= 1 {
                ms.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            drop(body);
        }
        out.push(percentiles(ms));
    }
    Ok(out)
}

pub fn run(doorstep: &Path, dir: &Path, postgres: &str, answers: usize) -> anyhow::Result<String> {
    let responses_csv = dir.join("metrics-responses.csv");
    let answers_csv = dir.join("metrics-answers.csv");
    let orders_csv = dir.join("metrics-orders.csv");
    eprintln!("generating {answers} answers…");
    let (responses, answers) = generate(answers, &responses_csv, &answers_csv, &orders_csv)?;
    let runtime = tokio::runtime::Runtime::new()?;
    // The year unless a query names its own days; Лавка percent-encoded.
    let queries = [
        ("year by week × courier", "group_by=courier,week"),
        ("year by week", "group_by=week"),
        ("year by courier", "group_by=courier"),
        ("year by city", "group_by=city"),
        ("year by month × courier", "group_by=courier,month"),
        // The combinations the courier rollup cut alone did not answer.
        (
            "year by courier, one partner",
            "group_by=courier&partner=%D0%9B%D0%B0%D0%B2%D0%BA%D0%B0",
        ),
        (
            "year by courier, one segment",
            "group_by=courier&segment=repeat",
        ),
        ("year by partner, one courier", "group_by=partner&courier=K-0007"),
        (
            "year by week, one courier and segment",
            "group_by=week&courier=K-0007&segment=repeat",
        ),
        (
            "year by month, one courier and partner",
            "group_by=month&courier=K-0007&partner=%D0%9B%D0%B0%D0%B2%D0%BA%D0%B0",
        ),
        (
            "30 days by courier, one partner and segment",
            "from=2026-11-01&to=2026-11-30&group_by=courier&segment=new&partner=%D0%9B%D0%B0%D0%B2%D0%BA%D0%B0",
        ),
        (
            "30 days by segment, one courier and survey",
            "from=2026-11-01&to=2026-11-30&group_by=segment&courier=K-0007&survey=bench",
        ),
    ];
    let mut table = String::from(
        "| backend | answers (responses) | load | rollups rebuild | query | first (cold) | doorstep p50 | doorstep p95 | raw GROUP BY (median) | raw / doorstep p95 |\n|---|---:|---:|---:|---|---:|---:|---:|---:|---:|\n",
    );
    let mut page_table = String::from(
        "\n| backend | page | doorstep p50 | doorstep p95 | raw grouped join (median) | raw / doorstep p95 |\n|---|---|---:|---:|---:|---:|\n",
    );
    for &backend in super::backends() {
        let database = super::fresh_database(dir, postgres, backend, "metrics")?;
        // The schema, by Doorstep's own migrations.
        let status = Command::new(doorstep)
            .args(["user", "list"])
            .env("DOORSTEP_DATABASE", &database)
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("could not create the schema");
        }
        let survey = format!(
            "INSERT INTO surveys (id, name, current_version, created_at, updated_at) VALUES ('bench', 'Bench', 1, 0, 0); \
             INSERT INTO survey_versions (survey_id, version, definition, created_at) VALUES ('bench', 1, '{SURVEY}', 0)"
        );
        eprintln!("{backend}: loading {answers} answers…");
        let started = Instant::now();
        if backend == "SQLite" {
            let path = dir.join("metrics.db");
            let script = format!(
                "PRAGMA journal_mode=WAL;\n{survey};\n.mode csv\nBEGIN;\n.import {} responses\n.import {} answers\n.import {} orders\nCOMMIT;\n",
                responses_csv.display(),
                answers_csv.display(),
                orders_csv.display()
            );
            let out = Command::new("sqlite3")
                .arg(&path)
                .stdin_text(&script)
                .output()?;
            if !out.status.success() {
                bail!(
                    "sqlite3 import failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        } else {
            psql(postgres, "doorstep_metrics", &survey)?;
            for (table, file) in [
                ("responses", &responses_csv),
                ("answers", &answers_csv),
                ("orders", &orders_csv),
            ] {
                let status = Command::new("psql")
                    .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", &database, "-c"])
                    .arg(format!(
                        "\\copy {table} FROM '{}' WITH (FORMAT csv)",
                        file.display()
                    ))
                    .status()?;
                if !status.success() {
                    bail!("psql copy into {table} failed");
                }
            }
            psql(postgres, "doorstep_metrics", "ANALYZE")?;
        }
        let load = started.elapsed().as_secs_f64();
        eprintln!("{backend}: rebuilding the rollups…");
        let started = Instant::now();
        let out = Command::new(doorstep)
            .args(["rollups", "rebuild"])
            .env("DOORSTEP_DATABASE", &database)
            .output()?;
        if !out.status.success() {
            bail!(
                "rollups rebuild failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let rebuild = started.elapsed().as_secs_f64();
        let token = token(doorstep, &database)?;
        let server = serve(doorstep, &database, &dir.join("metrics-data"))?;
        let url = server.url.clone();
        let timings: Vec<(f64, f64, f64)> = runtime.block_on(async {
            let client = reqwest::Client::new();
            let mut out = Vec::new();
            for (_, query) in queries {
                let days = if query.contains("from=") {
                    ""
                } else {
                    "from=2025-12-01&to=2026-11-30&"
                };
                let address = format!("{url}api/v1/metrics?{days}{query}");
                let mut ms = Vec::new();
                let mut cold = 0.0;
                for run in 0..RUNS + 2 {
                    let started = Instant::now();
                    let r = client.get(&address).bearer_auth(&token).send().await?;
                    if !r.status().is_success() {
                        bail!("{address}: {}", r.status());
                    }
                    let body = r.bytes().await?;
                    let took = started.elapsed().as_secs_f64() * 1000.0;
                    if run == 0 {
                        cold = took;
                    }
                    if run >= 2 {
                        ms.push(took);
                    }
                    drop(body);
                }
                let (p50, p95) = percentiles(ms);
                out.push((cold, p50, p95));
            }
            Ok(out)
        })?;
        eprintln!("{backend}: timing the console's pages…");
        let page_timings = runtime.block_on(time_pages(&url, PAGE_RUNS))?;
        drop(server);
        for ((page, _, sql), (p50, p95)) in pages().iter().zip(&page_timings) {
            let raw = raw_median(backend, &dir.join("metrics.db"), &database, sql, 3)?;
            let _ = writeln!(
                page_table,
                "| {backend} | {page} | {p50:.0} ms | {p95:.0} ms | {raw:.0} ms | {:.0}× |",
                raw / p95
            );
        }
        // The raw database doing the year-by-week-and-courier count itself.
        let sql = raw_sql(YEAR_START_MS, YEAR_START_MS + YEAR_MS);
        let raw = raw_median(backend, &dir.join("metrics.db"), &database, &sql, 5)?;
        // BENCH_KEEP=1 keeps the loaded year (metrics.db, the doorstep_metrics
        // database) for a closer look afterwards.
        if backend == "SQLite" && std::env::var("BENCH_KEEP").is_err() {
            remove_sqlite(&dir.join("metrics.db"));
        }
        for (i, ((name, _), (cold, p50, p95))) in queries.iter().zip(&timings).enumerate() {
            let first = i == 0;
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} | {name} | {cold:.0} ms | {p50:.1} ms | {p95:.1} ms | {} | {} |",
                if first { backend } else { "" },
                if first {
                    format!("{answers} ({responses})")
                } else {
                    String::new()
                },
                if first {
                    format!("{load:.0} s")
                } else {
                    String::new()
                },
                if first {
                    format!("{rebuild:.0} s")
                } else {
                    String::new()
                },
                if first {
                    format!("{raw:.0} ms")
                } else {
                    String::new()
                },
                if first {
                    format!("{:.0}×", raw / p95)
                } else {
                    String::new()
                },
            );
        }
    }
    let _ = std::fs::remove_file(&responses_csv);
    let _ = std::fs::remove_file(&answers_csv);
    let _ = std::fs::remove_file(&orders_csv);
    table.push_str(&page_table);
    Ok(table)
}
