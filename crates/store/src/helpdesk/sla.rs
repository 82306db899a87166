//! Each case's standing against its line's promises, kept on the case.
//!
//! Every transaction that changes what the SLA counts (a contact, a reply,
//! a status) judges the case again from its timeline before it commits;
//! the SLA job judges the cases whose `sla_check_at` has come, when a
//! deadline turns at risk or is missed with nothing happening. A missed
//! deadline is told once (`case.sla_breached`): the count of those told is
//! kept on the case row, which the judging transaction holds.

use std::collections::HashMap;

use doorstep_domain::helpdesk::alerts::Priority;
use doorstep_domain::helpdesk::cases::{CaseChannel, CaseStatus, Direction};
use doorstep_domain::helpdesk::sla::{standing_from, Happened, LineSla, Standing};
use jiff::tz::TimeZone;

use super::cases::{Case, CaseEntry, CASE_COLUMNS, ENTRY_COLUMNS, STATUS_EVENT};
use crate::db::{sql, Tx};
use crate::events::NewEvent;
use crate::{Store, StoreError};

/// What judging a case needs: the deployment's time zone and each line's
/// calendar and promises.
#[derive(Debug, Clone)]
pub struct SlaSetup {
    pub tz: TimeZone,
    pub lines: HashMap<String, LineSla>,
}

impl SlaSetup {
    /// The line's SLA (the defaults for a line nobody set up).
    pub fn line(&self, line: &str) -> LineSla {
        self.lines.get(line).cloned().unwrap_or_default()
    }

    /// Where `case` with timeline `entries` stands at `now`.
    pub fn standing(&self, case: &Case, entries: &[CaseEntry], now: i64) -> Standing {
        let sla = self.line(&case.line);
        let channel = CaseChannel::parse(&case.channel).unwrap_or(CaseChannel::Phone);
        let priority = Priority::parse(&case.priority).unwrap_or(Priority::Normal);
        let timeline = timeline(entries);
        // A case opened to tell the customer first owes them a reply
        // once they write.
        let asked_at = if channel == CaseChannel::Proactive {
            timeline
                .iter()
                .find(|(_, w)| *w == Happened::CustomerContact)
                .map(|(at, _)| *at)
        } else {
            Some(case.created_at)
        };
        standing_from(
            &sla.policy(channel, priority),
            &sla.calendar_or_always(self.tz.clone()),
            case.created_at,
            asked_at,
            &timeline,
            now,
        )
    }
}

/// What the SLA counts on a case's timeline: the customer's contacts,
/// people's replies, waits on the customer, resolutions and reopenings.
pub fn timeline(entries: &[CaseEntry]) -> Vec<(i64, Happened)> {
    let mut timeline = Vec::new();
    let (mut waiting, mut resolved) = (false, false);
    for e in entries {
        let happened = match (e.kind.as_str(), e.direction.as_deref()) {
            ("contact", Some(d)) if d == Direction::Outbound.as_str() => {
                e.by_person().then_some(Happened::Reply)
            }
            ("contact", _) => Some(Happened::CustomerContact),
            ("event", _) => match e
                .body
                .strip_prefix(STATUS_EVENT)
                .and_then(CaseStatus::parse)
            {
                Some(CaseStatus::WaitingCustomer) if !resolved => {
                    waiting = true;
                    Some(Happened::Waiting)
                }
                Some(CaseStatus::Resolved | CaseStatus::Closed) if !resolved => {
                    resolved = true;
                    Some(Happened::Resolved)
                }
                Some(CaseStatus::New | CaseStatus::Open | CaseStatus::WaitingDepartment) => {
                    if resolved {
                        resolved = false;
                        waiting = false;
                        Some(Happened::Reopened)
                    } else if waiting {
                        waiting = false;
                        Some(Happened::Resumed)
                    } else {
                        None
                    }
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(h) = happened {
            timeline.push((e.created_at, h));
        }
    }
    timeline
}

/// What a breach event says: the case and which of its deadlines.
#[derive(serde::Serialize)]
struct Breach<'a> {
    id: &'a str,
    number: i64,
    line: &'a str,
    channel: &'a str,
    priority: &'a str,
    owner: Option<&'a str>,
    sla_state: &'a str,
    /// How many deadlines of this case have been missed so far.
    breaches: i64,
    first_response_due_at: Option<i64>,
    next_response_due_at: Option<i64>,
    resolution_due_at: Option<i64>,
}

/// Reads the SLA setup inside a transaction.
async fn setup_in(tx: &mut Tx<'_>) -> Result<SlaSetup, StoreError> {
    let tz: Option<(String,)> = tx
        .opt(sql("SELECT value FROM settings WHERE key = 'time_zone'"))
        .await?;
    let rows: Vec<(String, String)> = tx.all(sql("SELECT line, sla FROM sla_lines")).await?;
    Ok(setup_from(tz, rows))
}

fn setup_from(tz: Option<(String,)>, rows: Vec<(String, String)>) -> SlaSetup {
    let tz = tz
        .and_then(|(name,)| TimeZone::get(&name).ok())
        .unwrap_or_else(|| {
            TimeZone::get(&doorstep_domain::Deployment::default().time_zone)
                .unwrap_or(TimeZone::UTC)
        });
    let lines = rows
        .into_iter()
        .filter_map(|(line, json)| match serde_json::from_str(&json) {
            Ok(sla) => Some((line, sla)),
            Err(e) => {
                tracing::error!(%line, error = %e, "a line's SLA cannot be read; the defaults apply");
                None
            }
        })
        .collect();
    SlaSetup { tz, lines }
}

/// Judges `case` again inside the transaction that changed it (or the SLA
/// job's) and keeps the standing on its row; a deadline missed since it
/// was last judged comes back as a `case.sla_breached` event to commit
/// with it.
pub(crate) async fn judge_in(
    tx: &mut Tx<'_>,
    case: &Case,
) -> Result<(Case, Option<NewEvent>), StoreError> {
    let setup = setup_in(tx).await?;
    let entries: Vec<CaseEntry> = tx
        .all(
            sql(format!(
                "SELECT {ENTRY_COLUMNS} FROM case_entries WHERE case_id = $1 ORDER BY created_at, id"
            ))
            .bind(case.id.as_str()),
        )
        .await?;
    let now = super::now();
    let s = setup.standing(case, &entries, now);
    let judged: Case = tx
        .one(
            sql(format!(
                "UPDATE cases SET sla_state = $1, first_response_due_at = $2, next_response_due_at = $3, \
                 resolution_due_at = $4, first_response_met = $5, resolution_met = $6, first_response_ms = $7, \
                 sla_check_at = $8, sla_breaches = CASE WHEN sla_breaches < $9 THEN $9 ELSE sla_breaches END \
                 WHERE id = $10 RETURNING {CASE_COLUMNS}"
            ))
            .bind(s.state.as_str())
            .bind(s.first_response_due_at)
            .bind(s.next_response_due_at)
            .bind(s.resolution_due_at)
            .bind(s.first_response_met)
            .bind(s.resolution_met)
            .bind(s.first_response_ms)
            .bind(s.check_at)
            .bind(i64::from(s.breaches))
            .bind(case.id.as_str()),
        )
        .await?;
    super::support_days::touch_cases(tx, judged.created_at).await?;
    let event = (i64::from(s.breaches) > case.sla_breaches).then(|| {
        NewEvent::new(
            "case.sla_breached",
            &Breach {
                id: &judged.id,
                number: judged.number,
                line: &judged.line,
                channel: &judged.channel,
                priority: &judged.priority,
                owner: judged.owner_login.as_deref(),
                sla_state: s.state.as_str(),
                breaches: i64::from(s.breaches),
                first_response_due_at: s.first_response_due_at,
                next_response_due_at: s.next_response_due_at,
                resolution_due_at: s.resolution_due_at,
            },
        )
    });
    Ok((judged, event))
}

/// How many cases the SLA job judges per transaction.
const JUDGE_SLICE: i64 = 50;

impl Store {
    /// The time zone and every line's SLA.
    pub async fn sla_setup(&self) -> Result<SlaSetup, StoreError> {
        let tz: Option<(String,)> = self
            .db
            .opt(sql("SELECT value FROM settings WHERE key = 'time_zone'"))
            .await?;
        let rows: Vec<(String, String)> =
            self.db.all(sql("SELECT line, sla FROM sla_lines")).await?;
        Ok(setup_from(tz, rows))
    }

    /// Saves a line's calendar and promises. The open cases of the line
    /// are judged again by the SLA job at once, under the new ones, from
    /// the time they had spent.
    pub async fn save_line_sla(&self, line: &str, sla: &LineSla) -> Result<(), StoreError> {
        let json = serde_json::to_string(sla)
            .map_err(|e| StoreError::Corrupt(format!("a line's SLA: {e}")))?;
        let now = super::now();
        let mut tx = self.db.begin().await?;
        tx.exec(
            sql(
                "INSERT INTO sla_lines (line, sla, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (line) DO UPDATE SET sla = excluded.sla, updated_at = excluded.updated_at",
            )
            .bind(line)
            .bind(json)
            .bind(now),
        )
        .await?;
        tx.exec(
            sql(format!(
                "UPDATE cases SET sla_check_at = $1 WHERE line = $2 AND status IN {}",
                super::cases::OPEN_STATUSES
            ))
            .bind(now)
            .bind(line),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Has the SLA job judge every open case again at once (the
    /// deployment's time zone changed: their deadlines with it).
    pub async fn rejudge_open_cases(&self) -> Result<u64, StoreError> {
        self.db
            .exec(
                sql(format!(
                    "UPDATE cases SET sla_check_at = $1 WHERE status IN {}",
                    super::cases::OPEN_STATUSES
                ))
                .bind(super::now()),
            )
            .await
    }

    /// Judges the cases whose standing may have changed by the clock
    /// alone (`sla_check_at` has come), a slice per transaction; each
    /// newly missed deadline raises `case.sla_breached` once, however many
    /// processes run this at once. Returns how many cases were judged.
    pub async fn judge_due_cases(&self) -> Result<usize, StoreError> {
        let mut judged = 0;
        loop {
            let now = super::now();
            let mut tx = self.db.begin().await?;
            let due: Vec<Case> = tx
                .all(
                    sql(format!(
                        "UPDATE cases SET sla_check_at = NULL WHERE id IN \
                         (SELECT id FROM cases WHERE sla_check_at <= $1 ORDER BY sla_check_at LIMIT $2) \
                         RETURNING {CASE_COLUMNS}"
                    ))
                    .bind(now)
                    .bind(JUDGE_SLICE),
                )
                .await?;
            if due.is_empty() {
                tx.rollback().await?;
                return Ok(judged);
            }
            let mut events = Vec::new();
            for case in &due {
                let (case, breach) = judge_in(&mut tx, case).await?;
                if let Some(b) = breach {
                    events.push(case.event("case.updated"));
                    events.push(b);
                }
            }
            judged += due.len();
            self.commit_with_events(tx, &events).await?;
            if due.len() < usize::try_from(JUDGE_SLICE).unwrap_or(usize::MAX) {
                return Ok(judged);
            }
        }
    }
}
