//! `doorstep rollups rebuild`: recompute the survey rollups from the raw
//! answers (after the deployment's time zone changed, or to check them).

use std::io::IsTerminal;
use std::time::Instant;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::open_store;

#[derive(Subcommand)]
pub enum RollupsCommand {
    /// Recompute the rollups from every stored answer, in one transaction
    /// (readers see the old figures until it commits).
    Rebuild,
}

pub async fn run(database: &str, cmd: RollupsCommand) -> anyhow::Result<()> {
    let RollupsCommand::Rebuild = cmd;
    let store = open_store(database).await?;
    let total = u64::try_from(store.count_responses().await?).unwrap_or(0);
    let tz = store.deployment().await?.tz();
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} rebuilding [{bar:40}] {pos}/{len} responses · {elapsed} (eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let started = Instant::now();
    let counted = store.rebuild_rollups(&tz, |n| bar.set_position(n)).await;
    bar.finish_and_clear();
    store.close().await;
    let counted = counted?;
    println!(
        "Rollups rebuilt from {counted} responses in {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
