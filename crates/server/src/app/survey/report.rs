//! Reports for a period: the same figures as the dashboard and the API, as
//! CSV, JSON or an XLSX workbook (sheets: summary, by group, comments,
//! causes, closing the loop by city, faults; numbers as numbers, dates as
//! dates). Written to a temporary file and
//! renamed, so a failed report never leaves half a file behind.

use std::io::Write;
use std::path::Path;

use doorstep_domain::time::{day_range, from_millis};
use doorstep_domain::Deployment;
use doorstep_store::survey::causes::CauseCount;
use doorstep_store::survey::rollups::GroupBy;
use doorstep_store::Store;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use crate::app::survey::metrics::{compute, Answer, Group, Request};

/// Most comments a workbook lists.
const COMMENTS_KEPT: i64 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Csv,
    Xlsx,
    Json,
}

impl ReportFormat {
    pub fn parse(s: &str) -> Option<ReportFormat> {
        match s {
            "csv" => Some(ReportFormat::Csv),
            "xlsx" => Some(ReportFormat::Xlsx),
            "json" => Some(ReportFormat::Json),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Csv => "text/csv; charset=utf-8",
            ReportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            ReportFormat::Json => "application/json",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Csv => "csv",
            ReportFormat::Xlsx => "xlsx",
            ReportFormat::Json => "json",
        }
    }
}

/// The columns of every report, named as in the API.
const HEADERS: [&str; 24] = [
    "key",
    "label",
    "responses",
    "refusals",
    "response_rate",
    "nps_n",
    "promoters",
    "passives",
    "detractors",
    "nps",
    "nps_ci95_low",
    "nps_ci95_high",
    "csi",
    "csi_100",
    "csi_weighted",
    "csat",
    "ces",
    "net_easy",
    "delivered",
    "on_time_rate",
    "nps_rank_low",
    "rank",
    "too_few_answers",
    "self_filling_signals",
];

/// The headers, with `period` after `label` when groups have periods.
fn headers(periods: bool) -> Vec<&'static str> {
    let mut h = HEADERS.to_vec();
    if periods {
        h.insert(2, "period");
    }
    h
}

/// A group's cells under [`headers`].
fn row_cells(g: &Group, periods: bool) -> Vec<Cell> {
    let mut cells: Vec<Cell> = columns(g).into_iter().map(|(_, c)| c).collect();
    if periods {
        cells.insert(2, Cell::Text(g.period.clone().unwrap_or_default()));
    }
    cells
}

/// The columns of a group, in order: (header, value).
fn columns(g: &Group) -> Vec<(&'static str, Cell)> {
    let s = &g.scores;
    let num = |v: Option<f64>| v.map_or(Cell::Empty, Cell::Number);
    let int = |v: i64| Cell::Number(v as f64);
    vec![
        ("key", Cell::Text(g.key.clone())),
        ("label", Cell::Text(g.label.clone())),
        ("responses", int(s.responses)),
        ("refusals", int(s.refusals)),
        ("response_rate", num(s.response_rate)),
        ("nps_n", int(s.nps_n)),
        ("promoters", int(s.promoters)),
        ("passives", int(s.passives)),
        ("detractors", int(s.detractors)),
        ("nps", num(s.nps)),
        ("nps_ci95_low", num(s.nps_ci95_low)),
        ("nps_ci95_high", num(s.nps_ci95_high)),
        ("csi", num(s.csi)),
        ("csi_100", num(s.csi_100)),
        ("csi_weighted", num(s.csi_weighted)),
        ("csat", num(s.csat)),
        ("ces", num(s.ces)),
        ("net_easy", num(s.net_easy)),
        ("delivered", int(s.delivered)),
        ("on_time_rate", num(s.on_time_rate)),
        ("nps_rank_low", num(s.nps_rank_low)),
        (
            "rank",
            g.rank.map_or(Cell::Empty, |r| Cell::Number(r as f64)),
        ),
        (
            "too_few_answers",
            Cell::Text(if s.too_few { "yes" } else { "no" }.to_owned()),
        ),
        (
            "self_filling_signals",
            Cell::Text(g.self_filling_signals.join(" ")),
        ),
    ]
}

enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

/// Writes the report of `req` to `out`. Returns the figures written.
pub async fn write(
    store: &Store,
    deployment: &Deployment,
    req: &Request,
    format: ReportFormat,
    out: &Path,
) -> anyhow::Result<Answer> {
    let (answer, bytes) = render(store, deployment, req, format).await?;
    save(&bytes, out)?;
    Ok(answer)
}

/// The contact center's report of `req` (the figures of
/// `GET /api/v1/calls/metrics`) written to `out`: CSV with the API's field
/// names, the API's JSON, or a workbook of one Calls sheet.
pub async fn write_calls(
    store: &Store,
    deployment: &Deployment,
    req: &crate::app::calls::CallsRequest,
    format: ReportFormat,
    out: &Path,
) -> anyhow::Result<crate::app::calls::CallsAnswer> {
    let answer = crate::app::calls::figures(store, &deployment.tz(), req).await?;
    let bytes = match format {
        ReportFormat::Json => serde_json::to_vec_pretty(&answer)?,
        ReportFormat::Csv => calls_csv_bytes(&answer)?,
        ReportFormat::Xlsx => {
            let mut book = Workbook::new();
            let bold = Format::new().set_bold();
            let decimal = Format::new().set_num_format("0.0");
            calls_sheet(&mut book, std::slice::from_ref(&answer), &bold, &decimal)?;
            book.save_to_buffer()?
        }
    };
    save(&bytes, out)?;
    Ok(answer)
}

/// Mystery-shopper inspections of `[from, to]` (of one courier or all), as
/// `GET /api/v1/inspections` sums them, written to `out`: CSV (a row per
/// courier and question; options as `id:count` pairs), the API's JSON, or a
/// workbook of one Inspections sheet. Never mixed with customers' scores.
pub async fn write_inspections(
    store: &Store,
    tz: &jiff::tz::TimeZone,
    (from, to): (jiff::civil::Date, jiff::civil::Date),
    courier: Option<&str>,
    format: ReportFormat,
    out: &Path,
) -> anyhow::Result<Vec<crate::app::survey::inspections::CourierInspections>> {
    let (start, end) = doorstep_domain::time::day_range(from, to, tz);
    let answers = store
        .inspection_answers(courier, start.as_millisecond(), end.as_millisecond())
        .await?;
    let couriers = crate::app::survey::inspections::summarise(&answers);
    let rows: Vec<[String; 8]> = couriers
        .iter()
        .flat_map(|c| {
            c.questions.iter().map(|q| {
                [
                    inert(c.courier_id.clone()),
                    c.inspections.to_string(),
                    inert(q.survey_id.clone()),
                    inert(q.question_id.clone()),
                    q.kind.clone(),
                    q.answers.to_string(),
                    q.mean.map_or(String::new(), format_number),
                    q.options
                        .iter()
                        .map(|(o, n)| format!("{o}:{n}"))
                        .collect::<Vec<_>>()
                        .join(";"),
                ]
            })
        })
        .collect();
    let headers = [
        "courier_id",
        "inspections",
        "survey_id",
        "question_id",
        "kind",
        "answers",
        "mean",
        "options",
    ];
    let bytes = match format {
        ReportFormat::Json => {
            serde_json::to_vec_pretty(&serde_json::json!({ "couriers": couriers }))?
        }
        ReportFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(headers)?;
            for row in &rows {
                w.write_record(row)?;
            }
            w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?
        }
        ReportFormat::Xlsx => {
            let mut book = Workbook::new();
            let bold = Format::new().set_bold();
            let sheet = book.add_worksheet().set_name("Inspections")?;
            for (col, header) in headers.into_iter().enumerate() {
                sheet.write_string_with_format(0, col as u16, header, &bold)?;
            }
            for (r, row) in (1u32..).zip(&rows) {
                for (col, cell) in row.iter().enumerate() {
                    let number = matches!(col, 1 | 5 | 6)
                        .then(|| cell.parse::<f64>().ok())
                        .flatten();
                    match number {
                        Some(n) => sheet.write_number(r, col as u16, n)?,
                        None => sheet.write_string(r, col as u16, cell)?,
                    };
                }
            }
            sheet.set_column_width(3, 18)?;
            book.save_to_buffer()?
        }
    };
    save(&bytes, out)?;
    Ok(couriers)
}

/// The columns of the contact center's CSV, named as the API's fields.
const CALL_HEADERS: [&str; 12] = [
    "key",
    "offered",
    "answered",
    "abandoned",
    "answer_rate",
    "service_level",
    "asa_seconds",
    "aht_seconds",
    "abandonment_rate",
    "longest_wait_seconds",
    "share",
    "target",
];

/// The contact center's figures as CSV: one row per group; the target
/// (`80/20`) on every row, so a row read alone still says what its service
/// level was judged against.
pub fn calls_csv_bytes(answer: &crate::app::calls::CallsAnswer) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CALL_HEADERS)?;
    let target = format!("{}/{}", answer.target.percent, answer.target.seconds);
    let num = |v: Option<f64>| v.map_or(String::new(), format_number);
    for g in &answer.groups {
        w.write_record([
            inert(g.key.clone()),
            g.offered.to_string(),
            g.answered.to_string(),
            g.abandoned.to_string(),
            num(g.answer_rate),
            num(g.service_level),
            num(g.asa_seconds),
            num(g.aht_seconds),
            num(g.abandonment_rate),
            g.longest_wait_seconds.to_string(),
            num(g.share),
            target.clone(),
        ])?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// Writes `bytes` to a temporary file beside `out` and renames it, so a
/// failed report never leaves half a file behind.
fn save(bytes: &[u8], out: &Path) -> anyhow::Result<()> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temporary = dir.join(format!(
        ".{}.{}.part",
        out.file_name().and_then(|n| n.to_str()).unwrap_or("report"),
        uuid::Uuid::new_v4().simple()
    ));
    let written = std::fs::File::create(&temporary)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&temporary, out));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        anyhow::bail!("cannot write {}: {e}", out.display());
    }
    Ok(())
}

/// The report of `req` in `format`: its figures and the file's bytes.
pub async fn render(
    store: &Store,
    deployment: &Deployment,
    req: &Request,
    format: ReportFormat,
) -> anyhow::Result<(Answer, Vec<u8>)> {
    let answer = compute(store, deployment, req).await?;
    let bytes = match format {
        ReportFormat::Json => serde_json::to_vec_pretty(&answer)?,
        ReportFormat::Csv => csv_bytes(&answer)?,
        ReportFormat::Xlsx => {
            let overall = if req.group == GroupBy::All && req.period.is_none() {
                answer.clone()
            } else {
                compute(store, deployment, &req.overall()).await?
            };
            let tz = deployment.tz();
            let (start, end) = day_range(req.from, req.to, &tz);
            let comments = store
                .comments(start.as_millisecond(), end.as_millisecond(), COMMENTS_KEPT)
                .await?;
            let vocabulary = store.vocabulary().await?;
            let causes: Vec<(String, &'static str, CauseCount)> = store
                .cause_counts(&req.filter(&tz))
                .await?
                .into_iter()
                .map(|c| match vocabulary.cause(&c.cause_id) {
                    Some(cause) => (cause.label_in("en").to_owned(), cause.polarity.as_str(), c),
                    None => (c.cause_id.clone(), "", c),
                })
                .collect();
            let helpdesk = Helpdesk {
                by_city: crate::app::helpdesk::reports::loop_figures(
                    store,
                    &tz,
                    start.as_millisecond(),
                    end.as_millisecond(),
                    crate::app::helpdesk::reports::LoopGroup::City,
                )
                .await?,
                faults: crate::app::helpdesk::reports::faults(
                    store,
                    start.as_millisecond(),
                    end.as_millisecond(),
                )
                .await?,
                support: {
                    use crate::app::helpdesk::support::{figures, Grouping, SupportRequest};
                    let mut all = Vec::new();
                    for group in [
                        Grouping::All,
                        Grouping::Line,
                        Grouping::Channel,
                        Grouping::Operator,
                        Grouping::Week,
                    ] {
                        let req = SupportRequest {
                            from: req.from,
                            to: req.to,
                            group,
                        };
                        all.push(figures(store, &tz, &req).await?);
                    }
                    all
                },
                calls: {
                    use crate::app::calls::{figures, CallGrouping, CallsRequest};
                    let mut all = Vec::new();
                    for group in [
                        CallGrouping::All,
                        CallGrouping::Line,
                        CallGrouping::Queue,
                        CallGrouping::Agent,
                        CallGrouping::Hour,
                        CallGrouping::Day,
                    ] {
                        let req = CallsRequest {
                            from: req.from,
                            to: req.to,
                            line: None,
                            group,
                        };
                        all.push(figures(store, &tz, &req).await?);
                    }
                    all
                },
            };
            xlsx_bytes(deployment, &answer, &overall, &comments, &causes, &helpdesk)?
        }
    };
    Ok((answer, bytes))
}

/// The report as CSV: one row per group, the columns named as in the API.
pub fn csv_bytes(answer: &Answer) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let periods = answer.groups.iter().any(|g| g.period.is_some());
    w.write_record(headers(periods))?;
    for g in &answer.groups {
        w.write_record(row_cells(g, periods).into_iter().map(|c| match c {
            Cell::Text(t) => inert(t),
            Cell::Number(n) => format_number(n),
            Cell::Empty => String::new(),
        }))?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// A text cell a spreadsheet will not run: a courier, partner or city named
/// `=HYPERLINK(…)`, `+1`, `-1`, `@SUM(…)` or starting with a tab or a carriage
/// return is written after a `'` (OWASP's CSV injection advice), which
/// spreadsheets show as text and hide.
fn inert(text: String) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    }
}

/// Numbers as a spreadsheet reads them: whole numbers without a fraction,
/// others with up to four decimals.
fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        let text = format!("{n:.4}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// The helpdesk's sheets: closing the loop by city, and who was at fault.
struct Helpdesk {
    by_city: Vec<crate::app::helpdesk::reports::LoopGroupRow>,
    faults: crate::app::helpdesk::reports::Faults,
    /// Service figures: the whole period, then by line, channel, operator
    /// and week.
    support: Vec<crate::app::helpdesk::support::SupportAnswer>,
    /// The contact center's figures: the whole period, then by line,
    /// queue, agent, hour of the day and day.
    calls: Vec<crate::app::calls::CallsAnswer>,
}

fn xlsx_bytes(
    deployment: &Deployment,
    answer: &Answer,
    overall: &Answer,
    comments: &[doorstep_store::Comment],
    causes: &[(String, &'static str, CauseCount)],
    helpdesk: &Helpdesk,
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let decimal = Format::new().set_num_format("0.0");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let stamp = Format::new().set_num_format("yyyy-mm-dd hh:mm");

    let sheet = book.add_worksheet().set_name("Summary")?;
    sheet.write_string_with_format(0, 0, deployment.name.as_str(), &bold)?;
    let rows: [(&str, &str); 4] = [
        ("From", answer.from.as_str()),
        ("To", answer.to.as_str()),
        ("Grouped by", answer.group_by.as_str()),
        ("Refusals in NPS", answer.refusal_policy),
    ];
    for (i, (label, value)) in rows.iter().enumerate() {
        let row = 2 + i as u32;
        sheet.write_string(row, 0, *label)?;
        if let (Some(d), true) = (excel_date(value), i < 2) {
            sheet.write_datetime_with_format(row, 1, &d, &date)?;
        } else {
            sheet.write_string(row, 1, *value)?;
        }
    }
    if let Some(all) = overall.groups.first() {
        for (row, (header, cell)) in (7..).zip(columns(all).into_iter().skip(2)) {
            sheet.write_string(row, 0, header)?;
            write_cell(sheet, row, 1, cell, &decimal)?;
        }
    }
    sheet.set_column_width(0, 22)?;
    sheet.set_column_width(1, 16)?;

    let sheet = book.add_worksheet().set_name("By group")?;
    let periods = answer.groups.iter().any(|g| g.period.is_some());
    for (col, header) in (0..).zip(headers(periods)) {
        sheet.write_string_with_format(0, col, header, &bold)?;
    }
    let dated = matches!(answer.group_by.as_str(), "day" | "week");
    for (i, g) in answer.groups.iter().enumerate() {
        let row = 1 + i as u32;
        for (col, cell) in row_cells(g, periods).into_iter().enumerate() {
            match (col, dated, excel_date(&g.key)) {
                (0, true, Some(d)) => {
                    sheet.write_datetime_with_format(row, 0, &d, &date)?;
                }
                _ => write_cell(sheet, row, col as u16, cell, &decimal)?,
            }
        }
    }
    sheet.set_column_width(0, 14)?;
    sheet.set_column_width(1, 24)?;
    sheet.set_freeze_panes(1, 0)?;

    let sheet = book.add_worksheet().set_name("Comments")?;
    for (col, header) in [
        "finished", "order", "courier", "city", "partner", "survey", "question", "comment",
    ]
    .into_iter()
    .enumerate()
    {
        sheet.write_string_with_format(0, col as u16, header, &bold)?;
    }
    let tz = deployment.tz();
    for (i, c) in comments.iter().enumerate() {
        let row = 1 + i as u32;
        let local = from_millis(c.finished_at).to_zoned(tz.clone()).datetime();
        let when =
            ExcelDateTime::from_ymd(local.year() as u16, local.month() as u8, local.day() as u8)
                .and_then(|d| {
                    d.and_hms(
                        local.hour() as u16,
                        local.minute() as u8,
                        local.second() as u8,
                    )
                });
        match when {
            Ok(d) => sheet.write_datetime_with_format(row, 0, &d, &stamp)?,
            Err(_) => sheet.write_string(row, 0, local.to_string())?,
        };
        sheet.write_string(row, 1, &c.order_number)?;
        sheet.write_string(row, 2, c.courier_id.as_deref().unwrap_or(""))?;
        sheet.write_string(row, 3, &c.city)?;
        sheet.write_string(row, 4, c.partner.as_deref().unwrap_or(""))?;
        sheet.write_string(row, 5, &c.survey_id)?;
        sheet.write_string(row, 6, &c.question_id)?;
        sheet.write_string(row, 7, &c.text)?;
    }
    sheet.set_column_width(0, 17)?;
    sheet.set_column_width(7, 60)?;

    // Root causes: how many responses name each, and its share of the
    // period's detractors and promoters (the overall counts).
    let sheet = book.add_worksheet().set_name("Causes")?;
    for (col, header) in [
        "cause",
        "kind",
        "responses",
        "detractors",
        "share_of_detractors",
        "promoters",
        "share_of_promoters",
    ]
    .into_iter()
    .enumerate()
    {
        sheet.write_string_with_format(0, col as u16, header, &bold)?;
    }
    let (all_detractors, all_promoters) = overall
        .groups
        .first()
        .map_or((0, 0), |g| (g.scores.detractors, g.scores.promoters));
    let share = |n: i64, of: i64| (of > 0).then(|| 100.0 * n as f64 / of as f64);
    for (i, (label, kind, c)) in causes.iter().enumerate() {
        let row = 1 + i as u32;
        sheet.write_string(row, 0, label)?;
        sheet.write_string(row, 1, *kind)?;
        sheet.write_number(row, 2, c.responses as f64)?;
        sheet.write_number(row, 3, c.detractors as f64)?;
        if let Some(v) = share(c.detractors, all_detractors) {
            sheet.write_number_with_format(row, 4, v, &decimal)?;
        }
        sheet.write_number(row, 5, c.promoters as f64)?;
        if let Some(v) = share(c.promoters, all_promoters) {
            sheet.write_number_with_format(row, 6, v, &decimal)?;
        }
    }
    sheet.set_column_width(0, 28)?;
    loop_sheet(&mut book, &helpdesk.by_city, &bold, &decimal)?;
    faults_sheet(&mut book, &helpdesk.faults, &bold)?;
    support_sheet(&mut book, &helpdesk.support, &bold, &decimal)?;
    calls_sheet(&mut book, &helpdesk.calls, &bold, &decimal)?;
    book.save_to_buffer()
}

/// Closing the loop by city (METRICS.md): times in minutes, shares in %
/// with their 95% interval.
fn loop_sheet(
    book: &mut Workbook,
    rows: &[crate::app::helpdesk::reports::LoopGroupRow],
    bold: &Format,
    decimal: &Format,
) -> Result<(), XlsxError> {
    let sheet = book.add_worksheet().set_name("Closing the loop")?;
    let headers = [
        "city",
        "incidents",
        "median_to_first_call_min",
        "p90_to_first_call_min",
        "median_to_reach_min",
        "p90_to_reach_min",
        "reached_within_hour_pct",
        "recovery_pct",
        "closed",
        "ordered_again_recovered_pct",
        "ordered_again_recovered_low",
        "ordered_again_recovered_high",
        "recovered_60_days_over",
        "ordered_again_unreached_pct",
        "ordered_again_unreached_low",
        "ordered_again_unreached_high",
        "unreached_60_days_over",
    ];
    for (col, header) in headers.into_iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, header, bold)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = 1 + i as u32;
        let f = &r.figures;
        sheet.write_string(row, 0, inert(r.key.clone()))?;
        sheet.write_number(row, 1, f.incidents as f64)?;
        let minutes = |s: Option<i64>| s.map(|s| s as f64 / 60.0);
        let cells = [
            minutes(f.median_to_attempt_seconds),
            minutes(f.p90_to_attempt_seconds),
            minutes(f.median_to_reach_seconds),
            minutes(f.p90_to_reach_seconds),
            f.reached_within_hour.percent,
            f.recovery.percent,
            Some(f.recovery.of as f64),
            f.retention_recovered.percent,
            f.retention_recovered.ci95_low,
            f.retention_recovered.ci95_high,
            Some(f.retention_recovered.of as f64),
            f.retention_unreached.percent,
            f.retention_unreached.ci95_low,
            f.retention_unreached.ci95_high,
            Some(f.retention_unreached.of as f64),
        ];
        for (k, v) in cells.into_iter().enumerate() {
            if let Some(v) = v {
                sheet.write_number_with_format(row, 2 + k as u16, v, decimal)?;
            }
        }
    }
    sheet.set_column_width(0, 18)?;
    Ok(())
}

/// Faults recorded on the period's cases, by party, courier and partner,
/// with the compensation granted on them (major units).
fn faults_sheet(
    book: &mut Workbook,
    faults: &crate::app::helpdesk::reports::Faults,
    bold: &Format,
) -> Result<(), XlsxError> {
    let sheet = book.add_worksheet().set_name("Faults")?;
    for (col, header) in ["by", "who", "cases", "compensation"]
        .into_iter()
        .enumerate()
    {
        sheet.write_string_with_format(0, col as u16, header, bold)?;
    }
    let mut row = 1;
    for (by, list) in [
        ("party", &faults.by_party),
        ("courier", &faults.by_courier),
        ("partner", &faults.by_partner),
    ] {
        for (who, cases, paid) in list {
            sheet.write_string(row, 0, by)?;
            sheet.write_string(row, 1, inert(who.clone()))?;
            sheet.write_number(row, 2, *cases as f64)?;
            sheet.write_number(row, 3, *paid as f64 / 100.0)?;
            row += 1;
        }
    }
    sheet.set_column_width(1, 24)?;
    Ok(())
}

/// Service figures (METRICS.md, "Support"): rates in %, the median first
/// reply in working minutes.
fn support_sheet(
    book: &mut Workbook,
    answers: &[crate::app::helpdesk::support::SupportAnswer],
    bold: &Format,
    decimal: &Format,
) -> Result<(), XlsxError> {
    let sheet = book.add_worksheet().set_name("Support")?;
    let headers = [
        "by",
        "key",
        "cases",
        "resolved",
        "fcr_pct",
        "repeat_contact_pct",
        "first_response_attainment_pct",
        "resolution_attainment_pct",
        "median_first_response_min",
        "csat_pct",
        "csat_answers",
    ];
    for (col, header) in headers.into_iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, header, bold)?;
    }
    let mut row = 1;
    for answer in answers {
        for g in &answer.groups {
            sheet.write_string(row, 0, answer.group_by.as_str())?;
            sheet.write_string(row, 1, inert(g.key.clone()))?;
            sheet.write_number(row, 2, g.cases as f64)?;
            sheet.write_number(row, 3, g.resolved as f64)?;
            let cells = [
                g.fcr,
                g.repeat_contact_rate,
                g.first_response_attainment,
                g.resolution_attainment,
                g.median_first_response_seconds.map(|s| s as f64 / 60.0),
                g.csat,
                Some(g.csat_answers as f64),
            ];
            for (k, v) in cells.into_iter().enumerate() {
                if let Some(v) = v {
                    sheet.write_number_with_format(row, 4 + k as u16, v, decimal)?;
                }
            }
            row += 1;
        }
    }
    sheet.set_column_width(1, 18)?;
    Ok(())
}

/// The contact center's figures (METRICS.md, "Contact center"): rates in
/// %, times in seconds, judged against the target in the sheet's title row.
fn calls_sheet(
    book: &mut Workbook,
    answers: &[crate::app::calls::CallsAnswer],
    bold: &Format,
    decimal: &Format,
) -> Result<(), XlsxError> {
    let sheet = book.add_worksheet().set_name("Calls")?;
    let headers = [
        "by",
        "key",
        "offered",
        "answered",
        "abandoned",
        "answer_rate_pct",
        "service_level_pct",
        "asa_s",
        "aht_s",
        "abandonment_pct",
        "longest_wait_s",
        "share_pct",
    ];
    for (col, header) in headers.into_iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, header, bold)?;
    }
    if let Some(a) = answers.first() {
        sheet.write_string(
            0,
            headers.len() as u16,
            format!("target {}/{}", a.target.percent, a.target.seconds),
        )?;
    }
    let mut row = 1;
    for answer in answers {
        for g in &answer.groups {
            sheet.write_string(row, 0, answer.group_by.as_str())?;
            sheet.write_string(row, 1, inert(g.key.clone()))?;
            for (k, n) in [g.offered, g.answered, g.abandoned].into_iter().enumerate() {
                sheet.write_number(row, 2 + k as u16, n as f64)?;
            }
            let cells = [
                g.answer_rate,
                g.service_level,
                g.asa_seconds,
                g.aht_seconds,
                g.abandonment_rate,
                Some(g.longest_wait_seconds as f64),
                g.share,
            ];
            for (k, v) in cells.into_iter().enumerate() {
                if let Some(v) = v {
                    sheet.write_number_with_format(row, 5 + k as u16, v, decimal)?;
                }
            }
            row += 1;
        }
    }
    sheet.set_column_width(1, 18)?;
    Ok(())
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: Cell,
    decimal: &Format,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Text(t) => {
            sheet.write_string(row, col, t)?;
        }
        Cell::Number(n) if n.fract() == 0.0 => {
            sheet.write_number(row, col, n)?;
        }
        Cell::Number(n) => {
            sheet.write_number_with_format(row, col, n, decimal)?;
        }
        Cell::Empty => {}
    }
    Ok(())
}

/// `YYYY-MM-DD` as a spreadsheet date.
fn excel_date(text: &str) -> Option<ExcelDateTime> {
    let d: jiff::civil::Date = text.parse().ok()?;
    ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_domain::survey::metrics::{RefusalPolicy, Tally};

    #[test]
    fn every_row_has_the_headers_columns() {
        let g = Group {
            key: "K-1".into(),
            label: "Иван".into(),
            period: None,
            rank: Some(1),
            self_filling_signals: vec!["tens"],
            scores: Tally::default().scores(RefusalPolicy::Exclude, None),
        };
        let names: Vec<&str> = columns(&g).into_iter().map(|(h, _)| h).collect();
        assert_eq!(names, HEADERS);
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(33.333_333), "33.3333");
        assert_eq!(format_number(-12.5), "-12.5");
    }

    #[test]
    fn names_that_look_like_formulas_are_written_as_text() {
        let g = |key: &str| Group {
            key: key.into(),
            label: key.into(),
            period: None,
            rank: None,
            self_filling_signals: Vec::new(),
            scores: Tally::default().scores(RefusalPolicy::Exclude, None),
        };
        let answer = Answer {
            groups: vec![
                g("=HYPERLINK(\"http://evil.example\",\"x\")"),
                g("=1+1"),
                g("@SUM(1,1)"),
                g("+7"),
                g("-7"),
                g("\tTab"),
                g("Київ"),
            ],
            from: "2026-11-01".into(),
            to: "2026-11-30".into(),
            group_by: "city".into(),
            refusal_policy: "exclude",
            source: "rollup",
        };
        let text = String::from_utf8(csv_bytes(&answer).unwrap()).unwrap();
        let mut rows = csv::Reader::from_reader(text.as_bytes());
        let keys: Vec<String> = rows.records().map(|r| r.unwrap()[0].to_owned()).collect();
        assert_eq!(
            keys,
            [
                "'=HYPERLINK(\"http://evil.example\",\"x\")",
                "'=1+1",
                "'@SUM(1,1)",
                "'+7",
                "'-7",
                "'\tTab",
                "Київ"
            ]
        );
    }
}
