//! `/drivers`: which factors move NPS — importance (correlation with the
//! NPS answer) against performance (the factor's mean on 0–100), so the
//! manager sees what to fix first. Same filters as the dashboard.

use askama::Template;
use axum::extract::{Query, RawQuery, State};
use doorstep_domain::survey::drivers::Quadrant;

use super::dashboard::{requested, Choice, Lists};
use super::{render, Chrome, OrPage, PageResult};
use crate::app::survey::metrics::MetricsQuery;
use crate::charts::DriverPoint;
use crate::http::auth::{QualityDesk, Staff};
use crate::http::AppState;

pub struct Row {
    pub label: String,
    pub factor: String,
    pub n: i64,
    pub importance: String,
    pub performance: String,
    pub significant: bool,
    pub quadrant: &'static str,
    pub advice: String,
}

#[derive(Template)]
#[template(path = "drivers.html")]
struct DriversPage {
    c: Chrome,
    from: String,
    to: String,
    filters: Vec<(String, &'static str, Vec<Choice>)>,
    error: Option<String>,
    query: String,
    chart: Option<String>,
    rows: Vec<Row>,
}

pub async fn page(
    State(app): State<AppState>,
    Staff(user, _): Staff<QualityDesk>,
    Query(query): Query<MetricsQuery>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let today = jiff::Timestamp::now()
        .to_zoned(app.deployment().tz())
        .date();
    let (req, error) = requested(&query, today);
    let mut c = Chrome::new(&app, &user, "/causes", "nav-drivers");
    let t = c.tr;
    let found = async {
        let d = crate::app::survey::drivers::compute(&app, &req, t.lang()).await?;
        let lists = Lists::load(&app).await?;
        anyhow::Ok((d, lists))
    };
    let (found, lists) = found.await.page(user.lang)?;
    let points: Vec<DriverPoint> = found
        .iter()
        .filter_map(|(label, d)| {
            Some(DriverPoint {
                label: label.clone(),
                importance: d.importance?,
                performance: d.performance?,
                significant: d.significant,
            })
        })
        .collect();
    let corners = [
        t.t("drivers-fix_first"),
        t.t("drivers-keep"),
        t.t("drivers-later"),
        t.t("drivers-overdone"),
    ];
    let chart = crate::charts::drivers(
        &points,
        (&t.t("drivers-importance"), &t.t("drivers-performance")),
        [&corners[0], &corners[1], &corners[2], &corners[3]],
    );
    let rows = found
        .into_iter()
        .map(|(label, d)| Row {
            label,
            n: d.n,
            importance: d.importance.map_or("—".to_owned(), |r| format!("{r:+.2}")),
            performance: d.performance.map_or("—".to_owned(), |p| format!("{p:.0}")),
            significant: d.significant,
            quadrant: d.quadrant.as_str(),
            advice: match d.quadrant {
                Quadrant::Unknown => t.t("drivers-unknown"),
                q => t.t(&format!("drivers-{}", q.as_str())),
            },
            factor: d.factor,
        })
        .collect();
    c.title = t.t("drivers-title");
    Ok(render(&DriversPage {
        from: req.from.to_string(),
        to: req.to.to_string(),
        filters: lists.choices(&req, t),
        error,
        query: raw.unwrap_or_default(),
        chart,
        rows,
        c,
    }))
}
