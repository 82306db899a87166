//! The scores for a period and a grouping, as the API, the dashboard and
//! reports show them: tallies from the rollups (or raw answers), turned into
//! METRICS.md's figures, with each group's label and rank.

use std::collections::HashMap;

use doorstep_domain::survey::metrics::{RefusalPolicy, Scores, Tally};
use doorstep_domain::survey::{Channel, Dimensions, Measure, QuestionType, SurveyDefinition};
use doorstep_domain::time::{date_of_day, day_number, day_range};
use doorstep_domain::Deployment;
use doorstep_domain::Segment;
use doorstep_store::survey::rollups::{GroupBy, GroupKey, MetricsFilter, Source};
use doorstep_store::Store;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::app::{problem, Problem};

/// What to count: local dates (inclusive), a grouping and filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub from: Date,
    pub to: Date,
    pub group: GroupBy,
    /// A second, time grouping inside each group (a trend per courier).
    pub period: Option<GroupBy>,
    pub dims: Dimensions,
    pub policy: Option<RefusalPolicy>,
}

/// A metrics query as a client gives it (the API's query string, the
/// console's filter form, the command line's options): text, checked by
/// [`MetricsQuery::request`].
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams, clap::Args)]
pub struct MetricsQuery {
    /// First local day, `YYYY-MM-DD` (default: 29 days before `to`).
    #[param(pattern = r"^\s*(\d{4}-\d{2}-\d{2})?\s*$")]
    #[arg(long)]
    pub from: Option<String>,
    /// Last local day, inclusive (default: today).
    #[param(pattern = r"^\s*(\d{4}-\d{2}-\d{2})?\s*$")]
    #[arg(long)]
    pub to: Option<String>,
    /// `courier`, `city`, `partner`, `segment`, `survey`, `channel`, `day`,
    /// `week` or `month`; left out, one group `all`. A group and a time
    /// within it, e.g. `courier,week`, gives each group's trend (each
    /// group row then has a `period`).
    #[param(
        pattern = r"^\s*((all|none|courier|city|partner|segment|survey|channel|day|week|month)|(all|none|courier|city|partner|segment|survey|channel)\s*,\s*(day|week|month))?\s*$"
    )]
    #[arg(long)]
    pub group_by: Option<String>,
    /// Only this courier's answers (a courier id).
    #[arg(long)]
    pub courier: Option<String>,
    /// Only this city's.
    #[arg(long)]
    pub city: Option<String>,
    /// Only this partner's.
    #[arg(long)]
    pub partner: Option<String>,
    /// `new` or `repeat`.
    #[param(pattern = r"^\s*(new|repeat)?\s*$")]
    #[arg(long)]
    pub segment: Option<String>,
    /// Only this survey's (a survey id).
    #[arg(long)]
    pub survey: Option<String>,
    /// `terminal`, `link` or `api`.
    #[param(pattern = r"^\s*(terminal|link|api)?\s*$")]
    #[arg(long)]
    pub channel: Option<String>,
    /// `exclude` or `count_as_detractors`; the deployment's setting when left out.
    #[param(pattern = r"^(exclude|count_as_detractors)?$")]
    #[arg(long)]
    pub refusal_policy: Option<String>,
}

impl MetricsQuery {
    /// Reads the query into a request; problems name the parameter.
    pub fn request(&self, today: jiff::civil::Date) -> Result<Request, Problem> {
        let (from, to) = crate::app::period(self.from.as_deref(), self.to.as_deref(), today)?;
        let parse = |g: &str| {
            GroupBy::parse(g.trim()).ok_or_else(|| {
                problem(
                    "group_by",
                    format!("{g:?} is not a grouping (courier, city, partner, segment, survey, channel, day, week or month)"),
                )
            })
        };
        let (group, period) = match self.group_by.as_deref().map(str::trim) {
            None => (GroupBy::All, None),
            Some(g) => match g.split_once(',') {
                None => (parse(g)?, None),
                Some((first, second)) => {
                    let (first, second) = (parse(first)?, parse(second)?);
                    if first.is_time() || !second.is_time() {
                        return Err(problem(
                            "group_by",
                            "two groupings are a group and a time within it, e.g. courier,week",
                        ));
                    }
                    (first, Some(second))
                }
            },
        };
        let policy = match self.refusal_policy.as_deref() {
            None | Some("") => None,
            Some(p) => Some(RefusalPolicy::parse(p).ok_or_else(|| {
                problem(
                    "refusal_policy",
                    format!("{p:?} is not a policy (exclude or count_as_detractors)"),
                )
            })?),
        };
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let segment = text(&self.segment)
            .map(|s| {
                Segment::parse(&s).ok_or_else(|| {
                    problem("segment", format!("{s:?} is not a segment (new or repeat)"))
                })
            })
            .transpose()?;
        let channel = text(&self.channel)
            .map(|c| {
                Channel::parse(&c).ok_or_else(|| {
                    problem(
                        "channel",
                        format!("{c:?} is not a channel (terminal, link or api)"),
                    )
                })
            })
            .transpose()?;
        Ok(Request {
            from,
            to,
            group,
            period,
            dims: Dimensions {
                courier: text(&self.courier),
                city: text(&self.city),
                partner: text(&self.partner),
                segment,
                survey: text(&self.survey),
                channel,
            },
            policy,
        })
    }
}

impl Request {
    /// Local dates `from..=to` in groups, with no filter.
    pub fn new(from: Date, to: Date, group: GroupBy) -> Request {
        Request {
            from,
            to,
            group,
            period: None,
            dims: Dimensions::default(),
            policy: None,
        }
    }

    /// The same period and filters as one group: the headline figures.
    #[must_use]
    pub fn overall(&self) -> Request {
        Request {
            group: GroupBy::All,
            period: None,
            ..self.clone()
        }
    }

    /// The filter the store counts by, in the deployment's time zone.
    pub fn filter(&self, tz: &jiff::tz::TimeZone) -> MetricsFilter {
        let (start, end) = day_range(self.from, self.to, tz);
        MetricsFilter {
            from_day: day_number(self.from),
            to_day: day_number(self.to),
            from_ms: start.as_millisecond(),
            to_ms: end.as_millisecond(),
            dims: self.dims.clone(),
        }
    }

    /// The period of the same length just before this one.
    #[must_use]
    pub fn previous(&self) -> Request {
        let days = day_number(self.to) - day_number(self.from) + 1;
        Request {
            from: date_of_day(day_number(self.from) - days),
            to: date_of_day(day_number(self.from) - 1),
            ..self.clone()
        }
    }
}

/// One group's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The group: a courier id, a city, a partner, `new`/`repeat`, a survey
    /// id, a channel, a date (`YYYY-MM-DD`; a week by its Monday), a month
    /// (`YYYY-MM`), or `all`.
    pub key: String,
    /// A name for people (the courier's or the survey's name), else the key.
    pub label: String,
    /// With a two-level grouping (`courier,week`): the period within the group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// Rank among the groups by the lower bound of the NPS interval (1 is
    /// best); none for groups with too few answers or time groups.
    pub rank: Option<usize>,
    /// In a grouping by courier: the self-filling signals his answers show
    /// over the period (`fast`, `tens`, …; see `/couriers/{id}`), so that no
    /// ranking puts a courier who answers for his customers first unmarked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub self_filling_signals: Vec<&'static str>,
    #[serde(flatten)]
    pub scores: Scores,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub from: String,
    pub to: String,
    pub group_by: String,
    pub refusal_policy: &'static str,
    /// `rollup` or `courier_rollup`.
    pub source: &'static str,
    pub groups: Vec<Group>,
}

/// Groups below which an answer is written by one thread.
const PARALLEL_JSON_GROUPS: usize = 4_000;

impl Answer {
    /// The answer as JSON, byte for byte what `serde_json` writes, its groups
    /// written by every core at once when there are many (a year by courier
    /// and week is 26,000 groups, some 16 MB, a quarter of the request's
    /// time on one core).
    pub fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        if threads < 2 || self.groups.len() < PARALLEL_JSON_GROUPS {
            let mut body = Vec::with_capacity(1024 + self.groups.len() * 700);
            serde_json::to_writer(&mut body, self)?;
            return Ok(body);
        }
        // The answer without its groups ends in `[]}`: the groups go between.
        let mut body = serde_json::to_vec(&self.clone_head())?;
        body.truncate(body.len() - 2);
        let chunk = self.groups.len().div_ceil(threads);
        let parts: Vec<serde_json::Result<Vec<u8>>> = std::thread::scope(|scope| {
            let workers: Vec<_> = self
                .groups
                .chunks(chunk)
                .map(|groups| {
                    scope.spawn(move || {
                        let mut part = Vec::with_capacity(groups.len() * 700);
                        for (i, g) in groups.iter().enumerate() {
                            if i > 0 {
                                part.push(b',');
                            }
                            serde_json::to_writer(&mut part, g)?;
                        }
                        Ok(part)
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        body.reserve(
            parts
                .iter()
                .map(|p| p.as_ref().map_or(0, Vec::len) + 1)
                .sum::<usize>()
                + 2,
        );
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(&part?);
        }
        body.extend_from_slice(b"]}");
        Ok(body)
    }

    /// Everything but the groups.
    fn clone_head(&self) -> Answer {
        Answer {
            from: self.from.clone(),
            to: self.to.clone(),
            group_by: self.group_by.clone(),
            refusal_policy: self.refusal_policy,
            source: self.source,
            groups: Vec::new(),
        }
    }
}

/// Builds the weekly rows of the weeks that have ended and the daily rows
/// of the days that need it (a background job, every minute).
pub async fn build_rollups(store: &Store) -> Result<(), doorstep_store::StoreError> {
    let started = std::time::Instant::now();
    let tz = store.deployment().await?.tz();
    let now = jiff::Timestamp::now().as_millisecond();
    let (today, _) = doorstep_domain::time::local_day(now, &tz);
    let weeks = store.build_weeks(today).await?;
    let days = store.build_days(&tz, now, |_, _| {}).await?;
    if weeks + days > 0 {
        tracing::info!(
            weeks,
            days,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "rollups built"
        );
    }
    Ok(())
}

/// Folds the rollup increments the ingestion leaves pending into the daily
/// rows every `every` (queries fold them too before they read, so this only
/// keeps the pending rows few and the queries' work small).
pub fn spawn_pending_folder(store: Store, every: std::time::Duration) {
    crate::spawn_every(every, move || {
        let store = store.clone();
        async move {
            if let Err(e) = store.fold_pending().await {
                tracing::warn!(error = %e, "pending rollup increments could not be folded");
            }
        }
    });
}

/// Counts `req` and ranks the groups (a grouping by courier with each
/// courier's self-filling signals).
pub async fn compute(
    store: &Store,
    deployment: &Deployment,
    req: &Request,
) -> anyhow::Result<Answer> {
    compute_with(store, deployment, req, true).await
}

/// [`compute`] without the couriers' self-filling signals: scores only
/// (a period before, compared with).
pub async fn compute_scores(
    store: &Store,
    deployment: &Deployment,
    req: &Request,
) -> anyhow::Result<Answer> {
    compute_with(store, deployment, req, false).await
}

async fn compute_with(
    store: &Store,
    deployment: &Deployment,
    req: &Request,
    signals: bool,
) -> anyhow::Result<Answer> {
    let tz = deployment.tz();
    let filter = req.filter(&tz);
    // The independent reads at once (on SQLite each runs on its own
    // connection's thread).
    let ((source, tallies), deliveries, surveys, couriers, marks) = tokio::try_join!(
        async {
            store
                .metric_tallies(&filter, req.group, req.period)
                .await
                .map_err(anyhow::Error::from)
        },
        async {
            store
                .delivery_tallies(&filter, req.group, req.period)
                .await
                .map_err(anyhow::Error::from)
        },
        current_surveys(store),
        async {
            Ok::<HashMap<String, String>, anyhow::Error>(if req.group == GroupBy::Courier {
                store.courier_names().await?.into_iter().collect()
            } else {
                HashMap::new()
            })
        },
        async {
            Ok::<HashMap<String, Vec<&'static str>>, anyhow::Error>(
                if signals && req.group == GroupBy::Courier {
                    self_filling(store, req, &tz).await?
                } else {
                    HashMap::new()
                },
            )
        },
    )?;
    let policy = req.policy.unwrap_or(deployment.refusal_policy);
    let shared_scale = match &req.dims.survey {
        Some(id) => surveys
            .get(id)
            .and_then(|(_, d)| csi_scale(std::iter::once(d))),
        None => csi_scale(surveys.values().map(|(_, d)| d)),
    };
    // Deliveries (the on-time rate) by the same keys; a group with
    // deliveries but no answers is shown too.
    let deliveries: Option<HashMap<GroupKey, (i64, i64)>> = deliveries.map(|mut sums| {
        if req.group == GroupBy::Courier {
            // Orders without a courier are no courier's group.
            sums.retain(|k, _| !k.key.is_empty());
        }
        sums
    });
    let mut tallies = tallies;
    if let Some(d) = &deliveries {
        let known: std::collections::HashSet<&GroupKey> = tallies.iter().map(|(k, _)| k).collect();
        let missing: Vec<GroupKey> = d.keys().filter(|k| !known.contains(k)).cloned().collect();
        tallies.extend(missing.into_iter().map(|k| (k, Tally::default())));
    }
    let mut groups: Vec<Group> = tallies
        .into_iter()
        .map(|(key, tally)| {
            let counts = deliveries
                .as_ref()
                .map(|d| d.get(&key).copied().unwrap_or((0, 0)));
            let mut g = group(req, &surveys, &couriers, shared_scale, policy, key, &tally);
            if let Some(kinds) = marks.get(&g.key) {
                g.self_filling_signals.clone_from(kinds);
            }
            if let Some((delivered, on_time)) = counts {
                g.scores.set_deliveries(delivered, on_time);
            }
            g
        })
        .collect();
    if req.group.is_time() || req.period.is_some() {
        groups.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| a.period.cmp(&b.period)));
    } else {
        // Best adjusted lower bound first (METRICS.md: it cannot collapse
        // at the extremes); too few answers last, by size.
        groups.sort_by(|a, b| {
            let lb = |g: &Group| {
                if g.scores.too_few {
                    None
                } else {
                    g.scores.nps_rank_low
                }
            };
            lb(b)
                .partial_cmp(&lb(a))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(b.scores.nps_n.cmp(&a.scores.nps_n))
                .then_with(|| a.key.cmp(&b.key))
        });
        let mut rank = 0;
        for g in &mut groups {
            if !g.scores.too_few && g.scores.nps_rank_low.is_some() && groups_rankable(req.group) {
                rank += 1;
                g.rank = Some(rank);
            }
        }
    }
    Ok(Answer {
        from: req.from.to_string(),
        to: req.to.to_string(),
        group_by: match req.period {
            None => req.group.as_str().to_owned(),
            Some(p) => format!("{},{}", req.group.as_str(), p.as_str()),
        },
        refusal_policy: policy.as_str(),
        source: match source {
            Source::Rollup => "rollup",
            Source::CourierRollup => "courier_rollup",
        },
        groups,
    })
}

/// The self-filling signals of each courier over the request's days.
async fn self_filling(
    store: &Store,
    req: &Request,
    tz: &jiff::tz::TimeZone,
) -> anyhow::Result<HashMap<String, Vec<&'static str>>> {
    let patterns = store
        .courier_patterns(day_number(req.from), day_number(req.to), tz)
        .await?;
    Ok(doorstep_domain::survey::signals::assess(&patterns)
        .into_iter()
        .filter(|a| !a.signals.is_empty())
        .map(|a| {
            let kinds = a.signals.iter().map(|s| s.kind.as_str()).collect();
            (a.pattern.courier_id, kinds)
        })
        .collect())
}

fn groups_rankable(g: GroupBy) -> bool {
    !matches!(g, GroupBy::All) && !g.is_time()
}

fn group(
    req: &Request,
    surveys: &HashMap<String, (String, SurveyDefinition)>,
    couriers: &HashMap<String, String>,
    shared_scale: Option<(i64, i64)>,
    policy: RefusalPolicy,
    GroupKey { key, period }: GroupKey,
    tally: &Tally,
) -> Group {
    let period = period.and_then(|p| req.period.map(|g| time_key(g, &p)));
    let scale = if req.group == GroupBy::Survey {
        surveys
            .get(&key)
            .and_then(|(_, d)| csi_scale(std::iter::once(d)))
    } else {
        shared_scale
    };
    let scores = tally.scores(policy, scale);
    let (key, label) = match req.group {
        GroupBy::Day | GroupBy::Week => {
            let date = key
                .parse::<i64>()
                .map(date_of_day)
                .map(|d| d.to_string())
                .unwrap_or(key);
            (date.clone(), date)
        }
        GroupBy::Month => {
            let text = key
                .parse::<i64>()
                .map(|m| format!("{:04}-{:02}", m / 100, m % 100))
                .unwrap_or(key);
            (text.clone(), text)
        }
        GroupBy::Courier => {
            let label = couriers.get(&key).cloned().unwrap_or_else(|| key.clone());
            (key, label)
        }
        GroupBy::Survey => {
            let label = surveys
                .get(&key)
                .map_or_else(|| key.clone(), |(name, _)| name.clone());
            (key, label)
        }
        _ => (key.clone(), key),
    };
    Group {
        key,
        label,
        period,
        rank: None,
        self_filling_signals: Vec::new(),
        scores,
    }
}

/// A time key as people write it: `YYYY-MM-DD` (a week by its Monday) or `YYYY-MM`.
fn time_key(group: GroupBy, key: &str) -> String {
    match (group, key.parse::<i64>()) {
        (GroupBy::Month, Ok(m)) => format!("{:04}-{:02}", m / 100, m % 100),
        (GroupBy::Day | GroupBy::Week, Ok(d)) => date_of_day(d).to_string(),
        _ => key.to_owned(),
    }
}

/// Each survey's name and current definition, by id.
async fn current_surveys(
    store: &Store,
) -> anyhow::Result<HashMap<String, (String, SurveyDefinition)>> {
    Ok(store
        .surveys()
        .await?
        .into_iter()
        .filter_map(|r| {
            let d: SurveyDefinition = serde_json::from_str(&r.definition).ok()?;
            Some((r.id, (r.name, d)))
        })
        .collect())
}

/// The CSI scale shared by these surveys' CSI questions, if they share one.
fn csi_scale<'a>(surveys: impl Iterator<Item = &'a SurveyDefinition>) -> Option<(i64, i64)> {
    let mut found: Option<(i64, i64)> = None;
    for d in surveys {
        for q in &d.questions {
            if q.kind == QuestionType::Scale
                && q.measures.as_deref().and_then(Measure::parse) == Some(Measure::Csi)
            {
                let scale = (q.min.unwrap_or(1), q.max.unwrap_or(5));
                match found {
                    None => found = Some(scale),
                    Some(s) if s != scale => return None,
                    Some(_) => {}
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::{Answer, Group, PARALLEL_JSON_GROUPS};
    use doorstep_domain::survey::metrics::{RefusalPolicy, Tally};

    #[test]
    fn a_large_answer_written_on_every_core_is_what_serde_writes() {
        let groups: Vec<Group> = (0..PARALLEL_JSON_GROUPS * 2 + 7)
            .map(|i| {
                let n = i64::try_from(i).unwrap();
                let tally = Tally {
                    completed: n % 50,
                    refused: n % 7,
                    nps_n: n % 50,
                    promoters: n % 20,
                    detractors: n % 13,
                    passives: n % 50 - n % 20 - n % 13,
                    ..Tally::default()
                };
                Group {
                    key: format!("K-{i:04} \"q\""),
                    label: format!("Курьер {i}"),
                    period: (i % 3 > 0).then(|| format!("2026-{:02}-01", i % 12 + 1)),
                    rank: (i % 5 == 0).then_some(i),
                    self_filling_signals: if i % 9 == 0 { vec!["tens"] } else { Vec::new() },
                    scores: tally.scores(RefusalPolicy::Exclude, Some((1, 5))),
                }
            })
            .collect();
        let answer = Answer {
            from: "2026-01-01".into(),
            to: "2026-12-31".into(),
            group_by: "courier,week".into(),
            refusal_policy: "exclude",
            source: "courier_rollup",
            groups,
        };
        let parallel = answer.to_json().unwrap();
        assert_eq!(
            String::from_utf8(parallel).unwrap(),
            serde_json::to_string(&answer).unwrap()
        );
        let small = Answer {
            groups: answer.groups[..3].to_vec(),
            ..answer.clone()
        };
        assert_eq!(
            small.to_json().unwrap(),
            serde_json::to_vec(&small).unwrap()
        );
    }
}
