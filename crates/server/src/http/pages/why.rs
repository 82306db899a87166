//! `/dashboard/why`: what changed in a slice whose NPS fell — the causes
//! whose share of answers rose most since the previous period of the same
//! length, each with its latest comments. Two clicks from a marked
//! dashboard row to the reasons.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, RawQuery, State};
use doorstep_domain::survey::causes::Polarity;
use doorstep_domain::survey::metrics::{nps_change_significant, Scores};
use doorstep_domain::time::format_local;

use super::dashboard::{requested, shares_differ, signed, with_param};
use super::{render, Chrome, OrPage, PageResult};
use crate::app::survey::metrics::{compute, MetricsQuery};
use crate::http::auth::{QualityDesk, Staff};
use crate::http::AppState;

/// One cause, now against before.
pub struct Change {
    pub label: String,
    pub href: String,
    pub now: String,
    pub before: String,
    /// In percentage points, signed.
    pub points: String,
    pub rose: bool,
    pub significant: bool,
    /// The latest comments naming it: (when, order, text).
    pub comments: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "why.html")]
struct WhyPage {
    c: Chrome,
    slice: String,
    period: String,
    previous: String,
    nps_now: String,
    nps_before: String,
    verdict: String,
    fell: bool,
    changes: Vec<Change>,
    back: String,
    causes_href: String,
    error: Option<String>,
}

/// How many rising causes get their comments shown.
const EXPLAINED: usize = 3;
const COMMENTS_EACH: i64 = 3;

fn nps_text(s: Option<&Scores>, t: crate::i18n::Tr<'_>) -> String {
    match s.and_then(|s| s.nps.map(|n| (n, s.nps_n))) {
        Some((nps, n)) => format!("{} ({})", signed(nps), t.with("tile-n", "n", n)),
        None => t.t("dashboard-no-answers"),
    }
}

pub async fn page(
    State(app): State<AppState>,
    Staff(user, _): Staff<QualityDesk>,
    Query(q): Query<MetricsQuery>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let deployment = app.deployment();
    let tz = deployment.tz();
    let today = jiff::Timestamp::now().to_zoned(tz.clone()).date();
    let mut c = Chrome::new(&app, &user, "/dashboard", "nav-dashboard");
    let t = c.tr;
    c.title = t.t("why-title");
    let (req, error) = requested(&q, today);
    let req = req.overall();
    let before = req.previous();
    let vocabulary = app.vocabulary();
    let loaded = async {
        let now = compute(&app.store, &deployment, &req).await?;
        let then = compute(&app.store, &deployment, &before).await?;
        let counts = app.store.cause_counts(&req.filter(&tz)).await?;
        let previous = app.store.cause_counts(&before.filter(&tz)).await?;
        anyhow::Ok((now, then, counts, previous))
    };
    let (now, then, counts, previous) = loaded.await.page(user.lang)?;
    let (now, then) = (
        now.groups.first().map(|g| g.scores.clone()),
        then.groups.first().map(|g| g.scores.clone()),
    );
    let base = |s: &Option<Scores>| s.as_ref().map_or(0, |s| s.nps_n);
    let (n_now, n_before) = (base(&now), base(&then));
    let previous: HashMap<String, i64> = previous
        .into_iter()
        .map(|c| (c.cause_id, c.detractors))
        .collect();
    let mut ids: Vec<String> = counts.iter().map(|c| c.cause_id.clone()).collect();
    ids.extend(previous.keys().cloned());
    ids.sort();
    ids.dedup();
    let current: HashMap<String, i64> = counts
        .into_iter()
        .map(|c| (c.cause_id, c.detractors))
        .collect();
    let share = |part: i64, whole: i64| {
        if whole > 0 {
            100.0 * part as f64 / whole as f64
        } else {
            0.0
        }
    };
    let query = raw.unwrap_or_default();
    let lang = t.lang();
    // Causes of discontent, by the rise of the share of answers that are
    // detractors naming them.
    let mut rows: Vec<(f64, String, i64, i64)> = ids
        .into_iter()
        .filter(|id| {
            vocabulary
                .cause(id)
                .is_some_and(|c| c.polarity == Polarity::Discontent)
        })
        .map(|id| {
            let (named_now, named_before) = (
                current.get(&id).copied().unwrap_or(0),
                previous.get(&id).copied().unwrap_or(0),
            );
            (
                share(named_now, n_now) - share(named_before, n_before),
                id,
                named_now,
                named_before,
            )
        })
        .filter(|(_, _, named_now, named_before)| named_now + named_before > 0)
        .collect();
    rows.sort_by(|x, y| y.0.total_cmp(&x.0).then_with(|| x.1.cmp(&y.1)));
    let filter = req.filter(&tz);
    let mut changes = Vec::new();
    for (i, (change, id, named_now, named_before)) in rows.into_iter().enumerate() {
        let comments = if i < EXPLAINED && change > 0.0 {
            app.store
                .cause_comments(&filter, Some(&id), COMMENTS_EACH, 0)
                .await
                .page(user.lang)?
                .into_iter()
                .filter_map(|x| {
                    let text = x.texts.first()?.clone();
                    let when = jiff::Timestamp::from_millisecond(x.finished_at)
                        .map_or_else(|_| String::new(), |ts| format_local(ts, &tz));
                    Some((when, x.order_number, text))
                })
                .collect()
        } else {
            Vec::new()
        };
        changes.push(Change {
            label: vocabulary
                .cause(&id)
                .map_or(id.clone(), |c| c.label_in(lang).to_owned()),
            href: format!(
                "/causes/{id}{}",
                with_param(&query, "polarity", "discontent")
            ),
            now: format!("{:.1}%", share(named_now, n_now)),
            before: format!("{:.1}%", share(named_before, n_before)),
            points: format!("{change:+.1}"),
            rose: change > 0.0,
            significant: shares_differ((named_now, n_now), (named_before, n_before)),
            comments,
        });
    }
    let (fell, rose) = match (&now, &then) {
        (Some(current), Some(earlier)) if nps_change_significant(current, earlier) => {
            (current.nps < earlier.nps, current.nps > earlier.nps)
        }
        _ => (false, false),
    };
    let mut slice: Vec<String> = Vec::new();
    let names: HashMap<String, String> = app
        .store
        .courier_names()
        .await
        .page(user.lang)?
        .into_iter()
        .collect();
    if let Some(city) = &req.dims.city {
        slice.push(city.clone());
    }
    if let Some(p) = &req.dims.partner {
        slice.push(p.clone());
    }
    if let Some(k) = &req.dims.courier {
        slice.push(names.get(k).map_or(k.clone(), |n| format!("{n} ({k})")));
    }
    if let Some(s) = req.dims.segment {
        slice.push(t.t(&format!("segment-{}", s.as_str())));
    }
    if let Some(s) = &req.dims.survey {
        slice.push(s.clone());
    }
    if let Some(ch) = req.dims.channel {
        slice.push(t.t(&format!("channel-{}", ch.as_str())));
    }
    let view = WhyPage {
        slice: if slice.is_empty() {
            t.t("why-everyone")
        } else {
            slice.join(" · ")
        },
        period: format!(
            "{} – {}",
            super::show_day(&req.from.to_string()),
            super::show_day(&req.to.to_string())
        ),
        previous: format!(
            "{} – {}",
            super::show_day(&before.from.to_string()),
            super::show_day(&before.to.to_string())
        ),
        nps_now: nps_text(now.as_ref(), t),
        nps_before: nps_text(then.as_ref(), t),
        verdict: t.t(if fell {
            "why-fell"
        } else if rose {
            "why-rose"
        } else {
            "why-chance"
        }),
        fell,
        changes,
        back: format!("/dashboard?{query}"),
        causes_href: format!("/causes?{query}"),
        error,
        c,
    };
    Ok(render(&view))
}
