//! `doorstep-bench calls [LINES]`: `doorstep import calls` of an Asterisk
//! queue_log of LINES lines (default 1,000,000: about 360,000 calls of a
//! busy day's shape — most answered, one in ten abandoned, agents logging
//! in now and then), on SQLite and PostgreSQL: lines a second and the
//! importer's peak RSS, beside the raw database loading the same events,
//! already parsed, into a table with the same key (`sqlite3 .import`,
//! `psql \copy`).

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{psql, remove_sqlite, row, run_measured, StdinText};

const RAW_SCHEMA: &str = "CREATE TABLE call_events (call_id TEXT NOT NULL, event TEXT NOT NULL, at BIGINT NOT NULL, \
     agent TEXT NOT NULL, queue TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (call_id, event, at, agent));";

/// Writes the queue_log and the same events as CSV rows for the raw load;
/// returns the number of lines written.
fn generate(lines: usize, log: &Path, raw: &Path) -> anyhow::Result<usize> {
    let mut rng = StdRng::seed_from_u64(17);
    let mut log = BufWriter::new(std::fs::File::create(log)?);
    let mut raw = BufWriter::new(std::fs::File::create(raw)?);
    writeln!(raw, "call_id,event,at,agent,queue,data")?;
    let queues = ["support", "support", "support", "couriers", "partners"];
    let mut t: i64 = 1_793_592_000;
    let mut written = 0;
    let mut n = 0;
    while written < lines {
        n += 1;
        t += rng.gen_range(0..3);
        let id = format!("{t}.{n}");
        let queue = queues[n % queues.len()];
        let wait = rng.gen_range(1..90);
        let agent = format!("SIP/{}", 100 + rng.gen_range(0..60));
        let mut event =
            |at: i64, name: &str, agent: &str, data: &[String]| -> std::io::Result<()> {
                writeln!(
                    log,
                    "{at}|{id}|{queue}|{}|{name}|{}",
                    if agent.is_empty() { "NONE" } else { agent },
                    data.join("|")
                )?;
                let json = format!(
                    "[{}]",
                    data.iter()
                        .map(|d| format!("\"\"{d}\"\""))
                        .collect::<Vec<_>>()
                        .join(",")
                );
                // (Quoted: an empty agent is "", not NULL, to PostgreSQL's COPY.)
                writeln!(
                    raw,
                    "{id},{name},{},\"{agent}\",{queue},\"{json}\"",
                    at * 1000
                )
            };
        event(
            t,
            "ENTERQUEUE",
            "",
            &[
                String::new(),
                format!("+7916{:07}", n % 400_000),
                "1".into(),
            ],
        )?;
        written += 1;
        if rng.gen_bool(0.1) {
            event(
                t + wait,
                "ABANDON",
                "",
                &["1".into(), "1".into(), wait.to_string()],
            )?;
            written += 1;
        } else {
            let talk = rng.gen_range(30..400);
            event(
                t + wait,
                "CONNECT",
                &agent,
                &[wait.to_string(), format!("{id}.2"), "2".into()],
            )?;
            event(
                t + wait + talk,
                "COMPLETECALLER",
                &agent,
                &[wait.to_string(), talk.to_string(), "1".into()],
            )?;
            written += 2;
        }
        if n % 500 == 0 {
            writeln!(log, "{t}|NONE|support|{agent}|AGENTLOGIN|")?;
            written += 1;
        }
    }
    log.flush()?;
    raw.flush()?;
    Ok(written)
}

pub fn run(doorstep: &Path, dir: &Path, postgres: &str, lines: usize) -> anyhow::Result<String> {
    let log = dir.join("queue_log");
    let raw = dir.join("call-events.csv");
    eprintln!("generating {lines} queue_log lines…");
    let lines = generate(lines, &log, &raw)?;
    let mut table = String::from(
        "| backend | lines | doorstep import | lines/s | peak RSS | raw load | raw lines/s | doorstep / raw |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for &backend in super::backends() {
        eprintln!("{backend}: importing…");
        if backend == "SQLite" {
            let db = dir.join("calls.db");
            remove_sqlite(&db);
            let ours = run_measured(
                Command::new(doorstep)
                    .args(["import", "calls"])
                    .arg(&log)
                    .env("DOORSTEP_DATABASE", format!("sqlite://{}", db.display())),
            )?;
            let raw_db = dir.join("calls-raw.db");
            remove_sqlite(&raw_db);
            let script = format!(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; {RAW_SCHEMA}\n.mode csv\n.import --skip 1 {} call_events\n",
                raw.display()
            );
            let theirs = run_measured(Command::new("sqlite3").arg(&raw_db).stdin_text(&script))?;
            row(&mut table, backend, lines, &ours, &theirs);
            remove_sqlite(&db);
            remove_sqlite(&raw_db);
        } else {
            let (name, raw_name) = ("doorstep_calls", "doorstep_calls_raw");
            for db in [name, raw_name] {
                psql(
                    postgres,
                    "postgres",
                    &format!("DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db};"),
                )?;
            }
            let ours = run_measured(
                Command::new(doorstep)
                    .args(["import", "calls"])
                    .arg(&log)
                    .env("DOORSTEP_DATABASE", format!("{postgres}/{name}")),
            )?;
            psql(postgres, raw_name, RAW_SCHEMA)?;
            let theirs = super::copy_measured(postgres, raw_name, "call_events", &raw)?;
            row(&mut table, backend, lines, &ours, &theirs);
            psql(
                postgres,
                "postgres",
                &format!(
                    "DROP DATABASE {name} WITH (FORCE); DROP DATABASE {raw_name} WITH (FORCE);"
                ),
            )?;
        }
    }
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(&raw);
    Ok(table)
}
