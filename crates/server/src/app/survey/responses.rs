//! Recording survey responses: the one use case behind `POST
//! /api/v1/responses` (terminals, systems) and the survey link page
//! (customers). A response is submitted in one shape, checked against the
//! survey version it answered, fingerprinted one way (its content hash,
//! which tells a resend from a conflicting answer under the same id) and
//! stored exactly once. No HTTP here: problems name the field they concern
//! within the response, and each adapter words them its own way.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use doorstep_domain::survey::{
    check_answers, Channel, QuestionType, ResponseStatus, SurveyDefinition,
};
use doorstep_store::{NewResponse, ResponseOutcome};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::App;
use crate::app::{problem, Problem};

/// How far ahead of the server's clock a device's may run.
pub const CLOCK_SKEW_MINUTES: i64 = 5;

/// A response as a client submits it (the API's item).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Submitted {
    pub id: String,
    pub order_number: String,
    pub survey_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey_version: Option<i64>,
    pub status: ResponseStatus,
    pub started_at: String,
    pub finished_at: String,
    #[serde(default)]
    pub answers: Vec<SubmittedAnswer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The id of the review link a promoter opened after the survey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_opened: Option<String>,
    /// Whether the customer agreed to a recording of the conversation
    /// (only for a survey that records one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_consent: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubmittedAnswer {
    pub question_id: String,
    pub value: Value,
}

/// Who submits: a token (terminal or integration), or nobody signed in
/// (a customer's link).
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub token_id: Option<&'a str>,
    /// A courier's terminal: its responses default to the terminal channel.
    pub terminal: bool,
}

/// The content hash of a submitted response: the SHA-256 of its JSON with
/// keys sorted, so the same content re-sent is recognised whatever the key
/// order or spacing.
pub fn content_hash(submitted: &Value) -> String {
    crate::security::sha256_hex(&submitted.to_string())
}

/// Survey versions met so far, read once: (id, asked version) →
/// (version, definition), `None` when there is no such survey or version.
type SurveyVersions = HashMap<(String, Option<i64>), Option<(i64, Arc<SurveyDefinition>)>>;

/// Checks and stores responses; keeps the survey versions it read for
/// the responses that follow (a batch usually answers one).
pub struct Recorder<'a> {
    app: &'a App,
    tz: jiff::tz::TimeZone,
    surveys: SurveyVersions,
}

impl<'a> Recorder<'a> {
    pub fn new(app: &'a App) -> Recorder<'a> {
        Recorder {
            app,
            tz: app.deployment().tz(),
            surveys: HashMap::new(),
        }
    }

    /// [`Self::check`] for a response a customer's page made (a link
    /// survey, the status page's rating): its content hash computed here,
    /// no token, not a terminal.
    pub async fn check_from_page(
        &mut self,
        item: Submitted,
    ) -> anyhow::Result<Result<NewResponse, Vec<Problem>>> {
        let hash = content_hash(&serde_json::to_value(&item)?);
        self.check(
            item,
            hash,
            Source {
                token_id: None,
                terminal: false,
            },
        )
        .await
    }

    /// Checks one submitted response (its content hash made from what was
    /// submitted): a response ready to store, or what is wrong with it.
    pub async fn check(
        &mut self,
        item: Submitted,
        content_hash: String,
        source: Source<'_>,
    ) -> anyhow::Result<Result<NewResponse, Vec<Problem>>> {
        let mut errors = Vec::new();
        let uuid = uuid::Uuid::parse_str(&item.id).ok();
        if uuid.is_none() {
            errors.push(problem(
                "id",
                format!(
                    "{:?} is not a UUID; the client makes one per response (e.g. crypto.randomUUID())",
                    item.id
                ),
            ));
        }
        let started = item.started_at.parse::<jiff::Timestamp>();
        let finished = item.finished_at.parse::<jiff::Timestamp>();
        for (name, text, parsed) in [
            ("started_at", &item.started_at, &started),
            ("finished_at", &item.finished_at, &finished),
        ] {
            if let Err(e) = parsed {
                errors.push(problem(
                    name,
                    format!("{text:?} is not an RFC 3339 timestamp Doorstep can read ({e}); write e.g. 2026-11-03T14:30:00+03:00"),
                ));
            }
        }
        if let (Ok(s), Ok(f)) = (&started, &finished) {
            if f < s {
                errors.push(problem("finished_at", "is before started_at"));
            }
        }
        // Not in the future beyond a device clock's drift; not before the
        // order either (checked where the order is read).
        let latest = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(CLOCK_SKEW_MINUTES);
        for (name, at) in [("started_at", &started), ("finished_at", &finished)] {
            if let Ok(at) = at {
                if *at > latest {
                    errors.push(problem(
                        name,
                        format!(
                            "{at} is in the future (more than {CLOCK_SKEW_MINUTES} minutes from now, {}): a response is sent once it happened; check the device's clock",
                            jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or_else(|_| jiff::Timestamp::now())
                        ),
                    ));
                }
            }
        }
        let channel = match item.channel.as_deref() {
            None if source.terminal => Channel::Terminal,
            None => Channel::Api,
            Some(name) => Channel::parse(name).unwrap_or_else(|| {
                errors.push(problem(
                    "channel",
                    format!("{name:?} is not a channel (terminal, link or api)"),
                ));
                Channel::Api
            }),
        };
        let key = (item.survey_id.clone(), item.survey_version);
        if !self.surveys.contains_key(&key) {
            let found = self
                .app
                .survey_version(&item.survey_id, item.survey_version)
                .await?;
            self.surveys.insert(key.clone(), found);
        }
        let Some((version, definition)) = self.surveys.get(&key).and_then(Option::as_ref) else {
            errors.push(problem(
                "survey_id",
                match item.survey_version {
                    Some(v) => format!("survey {:?} has no version {v}", item.survey_id),
                    None => format!("there is no survey {:?}", item.survey_id),
                },
            ));
            return Ok(Err(errors));
        };
        if definition.inspection {
            errors.push(problem(
                "survey_id",
                format!(
                    "survey {:?} is a mystery-shopper inspection: inspectors send it to POST /api/v1/inspections, and it never counts among customers' answers",
                    item.survey_id
                ),
            ));
            return Ok(Err(errors));
        }
        let answers: Vec<(String, Value)> = item
            .answers
            .into_iter()
            .map(|a| (a.question_id, a.value))
            .collect();
        let checked = match check_answers(definition, item.status, &answers) {
            Ok(c) => c,
            Err(problems) => {
                errors.extend(problems.into_iter().map(|p| problem(&p.field, p.message)));
                return Ok(Err(errors));
            }
        };
        if let Some(link) = &item.review_opened {
            match &definition.review {
                None => errors.push(problem(
                    "review_opened",
                    "this survey version offers no review links",
                )),
                Some(review) if !review.links.iter().any(|l| &l.id == link) => {
                    errors.push(problem(
                        "review_opened",
                        format!(
                            "{link:?} is not one of this survey's review links ({})",
                            review
                                .links
                                .iter()
                                .map(|l| l.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
                Some(review) if !review.due(definition, &checked) => errors.push(problem(
                    "review_opened",
                    format!(
                        "review links are offered only from an NPS answer of {}",
                        review.min_score
                    ),
                )),
                Some(_) => {}
            }
        }
        if item.recording_consent.is_some() && definition.recording.is_none() {
            errors.push(problem(
                "recording_consent",
                "this survey version records no conversation, so there was no consent to ask",
            ));
        }
        let (Ok(started), Ok(finished)) = (started, finished) else {
            return Ok(Err(errors));
        };
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let (day, month) = doorstep_domain::time::local_day(finished.as_millisecond(), &self.tz);
        Ok(Ok(NewResponse {
            day,
            month,
            facts: doorstep_domain::survey::metrics::facts(definition, &checked),
            causes: self.app.tagger().tag(&checked),
            id: uuid.map(|u| u.to_string()).unwrap_or_default(),
            order_number: item.order_number.trim().to_owned(),
            survey_id: item.survey_id,
            survey_version: *version,
            status: item.status,
            channel,
            mode: item
                .mode
                .filter(|m| !m.is_empty())
                .map(|m| m.chars().take(32).collect()),
            language: item
                .language
                .filter(|l| !l.is_empty())
                .map(|l| l.chars().take(16).collect()),
            token_id: source.token_id.map(str::to_owned),
            started_at: started.as_millisecond(),
            finished_at: finished.as_millisecond(),
            content_hash,
            answers: checked,
            review_opened: item.review_opened,
            recording_consent: item.recording_consent,
        }))
    }

    /// Photo and voice answers must name attachments already uploaded, of
    /// the right kind: one query for all of `ready`. Returns those that
    /// pass, and the problems of those that do not (by their key).
    pub async fn check_attachments<K>(
        &self,
        ready: Vec<(K, NewResponse)>,
    ) -> anyhow::Result<(Vec<(K, NewResponse)>, Vec<(K, NewResponse, Vec<Problem>)>)> {
        let media = |r: &NewResponse| {
            r.answers
                .iter()
                .filter(|a| matches!(a.kind, QuestionType::Photo | QuestionType::Voice))
                .filter_map(|a| Some((a.question_id.clone(), a.kind, a.text.clone()?)))
                .collect::<Vec<_>>()
        };
        let wanted: Vec<String> = ready
            .iter()
            .flat_map(|(_, r)| media(r))
            .map(|(_, _, id)| id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if wanted.is_empty() {
            return Ok((ready, Vec::new()));
        }
        let keys: Vec<&str> = wanted.iter().map(String::as_str).collect();
        let stored: HashMap<String, String> = self
            .app
            .store
            .attachments(&keys)
            .await?
            .into_iter()
            .map(|a| (a.id, a.kind))
            .collect();
        let mut kept = Vec::with_capacity(ready.len());
        let mut refused = Vec::new();
        for (key, response) in ready {
            let errors: Vec<Problem> = media(&response)
                .into_iter()
                .filter_map(|(question, kind, id)| {
                    let want = if kind == QuestionType::Photo { "photo" } else { "voice" };
                    match stored.get(&id) {
                        Some(k) if k == want => None,
                        Some(k) => Some(problem(&format!("answers.{question}"), format!(
                            "attachment {id} is a {k}, and this question takes a {want}"
                        ))),
                        None => Some(problem(&format!("answers.{question}"), format!(
                            "attachment {id:?} was not uploaded; PUT the file to /api/v1/attachments/{{sha256}} first, then send the response"
                        ))),
                    }
                })
                .collect();
            if errors.is_empty() {
                kept.push((key, response));
            } else {
                refused.push((key, response, errors));
            }
        }
        Ok((kept, refused))
    }

    /// Stores checked responses exactly once (see
    /// [`doorstep_store::Store::store_responses`]); `courier` limits them
    /// to one courier's orders (a terminal). One outcome per response.
    pub async fn store(
        &self,
        responses: &[NewResponse],
        courier: Option<&str>,
    ) -> Result<Vec<ResponseOutcome>, doorstep_store::StoreError> {
        let today = doorstep_domain::time::local_day(doorstep_store::now_millis(), &self.tz).0;
        // Small batches share a transaction with the other small requests
        // of the moment (group commit); big ones are one on their own.
        self.app
            .committer
            .store(responses.to_vec(), courier, today)
            .await
    }
}
