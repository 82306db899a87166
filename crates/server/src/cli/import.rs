//! `doorstep import orders FILE` and `doorstep import calls FILE`: exit 0
//! when every row went in, 1 when some rows were rejected, 2 when the file
//! could not be used at all.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::open_store;
use crate::import::calls::import_calls;
use crate::import::orders::{import_orders, ImportFailure, Rejection};

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
    /// Import a PBX's call records: an Asterisk queue_log or CDR
    /// (Master.csv), told apart by their content. Importing a file again
    /// adds nothing; a call split across two files (a rotated log) is
    /// completed when the second arrives.
    Calls {
        /// The queue_log or Master.csv file.
        file: PathBuf,
    },
}

pub async fn run(database: &str, cmd: ImportCommand) -> ExitCode {
    let store = match open_store(database).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let code = match cmd {
        ImportCommand::Orders { file, encoding } => orders(&store, file, encoding).await,
        ImportCommand::Calls { file } => calls(&store, file).await,
    };
    store.close().await;
    code
}

/// A progress bar over the file's bytes on a terminal; nothing otherwise.
fn progress_bar() -> ProgressBar {
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} importing [{bar:40}] {percent}% {bytes}/{total_bytes} · {elapsed} (eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    }
}

/// Moves the bar to (bytes read, file size).
fn moved(bar: &ProgressBar) -> impl FnMut(u64, u64) + '_ {
    |read, size| {
        bar.set_length(size);
        bar.set_position(read.min(size));
    }
}

/// Prints a rejected line above the progress bar.
fn say_rejected(bar: &ProgressBar, rejection: &Rejection) {
    bar.suspend(|| {
        let _ = writeln!(
            std::io::stdout().lock(),
            "line {}: {}",
            rejection.line,
            rejection.reason
        );
    });
}

async fn calls(store: &doorstep_store::Store, file: PathBuf) -> ExitCode {
    let bar = progress_bar();
    let started = Instant::now();
    let name = file.display().to_string();
    let result = import_calls(
        store,
        file,
        |rejection| say_rejected(&bar, rejection),
        moved(&bar),
    )
    .await;
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "{name}: {} lines ({}) — new events: {}, calls written: {}, other events passed over: {}, rejected: {} in {seconds:.1} s",
                report.lines,
                report.format.name(),
                report.stored.new_events,
                report.stored.calls,
                report.passed_over,
                report.rejected
            );
            if report.rejected > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

async fn orders(
    store: &doorstep_store::Store,
    file: PathBuf,
    encoding: Option<String>,
) -> ExitCode {
    let bar = progress_bar();
    let started = Instant::now();
    let name = file.display().to_string();
    let result = import_orders(
        store,
        file,
        encoding,
        |rejection| say_rejected(&bar, rejection),
        moved(&bar),
    )
    .await;
    bar.finish_and_clear();
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
