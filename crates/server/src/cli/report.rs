//! `doorstep report`: a period's survey scores, or its contact-center
//! figures, to a CSV, XLSX or JSON file.

use std::path::PathBuf;

use clap::Args;

use super::open_store;
use crate::app::calls::CallsQuery;
use crate::app::survey::metrics::MetricsQuery;
use crate::app::survey::report::{write, write_calls, ReportFormat};

#[derive(Args)]
pub struct ReportArgs {
    /// The period, grouping and filters, as the API's `/api/v1/metrics` takes them.
    #[command(flatten)]
    query: MetricsQuery,
    /// `surveys` (the scores, as `/api/v1/metrics`) or `calls` (the contact
    /// center's figures, as `/api/v1/calls/metrics`: --group-by all, line,
    /// queue, agent, reason, hour, day, week or month; default queue).
    #[arg(long, value_parser = ["surveys", "calls"], default_value = "surveys")]
    section: String,
    /// With `--section calls`: only the queues of this line (`customers` or `couriers`).
    #[arg(long)]
    line: Option<String>,
    /// csv, xlsx or json.
    #[arg(long, value_parser = ["csv", "xlsx", "json"])]
    format: String,
    /// The file to write (replaced if it exists).
    #[arg(long)]
    out: PathBuf,
}

pub async fn run(database: &str, args: ReportArgs) -> anyhow::Result<()> {
    let calls = args.section == "calls";
    check_options(&args, calls)?;
    let store = open_store(database).await?;
    let deployment = store.deployment().await?;
    let today = jiff::Timestamp::now().to_zoned(deployment.tz()).date();
    let format = ReportFormat::parse(&args.format).unwrap_or(ReportFormat::Csv);
    let option =
        |p: crate::app::Problem| anyhow::anyhow!("--{}: {}", p.field.replace('_', "-"), p.message);
    let result = if calls {
        let query = CallsQuery {
            from: args.query.from.clone(),
            to: args.query.to.clone(),
            line: args.line.clone(),
            group_by: args.query.group_by.clone(),
        };
        match query.request(today).map_err(option) {
            Ok(req) => write_calls(&store, &deployment, &req, format, &args.out)
                .await
                .map(|a| {
                    let offered: i64 = a.groups.iter().map(|g| g.offered).sum();
                    format!(
                        "{} groups, {offered} calls offered, {} to {}",
                        a.groups.len(),
                        a.from,
                        a.to
                    )
                }),
            Err(e) => Err(e),
        }
    } else {
        match args.query.request(today).map_err(option) {
            Ok(req) => write(&store, &deployment, &req, format, &args.out)
                .await
                .map(|a| {
                    let responses: i64 = a.groups.iter().map(|g| g.scores.responses).sum();
                    format!(
                        "{} groups, {responses} completed responses, {} to {}",
                        a.groups.len(),
                        a.from,
                        a.to
                    )
                }),
            Err(e) => Err(e),
        }
    };
    store.close().await;
    println!("Wrote {} ({}).", args.out.display(), result?);
    Ok(())
}

/// Refuses options that do not apply to the section asked for, by name.
fn check_options(args: &ReportArgs, calls: bool) -> anyhow::Result<()> {
    if !calls {
        if args.line.is_some() {
            anyhow::bail!("--line applies to --section calls only");
        }
        return Ok(());
    }
    let q = &args.query;
    let given = [
        ("courier", &q.courier),
        ("city", &q.city),
        ("partner", &q.partner),
        ("segment", &q.segment),
        ("survey", &q.survey),
        ("channel", &q.channel),
        ("refusal-policy", &q.refusal_policy),
    ];
    if let Some((name, _)) = given.iter().find(|(_, v)| v.is_some()) {
        anyhow::bail!(
            "--{name} filters survey answers; the contact center's figures take --from, --to, --line and --group-by"
        );
    }
    Ok(())
}
