//! Survey definitions with their versions, and responses with their answers,
//! stored exactly once; and everything worked out from them: the rollups
//! behind every score ([`rollups`], with the delivery rollup behind the
//! on-time rate in `deliveries` and the caches of built weeks and days in
//! `week_cache`), the per-day builds ([`day_builds`]), root causes
//! ([`causes`]), attachments and report schedules.

pub mod attachments;
pub mod causes;
pub mod day_builds;
pub(crate) mod deliveries;
pub mod rollups;
pub mod schedules;
pub(crate) mod week_cache;

use std::collections::{HashMap, HashSet};

use doorstep_domain::order::Segment;
use doorstep_domain::survey::{CheckedAnswer, ResponseStatus};

use crate::db::{sql, Tx};
use crate::{now_millis, Store, StoreError};

/// A survey at one version; `definition` is its JSON.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SurveyRecord {
    pub id: String,
    pub name: String,
    pub version: i64,
    pub definition: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A checked response, ready to store.
#[derive(Debug, Clone)]
pub struct NewResponse {
    pub id: String,
    pub order_number: String,
    pub survey_id: String,
    pub survey_version: i64,
    pub status: doorstep_domain::survey::ResponseStatus,
    pub channel: doorstep_domain::survey::Channel,
    pub mode: Option<String>,
    pub language: Option<String>,
    pub token_id: Option<String>,
    pub started_at: i64,
    pub finished_at: i64,
    pub content_hash: String,
    pub answers: Vec<CheckedAnswer>,
    /// The review link a promoter opened, if any.
    pub review_opened: Option<String>,
    /// Whether the customer agreed to a recording of the conversation
    /// (`None`: the survey records none).
    pub recording_consent: Option<bool>,
    /// The local day (days since 1970-01-01 in the deployment's time zone)
    /// and month (`yyyymm`) it finished in: its place in the rollups.
    pub day: i64,
    pub month: i64,
    /// What it adds to the scores.
    pub facts: doorstep_domain::survey::metrics::Facts,
    /// Its causes of discontent and delight, by the vocabulary's rules.
    pub causes: Vec<doorstep_domain::survey::causes::Tag>,
}

/// What became of one response of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseOutcome {
    Stored,
    /// The same id with the same content was stored before: nothing new.
    Duplicate,
    /// The same id was stored before with other content.
    Conflict,
    UnknownOrder,
    /// A terminal answered for an order of another courier.
    OtherCouriersOrder,
    /// The order already has a response to this survey (another id).
    AlreadySurveyed,
    /// Started more than a day before the order's promised window opened
    /// (its start, in ms): a wrong clock, or an answer for another order.
    StartedBeforeOrder(i64),
}

/// How long before an order's promised window its survey may start (a
/// courier early, a customer's clock a little off).
const EARLIEST_BEFORE_ORDER_MS: i64 = 24 * 60 * 60 * 1000;

const SURVEY_COLUMNS: &str = "s.id, s.name, v.version, v.definition, s.created_at, s.updated_at";

impl Store {
    /// Publishes a new survey at version 1; a taken id is a unique violation.
    pub async fn create_survey(
        &self,
        id: &str,
        name: &str,
        definition: &str,
    ) -> Result<SurveyRecord, StoreError> {
        let now = now_millis();
        let mut tx = self.db.begin().await?;
        tx.exec(
            sql("INSERT INTO surveys (id, name, current_version, created_at, updated_at) VALUES ($1, $2, 1, $3, $3)")
                .bind(id)
                .bind(name)
                .bind(now),
        )
        .await?;
        tx.exec(
            sql("INSERT INTO survey_versions (survey_id, version, definition, created_at) VALUES ($1, 1, $2, $3)")
                .bind(id)
                .bind(definition)
                .bind(now),
        )
        .await?;
        self.commit_with_events(
            tx,
            &[crate::events::NewEvent::new(
                "survey.published",
                &serde_json::json!({ "id": id }),
            )],
        )
        .await?;
        Ok(SurveyRecord {
            id: id.to_owned(),
            name: name.to_owned(),
            version: 1,
            definition: definition.to_owned(),
            created_at: now,
            updated_at: now,
        })
    }

    /// Publishes the next version of a survey; `None` if there is no such survey.
    pub async fn publish_survey_version(
        &self,
        id: &str,
        name: &str,
        definition: &str,
    ) -> Result<Option<SurveyRecord>, StoreError> {
        let now = now_millis();
        let mut tx = self.db.begin().await?;
        let next: Option<(i64, i64)> = tx
            .opt(
                sql("UPDATE surveys SET current_version = current_version + 1, name = $2, updated_at = $3 \
                     WHERE id = $1 RETURNING current_version, created_at")
                .bind(id)
                .bind(name)
                .bind(now),
            )
            .await?;
        let Some((version, created_at)) = next else {
            return Ok(None);
        };
        tx.exec(
            sql("INSERT INTO survey_versions (survey_id, version, definition, created_at) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(version)
                .bind(definition)
                .bind(now),
        )
        .await?;
        self.commit_with_events(
            tx,
            &[crate::events::NewEvent::new(
                "survey.published",
                &serde_json::json!({ "id": id }),
            )],
        )
        .await?;
        Ok(Some(SurveyRecord {
            id: id.to_owned(),
            name: name.to_owned(),
            version,
            definition: definition.to_owned(),
            created_at,
            updated_at: now,
        }))
    }

    /// Every survey at its current version, by name.
    pub async fn surveys(&self) -> Result<Vec<SurveyRecord>, StoreError> {
        self.db
            .all(sql(format!(
                "SELECT {SURVEY_COLUMNS} FROM surveys s \
                 JOIN survey_versions v ON v.survey_id = s.id AND v.version = s.current_version ORDER BY s.name, s.id"
            )))
            .await
    }

    /// One survey at one version (`None` for its current one).
    pub async fn survey(
        &self,
        id: &str,
        version: Option<i64>,
    ) -> Result<Option<SurveyRecord>, StoreError> {
        self.db
            .opt(
                sql(format!(
                    "SELECT {SURVEY_COLUMNS} FROM surveys s JOIN survey_versions v ON v.survey_id = s.id \
                     AND v.version = COALESCE($2, s.current_version) WHERE s.id = $1"
                ))
                .bind(id)
                .bind(version),
            )
            .await
    }

    /// Stores a batch of checked responses in one transaction, each exactly
    /// once. `courier` limits the orders to one courier's (a terminal);
    /// `today` is the local day now, in the time zone the responses' days
    /// were reckoned in (an answer for an earlier day marks that day to be
    /// built again). One outcome per response, in order.
    ///
    /// The database decides what is new: a response is inserted with
    /// `ON CONFLICT DO NOTHING` against the unique id and the unique (order,
    /// survey), and only the rows it actually inserted add their answers,
    /// causes and counts. A concurrent request storing the same answer —
    /// a resend while the first is still running, on this server or
    /// another — waits for that one and is then told `Duplicate`,
    /// `Conflict` or `AlreadySurveyed` from what was committed.
    pub async fn store_responses(
        &self,
        items: &[NewResponse],
        courier: Option<&str>,
        today: i64,
    ) -> Result<Vec<ResponseOutcome>, StoreError> {
        self.store_responses_of(items, &vec![courier; items.len()], today)
            .await
    }

    /// [`Store::store_responses`] with each response's own courier limit
    /// (`couriers[i]` for `items[i]`): several requests' responses stored
    /// in one transaction (group commit), each as its request asked.
    pub async fn store_responses_of(
        &self,
        items: &[NewResponse],
        couriers: &[Option<&str>],
        today: i64,
    ) -> Result<Vec<ResponseOutcome>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut writer = self.db.writer().await?;
        self.store_responses_on(&mut writer, items, couriers, today)
            .await
    }

    /// [`Store::store_responses_of`] on a write connection the caller holds
    /// (a committer with more work waiting: see [`crate::db::Writer`]).
    pub async fn store_responses_on(
        &self,
        writer: &mut crate::db::Writer,
        items: &[NewResponse],
        couriers: &[Option<&str>],
        today: i64,
    ) -> Result<Vec<ResponseOutcome>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        assert_eq!(items.len(), couriers.len(), "a courier limit per response");
        // As crate::db::retry_aborted does, with the connection lent to
        // each try. Impatient: clients send a refused batch again, better
        // refused after a while than holding a connection for a whole
        // rollups rebuild.
        let mut tries = 1;
        loop {
            let tx = writer.begin_impatient().await?;
            match self.store_responses_in(tx, items, couriers, today).await {
                Err(e) if e.is_aborted() && tries < crate::db::ABORTED_TRIES => {
                    crate::db::pause_after_abort(&e, tries).await;
                    tries += 1;
                }
                other => return other,
            }
        }
    }

    /// The write connection, for [`Store::store_responses_on`].
    pub async fn writer(&self) -> Result<crate::db::Writer, StoreError> {
        self.db.writer().await
    }

    async fn store_responses_in(
        &self,
        mut tx: Tx<'_>,
        items: &[NewResponse],
        couriers: &[Option<&str>],
        today: i64,
    ) -> Result<Vec<ResponseOutcome>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Known {
            id: String,
            content_hash: String,
        }
        #[derive(sqlx::FromRow)]
        struct OrderFacts {
            order_number: String,
            courier_id: Option<String>,
            city: String,
            partner: Option<String>,
            delivered_at: Option<i64>,
            promised_from: i64,
            first_order: bool,
            customer_phone: String,
            vip: bool,
        }
        let numbers: Vec<&str> = items
            .iter()
            .map(|i| i.order_number.as_str())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let facts: Vec<OrderFacts> = tx
            .all_in(
                "SELECT o.order_number, o.courier_id, o.city, o.partner, o.delivered_at, o.promised_from, \
                 COALESCE(c.first_order_number = o.order_number, FALSE) AS first_order, \
                 o.customer_phone, COALESCE(c.vip, FALSE) AS vip \
                 FROM orders o JOIN customers c ON c.phone = o.customer_phone WHERE o.order_number IN",
                &numbers,
                "",
                |q, n| q.push_arg(*n),
            )
            .await?;
        let facts: HashMap<&str, &OrderFacts> =
            facts.iter().map(|f| (f.order_number.as_str(), f)).collect();
        // What was committed before: most resends are answered from these
        // reads alone. The orders' surveys are read before the ids, so that
        // a response committed in between (each read sees what was
        // committed when it began, on PostgreSQL) shows by its id too, and
        // is answered as a duplicate rather than as another response.
        let surveyed: Vec<(String, String)> = tx
            .all_in(
                "SELECT order_number, survey_id FROM responses WHERE order_number IN",
                &numbers,
                "",
                |q, n| q.push_arg(*n),
            )
            .await?;
        let mut surveyed: HashSet<(String, String)> = surveyed.into_iter().collect();
        let ids: Vec<&str> = items
            .iter()
            .map(|i| i.id.as_str())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let known: Vec<Known> = tx
            .all_in(
                "SELECT id, content_hash FROM responses WHERE id IN",
                &ids,
                "",
                |q, id| q.push_arg(*id),
            )
            .await?;
        let mut hashes: HashMap<String, String> =
            known.into_iter().map(|k| (k.id, k.content_hash)).collect();

        let now = now_millis();
        let mut outcomes = Vec::with_capacity(items.len());
        // (position in `items`, response, its order)
        let mut candidates: Vec<(usize, &NewResponse, &OrderFacts)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if let Some(hash) = hashes.get(&item.id) {
                outcomes.push(if *hash == item.content_hash {
                    ResponseOutcome::Duplicate
                } else {
                    ResponseOutcome::Conflict
                });
                continue;
            }
            let Some(order) = facts.get(item.order_number.as_str()) else {
                outcomes.push(ResponseOutcome::UnknownOrder);
                continue;
            };
            let courier = couriers[i];
            if courier.is_some() && order.courier_id.as_deref() != courier {
                outcomes.push(ResponseOutcome::OtherCouriersOrder);
                continue;
            }
            if item.started_at < order.promised_from - EARLIEST_BEFORE_ORDER_MS {
                outcomes.push(ResponseOutcome::StartedBeforeOrder(order.promised_from));
                continue;
            }
            // An order is asked each survey once (a refusal counts as asked).
            if !surveyed.insert((item.order_number.clone(), item.survey_id.clone())) {
                outcomes.push(ResponseOutcome::AlreadySurveyed);
                continue;
            }
            hashes.insert(item.id.clone(), item.content_hash.clone());
            outcomes.push(ResponseOutcome::Stored);
            candidates.push((i, item, order));
        }
        // Inserted in id order, so that two requests holding the same ids
        // take the unique index's locks in the same order.
        candidates.sort_unstable_by(|a, b| a.1.id.cmp(&b.1.id));
        let inserted: Vec<(String,)> = tx
            .all_rows(
                "INSERT INTO responses (order_number, id, survey_id, survey_version, status, channel, mode, language, token_id, \
                 courier_id, city, partner, segment, delivered_at, started_at, finished_at, duration_ms, photo_taken, \
                 content_hash, received_at, review_opened, answer_signature, photo_asked, recording_consent) VALUES",
                24,
                "ON CONFLICT DO NOTHING RETURNING id",
                &candidates,
                |q, (_, r, o)| {
                    q.push_arg(r.order_number.as_str());
                    q.push_arg(r.id.as_str());
                    q.push_arg(r.survey_id.as_str());
                    q.push_arg(r.survey_version);
                    q.push_arg(r.status.as_str());
                    q.push_arg(r.channel.as_str());
                    q.push_arg(r.mode.as_deref());
                    q.push_arg(r.language.as_deref());
                    q.push_arg(r.token_id.as_deref());
                    q.push_arg(o.courier_id.as_deref());
                    q.push_arg(o.city.as_str());
                    q.push_arg(o.partner.as_deref());
                    q.push_arg(Segment::of_order(o.first_order).as_str());
                    q.push_arg(o.delivered_at);
                    q.push_arg(r.started_at);
                    q.push_arg(r.finished_at);
                    q.push_arg((r.finished_at - r.started_at).max(0));
                    q.push_arg(r.answers.iter().any(|a| a.kind == doorstep_domain::survey::QuestionType::Photo));
                    q.push_arg(r.content_hash.as_str());
                    q.push_arg(now);
                    q.push_arg(r.review_opened.as_deref());
                    q.push_arg(if r.status == ResponseStatus::Completed {
                        doorstep_domain::survey::answer_signature(&r.answers)
                    } else {
                        None
                    });
                    q.push_arg(r.answers.iter().any(|a| {
                        a.kind == doorstep_domain::survey::QuestionType::Consent && a.flag == Some(true)
                    }));
                    q.push_arg(crate::db::Arg::Bool(r.recording_consent));
                },
            )
            .await?;
        let inserted: HashSet<String> = inserted.into_iter().map(|(id,)| id).collect();
        let (fresh, raced): (Vec<_>, Vec<_>) = candidates
            .into_iter()
            .partition(|(_, r, _)| inserted.contains(&r.id));
        if !raced.is_empty() {
            // Committed by a concurrent request since the reads above (the
            // insert waited for it): the same id, or the same order and survey.
            let ids: Vec<&str> = raced.iter().map(|(_, r, _)| r.id.as_str()).collect();
            let won: HashMap<String, String> = tx
                .all_in(
                    "SELECT id, content_hash FROM responses WHERE id IN",
                    &ids,
                    "",
                    |q, id| q.push_arg(*id),
                )
                .await?
                .into_iter()
                .map(|k: Known| (k.id, k.content_hash))
                .collect();
            for (i, r, _) in &raced {
                outcomes[*i] = match won.get(&r.id) {
                    Some(hash) if *hash == r.content_hash => ResponseOutcome::Duplicate,
                    Some(_) => ResponseOutcome::Conflict,
                    None => ResponseOutcome::AlreadySurveyed,
                };
            }
        }
        let fresh: Vec<(&NewResponse, &OrderFacts)> =
            fresh.into_iter().map(|(_, r, o)| (r, o)).collect();
        let answers: Vec<(&NewResponse, &CheckedAnswer)> = fresh
            .iter()
            .flat_map(|(r, _)| r.answers.iter().map(move |a| (*r, a)))
            .collect();
        tx.exec_rows(
            "INSERT INTO answers (order_number, response_id, question_id, kind, number_value, option_ids, text_value, flag) VALUES",
            8,
            "ON CONFLICT (order_number, response_id, question_id) DO NOTHING",
            &answers,
            |q, (r, a)| {
                q.push_arg(r.order_number.as_str());
                q.push_arg(r.id.as_str());
                q.push_arg(a.question_id.as_str());
                q.push_arg(serde_json::to_value(a.kind).ok().and_then(|v| v.as_str().map(str::to_owned)));
                q.push_arg(crate::db::Arg::Real(a.number));
                q.push_arg((!a.options.is_empty()).then(|| serde_json::to_string(&a.options).unwrap_or_default()));
                q.push_arg(a.text.as_deref());
                q.push_arg(crate::db::Arg::Bool(a.flag));
            },
        )
        .await?;
        // Late orders' facts: their NPS, where one was given.
        let with_nps: Vec<&str> = fresh
            .iter()
            .filter(|(r, _)| {
                r.answers.iter().any(|a| {
                    a.kind == doorstep_domain::survey::QuestionType::Nps && a.number.is_some()
                })
            })
            .map(|(r, _)| r.order_number.as_str())
            .collect();
        crate::helpdesk::late::answered(&mut tx, &with_nps).await?;
        let mut deltas = crate::survey::rollups::Deltas::default();
        for (r, o) in &fresh {
            let status = r.status;
            let key = crate::survey::rollups::RollupKey {
                day: r.day,
                month: r.month,
                survey_id: r.survey_id.clone(),
                city: o.city.clone(),
                partner: o.partner.clone().unwrap_or_default(),
                segment: Segment::of_order(o.first_order).as_str().to_owned(),
                channel: r.channel.as_str().to_owned(),
                courier_id: o.courier_id.clone(),
            };
            deltas.add(&key, status, &r.facts);
        }
        deltas.write(&mut tx).await?;
        let places: Vec<(
            crate::survey::causes::TagPlace,
            i64,
            Option<u8>,
            &[doorstep_domain::survey::causes::Tag],
        )> = fresh
            .iter()
            .filter(|(r, _)| !r.causes.is_empty())
            .map(|(r, o)| {
                (
                    crate::survey::causes::TagPlace {
                        order_number: r.order_number.clone(),
                        response_id: r.id.clone(),
                        survey_id: r.survey_id.clone(),
                        city: o.city.clone(),
                        partner: o.partner.clone(),
                        segment: Segment::of_order(o.first_order).as_str().to_owned(),
                        channel: r.channel.as_str().to_owned(),
                        courier_id: o.courier_id.clone(),
                        finished_at: r.finished_at,
                    },
                    r.day,
                    r.facts.nps,
                    r.causes.as_slice(),
                )
            })
            .collect();
        let tags: Vec<_> = places
            .iter()
            .flat_map(|(p, day, nps, tags)| tags.iter().map(move |t| (p, *day, *nps, t)))
            .collect();
        crate::survey::causes::insert_tags(&mut tx, &tags).await?;
        // Last before the commit: it locks the week's state row on
        // PostgreSQL, so concurrent late batches for one week wait only for
        // each other's commit.
        deltas.mark_late_weeks(&mut tx, now).await?;
        crate::survey::day_builds::mark_late_days(&mut tx, fresh.iter().map(|(r, _)| r.day), today)
            .await?;
        // The alert rules, on what this transaction inserted: an incident
        // commits with the answer that raised it.
        let answered: Vec<crate::helpdesk::incidents::Answered> = fresh
            .iter()
            .map(|(r, o)| crate::helpdesk::incidents::Answered {
                response: r,
                city: &o.city,
                courier_id: o.courier_id.as_deref(),
                customer_phone: &o.customer_phone,
                repeat_customer: !o.first_order,
                vip: o.vip,
            })
            .collect();
        let incidents = crate::helpdesk::incidents::raise(&mut tx, &answered).await?;
        // Last of all: from here to the commit, other event writers wait.
        let events: Vec<crate::events::NewEvent> = fresh
            .iter()
            .map(|(r, _)| {
                crate::events::NewEvent::new(
                    "response.created",
                    &crate::events::ResponseCreated::of(r),
                )
            })
            .chain(incidents)
            .collect();
        self.commit_with_events(tx, &events).await?;
        Ok(outcomes)
    }

    /// How many responses are stored (all statuses).
    pub async fn count_responses(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = self.db.one(sql("SELECT COUNT(*) FROM responses")).await?;
        Ok(n)
    }

    /// A response's status and its answers as (question, number, options, text, flag).
    pub async fn response_answers(
        &self,
        id: &str,
    ) -> Result<Option<(String, Vec<StoredAnswer>)>, StoreError> {
        let status: Option<(String,)> = self
            .db
            .opt(sql("SELECT status FROM responses WHERE id = $1").bind(id))
            .await?;
        let Some((status,)) = status else {
            return Ok(None);
        };
        let answers = self
            .db
            .all(
                sql(
                    "SELECT question_id, number_value, option_ids, text_value, flag FROM answers \
                     WHERE response_id = $1 ORDER BY question_id",
                )
                .bind(id),
            )
            .await?;
        Ok(Some((status, answers)))
    }
}

impl Store {
    /// The (order, survey) pairs already answered among these orders.
    pub async fn surveyed(
        &self,
        order_numbers: &[&str],
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.db
            .all_in(
                "SELECT order_number, survey_id FROM responses WHERE order_number IN",
                order_numbers,
                "",
                |q, n| q.push_arg(*n),
            )
            .await
    }
}

/// A survey link as its page needs it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SurveyLink {
    pub order_number: String,
    pub survey_id: String,
    pub expires_at: i64,
}

impl Store {
    /// Records that a customer opened a review link after answering this
    /// survey for this order (the first one opened counts). Returns whether
    /// a response was marked.
    pub async fn record_review_opened(
        &self,
        order_number: &str,
        survey_id: &str,
        link_id: &str,
    ) -> Result<bool, StoreError> {
        let n = self
            .db
            .exec(
                sql("UPDATE responses SET review_opened = $3 \
                     WHERE order_number = $1 AND survey_id = $2 AND status = 'completed' AND review_opened IS NULL")
                .bind(order_number)
                .bind(survey_id)
                .bind(link_id),
            )
            .await?;
        Ok(n > 0)
    }

    /// Records a link; the token itself is never stored.
    pub async fn create_survey_link(
        &self,
        order_number: &str,
        token_hash: &str,
        survey_id: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.db
            .exec(
                sql("INSERT INTO survey_links (order_number, token_hash, survey_id, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)")
                .bind(order_number)
                .bind(token_hash)
                .bind(survey_id)
                .bind(now_millis())
                .bind(expires_at),
            )
            .await
            .map(|_| ())
    }

    pub async fn survey_link(&self, token_hash: &str) -> Result<Option<SurveyLink>, StoreError> {
        self.db
            .opt(sql("SELECT order_number, survey_id, expires_at FROM survey_links WHERE token_hash = $1").bind(token_hash))
            .await
    }

    /// The language the customer of an order last answered a survey in (on
    /// any of their orders), when known.
    pub async fn customer_language(
        &self,
        order_number: &str,
    ) -> Result<Option<String>, StoreError> {
        let found: Option<(Option<String>,)> = self
            .db
            .opt(
                sql("SELECT r.language FROM orders o \
                     JOIN orders mine ON mine.customer_phone = o.customer_phone \
                     JOIN responses r ON r.order_number = mine.order_number \
                     WHERE o.order_number = $1 AND o.customer_phone <> '' AND r.language IS NOT NULL \
                     ORDER BY r.finished_at DESC LIMIT 1")
                .bind(order_number),
            )
            .await?;
        Ok(found.and_then(|(l,)| l))
    }
}

/// A stored response, for the order's page.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ResponseSummary {
    pub id: String,
    pub survey_id: String,
    pub survey_version: i64,
    pub status: String,
    pub channel: String,
    pub mode: Option<String>,
    pub language: Option<String>,
    pub started_at: i64,
    pub finished_at: i64,
    pub duration_ms: i64,
    /// The review link a promoter opened.
    pub review_opened: Option<String>,
    /// Whether the customer agreed to a recording (`None`: not asked).
    pub recording_consent: Option<bool>,
}

impl Store {
    /// The survey responses of one order with their answers, oldest first.
    pub async fn order_responses(
        &self,
        order_number: &str,
    ) -> Result<Vec<(ResponseSummary, Vec<StoredAnswer>)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            response_id: String,
            #[sqlx(flatten)]
            answer: StoredAnswer,
        }
        let responses: Vec<ResponseSummary> = self
            .db
            .all(
                sql("SELECT id, survey_id, survey_version, status, channel, mode, language, started_at, finished_at, \
                     duration_ms, review_opened, recording_consent FROM responses WHERE order_number = $1 \
                     ORDER BY finished_at, id")
                .bind(order_number),
            )
            .await?;
        let rows: Vec<Row> = self
            .db
            .all(
                sql("SELECT response_id, question_id, number_value, option_ids, text_value, flag FROM answers \
                     WHERE order_number = $1")
                .bind(order_number),
            )
            .await?;
        let mut by_response: HashMap<String, Vec<StoredAnswer>> = HashMap::new();
        for row in rows {
            by_response
                .entry(row.response_id)
                .or_default()
                .push(row.answer);
        }
        Ok(responses
            .into_iter()
            .map(|r| {
                let answers = by_response.remove(&r.id).unwrap_or_default();
                (r, answers)
            })
            .collect())
    }
}

/// An answer as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredAnswer {
    pub question_id: String,
    pub number_value: Option<f64>,
    pub option_ids: Option<String>,
    pub text_value: Option<String>,
    pub flag: Option<bool>,
}

/// A free-text answer with what a reader needs beside it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Comment {
    pub finished_at: i64,
    pub order_number: String,
    pub courier_id: Option<String>,
    pub city: String,
    pub partner: Option<String>,
    pub survey_id: String,
    pub question_id: String,
    pub text: String,
}

impl Store {
    /// Free-text answers (comments and "other" texts, not attachments) of
    /// responses finished in `[from_ms, to_ms)`, newest first, at most `limit`.
    pub async fn comments(
        &self,
        from_ms: i64,
        to_ms: i64,
        limit: i64,
    ) -> Result<Vec<Comment>, StoreError> {
        self.courier_comments(None, from_ms, to_ms, limit).await
    }

    /// [`Store::comments`], of one courier's responses when `courier` is given.
    pub async fn courier_comments(
        &self,
        courier: Option<&str>,
        from_ms: i64,
        to_ms: i64,
        limit: i64,
    ) -> Result<Vec<Comment>, StoreError> {
        self.db
            .all(
                sql("SELECT r.finished_at, r.order_number, r.courier_id, r.city, r.partner, r.survey_id, a.question_id, \
                     a.text_value AS text FROM responses r JOIN answers a ON a.order_number = r.order_number AND a.response_id = r.id \
                     WHERE r.finished_at >= $1 AND r.finished_at < $2 AND a.text_value IS NOT NULL \
                     AND a.kind IN ('text', 'multi_choice') AND ($3 IS NULL OR r.courier_id = $4) \
                     ORDER BY r.finished_at DESC LIMIT $5")
                .bind(from_ms)
                .bind(to_ms)
                .bind(courier)
                .bind(courier)
                .bind(limit),
            )
            .await
    }

    /// What promoters (NPS 9–10) wrote in free text about one courier's
    /// deliveries promised since `since_ms`, newest first, at most `limit`:
    /// (finished at, text). Read through the courier's orders (indexed by
    /// courier), so it touches only his rows however many answers there are.
    pub async fn promoter_comments(
        &self,
        courier: &str,
        since_ms: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        self.db
            .all(
                sql("SELECT r.finished_at, a.text_value FROM orders o \
                     JOIN responses r ON r.order_number = o.order_number \
                     JOIN answers n ON n.order_number = r.order_number AND n.response_id = r.id \
                     JOIN answers a ON a.order_number = r.order_number AND a.response_id = r.id \
                     WHERE o.courier_id = $1 AND o.promised_from >= $2 AND r.courier_id = $1 \
                     AND r.status = 'completed' AND n.kind = 'nps' AND n.number_value >= 9 \
                     AND a.kind = 'text' AND a.text_value IS NOT NULL AND a.text_value <> '' \
                     ORDER BY r.finished_at DESC LIMIT $3")
                .bind(courier)
                .bind(since_ms)
                .bind(limit),
            )
            .await
    }
}
