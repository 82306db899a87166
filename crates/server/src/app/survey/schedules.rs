//! Scheduled reports: every minute, each schedule whose last full period
//! (yesterday, last week Monday–Sunday, last month, in the deployment's time
//! zone) has not gone out yet is claimed, rendered and e-mailed with the
//! headline figures in the text and the breakdown attached.

use std::fmt::Write;

use doorstep_domain::time::{date_of_day, day_number, week_start};
use doorstep_store::survey::rollups::GroupBy;
use doorstep_store::survey::schedules::ReportSchedule;
use jiff::civil::Date;

use crate::app::survey::metrics::Request;
use crate::app::survey::report::ReportFormat;
use crate::app::AppState;
use crate::i18n::{tr, Lang};
use crate::mail::{addresses, send, Mail, Smtp};

pub const FREQUENCIES: [&str; 3] = ["daily", "weekly", "monthly"];

/// The last full period of a frequency before `today`.
pub fn last_period(frequency: &str, today: Date) -> Option<(Date, Date)> {
    let yesterday = date_of_day(day_number(today) - 1);
    Some(match frequency {
        "daily" => (yesterday, yesterday),
        "weekly" => {
            let monday = week_start(day_number(today)) - 7;
            (date_of_day(monday), date_of_day(monday + 6))
        }
        "monthly" => {
            let last = today.first_of_month().yesterday().ok()?;
            (last.first_of_month(), last)
        }
        _ => return None,
    })
}

/// Renders a schedule's report for a period and e-mails it.
pub async fn deliver(
    app: &AppState,
    smtp: &Smtp,
    s: &ReportSchedule,
    from: Date,
    to: Date,
) -> anyhow::Result<()> {
    let to_list = addresses(&s.recipients).map_err(|e| anyhow::anyhow!(e))?;
    let deployment = app.deployment();
    let format = ReportFormat::parse(&s.format).unwrap_or(ReportFormat::Xlsx);
    let req = Request::new(
        from,
        to,
        GroupBy::parse(&s.group_by).unwrap_or(GroupBy::City),
    );
    let (_, bytes) =
        crate::app::survey::report::render(&app.store, &deployment, &req, format).await?;
    let overall =
        crate::app::survey::metrics::compute(&app.store, &deployment, &req.overall()).await?;
    let t = tr(Lang::parse(&s.language).unwrap_or(Lang::En));
    let period = if from == to {
        from.to_string()
    } else {
        format!("{from} – {to}")
    };
    let mut text = t.with2(
        "mail-report-lead",
        "company",
        deployment.name.clone(),
        "period",
        period.clone(),
    );
    text.push_str("\n\n");
    if let Some(g) = overall.groups.first() {
        let s = &g.scores;
        let pct = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.1}%"));
        let lines = [
            (
                t.t("metric-nps"),
                match (s.nps, s.nps_ci95_low, s.nps_ci95_high) {
                    (Some(nps), Some(low), Some(high)) => {
                        format!("{nps:+.1} (n = {}, 95%: {low:+.1} … {high:+.1})", s.nps_n)
                    }
                    (Some(nps), _, _) => format!("{nps:+.1} (n = {})", s.nps_n),
                    _ => "—".to_owned(),
                },
            ),
            (
                t.t("metric-csi"),
                s.csi_100.map_or("—".to_owned(), |v| {
                    format!("{v:.1} / 100 (n = {})", s.csi_n)
                }),
            ),
            (
                t.t("metric-ces"),
                s.ces.map_or("—".to_owned(), |v| {
                    format!("{v:.2} / 7 (n = {})", s.ces_n)
                }),
            ),
            (t.t("metric-response-rate"), pct(s.response_rate)),
            (
                t.t("metric-on-time"),
                format!(
                    "{} ({})",
                    pct(s.on_time_rate),
                    t.with("tile-delivered", "n", s.delivered)
                ),
            ),
        ];
        for (label, value) in lines {
            let _ = writeln!(text, "{label}: {value}");
        }
    }
    calls_lines(app, &deployment, &t, from, to, &mut text).await?;
    inspection_lines(app, &deployment, &t, from, to, &mut text).await?;
    text.push('\n');
    text.push_str(&t.with(
        "mail-report-attached",
        "group",
        t.t(&format!("group-{}", req.group.as_str())).to_lowercase(),
    ));
    text.push('\n');
    let name = format!(
        "doorstep-{}-{}-{}.{}",
        req.group.as_str(),
        from,
        to,
        format.extension()
    );
    send(
        smtp,
        &Mail {
            to: to_list,
            subject: t.with2(
                "mail-report-subject",
                "company",
                deployment.name.clone(),
                "period",
                period,
            ),
            text,
            attachment: Some((name, format.content_type().to_owned(), bytes)),
            thread: None,
        },
    )
    .await
}

/// The contact center's figures of the period, under the scores — when
/// the PBX sent any calls in it.
async fn calls_lines(
    app: &AppState,
    deployment: &doorstep_domain::Deployment,
    t: &crate::i18n::Tr<'_>,
    from: Date,
    to: Date,
    text: &mut String,
) -> anyhow::Result<()> {
    use crate::app::calls::{figures, CallGrouping, CallsRequest};
    let req = CallsRequest {
        from,
        to,
        line: None,
        group: CallGrouping::All,
    };
    let answer = figures(&app.store, &deployment.tz(), &req).await?;
    let Some(g) = answer.groups.first().filter(|g| g.offered > 0) else {
        return Ok(());
    };
    let pct = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.1}%"));
    let secs = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.0} s"));
    let target = t.with2(
        "calls-target",
        "percent",
        answer.target.percent,
        "seconds",
        answer.target.seconds,
    );
    let _ = writeln!(text, "\n{}:", t.t("calls-title"));
    let lines = [
        (t.t("calls-col-offered"), g.offered.to_string()),
        (
            t.t("calls-col-answered"),
            format!("{} ({})", g.answered, pct(g.answer_rate)),
        ),
        (
            t.t("calls-col-service-level"),
            format!("{} ({target})", pct(g.service_level)),
        ),
        (t.t("calls-col-asa"), secs(g.asa_seconds)),
        (t.t("calls-col-aht"), secs(g.aht_seconds)),
        (t.t("calls-col-abandonment"), pct(g.abandonment_rate)),
    ];
    for (label, value) in lines {
        let _ = writeln!(text, "{label}: {value}");
    }
    Ok(())
}

/// The mystery shoppers' inspections of the period, apart from the
/// customers' scores — when there were any.
async fn inspection_lines(
    app: &AppState,
    deployment: &doorstep_domain::Deployment,
    t: &crate::i18n::Tr<'_>,
    from: Date,
    to: Date,
    text: &mut String,
) -> anyhow::Result<()> {
    use crate::app::survey::inspections::{readable, summarise_all};
    let (start, end) = doorstep_domain::time::day_range(from, to, &deployment.tz());
    let answers = app
        .store
        .inspection_answers(None, start.as_millisecond(), end.as_millisecond())
        .await?;
    let Some(fleet) = summarise_all(&answers) else {
        return Ok(());
    };
    let couriers = answers
        .iter()
        .map(|a| a.courier_id.as_deref())
        .collect::<std::collections::HashSet<_>>()
        .len();
    let _ = writeln!(text, "\n{}:", t.t("mail-inspections-title"));
    let _ = writeln!(
        text,
        "{}",
        t.with2(
            "mail-inspections-count",
            "n",
            fleet.inspections,
            "couriers",
            couriers
        )
    );
    for check in readable(app, &fleet, *t).await? {
        let _ = writeln!(
            text,
            "{}: {} (n = {})",
            check.label, check.figure, check.answers
        );
    }
    Ok(())
}

/// Sends every schedule whose last full period has not gone out yet.
/// Returns how many were sent.
pub async fn run_due(app: &AppState) -> anyhow::Result<usize> {
    let schedules = app.store.report_schedules().await?;
    if schedules.is_empty() {
        return Ok(0);
    }
    let Some(smtp) = Smtp::load(&app.store).await? else {
        return Ok(0);
    };
    let today = jiff::Timestamp::now()
        .to_zoned(app.deployment().tz())
        .date();
    let mut sent = 0;
    for s in schedules {
        let Some((from, to)) = last_period(&s.frequency, today) else {
            continue;
        };
        let period = format!("{from}..{to}");
        if !app.store.claim_report_period(&s.id, &period).await? {
            continue;
        }
        match deliver(app, &smtp, &s, from, to).await {
            Ok(()) => {
                app.store.report_sent(&s.id, None, None).await?;
                tracing::info!(schedule = %s.id, %period, "scheduled report sent");
                sent += 1;
            }
            Err(e) => {
                tracing::warn!(schedule = %s.id, %period, error = %e, "scheduled report not sent; retrying next round");
                app.store
                    .report_sent(&s.id, Some(&e.to_string()), s.last_period.as_deref())
                    .await?;
            }
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_the_last_full_day_week_and_month() {
        let today: Date = "2026-11-29".parse().unwrap(); // a Sunday
        let p = |f: &str| last_period(f, today).map(|(a, b)| (a.to_string(), b.to_string()));
        assert_eq!(p("daily"), Some(("2026-11-28".into(), "2026-11-28".into())));
        assert_eq!(
            p("weekly"),
            Some(("2026-11-16".into(), "2026-11-22".into()))
        );
        assert_eq!(
            p("monthly"),
            Some(("2026-10-01".into(), "2026-10-31".into()))
        );
        let monday: Date = "2026-11-30".parse().unwrap();
        assert_eq!(
            last_period("weekly", monday).map(|(a, b)| (a.to_string(), b.to_string())),
            Some(("2026-11-23".into(), "2026-11-29".into()))
        );
        let new_year: Date = "2027-01-01".parse().unwrap();
        assert_eq!(
            last_period("monthly", new_year).map(|(a, b)| (a.to_string(), b.to_string())),
            Some(("2026-12-01".into(), "2026-12-31".into()))
        );
        assert_eq!(last_period("hourly", today), None);
    }
}
