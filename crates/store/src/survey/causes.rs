//! Root causes: the vocabulary the quality manager keeps, each response's
//! causes (tagged as it arrives, again for all when the rules change, or by
//! hand), and the counts, trends and comments behind them.

use std::collections::HashMap;
use std::fmt::Write;

use doorstep_domain::survey::causes::{Tag, TagSource, Tagger, Vocabulary};
use doorstep_domain::survey::{CheckedAnswer, QuestionType};
use doorstep_domain::time::local_day;
use jiff::tz::TimeZone;

use crate::db::{sql, Tx};
use crate::survey::rollups::MetricsFilter;
use crate::{Store, StoreError};

const VOCABULARY_KEY: &str = "cause_vocabulary";

/// Where one response's causes are filed (copied from the response).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TagPlace {
    pub order_number: String,
    pub response_id: String,
    pub survey_id: String,
    pub city: String,
    pub partner: Option<String>,
    pub segment: String,
    pub channel: String,
    pub courier_id: Option<String>,
    pub finished_at: i64,
}

/// Writes one response's causes (after its old ones were removed).
pub(crate) async fn insert_tags(
    tx: &mut Tx<'_>,
    rows: &[(&TagPlace, i64, Option<u8>, &Tag)],
) -> Result<(), StoreError> {
    tx.exec_rows(
        "INSERT INTO response_causes (order_number, response_id, cause_id, source, day, survey_id, city, partner, \
         segment, channel, courier_id, nps) VALUES",
        12,
        "ON CONFLICT (order_number, response_id, cause_id) DO NOTHING",
        rows,
        |q, (p, day, nps, tag)| {
            q.push_arg(p.order_number.as_str());
            q.push_arg(p.response_id.as_str());
            q.push_arg(tag.cause_id.as_str());
            q.push_arg(tag.source.as_str());
            q.push_arg(*day);
            q.push_arg(p.survey_id.as_str());
            q.push_arg(p.city.as_str());
            q.push_arg(p.partner.as_deref().unwrap_or(""));
            q.push_arg(p.segment.as_str());
            q.push_arg(p.channel.as_str());
            q.push_arg(p.courier_id.as_deref());
            q.push_arg(nps.map(i64::from));
        },
    )
    .await?;
    Ok(())
}

/// One cause's count over a filter.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CauseCount {
    pub cause_id: String,
    /// Responses that name it.
    pub responses: i64,
    /// …of which detractors (NPS 0–6) and promoters (9–10).
    pub detractors: i64,
    pub promoters: i64,
}

/// A response behind a cause, as the comments list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct CauseComment {
    pub order_number: String,
    pub response_id: String,
    pub finished_at: i64,
    pub courier_id: Option<String>,
    pub city: String,
    pub tagged_by_hand: bool,
    pub nps: Option<f64>,
    /// Reason options chosen, by id.
    pub options: Vec<String>,
    /// Free text (comments and "other" texts).
    pub texts: Vec<String>,
    /// Its causes now.
    pub causes: Vec<Tag>,
}

#[derive(sqlx::FromRow)]
struct CommentHead {
    order_number: String,
    response_id: String,
    finished_at: i64,
    courier_id: Option<String>,
    city: String,
    tagged_by_hand: bool,
}

#[derive(sqlx::FromRow)]
struct TextAnswer {
    order_number: String,
    response_id: String,
    question_id: String,
    kind: String,
    number_value: Option<f64>,
    option_ids: Option<String>,
    text_value: Option<String>,
}

impl TextAnswer {
    fn checked(&self) -> Option<CheckedAnswer> {
        let kind: QuestionType =
            serde_json::from_value(serde_json::Value::String(self.kind.clone())).ok()?;
        Some(CheckedAnswer {
            question_id: self.question_id.clone(),
            kind,
            number: self.number_value,
            options: self
                .option_ids
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or_default(),
            text: self.text_value.clone(),
            flag: None,
        })
    }
}

/// Answer kinds causes are read from, and with the NPS answer beside them.
const CAUSE_KINDS: &str = "'single_choice', 'multi_choice', 'text'";
const CAUSE_KINDS_AND_NPS: &str = "'nps', 'single_choice', 'multi_choice', 'text'";

/// The answers of these orders of the given kinds (an SQL list).
async fn cause_answers_of(
    db: &crate::Db,
    orders: &[&str],
    kinds: &str,
) -> Result<HashMap<(String, String), Vec<CheckedAnswer>>, StoreError> {
    let rows: Vec<TextAnswer> = db
        .all_in(
            &format!(
                "SELECT order_number, response_id, question_id, kind, number_value, option_ids, text_value \
                 FROM answers WHERE kind IN ({kinds}) AND order_number IN"
            ),
            orders,
            "",
            |q, n| q.push_arg(*n),
        )
        .await?;
    let mut out: HashMap<(String, String), Vec<CheckedAnswer>> = HashMap::new();
    for row in rows {
        if let Some(a) = row.checked() {
            out.entry((row.order_number, row.response_id))
                .or_default()
                .push(a);
        }
    }
    Ok(out)
}

/// The answers causes are read from (NPS, choices, text), of these orders.
async fn cause_answers(
    db: &crate::Db,
    orders: &[&str],
) -> Result<HashMap<(String, String), Vec<CheckedAnswer>>, StoreError> {
    cause_answers_of(db, orders, CAUSE_KINDS_AND_NPS).await
}

fn nps_of(answers: &[CheckedAnswer]) -> Option<u8> {
    answers
        .iter()
        .find(|a| a.kind == QuestionType::Nps)
        .and_then(|a| a.number)
        .map(|n| n.clamp(0.0, 10.0) as u8)
}

/// Responses re-tagged per transaction.
const RETAG_PAGE: i64 = 2_000;

impl Store {
    /// The cause vocabulary; the standard one until the manager saves theirs.
    pub async fn vocabulary(&self) -> Result<Vocabulary, StoreError> {
        Ok(self
            .setting(VOCABULARY_KEY)
            .await?
            .and_then(|v| serde_json::from_str(&v).ok())
            .unwrap_or_else(Vocabulary::standard))
    }

    /// Saves the vocabulary (checked by the caller).
    pub async fn save_vocabulary(&self, v: &Vocabulary) -> Result<(), StoreError> {
        let text = serde_json::to_string(v).expect("a vocabulary is plain data");
        let mut tx = self.db.begin().await?;
        tx.exec(
            sql(crate::settings::UPSERT_SETTING)
                .bind(VOCABULARY_KEY)
                .bind(text),
        )
        .await?;
        // Every process puts the new rules in force when it sees this.
        self.commit_with_events(
            tx,
            &[crate::events::NewEvent::new(
                "causes.changed",
                &serde_json::json!({}),
            )],
        )
        .await?;
        Ok(())
    }

    /// Tags every response again with `tagger` (those tagged by hand keep
    /// their causes), a page per transaction; `progress` hears the
    /// responses done. Returns how many were read.
    pub async fn retag_all(
        &self,
        tagger: &Tagger,
        tz: &TimeZone,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, StoreError> {
        let mut done = 0_u64;
        let mut after: (i64, String) = (i64::MIN, String::new());
        loop {
            let page: Vec<TagPlace> = self
                .db
                .all(
                    sql("SELECT order_number, id AS response_id, survey_id, city, partner, segment, channel, \
                         courier_id, finished_at FROM responses \
                         WHERE finished_at >= $1 AND (finished_at > $2 OR id > $3) AND tagged_by_hand = FALSE \
                         ORDER BY finished_at, id LIMIT $4")
                    .bind(after.0)
                    .bind(after.0)
                    .bind(after.1.as_str())
                    .bind(RETAG_PAGE),
                )
                .await?;
            let Some(last) = page.last() else { break };
            after = (last.finished_at, last.response_id.clone());
            let mut orders: Vec<&str> = page.iter().map(|p| p.order_number.as_str()).collect();
            orders.sort_unstable();
            orders.dedup();
            let ids: Vec<&str> = page.iter().map(|p| p.response_id.as_str()).collect();
            // Choices and text first (most answers have neither); the NPS
            // answer only for the responses that name a cause.
            let answers = cause_answers_of(&self.db, &orders, CAUSE_KINDS).await?;
            let tagged: Vec<(&TagPlace, Vec<Tag>)> = page
                .iter()
                .filter_map(|p| {
                    let a = answers.get(&(p.order_number.clone(), p.response_id.clone()))?;
                    let tags = tagger.tag(a);
                    (!tags.is_empty()).then_some((p, tags))
                })
                .collect();
            let mut with_tags: Vec<&str> = tagged
                .iter()
                .map(|(p, _)| p.order_number.as_str())
                .collect();
            with_tags.sort_unstable();
            with_tags.dedup();
            let scores = if with_tags.is_empty() {
                HashMap::new()
            } else {
                cause_answers_of(&self.db, &with_tags, "'nps'").await?
            };
            let mut found = Vec::new();
            for (p, tags) in tagged {
                let (day, _) = local_day(p.finished_at, tz);
                let nps = scores
                    .get(&(p.order_number.clone(), p.response_id.clone()))
                    .and_then(|a| nps_of(a));
                for tag in tags {
                    found.push((p, day, nps, tag));
                }
            }
            let rows: Vec<_> = found.iter().map(|(p, d, n, t)| (*p, *d, *n, t)).collect();
            let mut tx = self.db.begin().await?;
            let mut text = String::from(
                "DELETE FROM response_causes WHERE source NOT IN ('hand', 'call') AND order_number IN (",
            );
            crate::db::list_placeholders(&mut text, orders.len(), 1);
            text.push_str(") AND response_id IN (");
            crate::db::list_placeholders(&mut text, ids.len(), orders.len() + 1);
            text.push(')');
            let mut q = sql(text);
            for o in &orders {
                q.push_arg(*o);
            }
            for id in &ids {
                q.push_arg(*id);
            }
            tx.exec(q).await?;
            insert_tags(&mut tx, &rows).await?;
            tx.commit().await?;
            done += page.len() as u64;
            progress(done);
        }
        Ok(done)
    }

    /// Sets one response's causes by hand (`by_hand`), or hands it back to
    /// the rules (`tagger` decides them again). `false` if no such response.
    pub async fn set_response_causes(
        &self,
        order_number: &str,
        response_id: &str,
        causes: Option<&[String]>,
        tagger: &Tagger,
        tz: &TimeZone,
    ) -> Result<bool, StoreError> {
        let place: Option<TagPlace> = self
            .db
            .opt(
                sql("SELECT order_number, id AS response_id, survey_id, city, partner, segment, channel, \
                     courier_id, finished_at FROM responses WHERE order_number = $1 AND id = $2")
                .bind(order_number)
                .bind(response_id),
            )
            .await?;
        let Some(place) = place else {
            return Ok(false);
        };
        let answers = cause_answers(&self.db, &[order_number])
            .await?
            .remove(&(order_number.to_owned(), response_id.to_owned()))
            .unwrap_or_default();
        let tags: Vec<Tag> = match causes {
            Some(list) => list
                .iter()
                .map(|c| Tag {
                    cause_id: c.clone(),
                    source: TagSource::Hand,
                })
                .collect(),
            None => tagger.tag(&answers),
        };
        let (day, _) = local_day(place.finished_at, tz);
        let nps = nps_of(&answers);
        let rows: Vec<_> = tags.iter().map(|t| (&place, day, nps, t)).collect();
        let mut tx = self.db.begin().await?;
        tx.exec(
            sql("DELETE FROM response_causes WHERE order_number = $1 AND response_id = $2")
                .bind(order_number)
                .bind(response_id),
        )
        .await?;
        tx.exec(
            sql("UPDATE responses SET tagged_by_hand = $1 WHERE order_number = $2 AND id = $3")
                .bind(causes.is_some())
                .bind(order_number)
                .bind(response_id),
        )
        .await?;
        insert_tags(&mut tx, &rows).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// How many responses name each cause over a filter.
    pub async fn cause_counts(
        &self,
        filter: &MetricsFilter,
    ) -> Result<Vec<CauseCount>, StoreError> {
        let mut text = String::from(
            "SELECT cause_id, COUNT(*) AS responses, \
             COALESCE(SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END), 0) AS detractors, \
             COALESCE(SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END), 0) AS promoters \
             FROM response_causes WHERE day >= $1 AND day <= $2",
        );
        let values = filter.clause(&mut text, "", 3);
        text.push_str(" GROUP BY cause_id ORDER BY 2 DESC, 1");
        let mut q = sql(text).bind(filter.from_day).bind(filter.to_day);
        for v in values {
            q.push_arg(v);
        }
        self.db.all(q).await
    }

    /// Each cause's count per week (the week's Monday as a day number).
    pub async fn cause_weeks(
        &self,
        filter: &MetricsFilter,
    ) -> Result<Vec<(String, i64, i64)>, StoreError> {
        let mut text = String::from(
            "SELECT cause_id, day - ((day + 3) % 7) AS week, COUNT(*) AS n \
             FROM response_causes WHERE day >= $1 AND day <= $2",
        );
        let values = filter.clause(&mut text, "", 3);
        text.push_str(" GROUP BY 1, 2 ORDER BY 1, 2");
        let mut q = sql(text).bind(filter.from_day).bind(filter.to_day);
        for v in values {
            q.push_arg(v);
        }
        self.db.all(q).await
    }

    /// The latest responses naming `cause` over a filter (`None`: those with
    /// free text and no cause at all), newest first, with what they said.
    pub async fn cause_comments(
        &self,
        filter: &MetricsFilter,
        cause: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<CauseComment>, StoreError> {
        let heads: Vec<CommentHead> = if let Some(cause) = cause {
            let mut text = String::from(
                "SELECT r.order_number, r.id AS response_id, r.finished_at, r.courier_id, r.city, r.tagged_by_hand \
                 FROM response_causes rc JOIN responses r ON r.order_number = rc.order_number AND r.id = rc.response_id \
                 WHERE rc.cause_id = $1 AND rc.day >= $2 AND rc.day <= $3",
            );
            let values = filter.clause(&mut text, "rc.", 4);
            let _ = write!(
                text,
                " ORDER BY r.finished_at DESC, r.id LIMIT ${} OFFSET ${}",
                4 + values.len(),
                5 + values.len()
            );
            let mut q = sql(text)
                .bind(cause)
                .bind(filter.from_day)
                .bind(filter.to_day);
            for v in values {
                q.push_arg(v);
            }
            self.db.all(q.bind(limit).bind(offset)).await?
        } else {
            let mut text = String::from(
                "SELECT r.order_number, r.id AS response_id, r.finished_at, r.courier_id, r.city, r.tagged_by_hand \
                 FROM responses r WHERE r.finished_at >= $1 AND r.finished_at < $2",
            );
            let values = filter.clause(&mut text, "r.", 3);
            let _ = write!(
                text,
                " AND EXISTS (SELECT 1 FROM answers a WHERE a.order_number = r.order_number AND a.response_id = r.id \
                   AND a.text_value IS NOT NULL AND a.kind IN ('text', 'single_choice', 'multi_choice')) \
                 AND NOT EXISTS (SELECT 1 FROM response_causes c WHERE c.order_number = r.order_number \
                   AND c.response_id = r.id) \
                 ORDER BY r.finished_at DESC, r.id LIMIT ${} OFFSET ${}",
                3 + values.len(),
                4 + values.len()
            );
            let mut q = sql(text).bind(filter.from_ms).bind(filter.to_ms);
            for v in values {
                q.push_arg(v);
            }
            self.db.all(q.bind(limit).bind(offset)).await?
        };
        if heads.is_empty() {
            return Ok(Vec::new());
        }
        let mut orders: Vec<&str> = heads.iter().map(|h| h.order_number.as_str()).collect();
        orders.sort_unstable();
        orders.dedup();
        let mut answers = cause_answers(&self.db, &orders).await?;
        let tags: Vec<(String, String, String, String)> = self
            .db
            .all_in(
                "SELECT order_number, response_id, cause_id, source FROM response_causes WHERE order_number IN",
                &orders,
                "",
                |q, n| q.push_arg(*n),
            )
            .await?;
        let mut by_response: HashMap<(String, String), Vec<Tag>> = HashMap::new();
        for (order, response, cause_id, source) in tags {
            by_response.entry((order, response)).or_default().push(Tag {
                cause_id,
                source: TagSource::parse(&source),
            });
        }
        Ok(heads
            .into_iter()
            .map(|h| {
                let key = (h.order_number.clone(), h.response_id.clone());
                let given = answers.remove(&key).unwrap_or_default();
                let mut causes = by_response.remove(&key).unwrap_or_default();
                causes.sort();
                CauseComment {
                    nps: given
                        .iter()
                        .find(|a| a.kind == QuestionType::Nps)
                        .and_then(|a| a.number),
                    options: given.iter().flat_map(|a| a.options.clone()).collect(),
                    texts: given
                        .iter()
                        .filter_map(|a| a.text.clone())
                        .filter(|t| !t.trim().is_empty())
                        .collect(),
                    causes,
                    order_number: h.order_number,
                    response_id: h.response_id,
                    finished_at: h.finished_at,
                    courier_id: h.courier_id,
                    city: h.city,
                    tagged_by_hand: h.tagged_by_hand,
                }
            })
            .collect())
    }
}
