//! `/causes`: root causes of discontent and delight — a Pareto of causes for
//! any filter, each cause's weekly trend and its comments one click away,
//! re-tagging a comment by hand, and the vocabulary with its keyword rules
//! (`/causes/rules`), which the quality manager edits.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use doorstep_domain::survey::causes::{Cause, Polarity, Vocabulary, RULE_LANGUAGES};
use doorstep_domain::time::format_local;
use doorstep_store::survey::causes::CauseComment;

use super::dashboard::{requested, with_param, Choice, Lists};
use super::{internal, render, Chrome, OrPage, PageResult};
use crate::app::survey::metrics::MetricsQuery;
use crate::app::survey::metrics::Request;
use crate::http::auth::{QualityDesk, Staff, StaffForm};
use crate::http::AppState;
use crate::i18n::Tr;

#[derive(Debug, Default, serde::Deserialize)]
pub struct CausesQuery {
    #[serde(flatten)]
    metrics: MetricsQuery,
    polarity: Option<String>,
    /// A cause's comments, page by page (1 is the latest).
    page: Option<String>,
}

/// The period and filters chosen, the polarity, and what was wrong with them.
struct View {
    req: Request,
    polarity: Polarity,
    error: Option<String>,
    query: String,
}

fn view(app: &AppState, q: &CausesQuery, raw: Option<String>) -> View {
    let today = jiff::Timestamp::now()
        .to_zoned(app.deployment().tz())
        .date();
    let (req, error) = requested(&q.metrics, today);
    View {
        req,
        polarity: q
            .polarity
            .as_deref()
            .and_then(Polarity::parse)
            .unwrap_or(Polarity::Discontent),
        error,
        query: raw.unwrap_or_default(),
    }
}

pub struct CauseRow {
    pub label: String,
    pub href: String,
    pub responses: i64,
    pub share: String,
    pub cumulative: String,
    /// Share of the period's detractors (or promoters) who name it.
    pub among: String,
    pub previous: i64,
    /// Weekly counts as a small line, SVG.
    pub sparkline: Option<String>,
}

#[derive(Template)]
#[template(path = "causes.html")]
struct CausesPage {
    c: Chrome,
    from: String,
    to: String,
    filters: Vec<(String, &'static str, Vec<Choice>)>,
    polarities: Vec<Choice>,
    error: Option<String>,
    query: String,
    chart: Option<String>,
    rows: Vec<CauseRow>,
    among_label: String,
    untagged_href: String,
    retag: Option<String>,
    total: i64,
    /// Items refused at the door over the period, by reason.
    refusals: Vec<RefusalLine>,
}

/// A refusal reason, the root causes it means (label, link), and its orders
/// of those delivered.
struct RefusalLine {
    reason: String,
    causes: Vec<(String, String)>,
    rate: String,
}

fn polarity_choices(current: Polarity, t: Tr<'_>) -> Vec<Choice> {
    [Polarity::Discontent, Polarity::Delight]
        .iter()
        .map(|p| Choice {
            value: p.as_str().to_owned(),
            label: t.t(&format!("causes-{}", p.as_str())),
            selected: *p == current,
        })
        .collect()
}

/// What the background re-tagging is doing, for a banner.
fn retag_banner(app: &AppState, t: Tr<'_>) -> Option<String> {
    let s = app.retag.status();
    if s.running {
        Some(t.with2("causes-retagging", "done", s.done, "total", s.total))
    } else {
        s.error.map(|e| t.with("causes-retag-failed", "error", e))
    }
}

pub async fn page(
    State(app): State<AppState>,
    Staff(user, _): Staff<QualityDesk>,
    Query(query): Query<CausesQuery>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let v = view(&app, &query, raw);
    let mut c = Chrome::new(&app, &user, "/causes", "nav-causes");
    let t = c.tr;
    let tz = app.deployment().tz();
    let vocabulary = app.vocabulary();
    let filter = v.req.filter(&tz);
    let before = v.req.previous().filter(&tz);
    let loaded = async {
        let counts = app.store.cause_counts(&filter).await?;
        let previous = app.store.cause_counts(&before).await?;
        let weeks = app.store.cause_weeks(&filter).await?;
        let overall =
            crate::app::survey::metrics::compute(&app.store, &app.deployment(), &v.req.overall())
                .await?;
        let lists = Lists::load(&app).await?;
        let refusals = if v.polarity == Polarity::Discontent {
            crate::app::survey::refusals::refusal_rates(
                &app.store,
                &filter,
                doorstep_store::refusals::RefusalCut::Reason,
            )
            .await?
            .unwrap_or_default()
        } else {
            Vec::new()
        };
        anyhow::Ok((counts, previous, weeks, overall, lists, refusals))
    };
    let (counts, previous, weeks, overall, lists, refusals) = loaded.await.page(user.lang)?;
    let lang = t.lang();
    let of_polarity = |id: &str| {
        vocabulary
            .cause(id)
            .is_some_and(|c| c.polarity == v.polarity)
    };
    let counts: Vec<_> = counts
        .into_iter()
        .filter(|c| of_polarity(&c.cause_id))
        .collect();
    let previous: HashMap<String, i64> = previous
        .into_iter()
        .map(|c| (c.cause_id, c.responses))
        .collect();
    let total: i64 = counts.iter().map(|c| c.responses).sum();
    let scores = overall.groups.first().map(|g| g.scores.clone());
    let base = match v.polarity {
        Polarity::Discontent => scores.as_ref().map_or(0, |s| s.detractors),
        Polarity::Delight => scores.as_ref().map_or(0, |s| s.promoters),
    };
    // Weekly series over the whole period, zeros where a cause was not named.
    let all_weeks: Vec<i64> = {
        let first = doorstep_domain::time::week_start(filter.from_day);
        (first..=filter.to_day).step_by(7).collect()
    };
    let mut series: HashMap<&str, BTreeMap<i64, i64>> = HashMap::new();
    for (cause, week, n) in &weeks {
        series.entry(cause.as_str()).or_default().insert(*week, *n);
    }
    let mut running = 0;
    let rows: Vec<CauseRow> = counts
        .iter()
        .map(|c| {
            running += c.responses;
            let among = match v.polarity {
                Polarity::Discontent => c.detractors,
                Polarity::Delight => c.promoters,
            };
            let label = vocabulary
                .cause(&c.cause_id)
                .map_or(c.cause_id.clone(), |x| x.label_in(lang).to_owned());
            let points: Vec<f64> = all_weeks
                .iter()
                .map(|w| {
                    series
                        .get(c.cause_id.as_str())
                        .and_then(|s| s.get(w))
                        .copied()
                        .unwrap_or(0) as f64
                })
                .collect();
            CauseRow {
                href: format!(
                    "/causes/{}{}",
                    c.cause_id,
                    with_param(&v.query, "polarity", v.polarity.as_str())
                ),
                responses: c.responses,
                share: percent(c.responses, total),
                cumulative: percent(running, total),
                among: percent(among, base),
                previous: previous.get(&c.cause_id).copied().unwrap_or(0),
                sparkline: crate::charts::sparkline(&points),
                label,
            }
        })
        .collect();
    let chart = crate::charts::pareto(
        &rows
            .iter()
            .map(|r| (r.label.clone(), r.responses))
            .collect::<Vec<_>>(),
        &t.t("causes-col-answers"),
        &t.t("causes-col-cumulative"),
    );
    let refusals: Vec<RefusalLine> = refusals
        .iter()
        .map(|r| {
            let causes = crate::app::survey::refusals::causes_of_reason(&vocabulary, &r.key)
                .into_iter()
                .map(|c| {
                    (
                        c.label_in(lang).to_owned(),
                        format!(
                            "/causes/{}{}",
                            c.id,
                            with_param(&v.query, "polarity", v.polarity.as_str())
                        ),
                    )
                })
                .collect();
            RefusalLine {
                reason: t.t(&format!("term-refusal-{}", r.key)),
                causes,
                rate: super::dashboard::refusal_share(t, r),
            }
        })
        .collect();
    c.title = t.t("causes-title");
    let page = CausesPage {
        from: v.req.from.to_string(),
        to: v.req.to.to_string(),
        filters: lists.choices(&v.req, t),
        polarities: polarity_choices(v.polarity, t),
        error: v.error,
        untagged_href: format!("/causes/untagged{}", with_param(&v.query, "polarity", "")),
        query: v.query,
        chart,
        rows,
        among_label: t.with(&format!("causes-among-{}", v.polarity.as_str()), "n", base),
        retag: retag_banner(&app, t),
        total,
        refusals,
        c,
    };
    Ok(render(&page))
}

fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        "—".to_owned()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

pub struct CommentView {
    pub when: String,
    pub order_number: String,
    pub response_id: String,
    pub courier: String,
    pub city: String,
    pub nps: String,
    pub options: Vec<String>,
    pub texts: Vec<String>,
    /// (label, how it was tagged)
    pub causes: Vec<(String, String)>,
    pub by_hand: bool,
    /// Every cause, and whether this answer has it (the re-tag form).
    pub choices: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "cause.html")]
struct CausePage {
    c: Chrome,
    heading: String,
    lead: String,
    back: String,
    here: String,
    comments: Vec<CommentView>,
    /// Which comments are shown ("41–80"), and the pages around.
    shown: String,
    newer: Option<String>,
    older: Option<String>,
}

/// Comments on one page of a cause.
const COMMENTS_PER_PAGE: i64 = 40;

/// `/causes/{id}` (or `/causes/untagged`): the comments behind a cause.
pub async fn comments(
    State(app): State<AppState>,
    Staff(user, _): Staff<QualityDesk>,
    Path(id): Path<String>,
    Query(query): Query<CausesQuery>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let v = view(&app, &query, raw);
    let mut c = Chrome::new(&app, &user, "/causes", "nav-causes");
    let t = c.tr;
    let vocabulary = app.vocabulary();
    let untagged = id == "untagged";
    let cause = vocabulary.cause(&id);
    if cause.is_none() && !untagged {
        return Ok(super::status_page(user.lang, StatusCode::NOT_FOUND));
    }
    let tz = app.deployment().tz();
    let filter = v.req.filter(&tz);
    let page_no = query
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<i64>().ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1);
    // One more than a page: whether there is an older one.
    let mut found = app
        .store
        .cause_comments(
            &filter,
            cause.map(|c| c.id.as_str()),
            COMMENTS_PER_PAGE + 1,
            (page_no - 1) * COMMENTS_PER_PAGE,
        )
        .await
        .page(user.lang)?;
    let more = found.len() as i64 > COMMENTS_PER_PAGE;
    found.truncate(COMMENTS_PER_PAGE as usize);
    let first = (page_no - 1) * COMMENTS_PER_PAGE + 1;
    let shown = if found.is_empty() {
        String::new()
    } else {
        t.with2(
            "cause-shown",
            "from",
            first,
            "to",
            first + found.len() as i64 - 1,
        )
    };
    let at_page = |n: i64| {
        format!(
            "/causes/{id}{}",
            with_param(&v.query, "page", &n.to_string())
        )
    };
    let (newer, older) = (
        (page_no > 1).then(|| at_page(page_no - 1)),
        more.then(|| at_page(page_no + 1)),
    );
    let names: HashMap<String, String> = app
        .store
        .courier_names()
        .await
        .page(user.lang)?
        .into_iter()
        .collect();
    let lang = t.lang();
    let comments = found
        .into_iter()
        .map(|x| comment_view(x, &vocabulary, &names, &tz, t))
        .collect();
    let (heading, lead) = match cause {
        Some(cause) => (
            cause.label_in(lang).to_owned(),
            t.with2(
                "cause-lead",
                "from",
                super::show_day(&v.req.from.to_string()),
                "to",
                super::show_day(&v.req.to.to_string()),
            ),
        ),
        None => (t.t("cause-untagged"), t.t("cause-untagged-lead")),
    };
    c.title.clone_from(&heading);
    let back = format!(
        "/causes{}",
        with_param(&v.query, "polarity", v.polarity.as_str())
    );
    let page = CausePage {
        heading,
        lead,
        back,
        here: format!("/causes/{id}?{}", v.query),
        comments,
        shown,
        newer,
        older,
        c,
    };
    Ok(render(&page))
}

fn comment_view(
    x: CauseComment,
    vocabulary: &Vocabulary,
    names: &HashMap<String, String>,
    tz: &jiff::tz::TimeZone,
    t: Tr<'_>,
) -> CommentView {
    let lang = t.lang();
    let label = |id: &str| {
        vocabulary
            .cause(id)
            .map_or(id.to_owned(), |c| c.label_in(lang).to_owned())
    };
    CommentView {
        when: jiff::Timestamp::from_millisecond(x.finished_at)
            .map_or_else(|_| String::new(), |ts| format_local(ts, tz)),
        courier: x
            .courier_id
            .as_ref()
            .map(|id| names.get(id).map_or(id.clone(), |n| format!("{n} ({id})")))
            .unwrap_or_default(),
        city: x.city,
        nps: x.nps.map(|n| format!("{n:.0}")).unwrap_or_default(),
        options: x.options.iter().map(|o| label(o)).collect(),
        texts: x.texts,
        causes: x
            .causes
            .iter()
            .map(|tag| {
                (
                    label(&tag.cause_id),
                    t.t(&format!("cause-source-{}", tag.source.as_str())),
                )
            })
            .collect(),
        by_hand: x.tagged_by_hand,
        choices: vocabulary
            .causes
            .iter()
            .map(|c| Choice {
                value: c.id.clone(),
                label: c.label_in(lang).to_owned(),
                selected: x.causes.iter().any(|tag| tag.cause_id == c.id),
            })
            .collect(),
        order_number: x.order_number,
        response_id: x.response_id,
    }
}

/// `POST /causes/tags`: one answer's causes set by hand, or given back to
/// the rules (`auto`).
pub async fn retag_one(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<QualityDesk, Vec<(String, String)>>,
) -> Response {
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let vocabulary = app.vocabulary();
    let chosen: Vec<String> = form
        .iter()
        .filter(|(k, v)| k == "cause" && vocabulary.cause(v).is_some())
        .map(|(_, v)| v.clone())
        .collect();
    let auto = !get("auto").is_empty();
    let tz = app.deployment().tz();
    let done = app
        .store
        .set_response_causes(
            get("order_number"),
            get("response_id"),
            (!auto).then_some(chosen.as_slice()),
            &app.tagger(),
            &tz,
        )
        .await;
    match done {
        Ok(true) => {
            tracing::info!(by = %user.login, order = get("order_number"), response = get("response_id"), auto, "causes re-tagged");
            let back = get("back");
            // Only back into the console, never elsewhere.
            let back = if back.starts_with("/causes") && !back.starts_with("//") {
                back
            } else {
                "/causes"
            };
            Redirect::to(back).into_response()
        }
        Ok(false) => super::status_page(user.lang, StatusCode::NOT_FOUND),
        Err(e) => internal(user.lang, &e),
    }
}

/// One cause as the rules form shows it.
pub struct RuleForm {
    pub index: usize,
    pub id: String,
    pub fixed_id: bool,
    pub polarities: Vec<Choice>,
    pub label_ru: String,
    pub label_en: String,
    pub options: String,
    pub keywords_ru: String,
    pub keywords_en: String,
}

#[derive(Template)]
#[template(path = "cause_rules.html")]
struct RulesPage {
    c: Chrome,
    rules: Vec<RuleForm>,
    errors: Vec<String>,
    saved: bool,
    retag: Option<String>,
}

fn rule_form(i: usize, c: &Cause, fixed_id: bool, t: Tr<'_>) -> RuleForm {
    let lines = |lang: &str| {
        c.keywords
            .get(lang)
            .map(|k| k.join("\n"))
            .unwrap_or_default()
    };
    RuleForm {
        index: i,
        id: c.id.clone(),
        fixed_id,
        polarities: polarity_choices(c.polarity, t),
        label_ru: c.label.get("ru").cloned().unwrap_or_default(),
        label_en: c.label.get("en").cloned().unwrap_or_default(),
        options: c.options.join(", "),
        keywords_ru: lines("ru"),
        keywords_en: lines("en"),
    }
}

fn blank() -> Cause {
    Cause {
        id: String::new(),
        polarity: Polarity::Discontent,
        label: BTreeMap::new(),
        options: Vec::new(),
        keywords: BTreeMap::new(),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct RulesQuery {
    saved: Option<String>,
}

pub async fn rules(
    State(app): State<AppState>,
    Staff(user, _): Staff<QualityDesk>,
    Query(q): Query<RulesQuery>,
) -> Response {
    let vocabulary = app.vocabulary();
    let mut c = Chrome::new(&app, &user, "/causes", "nav-causes");
    let t = c.tr;
    let mut forms: Vec<RuleForm> = vocabulary
        .causes
        .iter()
        .enumerate()
        .map(|(i, cause)| rule_form(i, cause, true, t))
        .collect();
    forms.push(rule_form(forms.len(), &blank(), false, t));
    c.title = t.t("rules-title");
    render(&RulesPage {
        rules: forms,
        errors: Vec::new(),
        saved: q.saved.is_some(),
        retag: retag_banner(&app, t),
        c,
    })
}

/// The vocabulary a posted rules form describes (fields `c{i}.name`); labels
/// in languages the form does not show are kept from `old`.
fn read_rules(form: &[(String, String)], old: &Vocabulary) -> (Vocabulary, Vec<(Cause, bool)>) {
    let mut fields: BTreeMap<usize, HashMap<&str, &str>> = BTreeMap::new();
    for (k, v) in form {
        let Some((i, name)) = k
            .strip_prefix('c')
            .and_then(|rest| rest.split_once('.'))
            .and_then(|(i, name)| Some((i.parse::<usize>().ok()?, name)))
        else {
            continue;
        };
        fields.entry(i).or_default().insert(name, v.as_str());
    }
    let split = |text: &str, by: &[char]| -> Vec<String> {
        text.split(by)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let mut causes = Vec::new();
    let mut shown = Vec::new();
    for f in fields.values() {
        let get = |name: &str| f.get(name).copied().unwrap_or_default();
        let id = get("id").trim().to_lowercase();
        let words = [
            get("label_ru"),
            get("label_en"),
            get("options"),
            get("keywords_ru"),
            get("keywords_en"),
        ];
        // The blank row for a new cause, left blank.
        if id.is_empty() && words.iter().all(|w| w.trim().is_empty()) {
            continue;
        }
        let mut label = old.cause(&id).map(|c| c.label.clone()).unwrap_or_default();
        for (lang, text) in [("ru", get("label_ru")), ("en", get("label_en"))] {
            if text.trim().is_empty() {
                label.remove(lang);
            } else {
                label.insert(lang.to_owned(), text.trim().to_owned());
            }
        }
        let mut keywords = BTreeMap::new();
        for lang in RULE_LANGUAGES {
            let list = split(get(&format!("keywords_{lang}")), &['\n', '\r']);
            if !list.is_empty() {
                keywords.insert(lang.to_owned(), list);
            }
        }
        let cause = Cause {
            polarity: Polarity::parse(get("polarity")).unwrap_or(Polarity::Discontent),
            label,
            options: split(get("options"), &[',', ' ', '\n', '\r']),
            keywords,
            id,
        };
        let removed = !get("remove").is_empty();
        shown.push((cause.clone(), f.contains_key("fixed")));
        if !removed {
            causes.push(cause);
        }
    }
    (Vocabulary { causes }, shown)
}

/// `POST /causes/rules`: saves the vocabulary and tags every answer again.
pub async fn save_rules(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<QualityDesk, Vec<(String, String)>>,
) -> PageResult {
    let old = app.vocabulary();
    let (vocabulary, shown) = read_rules(&form, &old);
    if let Err(errors) = vocabulary.check() {
        let mut c = Chrome::new(&app, &user, "/causes", "nav-causes");
        let t = c.tr;
        c.title = t.t("rules-title");
        // Paths count the causes kept; name each by its id or label instead.
        let errors = errors
            .iter()
            .map(|e| {
                let which = e
                    .path
                    .strip_prefix("causes[")
                    .and_then(|r| r.split_once(']'))
                    .and_then(|(i, rest)| {
                        Some((vocabulary.causes.get(i.parse::<usize>().ok()?)?, rest))
                    });
                match which {
                    Some((cause, rest)) => format!(
                        "{}{}: {}",
                        if cause.id.is_empty() {
                            cause.label_in(t.lang())
                        } else {
                            &cause.id
                        },
                        rest,
                        e.message
                    ),
                    None => e.to_string(),
                }
            })
            .collect();
        let mut forms: Vec<RuleForm> = shown
            .iter()
            .enumerate()
            .map(|(i, (cause, fixed))| rule_form(i, cause, *fixed, t))
            .collect();
        forms.push(rule_form(forms.len(), &blank(), false, t));
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&RulesPage {
                rules: forms,
                errors,
                saved: false,
                retag: None,
                c,
            }),
        )
            .into_response());
    }
    app.store
        .save_vocabulary(&vocabulary)
        .await
        .page(user.lang)?;
    tracing::info!(by = %user.login, causes = vocabulary.causes.len(), "cause rules saved");
    app.set_vocabulary(vocabulary);
    crate::app::survey::causes::start(&app);
    Ok(Redirect::to("/causes/rules?saved=1").into_response())
}
