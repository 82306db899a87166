//! `doorstep import orders FILE`: exit 0 when every row went in, 1 when
//! some rows were rejected, 2 when the file could not be used at all.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::open_store;
use crate::import::orders::{import_orders, ImportFailure};

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import orders (with their customers, couriers, partners and cities) from CSV.
    Orders {
        /// The CSV file: `,` `;` or tab separated, UTF-8 or Windows-1251.
        file: PathBuf,
        /// Force the encoding instead of detecting it (utf-8, windows-1251, …).
        #[arg(long)]
        encoding: Option<String>,
    },
}

pub async fn run(database: &str, cmd: ImportCommand) -> ExitCode {
    let ImportCommand::Orders { file, encoding } = cmd;
    let store = match open_store(database).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} importing [{bar:40}] {percent}% {bytes}/{total_bytes} · {elapsed} (eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let started = Instant::now();
    let stdout = std::io::stdout();
    let name = file.display().to_string();
    let result = import_orders(
        &store,
        file,
        encoding,
        |rejection| {
            bar.suspend(|| {
                let _ = writeln!(
                    stdout.lock(),
                    "line {}: {}",
                    rejection.line,
                    rejection.reason
                );
            });
        },
        |read, size| {
            bar.set_length(size);
            bar.set_position(read.min(size));
        },
    )
    .await;
    bar.finish_and_clear();
    store.close().await;
    match result {
        Ok(report) => {
            let seconds = started.elapsed().as_secs_f64();
            let o = report.outcome;
            println!(
                "{name}: {} rows ({}, delimiter {:?}) — imported: {}, updated: {}, unchanged: {}, rejected: {} in {seconds:.1} s",
                report.rows, report.encoding, report.delimiter, o.inserted, o.updated, o.unchanged, report.rejected
            );
            if report.rejected > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(ImportFailure::Unusable(why)) => {
            eprintln!("error: {why}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
