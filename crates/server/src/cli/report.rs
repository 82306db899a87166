//! `doorstep report`: a period's survey scores, its contact-center figures,
//! or its mystery-shopper inspections, to a CSV, XLSX or JSON file.

use std::path::PathBuf;

use clap::Args;

use super::open_store;
use crate::app::calls::CallsQuery;
use crate::app::survey::metrics::MetricsQuery;
use crate::app::survey::report::{write, write_calls, write_inspections, ReportFormat};

#[derive(Args)]
pub struct ReportArgs {
    /// The period, grouping and filters, as the API's `/api/v1/metrics` takes them.
    #[command(flatten)]
    query: MetricsQuery,
    /// `surveys` (the scores, as `/api/v1/metrics`), `calls` (the contact
    /// center's figures, as `/api/v1/calls/metrics`: --group-by all, line,
    /// queue, agent, reason, hour, day, week or month; default queue) or
    /// `inspections` (mystery shoppers' checks per courier and question, as
    /// `/api/v1/inspections`; --courier for one courier).
    #[arg(long, value_parser = ["surveys", "calls", "inspections"], default_value = "surveys")]
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
    check_options(&args)?;
    let store = open_store(database).await?;
    let deployment = store.deployment().await?;
    let today = jiff::Timestamp::now().to_zoned(deployment.tz()).date();
    let format = ReportFormat::parse(&args.format).unwrap_or(ReportFormat::Csv);
    let option =
        |p: crate::app::Problem| anyhow::anyhow!("--{}: {}", p.field.replace('_', "-"), p.message);
    let result = if args.section == "inspections" {
        match crate::app::period(args.query.from.as_deref(), args.query.to.as_deref(), today)
            .map_err(option)
        {
            Ok(period) => write_inspections(
                &store,
                &deployment.tz(),
                period,
                args.query.courier.as_deref(),
                format,
                &args.out,
            )
            .await
            .map(|couriers| {
                let n: u64 = couriers.iter().map(|c| c.inspections).sum();
                format!(
                    "{n} inspections, couriers inspected: {}, {} to {}",
                    couriers.len(),
                    period.0,
                    period.1
                )
            }),
            Err(e) => Err(e),
        }
    } else if calls {
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
fn check_options(args: &ReportArgs) -> anyhow::Result<()> {
    let q = &args.query;
    // Each option given, and the sections that take it.
    let options: [(&str, bool, &[&str]); 9] = [
        ("line", args.line.is_some(), &["calls"]),
        ("group-by", q.group_by.is_some(), &["surveys", "calls"]),
        ("courier", q.courier.is_some(), &["surveys", "inspections"]),
        ("city", q.city.is_some(), &["surveys"]),
        ("partner", q.partner.is_some(), &["surveys"]),
        ("segment", q.segment.is_some(), &["surveys"]),
        ("survey", q.survey.is_some(), &["surveys"]),
        ("channel", q.channel.is_some(), &["surveys"]),
        ("refusal-policy", q.refusal_policy.is_some(), &["surveys"]),
    ];
    let section = args.section.as_str();
    let Some((name, ..)) = options
        .iter()
        .find(|(_, given, takes)| *given && !takes.contains(&section))
    else {
        return Ok(());
    };
    match section {
        "calls" => anyhow::bail!(
            "--{name} filters survey answers; the contact center's figures take --from, --to, --line and --group-by"
        ),
        "inspections" => anyhow::bail!(
            "--{name} does not apply to inspections, which are summed per courier and question; they take --from, --to and --courier"
        ),
        _ => anyhow::bail!("--{name} applies to --section calls only"),
    }
}
