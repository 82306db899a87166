//! Incidents: raised by the alert rules in the transaction that stores a
//! response (one per order and rule, by the table's unique key), claimed by
//! exactly one dispatcher (a conditional `UPDATE`: the first wins, the
//! others are told who), worked by call-back attempts and closed with an
//! outcome. Each change commits with its event.

use doorstep_domain::helpdesk::alerts::{AlertRule, Priority, Seen, CALLBACK_RULE};
use doorstep_domain::helpdesk::incidents::{rank, AttemptResult, IncidentStatus, Outcome};
use serde::Serialize;

pub use super::Actor;
use crate::db::{sql, Tx};
use crate::events::NewEvent;
use crate::{NewResponse, Store, StoreError};

/// A stored response and what is known of its order, for the rules.
pub(crate) struct Answered<'a> {
    pub response: &'a NewResponse,
    pub city: &'a str,
    pub courier_id: Option<&'a str>,
    pub customer_phone: &'a str,
    pub repeat_customer: bool,
    pub vip: bool,
}

/// An incident as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct Incident {
    pub id: String,
    pub order_number: String,
    pub rule_id: String,
    pub response_id: String,
    pub priority: String,
    pub reason: String,
    pub city: String,
    pub courier_id: Option<String>,
    pub customer_phone: String,
    pub nps: Option<i64>,
    pub status: String,
    pub owner_id: Option<String>,
    pub owner_login: Option<String>,
    pub claimed_at: Option<i64>,
    pub due_at: i64,
    pub attempts: i64,
    pub first_attempt_at: Option<i64>,
    pub reached_at: Option<i64>,
    pub outcome: Option<String>,
    pub closed_at: Option<i64>,
    pub case_id: Option<String>,
    /// When the customer answered.
    pub answered_at: i64,
    /// When the answer reached Doorstep (a terminal offline syncs later).
    pub created_at: i64,
}

pub(crate) const COLUMNS: &str = "id, order_number, rule_id, response_id, priority, reason, city, courier_id, customer_phone, nps, \
     status, owner_id, owner_login, claimed_at, due_at, attempts, first_attempt_at, reached_at, outcome, closed_at, \
     case_id, answered_at, created_at";

/// One call-back attempt.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Attempt {
    pub id: String,
    pub incident_id: String,
    pub result: String,
    pub note: Option<String>,
    pub call_again_at: Option<i64>,
    pub author_login: String,
    pub created_at: i64,
}

/// What an incident event says: no customer's personal data (the phone is
/// the company's to look up by order number).
#[derive(Debug, Clone, Serialize)]
pub struct IncidentEvent<'a> {
    pub id: &'a str,
    pub order_number: &'a str,
    pub response_id: &'a str,
    pub rule_id: &'a str,
    pub priority: &'a str,
    pub reason: &'a str,
    pub city: &'a str,
    pub courier_id: Option<&'a str>,
    pub status: &'a str,
    pub owner: Option<&'a str>,
    pub outcome: Option<&'a str>,
}

impl Incident {
    pub fn event(&self, name: &'static str) -> NewEvent {
        NewEvent::new(
            name,
            &IncidentEvent {
                id: &self.id,
                order_number: &self.order_number,
                response_id: &self.response_id,
                rule_id: &self.rule_id,
                priority: &self.priority,
                reason: &self.reason,
                city: &self.city,
                courier_id: self.courier_id.as_deref(),
                status: &self.status,
                owner: self.owner_login.as_deref(),
                outcome: self.outcome.as_deref(),
            },
        )
    }
}

/// Raises the incidents the enabled rules find in `answered` (responses
/// this transaction inserted): one per order and rule, whatever raced it.
/// Returns their `incident.created` events, for the same commit.
pub(crate) async fn raise(
    tx: &mut Tx<'_>,
    answered: &[Answered<'_>],
) -> Result<Vec<NewEvent>, StoreError> {
    if answered.is_empty() {
        return Ok(Vec::new());
    }
    let rules = super::enabled_rules(tx).await?;
    let callback = super::callback_threshold(tx).await?;
    let now = super::now();
    let mut raised: Vec<Incident> = Vec::new();
    for a in answered {
        let r = a.response;
        let seen = Seen {
            status: r.status,
            nps: r.facts.nps,
            answers: &r.answers,
            causes: &r.causes,
            repeat_customer: a.repeat_customer,
            vip: a.vip,
        };
        let before = raised.len();
        for rule in &rules {
            if let Some(reason) = rule.fires(&seen) {
                raised.push(new_incident(rule, reason, now, About::answered(a)));
            }
        }
        if raised.len() == before {
            // No rule caught it: a low rating goes to the call-back queue.
            if let Some(reason) = callback.low(r.status, r.facts.nps, r.facts.lowest_rating) {
                raised.push(raised_incident(
                    CALLBACK_RULE,
                    Priority::Normal,
                    reason,
                    now,
                    About::answered(a),
                ));
            }
        }
    }
    insert(tx, raised).await
}

/// The key an incident about a case without an order has in place of an
/// order number: `case:` and the case's number.
pub const CASE_KEY_PREFIX: &str = "case:";

impl Incident {
    /// The number of the case it is about, when it is about a case without
    /// an order (a customer's low rating of it) rather than an order.
    pub fn case_number(&self) -> Option<i64> {
        self.order_number
            .strip_prefix(CASE_KEY_PREFIX)
            .and_then(|n| n.parse().ok())
    }
}

/// Raises the incidents the enabled rules find in a customer's rating of a
/// case that has no order (its answers to the support survey, which no
/// order's response can hold): one per case and rule, keyed
/// `case:{number}`, tied to the case. Returns their events.
pub(crate) async fn raise_for_case(
    tx: &mut Tx<'_>,
    case: &super::cases::Case,
    answers: &[doorstep_domain::survey::CheckedAnswer],
) -> Result<Vec<NewEvent>, StoreError> {
    let rules = super::enabled_rules(tx).await?;
    let callback = super::callback_threshold(tx).await?;
    let now = super::now();
    let seen = Seen {
        status: doorstep_domain::survey::ResponseStatus::Completed,
        nps: None,
        answers,
        causes: &[],
        repeat_customer: false,
        vip: false,
    };
    let about = || About {
        order_number: format!("{CASE_KEY_PREFIX}{}", case.number),
        response_id: format!("{CASE_KEY_PREFIX}{}", case.id),
        city: String::new(),
        courier_id: None,
        customer_phone: case.customer_phone.clone().unwrap_or_default(),
        nps: None,
        case_id: Some(case.id.clone()),
        answered_at: now,
    };
    let mut raised: Vec<Incident> = rules
        .iter()
        .filter_map(|rule| Some(new_incident(rule, rule.fires(&seen)?, now, about())))
        .collect();
    if raised.is_empty() {
        // No rule caught it: a low CSAT goes to the call-back queue.
        let csat = answers
            .iter()
            .find(|a| a.question_id == super::support::CSAT_QUESTION)
            .and_then(|a| a.number)
            .map(|value| doorstep_domain::survey::metrics::Rating {
                value,
                min: 1.0,
                max: 5.0,
            });
        if let Some(reason) = callback.low(seen.status, None, csat) {
            raised.push(raised_incident(
                CALLBACK_RULE,
                Priority::Normal,
                reason,
                now,
                about(),
            ));
        }
    }
    insert(tx, raised).await
}

/// Raises an incident of `rule_id` that a customer asked for on a case
/// (a call back): about the case's order, else the case; once per order
/// (or case) and rule. Returns its event when it is new.
pub(crate) async fn raise_request(
    tx: &mut Tx<'_>,
    case: &super::cases::Case,
    rule_id: &str,
    reason: String,
) -> Result<Vec<NewEvent>, StoreError> {
    let now = super::now();
    let (order_number, response_id) = match &case.order_number {
        Some(n) => (n.clone(), format!("{rule_id}:{}", case.id)),
        None => (
            format!("{CASE_KEY_PREFIX}{}", case.number),
            format!("{CASE_KEY_PREFIX}{}", case.id),
        ),
    };
    let (city, courier_id) = match &case.order_number {
        Some(n) => tx
            .opt::<(String, Option<String>)>(
                sql("SELECT city, courier_id FROM orders WHERE order_number = $1").bind(n.as_str()),
            )
            .await?
            .unwrap_or_default(),
        None => (String::new(), None),
    };
    let incident = raised_incident(
        rule_id,
        Priority::High,
        reason,
        now,
        About {
            order_number,
            response_id,
            city,
            courier_id,
            customer_phone: case.customer_phone.clone().unwrap_or_default(),
            nps: None,
            case_id: Some(case.id.clone()),
            answered_at: now,
        },
    );
    insert(tx, vec![incident]).await
}

/// The rule of the incidents the late-orders job raises (no alert rule:
/// the order's clock ran out). They stand for the lateness, not for an
/// unhappy answer, so the loop's figures leave them out.
pub const LATE_RULE: &str = "late";

/// Raises the incident of a late order, handed at once to its case (the
/// job opens one): `None` when the order had one already (the unique key
/// keeps the first, whatever raced it).
pub(crate) async fn raise_late(
    tx: &mut Tx<'_>,
    order: &crate::OrderView,
    reason: String,
) -> Result<Option<(Incident, Vec<NewEvent>)>, StoreError> {
    let now = super::now();
    let incident = raised_incident(
        LATE_RULE,
        Priority::Normal,
        reason,
        now,
        About {
            order_number: order.order_number.clone(),
            response_id: format!("{LATE_RULE}:{}", order.order_number),
            city: order.city.clone(),
            courier_id: order.courier_id.clone(),
            customer_phone: order.customer_phone.clone(),
            nps: None,
            case_id: None,
            answered_at: order.promised_to,
        },
    );
    let events = insert(tx, vec![incident.clone()]).await?;
    Ok((!events.is_empty()).then_some((incident, events)))
}

/// A root cause a reached customer named on a call-back: filed among the
/// causes of the answer the incident is about, so the causes page learns
/// from calls (its day in the deployment's time zone).
#[derive(Debug, Clone, Copy)]
pub struct CallCause<'a> {
    pub cause_id: &'a str,
    pub tz: &'a jiff::tz::TimeZone,
}

async fn file_call_cause(
    tx: &mut Tx<'_>,
    incident: &Incident,
    cause: CallCause<'_>,
) -> Result<(), StoreError> {
    let finished: Option<(i64,)> = tx
        .opt(
            sql("SELECT finished_at FROM responses WHERE order_number = $1 AND id = $2")
                .bind(incident.order_number.as_str())
                .bind(incident.response_id.as_str()),
        )
        .await?;
    // An incident about a case's rating or a late order has no answer to
    // file it on.
    let Some((finished_at,)) = finished else {
        return Ok(());
    };
    let (day, _) = doorstep_domain::time::local_day(finished_at, cause.tz);
    tx.exec(
        sql(
            "INSERT INTO response_causes (order_number, response_id, cause_id, source, day, survey_id, city, partner, \
             segment, channel, courier_id, nps) \
             SELECT r.order_number, r.id, $1, $2, $3, r.survey_id, r.city, COALESCE(r.partner, ''), r.segment, \
             r.channel, r.courier_id, $4 FROM responses r WHERE r.order_number = $5 AND r.id = $6 \
             ON CONFLICT (order_number, response_id, cause_id) DO NOTHING",
        )
        .bind(cause.cause_id)
        .bind(doorstep_domain::survey::causes::TagSource::Call.as_str())
        .bind(day)
        .bind(incident.nps)
        .bind(incident.order_number.as_str())
        .bind(incident.response_id.as_str()),
    )
    .await?;
    Ok(())
}

/// Inserts raised incidents (the unique key keeps the first of each order
/// and rule, whatever raced it); the events of those inserted.
async fn insert(tx: &mut Tx<'_>, mut raised: Vec<Incident>) -> Result<Vec<NewEvent>, StoreError> {
    if raised.is_empty() {
        return Ok(Vec::new());
    }
    // Two rules for one order in one batch, or the same order answered
    // by two surveys: the unique key keeps the first.
    raised.sort_by(|a, b| (&a.order_number, &a.rule_id).cmp(&(&b.order_number, &b.rule_id)));
    let inserted: Vec<(String,)> = tx
        .all_rows(
            "INSERT INTO incidents (id, order_number, rule_id, response_id, priority, priority_rank, reason, city, \
             courier_id, customer_phone, nps, status, due_at, answered_at, created_at, case_id) VALUES",
            16,
            "ON CONFLICT (order_number, rule_id) DO NOTHING RETURNING id",
            &raised,
            |q, i| {
                q.push_arg(i.id.as_str());
                q.push_arg(i.order_number.as_str());
                q.push_arg(i.rule_id.as_str());
                q.push_arg(i.response_id.as_str());
                q.push_arg(i.priority.as_str());
                q.push_arg(doorstep_domain::helpdesk::alerts::Priority::parse(&i.priority).map_or(2, rank));
                q.push_arg(i.reason.as_str());
                q.push_arg(i.city.as_str());
                q.push_arg(i.courier_id.as_deref());
                q.push_arg(i.customer_phone.as_str());
                q.push_arg(i.nps);
                q.push_arg(i.status.as_str());
                q.push_arg(i.due_at);
                q.push_arg(i.answered_at);
                q.push_arg(i.created_at);
                q.push_arg(i.case_id.as_deref());
            },
        )
        .await?;
    let inserted: std::collections::HashSet<String> =
        inserted.into_iter().map(|(id,)| id).collect();
    Ok(raised
        .iter()
        .filter(|i| inserted.contains(&i.id))
        .map(|i| i.event("incident.created"))
        .collect())
}

/// What an incident is about: an answered order, or a rated case.
struct About {
    order_number: String,
    response_id: String,
    city: String,
    courier_id: Option<String>,
    customer_phone: String,
    nps: Option<i64>,
    case_id: Option<String>,
    answered_at: i64,
}

impl About {
    fn answered(a: &Answered<'_>) -> About {
        About {
            order_number: a.response.order_number.clone(),
            response_id: a.response.id.clone(),
            city: a.city.to_owned(),
            courier_id: a.courier_id.map(str::to_owned),
            customer_phone: a.customer_phone.to_owned(),
            nps: a.response.facts.nps.map(i64::from),
            case_id: None,
            answered_at: a.response.finished_at,
        }
    }
}

/// An open incident, as a rule raises it.
fn new_incident(rule: &AlertRule, reason: String, now: i64, about: About) -> Incident {
    raised_incident(&rule.id, rule.priority, reason, now, about)
}

/// An open incident of `rule_id`.
fn raised_incident(
    rule_id: &str,
    priority: Priority,
    reason: String,
    now: i64,
    about: About,
) -> Incident {
    Incident {
        id: uuid::Uuid::now_v7().to_string(),
        order_number: about.order_number,
        rule_id: rule_id.to_owned(),
        response_id: about.response_id,
        priority: priority.as_str().to_owned(),
        reason,
        city: about.city,
        courier_id: about.courier_id,
        customer_phone: about.customer_phone,
        nps: about.nps,
        status: IncidentStatus::Open.as_str().to_owned(),
        owner_id: None,
        owner_login: None,
        claimed_at: None,
        due_at: now,
        attempts: 0,
        first_attempt_at: None,
        reached_at: None,
        outcome: None,
        closed_at: None,
        case_id: about.case_id,
        answered_at: about.answered_at,
        created_at: now,
    }
}

/// Which incidents to list.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// `None`: the live queue (open and claimed).
    pub status: Option<IncidentStatus>,
    pub city: Option<String>,
    pub limit: i64,
}

/// Why an incident could not be changed as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotFound,
    /// Someone else owns it (their login).
    ClaimedBy(String),
    Closed,
}

/// What a change came to: the incident as it now is, or why not.
pub type Change = Result<Incident, Refusal>;

impl Store {
    /// Incidents as the filter asks: the live queue (due ones first, then by
    /// priority and age; those to be called again later after), or one
    /// status (closed ones newest first).
    pub async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, StoreError> {
        use std::fmt::Write;
        let mut q = sql(String::new());
        let mut text = format!("SELECT {COLUMNS} FROM incidents WHERE ");
        match filter.status {
            None => text.push_str("status IN ('open', 'claimed')"),
            Some(status) => {
                q.push_arg(status.as_str());
                let _ = write!(text, "status = ${}", q.arg_count());
            }
        }
        if let Some(city) = &filter.city {
            q.push_arg(city.as_str());
            let _ = write!(text, " AND city = ${}", q.arg_count());
        }
        if filter.status == Some(IncidentStatus::Closed) {
            text.push_str(" ORDER BY closed_at DESC, id DESC");
        } else {
            q.push_arg(super::now());
            let _ = write!(
                text,
                " ORDER BY CASE WHEN due_at <= ${} THEN 0 ELSE 1 END, priority_rank, due_at, id",
                q.arg_count()
            );
        }
        q.push_arg(filter.limit.clamp(1, 1000));
        let _ = write!(text, " LIMIT ${}", q.arg_count());
        self.db.all(q.with_text(text)).await
    }

    /// Dates incidents raised by a bulk load of past answers as if each was
    /// raised when its answer came (half a minute after it): for loading
    /// history (the demo). Incidents worked already are left alone.
    pub async fn date_incidents_by_their_answers(&self) -> Result<u64, StoreError> {
        self.db
            .exec(sql(
                "UPDATE incidents SET created_at = answered_at + 30000, due_at = answered_at + 30000 \
                 WHERE status = 'open' AND attempts = 0 AND created_at > answered_at + 30000",
            ))
            .await
    }

    pub async fn incident(&self, id: &str) -> Result<Option<Incident>, StoreError> {
        self.db
            .opt(sql(format!("SELECT {COLUMNS} FROM incidents WHERE id = $1")).bind(id))
            .await
    }

    /// A customer's incidents, newest first.
    pub async fn customer_incidents(&self, phone: &str) -> Result<Vec<Incident>, StoreError> {
        self.db
            .all(
                sql(format!(
                    "SELECT {COLUMNS} FROM incidents WHERE customer_phone = $1 ORDER BY created_at DESC, id"
                ))
                .bind(phone),
            )
            .await
    }

    pub async fn incident_attempts(&self, id: &str) -> Result<Vec<Attempt>, StoreError> {
        self.db
            .all(
                sql("SELECT id, incident_id, result, note, call_again_at, author_login, created_at \
                     FROM incident_attempts WHERE incident_id = $1 ORDER BY created_at, id")
                .bind(id),
            )
            .await
    }

    /// Claims an open incident for `actor`. Of several dispatchers claiming
    /// at once, exactly one gets it: the `UPDATE` only matches while it is
    /// open, and the database lets one such update through.
    pub async fn claim_incident(&self, id: &str, actor: Actor<'_>) -> Result<Change, StoreError> {
        let mut tx = self.db.begin().await?;
        let now = super::now();
        let claimed: Option<Incident> = tx
            .opt(
                sql(format!(
                    "UPDATE incidents SET status = 'claimed', owner_id = $1, owner_login = $2, claimed_at = $3 \
                     WHERE id = $4 AND status = 'open' RETURNING {COLUMNS}"
                ))
                .bind(actor.id)
                .bind(actor.login)
                .bind(now)
                .bind(id),
            )
            .await?;
        let Some(incident) = claimed else {
            let current = current(&mut tx, id).await?;
            tx.rollback().await?;
            return Ok(Err(match current {
                None => Refusal::NotFound,
                Some(i) if i.status == IncidentStatus::Closed.as_str() => Refusal::Closed,
                Some(i) if i.owner_id.as_deref() == Some(actor.id) => return Ok(Ok(i)),
                Some(i) => Refusal::ClaimedBy(i.owner_login.unwrap_or_default()),
            }));
        };
        self.commit_with_events(tx, &[incident.event("incident.claimed")])
            .await?;
        Ok(Ok(incident))
    }

    /// Logs a call-back attempt by the incident's owner (an open incident
    /// is claimed by it). "Call again at" puts it back on top at that time.
    pub async fn log_attempt(
        &self,
        id: &str,
        actor: Actor<'_>,
        result: AttemptResult,
        note: Option<&str>,
        call_again_at: Option<i64>,
        cause: Option<CallCause<'_>>,
    ) -> Result<Change, StoreError> {
        let mut tx = self.db.begin().await?;
        let now = super::now();
        let reached = matches!(result, AttemptResult::Reached | AttemptResult::CallAgain);
        let updated: Option<Incident> = tx
            .opt(
                sql(format!(
                    "UPDATE incidents SET status = 'claimed', owner_id = COALESCE(owner_id, $1), \
                     owner_login = COALESCE(owner_login, $2), claimed_at = COALESCE(claimed_at, $3), \
                     attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, $3), \
                     reached_at = CASE WHEN $4 THEN COALESCE(reached_at, $3) ELSE reached_at END, \
                     due_at = COALESCE($5, due_at) \
                     WHERE id = $6 AND status <> 'closed' AND (owner_id IS NULL OR owner_id = $1 OR $7) \
                     RETURNING {COLUMNS}"
                ))
                .bind(actor.id)
                .bind(actor.login)
                .bind(now)
                .bind(reached)
                .bind(call_again_at)
                .bind(id)
                .bind(actor.overrides),
            )
            .await?;
        let Some(incident) = updated else {
            let refusal = refusal(&mut tx, id).await?;
            tx.rollback().await?;
            return Ok(Err(refusal));
        };
        tx.exec(
            sql("INSERT INTO incident_attempts (id, incident_id, result, note, call_again_at, author_login, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(id)
            .bind(result.as_str())
            .bind(note)
            .bind(call_again_at)
            .bind(actor.login)
            .bind(now),
        )
        .await?;
        if let Some(cause) = cause.filter(|_| reached) {
            file_call_cause(&mut tx, &incident, cause).await?;
        }
        self.commit_with_events(tx, &[incident.event("incident.updated")])
            .await?;
        Ok(Ok(incident))
    }

    /// Closes an incident with its outcome (by its owner, whoever may
    /// override, or anyone while nobody claimed it).
    pub async fn close_incident(
        &self,
        id: &str,
        actor: Actor<'_>,
        outcome: Outcome,
        case_id: Option<&str>,
    ) -> Result<Change, StoreError> {
        let mut tx = self.db.begin().await?;
        let closed = close_in(&mut tx, id, actor, outcome, case_id).await?;
        match closed {
            Ok(incident) => {
                self.commit_with_events(tx, &[incident.event("incident.closed")])
                    .await?;
                Ok(Ok(incident))
            }
            Err(refusal) => {
                tx.rollback().await?;
                Ok(Err(refusal))
            }
        }
    }
}

/// Closes an incident inside `tx` (also when it becomes a case).
pub(crate) async fn close_in(
    tx: &mut Tx<'_>,
    id: &str,
    actor: Actor<'_>,
    outcome: Outcome,
    case_id: Option<&str>,
) -> Result<Change, StoreError> {
    let now = super::now();
    let closed: Option<Incident> = tx
        .opt(
            sql(format!(
                "UPDATE incidents SET status = 'closed', outcome = $1, closed_at = $2, case_id = COALESCE($3, case_id), \
                 owner_id = COALESCE(owner_id, $4), owner_login = COALESCE(owner_login, $5) \
                 WHERE id = $6 AND status <> 'closed' AND (owner_id IS NULL OR owner_id = $4 OR $7) \
                 RETURNING {COLUMNS}"
            ))
            .bind(outcome.as_str())
            .bind(now)
            .bind(case_id)
            .bind(actor.id)
            .bind(actor.login)
            .bind(id)
            .bind(actor.overrides),
        )
        .await?;
    match closed {
        Some(i) => Ok(Ok(i)),
        None => Ok(Err(refusal(tx, id).await?)),
    }
}

async fn current(tx: &mut Tx<'_>, id: &str) -> Result<Option<Incident>, StoreError> {
    tx.opt(sql(format!("SELECT {COLUMNS} FROM incidents WHERE id = $1")).bind(id))
        .await
}

/// Why a conditional update of an incident matched nothing.
async fn refusal(tx: &mut Tx<'_>, id: &str) -> Result<Refusal, StoreError> {
    Ok(match current(tx, id).await? {
        None => Refusal::NotFound,
        Some(i) if i.status == IncidentStatus::Closed.as_str() => Refusal::Closed,
        Some(i) => Refusal::ClaimedBy(i.owner_login.unwrap_or_default()),
    })
}

/// How an incident was worked, for loading history at once (the demo, a
/// migration from another tool): its owner, the call-back attempts with
/// their times, and how it ended.
#[derive(Debug, Clone)]
pub struct IncidentHistory {
    pub incident_id: String,
    pub owner_id: String,
    pub owner_login: String,
    pub claimed_at: i64,
    /// (when, result, call again at, note)
    pub attempts: Vec<(i64, AttemptResult, Option<i64>, Option<String>)>,
    pub closed: Option<(Outcome, i64)>,
}

impl Store {
    /// Writes the histories in one transaction (no events: they happened
    /// before). An incident already closed is left as it is.
    pub async fn record_incident_histories(
        &self,
        histories: &[IncidentHistory],
    ) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        let mut attempts = Vec::new();
        for h in histories {
            let first = h.attempts.first().map(|a| a.0);
            let reached = h
                .attempts
                .iter()
                .find(|a| matches!(a.1, AttemptResult::Reached | AttemptResult::CallAgain))
                .map(|a| a.0);
            let due = h
                .attempts
                .last()
                .and_then(|a| a.2)
                .or(h.attempts.last().map(|a| a.0));
            tx.exec(
                sql("UPDATE incidents SET status = $1, owner_id = $2, owner_login = $3, claimed_at = $4, \
                     attempts = $5, first_attempt_at = $6, reached_at = $7, due_at = COALESCE($8, due_at), \
                     outcome = $9, closed_at = $10 WHERE id = $11 AND status <> 'closed'")
                .bind(if h.closed.is_some() { "closed" } else { "claimed" })
                .bind(h.owner_id.as_str())
                .bind(h.owner_login.as_str())
                .bind(h.claimed_at)
                .bind(h.attempts.len() as i64)
                .bind(first)
                .bind(reached)
                .bind(due)
                .bind(h.closed.map(|(o, _)| o.as_str()))
                .bind(h.closed.map(|(_, at)| at))
                .bind(h.incident_id.as_str()),
            )
            .await?;
            for (at, result, again, note) in &h.attempts {
                attempts.push((
                    h.incident_id.as_str(),
                    *at,
                    *result,
                    *again,
                    note.as_deref(),
                    h.owner_login.as_str(),
                ));
            }
        }
        tx.exec_rows(
            "INSERT INTO incident_attempts (id, incident_id, result, note, call_again_at, author_login, created_at) VALUES",
            7,
            "",
            &attempts,
            |q, (incident, at, result, again, note, author)| {
                q.push_arg(uuid::Uuid::now_v7().to_string());
                q.push_arg(*incident);
                q.push_arg(result.as_str());
                q.push_arg(*note);
                q.push_arg(*again);
                q.push_arg(*author);
                q.push_arg(*at);
            },
        )
        .await?;
        tx.commit().await
    }

    /// Every incident whose answer came in `[from, to)`, oldest first: the
    /// loop's figures and history loads read them.
    pub async fn incidents_answered(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<Incident>, StoreError> {
        self.db
            .all(
                sql(format!(
                    "SELECT {COLUMNS} FROM incidents WHERE answered_at >= $1 AND answered_at < $2 \
                     ORDER BY answered_at, id"
                ))
                .bind(from)
                .bind(to),
            )
            .await
    }
}
