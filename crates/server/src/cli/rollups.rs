//! `doorstep rollups rebuild`: recompute the survey rollups from the raw
//! answers (after the deployment's time zone changed, or to check them),
//! and tag every answer's causes again (their days are local too).

use std::io::IsTerminal;
use std::time::Instant;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::open_store;

#[derive(Subcommand)]
pub enum RollupsCommand {
    /// Recompute the daily rollups from every stored answer, in one
    /// transaction (readers see the old figures until it commits), the
    /// delivery rollup from the orders, and the weekly rows of the weeks
    /// that have ended; then the couriers' habits and the key drivers' sums
    /// of every past day (one transaction a day); then the support figures
    /// of every past day from the cases; then the call figures' 15-minute
    /// slots from the calls; then tag every answer's causes again with
    /// the rules in force.
    Rebuild,
}

pub async fn run(database: &str, cmd: RollupsCommand) -> anyhow::Result<()> {
    let RollupsCommand::Rebuild = cmd;
    let store = open_store(database).await?;
    let rebuilt = rebuild(&store).await;
    store.close().await;
    rebuilt
}

/// The rollups, then the days, then the causes, each with its progress.
async fn rebuild(store: &doorstep_store::Store) -> anyhow::Result<()> {
    let total = u64::try_from(store.count_responses().await?).unwrap_or(0);
    let tz = store.deployment().await?.tz();
    let started = Instant::now();
    let bar = progress(total, "rebuilding");
    let counted = store.rebuild_rollups(&tz, |n| bar.set_position(n)).await;
    bar.finish_and_clear();
    println!(
        "Rollups rebuilt from {} responses in {:.1} s.",
        counted?,
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let bar = progress(0, "building days");
    let now = jiff::Timestamp::now().as_millisecond();
    let days = store
        .build_days(&tz, now, |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })
        .await;
    bar.finish_and_clear();
    println!(
        "Couriers' habits and key drivers built for {} days in {:.1} s.",
        days?,
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let bar = progress(0, "building days");
    store.forget_support_days().await?;
    let days = store
        .build_support_days(&tz, now, |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })
        .await;
    bar.finish_and_clear();
    println!(
        "Support figures built for {} days in {:.1} s.",
        days?,
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let target = crate::app::calls::ServiceLevel::of(store).await?;
    let slots = store.rebuild_call_slots(target.seconds).await?;
    println!(
        "Call figures kept in {slots} rows of 15 minutes in {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let tagger = store.vocabulary().await?.tagger();
    let bar = progress(total, "tagging causes");
    let tagged = store.retag_all(&tagger, &tz, |n| bar.set_position(n)).await;
    bar.finish_and_clear();
    println!(
        "Causes tagged again for {} responses (those tagged by hand kept theirs) in {:.1} s.",
        tagged?,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A progress bar on a terminal; nothing when the output is a file.
fn progress(total: u64, what: &str) -> ProgressBar {
    let unit = if what == "building days" {
        "days"
    } else {
        "responses"
    };
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {what} [{{bar:40}}] {{pos}}/{{len}} {unit} · {{elapsed}} (eta {{eta}})"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}
