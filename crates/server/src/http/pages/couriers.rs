//! `/couriers`: the fleet by self-filling signals — couriers whose answers
//! look as if they gave them themselves come first, each signal saying what
//! it saw and how unusual that is against the fleet.

use askama::Template;
use axum::extract::{Query, State};
use doorstep_domain::survey::signals::{assess, Kind};
use doorstep_domain::time::{day_number, day_range};

use super::{failed, render, Chrome, Found, OrPage, PageResult};
use crate::http::auth::{QualityDesk, Staff, StaffForm};
use crate::http::AppState;
use crate::i18n::Tr;

pub struct Row {
    pub courier_id: String,
    pub name: String,
    pub responses: i64,
    pub duration: String,
    pub share_of_tens: String,
    pub delay: String,
    pub signals: Vec<String>,
    pub too_few: bool,
}

#[derive(Template)]
#[template(path = "couriers.html")]
struct CouriersPage {
    c: Chrome,
    from: String,
    to: String,
    rows: Vec<Row>,
    flagged: usize,
    error: Option<String>,
    /// Couriers see their city's leaderboard on the terminal.
    leaderboard: bool,
    notice: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Period {
    from: Option<String>,
    to: Option<String>,
    /// After the leaderboard was switched: `on` or `off`.
    leaderboard: Option<String>,
}

/// Shows couriers their city's leaderboard on the terminal, or stops.
pub async fn set_leaderboard(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<QualityDesk, super::SwitchForm>,
) -> PageResult {
    super::switch_setting(
        &app,
        &user,
        crate::app::survey::own_scores::LEADERBOARD_SETTING,
        form.on(),
        "/couriers",
        "leaderboard",
    )
    .await
}

impl Period {
    /// The chosen days (the last 90 unless chosen; in order), and what was
    /// wrong with a date that could not be read.
    fn dates(
        &self,
        today: jiff::civil::Date,
    ) -> (jiff::civil::Date, jiff::civil::Date, Option<String>) {
        let mut error = None;
        let mut date = |text: &Option<String>, default: jiff::civil::Date| match text
            .as_deref()
            .filter(|s| !s.is_empty())
        {
            None => default,
            Some(s) => super::parse_day(s).unwrap_or_else(|e| {
                error = Some(e.to_string());
                default
            }),
        };
        let to = date(&self.to, today);
        let from = date(
            &self.from,
            to.checked_sub(jiff::Span::new().days(89)).unwrap_or(to),
        );
        let (from, to) = if from > to { (to, from) } else { (from, to) };
        (from, to, error)
    }
}

/// A time in milliseconds as people read it, in the reader's language.
fn seconds(t: Tr<'_>, ms: f64) -> String {
    super::recovery::duration(t, (ms / 1000.0).round() as i64)
}

fn describe(kind: Kind, seen: f64, fleet: f64, z: f64, t: Tr<'_>) -> String {
    let (seen, fleet) = match kind {
        Kind::Fast | Kind::Late => (seconds(t, seen), seconds(t, fleet)),
        Kind::Tens | Kind::Same | Kind::NoPhotos | Kind::NoRecordings => {
            (format!("{seen:.0}%"), format!("{fleet:.0}%"))
        }
    };
    let mut args = fluent_bundle::FluentArgs::new();
    args.set("seen", seen);
    args.set("fleet", fleet);
    // Beyond ±99 the exact figure says nothing more.
    args.set(
        "z",
        if z.abs() > 99.0 {
            if z > 0.0 {
                "> +99".to_owned()
            } else {
                "< −99".to_owned()
            }
        } else {
            format!("{z:+.1}")
        },
    );
    crate::i18n::i18n().text(
        crate::i18n::Lang::parse(t.lang()).unwrap_or(crate::i18n::Lang::En),
        &format!("signal-{}", kind.as_str()),
        Some(&args),
    )
}

pub async fn fleet(
    State(app): State<AppState>,
    Staff(user, _): Staff<QualityDesk>,
    Query(q): Query<Period>,
) -> PageResult {
    let deployment = app.deployment();
    let tz = deployment.tz();
    let today = jiff::Timestamp::now().to_zoned(tz.clone()).date();
    let mut c = Chrome::new(&app, &user, "/couriers", "nav-couriers");
    let t = c.tr;
    c.title = t.t("couriers-title");
    let (from, to, error) = q.dates(today);
    let patterns = app
        .store
        .courier_patterns(day_number(from), day_number(to), &tz)
        .await
        .page(user.lang)?;
    let names: std::collections::HashMap<String, String> = app
        .store
        .courier_names()
        .await
        .page(user.lang)?
        .into_iter()
        .collect();
    let assessed = assess(&patterns);
    let rows: Vec<Row> = assessed
        .iter()
        .map(|a| {
            let p = &a.pattern;
            Row {
                name: names
                    .get(&p.courier_id)
                    .cloned()
                    .unwrap_or_else(|| p.courier_id.clone()),
                responses: p.responses,
                duration: p.duration_ms.map(|ms| seconds(t, ms)).unwrap_or_default(),
                share_of_tens: if p.nps_n > 0 {
                    format!("{:.0}%", 100.0 * p.tens as f64 / p.nps_n as f64)
                } else {
                    String::new()
                },
                delay: p.delay_ms.map(|ms| seconds(t, ms)).unwrap_or_default(),
                signals: a
                    .signals
                    .iter()
                    .map(|s| describe(s.kind, s.seen, s.fleet, s.z, t))
                    .collect(),
                too_few: a.too_few,
                courier_id: p.courier_id.clone(),
            }
        })
        .collect();
    let leaderboard = crate::app::survey::own_scores::leaderboard_on(&app.store)
        .await
        .page(user.lang)?;
    let notice = q.leaderboard.as_deref().map(|on| {
        t.t(if on == "on" {
            "couriers-leaderboard-on"
        } else {
            "couriers-leaderboard-off"
        })
    });
    let view = CouriersPage {
        from: from.to_string(),
        to: to.to_string(),
        flagged: rows.iter().filter(|r| !r.signals.is_empty()).count(),
        rows,
        error,
        leaderboard,
        notice,
        c,
    };
    Ok(render(&view))
}

#[derive(Template)]
#[template(path = "courier.html")]
struct CourierPage {
    c: Chrome,
    id: String,
    from: String,
    to: String,
    tiles: Vec<super::dashboard::Tile>,
    trend: Option<String>,
    signals: Vec<String>,
    assessed: bool,
    comments: Vec<(String, String, String)>,
    dashboard: String,
    /// Cases found to be his fault: (number, when, subject, fault note).
    faults: Vec<(i64, String, String, String)>,
    /// Cases open to this reader (the support desk's roles).
    cases_open: bool,
    /// Mystery-shopper inspections of the period, apart from the scores.
    inspections: Option<InspectionsView>,
}

/// A courier's inspections as his page shows them.
struct InspectionsView {
    count: u64,
    /// (question, figure, answers), in the survey's order.
    questions: Vec<(String, String, u64)>,
    /// (when, order, inspector, the inspector's words).
    latest: Vec<(String, String, String, Vec<String>)>,
}

impl InspectionsView {
    async fn load(
        app: &AppState,
        courier: &str,
        (start, end): (i64, i64),
        t: crate::i18n::Tr<'_>,
    ) -> anyhow::Result<Option<InspectionsView>> {
        use doorstep_domain::time::{format_local, from_millis};
        let answers = app
            .store
            .inspection_answers(Some(courier), start, end)
            .await?;
        let Some(mine) = crate::app::survey::inspections::summarise(&answers)
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let questions = crate::app::survey::inspections::readable(app, &mine, t)
            .await?
            .into_iter()
            .map(|c| (c.label, c.figure, c.answers))
            .collect();
        let mut words: std::collections::HashMap<&str, Vec<String>> =
            std::collections::HashMap::new();
        for a in answers.iter().filter(|a| a.kind == "text") {
            if let Some(text) = &a.text_value {
                words
                    .entry(a.inspection_id.as_str())
                    .or_default()
                    .push(text.clone());
            }
        }
        let latest = app
            .store
            .inspections(Some(courier), start, end, 10)
            .await?
            .into_iter()
            .map(|i| {
                (
                    format_local(from_millis(i.finished_at), &app.deployment().tz()),
                    i.order_number,
                    i.inspector,
                    words.get(i.id.as_str()).cloned().unwrap_or_default(),
                )
            })
            .collect();
        Ok(Some(InspectionsView {
            count: mine.inspections,
            questions,
            latest,
        }))
    }
}

/// `/couriers/{id}`: one courier's scores beside the period before, the
/// weekly NPS trend, the self-filling signals and the latest comments.
pub async fn courier(
    State(app): State<AppState>,
    Staff(user, _): Staff<QualityDesk>,
    axum::extract::Path(id): axum::extract::Path<String>,
    Query(q): Query<Period>,
) -> PageResult {
    use crate::app::survey::metrics::{compute, Request};
    use doorstep_domain::time::{format_local, from_millis};
    use doorstep_store::survey::rollups::GroupBy;
    let (_, name) = app.store.courier(&id).await.found(user.lang)?;
    let name = name.unwrap_or_else(|| id.clone());
    let deployment = app.deployment();
    let tz = deployment.tz();
    let today = jiff::Timestamp::now().to_zoned(tz.clone()).date();
    let (from, to, _) = q.dates(today);
    let mut base = Request::new(from, to, GroupBy::All);
    base.dims.courier = Some(id.clone());
    let before = base.previous();
    let weekly = Request {
        group: GroupBy::Week,
        ..base.clone()
    };
    let (now, then, weeks) = match (
        compute(&app.store, &deployment, &base).await,
        compute(&app.store, &deployment, &before).await,
        compute(&app.store, &deployment, &weekly).await,
    ) {
        (Ok(a), Ok(b), Ok(w)) => (a, b, w),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return Err(failed(user.lang, e)),
    };
    let (start, end) = day_range(from, to, &tz);
    let patterns = app
        .store
        .courier_patterns(day_number(from), day_number(to), &tz)
        .await
        .page(user.lang)?;
    let comments = app
        .store
        .courier_comments(Some(&id), start.as_millisecond(), end.as_millisecond(), 20)
        .await
        .page(user.lang)?;
    let faults = app
        .store
        .courier_fault_cases(&id, start.as_millisecond(), end.as_millisecond(), 50)
        .await
        .page(user.lang)?;
    let mut c = Chrome::new(&app, &user, "/couriers", "nav-couriers");
    let t = c.tr;
    c.title = format!("{name} · {id}");
    let inspections =
        InspectionsView::load(&app, &id, (start.as_millisecond(), end.as_millisecond()), t)
            .await
            .page(user.lang)?;
    let assessed = assess(&patterns);
    let mine = assessed.iter().find(|a| a.pattern.courier_id == id);
    let view = CourierPage {
        tiles: super::dashboard::tiles(&now, &then, t),
        trend: crate::charts::nps_trend(
            &weeks.groups,
            doorstep_store::survey::rollups::GroupBy::Week,
            today,
        ),
        signals: mine
            .map(|a| {
                a.signals
                    .iter()
                    .map(|s| describe(s.kind, s.seen, s.fleet, s.z, t))
                    .collect()
            })
            .unwrap_or_default(),
        assessed: mine.is_some_and(|a| !a.too_few),
        comments: comments
            .into_iter()
            .map(|cm| {
                (
                    format_local(from_millis(cm.finished_at), &tz),
                    cm.order_number,
                    cm.text,
                )
            })
            .collect(),
        dashboard: format!("/dashboard?from={from}&to={to}&courier={id}&group_by=week"),
        cases_open: user.may::<crate::http::auth::CaseDesk>(),
        faults: faults
            .into_iter()
            .map(|k| {
                (
                    k.number,
                    format_local(from_millis(k.created_at), &tz),
                    k.subject,
                    k.fault_note.unwrap_or_default(),
                )
            })
            .collect(),
        from: from.to_string(),
        to: to.to_string(),
        inspections,
        id,
        c,
    };
    Ok(render(&view))
}
