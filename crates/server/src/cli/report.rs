//! `doorstep report`: the survey scores of a period to a CSV, XLSX or JSON file.

use std::path::PathBuf;

use clap::Args;

use super::open_store;
use crate::app::survey::metrics::MetricsQuery;
use crate::app::survey::report::{write, ReportFormat};

#[derive(Args)]
pub struct ReportArgs {
    /// The period, grouping and filters, as the API's `/api/v1/metrics` takes them.
    #[command(flatten)]
    query: MetricsQuery,
    /// csv, xlsx or json.
    #[arg(long, value_parser = ["csv", "xlsx", "json"])]
    format: String,
    /// The file to write (replaced if it exists).
    #[arg(long)]
    out: PathBuf,
}

pub async fn run(database: &str, args: ReportArgs) -> anyhow::Result<()> {
    let store = open_store(database).await?;
    let deployment = store.deployment().await?;
    let today = jiff::Timestamp::now().to_zoned(deployment.tz()).date();
    let request = args
        .query
        .request(today)
        .map_err(|p| anyhow::anyhow!("--{}: {}", p.field.replace('_', "-"), p.message));
    let result = match request {
        Ok(req) => {
            let format = ReportFormat::parse(&args.format).unwrap_or(ReportFormat::Csv);
            write(&store, &deployment, &req, format, &args.out).await
        }
        Err(e) => Err(e),
    };
    store.close().await;
    let answer = result?;
    let responses: i64 = answer.groups.iter().map(|g| g.scores.responses).sum();
    println!(
        "Wrote {} ({} groups, {responses} completed responses, {} to {}).",
        args.out.display(),
        answer.groups.len(),
        answer.from,
        answer.to
    );
    Ok(())
}
