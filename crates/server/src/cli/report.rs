//! `doorstep report`: the survey scores of a period to a CSV, XLSX or JSON file.

use std::path::PathBuf;

use clap::Args;

use super::open_store;
use crate::app::survey::report::{write, ReportFormat};
use crate::http::api::metrics::MetricsQuery;

#[derive(Args)]
pub struct ReportArgs {
    /// First local day, YYYY-MM-DD.
    #[arg(long)]
    from: String,
    /// Last local day (inclusive), YYYY-MM-DD.
    #[arg(long)]
    to: String,
    /// courier, city, partner, segment, survey, channel, day, week or month;
    /// left out, one row for the whole period.
    #[arg(long)]
    group_by: Option<String>,
    /// csv, xlsx or json.
    #[arg(long, value_parser = ["csv", "xlsx", "json"])]
    format: String,
    /// The file to write (replaced if it exists).
    #[arg(long)]
    out: PathBuf,
    #[arg(long)]
    city: Option<String>,
    #[arg(long)]
    partner: Option<String>,
    #[arg(long)]
    courier: Option<String>,
    #[arg(long)]
    segment: Option<String>,
    #[arg(long)]
    survey: Option<String>,
    #[arg(long)]
    channel: Option<String>,
}

pub async fn run(database: &str, args: ReportArgs) -> anyhow::Result<()> {
    let query = MetricsQuery {
        from: Some(args.from),
        to: Some(args.to),
        group_by: args.group_by,
        courier: args.courier,
        city: args.city,
        partner: args.partner,
        segment: args.segment,
        survey: args.survey,
        channel: args.channel,
        refusal_policy: None,
    };
    let store = open_store(database).await?;
    let deployment = store.deployment().await?;
    let today = jiff::Timestamp::now().to_zoned(deployment.tz()).date();
    let request = query.request(today).map_err(|e| anyhow::anyhow!("{e}"));
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
