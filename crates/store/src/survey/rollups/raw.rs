//! The raw recount: tallies counted straight from the stored answers, for
//! the queries the rollups cannot answer, the rebuild and the tests.

use std::collections::{BTreeMap, HashMap};

use doorstep_domain::survey::metrics::{facts, Facts, Tally};
use doorstep_domain::survey::{CheckedAnswer, ResponseStatus, SurveyDefinition};
use doorstep_domain::time::{local_day, week_start};
use jiff::tz::TimeZone;

use crate::db::{sql, Sql, Tx};
use crate::{Store, StoreError};

use super::{GroupBy, GroupKey, MetricsFilter, RollupKey};

/// The same key for a raw response; `None` where it has none (no courier).
pub(super) fn raw_key(group: GroupBy, r: &RawResponse, day: i64, month: i64) -> Option<String> {
    Some(match group {
        GroupBy::All => "all".to_owned(),
        GroupBy::Courier => r.courier_id.clone()?,
        GroupBy::City => r.city.clone(),
        GroupBy::Partner => r.partner.clone().unwrap_or_default(),
        GroupBy::Segment => r.segment.clone(),
        GroupBy::Survey => r.survey_id.clone(),
        GroupBy::Channel => r.channel.clone(),
        GroupBy::Day => day.to_string(),
        GroupBy::Week => week_start(day).to_string(),
        GroupBy::Month => month.to_string(),
    })
}

pub(super) const PAGE: i64 = 5_000;

/// One response as the rollups need it.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct RawResponse {
    pub(super) order_number: String,
    pub(super) id: String,
    pub(super) survey_id: String,
    pub(super) survey_version: i64,
    pub(super) status: String,
    pub(super) channel: String,
    pub(super) courier_id: Option<String>,
    pub(super) city: String,
    pub(super) partner: Option<String>,
    pub(super) segment: String,
    pub(super) finished_at: i64,
}

impl RawResponse {
    pub(super) fn key(&self, day: i64, month: i64) -> RollupKey {
        RollupKey {
            day,
            month,
            survey_id: self.survey_id.clone(),
            city: self.city.clone(),
            partner: self.partner.clone().unwrap_or_default(),
            segment: self.segment.clone(),
            channel: self.channel.clone(),
            courier_id: self.courier_id.clone(),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct RawAnswer {
    order_number: String,
    response_id: String,
    question_id: String,
    number_value: Option<f64>,
}

/// Reads from the pool, or inside a transaction.
pub(super) enum Reader<'a> {
    Db(&'a crate::Db),
    Tx(&'a mut Tx<'static>),
}

impl Reader<'_> {
    async fn all<T: crate::db::Record>(&mut self, q: Sql) -> Result<Vec<T>, StoreError> {
        match self {
            Reader::Db(db) => db.all(q).await,
            Reader::Tx(tx) => tx.all(q).await,
        }
    }

    async fn all_in<R: crate::db::Record, K>(
        &mut self,
        head: &str,
        keys: &[K],
        bind: impl Fn(&mut Sql, &K),
    ) -> Result<Vec<R>, StoreError> {
        match self {
            Reader::Db(db) => db.all_in(head, keys, "", bind).await,
            Reader::Tx(tx) => tx.all_in(head, keys, "", bind).await,
        }
    }
}

/// The next page of responses after `after` (finish time, id) and their answers.
pub(super) async fn next_page(
    tx: &mut Reader<'_>,
    from_ms: i64,
    to_ms: i64,
    after: Option<&(i64, String)>,
) -> Result<Vec<(RawResponse, Vec<RawAnswer>)>, StoreError> {
    const COLUMNS: &str = "order_number, id, survey_id, survey_version, status, channel, courier_id, city, partner, segment, finished_at";
    let q = match after {
        None => sql(format!(
            "SELECT {COLUMNS} FROM responses WHERE finished_at >= $1 AND finished_at < $2 \
             ORDER BY finished_at, id LIMIT $3"
        ))
        .bind(from_ms)
        .bind(to_ms)
        .bind(PAGE),
        Some((at, id)) => sql(format!(
            "SELECT {COLUMNS} FROM responses WHERE finished_at >= $1 AND finished_at < $2 \
             AND (finished_at > $3 OR (finished_at = $4 AND id > $5)) \
             ORDER BY finished_at, id LIMIT $6"
        ))
        // The lower bound alone is what lets the index on finish time start
        // at the page's place; the OR keeps ties in order.
        .bind(from_ms.max(*at))
        .bind(to_ms)
        .bind(*at)
        .bind(*at)
        .bind(id.as_str())
        .bind(PAGE),
    };
    let responses: Vec<RawResponse> = tx.all(q).await?;
    if responses.is_empty() {
        return Ok(Vec::new());
    }
    let mut numbers: Vec<&str> = responses.iter().map(|r| r.order_number.as_str()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let answers: Vec<RawAnswer> = tx
        .all_in(
            "SELECT order_number, response_id, question_id, number_value FROM answers \
             WHERE number_value IS NOT NULL AND order_number IN",
            &numbers,
            |q, n| q.push_arg(*n),
        )
        .await?;
    let mut by_response: HashMap<(String, String), Vec<RawAnswer>> = HashMap::new();
    for a in answers {
        by_response
            .entry((a.order_number.clone(), a.response_id.clone()))
            .or_default()
            .push(a);
    }
    Ok(responses
        .into_iter()
        .map(|r| {
            let answers = by_response
                .remove(&(r.order_number.clone(), r.id.clone()))
                .unwrap_or_default();
            (r, answers)
        })
        .collect())
}

/// A raw response's status and facts, from the survey version it answered.
pub(super) fn response_facts(
    surveys: &HashMap<(String, i64), SurveyDefinition>,
    r: &RawResponse,
    answers: &[RawAnswer],
) -> (ResponseStatus, Facts) {
    let status = ResponseStatus::from_stored(&r.status);
    let Some(survey) = surveys.get(&(r.survey_id.clone(), r.survey_version)) else {
        return (status, Facts::default());
    };
    let checked: Vec<CheckedAnswer> = answers
        .iter()
        .filter_map(|a| {
            let q = survey.question(&a.question_id)?;
            Some(CheckedAnswer {
                question_id: a.question_id.clone(),
                kind: q.kind,
                number: a.number_value,
                options: Vec::new(),
                text: None,
                flag: None,
            })
        })
        .collect();
    (status, facts(survey, &checked))
}

impl Store {
    /// Counts a query straight from the raw responses and answers, each
    /// response's facts worked out again from the survey version it
    /// answered: the rollups' fallback and their check.
    pub async fn direct_tallies(
        &self,
        filter: &MetricsFilter,
        group: GroupBy,
        period: Option<GroupBy>,
        tz: &TimeZone,
    ) -> Result<BTreeMap<GroupKey, Tally>, StoreError> {
        let surveys = self.survey_versions().await?;
        let mut out: BTreeMap<GroupKey, Tally> = BTreeMap::new();
        self.scan_responses(filter.from_ms, filter.to_ms, |r, answers| {
            if !filter.admits(r) {
                return;
            }
            let (day, month) = local_day(r.finished_at, tz);
            if day < filter.from_day || day > filter.to_day {
                return;
            }
            let Some(key) = raw_key(group, r, day, month) else {
                return;
            };
            let key = match period {
                None => GroupKey::of(key),
                Some(p) => {
                    let Some(second) = raw_key(p, r, day, month) else {
                        return;
                    };
                    GroupKey {
                        // The one group of everything is '' in the rollups.
                        key: if group == GroupBy::All {
                            String::new()
                        } else {
                            key
                        },
                        period: Some(second),
                    }
                }
            };
            let (status, f) = response_facts(&surveys, r, answers);
            out.entry(key).or_default().add(status, &f);
        })
        .await?;
        Ok(out)
    }

    /// Every survey version, parsed.
    pub(super) async fn survey_versions(
        &self,
    ) -> Result<HashMap<(String, i64), SurveyDefinition>, StoreError> {
        let rows: Vec<(String, i64, String)> = self
            .db
            .all(sql(
                "SELECT survey_id, version, definition FROM survey_versions",
            ))
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, v, d)| Some(((id, v), serde_json::from_str(&d).ok()?)))
            .collect())
    }

    /// Calls `each` with every response finished in `[from_ms, to_ms)` and
    /// its answers, a page at a time (memory stays bounded).
    pub(super) async fn scan_responses(
        &self,
        from_ms: i64,
        to_ms: i64,
        mut each: impl FnMut(&RawResponse, &[RawAnswer]),
    ) -> Result<(), StoreError> {
        let mut after: Option<(i64, String)> = None;
        loop {
            let page = next_page(&mut Reader::Db(&self.db), from_ms, to_ms, after.as_ref()).await?;
            let Some(last) = page.last() else { break };
            after = Some((last.0.finished_at, last.0.id.clone()));
            for (r, answers) in &page {
                each(r, answers);
            }
        }
        Ok(())
    }
}
