//! Cases: one customer problem across any number of contacts. A case is
//! opened by its first contact; while it is unresolved, every new contact
//! from the same customer about the same order joins it (the unique
//! `open_key`, not a check-then-insert, decides); the same contact sent
//! again (its `external_id`) finds the case it made. Each change commits
//! with its event and a line on the case's timeline.

use doorstep_domain::helpdesk::cases::{open_key, CaseStatus, Direction, Fault};
use serde::Serialize;

use super::Actor;
use crate::db::{sql, Tx};
use crate::events::NewEvent;
use crate::{Store, StoreError};

/// A case as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct Case {
    pub id: String,
    pub number: i64,
    pub channel: String,
    pub line: String,
    pub category: String,
    pub priority: String,
    pub status: String,
    pub customer_phone: Option<String>,
    pub order_number: Option<String>,
    pub incident_id: Option<String>,
    pub owner_id: Option<String>,
    pub owner_login: Option<String>,
    pub subject: String,
    /// The customer's inbound contacts on it.
    pub contacts: i64,
    pub first_response_at: Option<i64>,
    pub fault: Option<String>,
    pub fault_note: Option<String>,
    pub handed_to: Option<String>,
    pub handed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// Where it stands against its line's promises (see `sla`).
    pub sla_state: Option<String>,
    pub first_response_due_at: Option<i64>,
    pub next_response_due_at: Option<i64>,
    pub resolution_due_at: Option<i64>,
    pub first_response_met: Option<bool>,
    pub resolution_met: Option<bool>,
    /// The business time the first reply took.
    pub first_response_ms: Option<i64>,
    pub sla_check_at: Option<i64>,
    /// Missed deadlines already told.
    pub sla_breaches: i64,
    /// The earlier case of the same customer about the same order or
    /// category this one repeats (within 7 days).
    pub repeat_of: Option<String>,
    /// When a repeat of this case first came.
    pub repeated_at: Option<i64>,
    /// The customer's satisfaction (1–5) and when they gave it.
    pub csat: Option<i64>,
    pub csat_at: Option<i64>,
    /// The gateway conversation it lives in ("GATEWAY:CONVERSATION").
    pub conversation: Option<String>,
}

pub const CASE_COLUMNS: &str = "id, number, channel, line, category, priority, status, customer_phone, \
     order_number, incident_id, owner_id, owner_login, subject, contacts, first_response_at, fault, fault_note, \
     handed_to, handed_at, created_at, updated_at, resolved_at, closed_at, sla_state, first_response_due_at, \
     next_response_due_at, resolution_due_at, first_response_met, resolution_met, first_response_ms, sla_check_at, \
     sla_breaches, repeat_of, repeated_at, csat, csat_at, conversation";

/// One line of a case's timeline.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct CaseEntry {
    pub id: String,
    pub case_id: String,
    /// `contact`, `note` (internal) or `event` (what was done).
    pub kind: String,
    pub channel: Option<String>,
    pub direction: Option<String>,
    pub body: String,
    pub author: String,
    pub external_id: Option<String>,
    pub created_at: i64,
    /// For an outbound contact: a person's reply (`None` on rows older
    /// than the distinction: taken as one), not a machine's notice.
    pub by_person: Option<bool>,
    /// A photo the customer sent with it.
    pub attachment_id: Option<String>,
}

impl CaseEntry {
    /// Whether this outbound contact was a person's reply.
    pub fn by_person(&self) -> bool {
        self.by_person.unwrap_or(true)
    }
}

/// The conversation of a case that lives in an e-mail thread: this, then
/// the customer's address (no gateway may take the name `email`).
pub const EMAIL_CONVERSATION: &str = "email:";

/// The kind of the notice that carries an operator's e-mail reply: this,
/// then an id of its own (one notice per reply).
pub const MAIL_REPLY_NOTICE: &str = "reply:";

/// An operator's reply on a case in an e-mail thread goes out by e-mail:
/// written with the reply, in its transaction, as a notice the notices job
/// sends (threaded, in the customer's language: the sender fills that in).
async fn queue_mail_reply(tx: &mut Tx<'_>, case: &Case, text: &str) -> Result<(), StoreError> {
    let Some(address) = case.email_address() else {
        return Ok(());
    };
    if super::loading_history() {
        // History being loaded (the demo, a migration): long answered.
        return Ok(());
    }
    // Its own id names the kind: one notice per reply.
    let kind = format!("{MAIL_REPLY_NOTICE}{}", uuid::Uuid::now_v7());
    tx.exec(super::notices::insert(&super::notices::NewNotice {
        case_id: &case.id,
        kind: &kind,
        channel: "email",
        address,
        // The sender words the reply in the customer's language.
        language: "",
        subject: "",
        body: text,
        send_after: super::now(),
    }))
    .await?;
    Ok(())
}

/// How a status change reads on the timeline: this, then the status word.
pub const STATUS_EVENT: &str = "status: ";

pub(crate) const ENTRY_COLUMNS: &str =
    "id, case_id, kind, channel, direction, body, author, external_id, created_at, by_person, attachment_id";

/// A contact that opens a case or joins the customer's open one.
#[derive(Debug, Clone)]
pub struct NewCase<'a> {
    pub channel: &'a str,
    pub line: &'a str,
    pub category: &'a str,
    pub priority: &'a str,
    pub order_number: Option<&'a str>,
    pub customer_phone: Option<&'a str>,
    pub text: &'a str,
    pub external_id: Option<&'a str>,
    pub direction: Direction,
    /// Who took it: an operator's login, a token's name.
    pub author: &'a str,
    /// The incident it grew from.
    pub incident_id: Option<&'a str>,
    /// The gateway conversation the contact came from.
    pub conversation: Option<&'a str>,
}

/// A contact added to a known case.
#[derive(Debug, Clone)]
pub struct NewContact<'a> {
    pub channel: &'a str,
    pub direction: Direction,
    pub text: &'a str,
    pub author: &'a str,
    pub external_id: Option<&'a str>,
    /// A person's reply (an outbound contact by an operator), which
    /// answers the customer; a machine's outbound notice is not.
    pub by_person: bool,
    /// A photo sent with it (an attachment's id).
    pub attachment_id: Option<&'a str>,
    /// A part of the customer's contact just before it (the further photos
    /// of one e-mail): shown on its own, not counted as another contact.
    pub follows_previous: bool,
}

/// What opening a case came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// A new case.
    Created(Case),
    /// The customer's open case about the same order took the contact.
    Joined(Case),
    /// This contact (its `external_id`) was taken before: its case.
    Again(Case),
}

impl Opened {
    pub fn case(&self) -> &Case {
        match self {
            Opened::Created(c) | Opened::Joined(c) | Opened::Again(c) => c,
        }
    }
}

/// Why a case could not be changed as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseRefusal {
    NotFound,
    /// Resolved or closed: reopen it first.
    NotOpen,
    /// Reopening would make a second open case about the same order: the
    /// number of the open one.
    AnotherOpen(i64),
    /// Someone else owns it (their login).
    OwnedBy(String),
}

/// What a change to a case came to.
pub type CaseChange = Result<Case, CaseRefusal>;

/// What a case event says: no customer's personal data.
#[derive(Serialize)]
struct CaseEvent<'a> {
    id: &'a str,
    number: i64,
    status: &'a str,
    channel: &'a str,
    line: &'a str,
    category: &'a str,
    priority: &'a str,
    order_number: Option<&'a str>,
    owner: Option<&'a str>,
    contacts: i64,
    fault: Option<&'a str>,
    handed_to: Option<&'a str>,
}

impl Case {
    pub fn event(&self, name: &'static str) -> NewEvent {
        NewEvent::new(
            name,
            &CaseEvent {
                id: &self.id,
                number: self.number,
                status: &self.status,
                channel: &self.channel,
                line: &self.line,
                category: &self.category,
                priority: &self.priority,
                order_number: self.order_number.as_deref(),
                owner: self.owner_login.as_deref(),
                contacts: self.contacts,
                fault: self.fault.as_deref(),
                handed_to: self.handed_to.as_deref(),
            },
        )
    }

    /// `case.replied`: a reply to send to the customer on the case's
    /// channel — through its gateway conversation, when it has one.
    pub fn reply_event(&self, contact: &NewContact<'_>) -> NewEvent {
        NewEvent::new(
            "case.replied",
            &serde_json::json!({
                "id": self.id,
                "number": self.number,
                "channel": contact.channel,
                "conversation": self.conversation,
                "gateway": self.gateway_conversation().map(|(g, _)| g),
                "conversation_id": self.gateway_conversation().map(|(_, id)| id),
                "order_number": self.order_number,
                "customer_phone": self.customer_phone,
                "text": contact.text,
                "by_person": contact.by_person,
                "author": contact.author,
            }),
        )
    }

    /// The customer's e-mail address, when the case lives in an e-mail
    /// thread (its replies go out by e-mail).
    pub fn email_address(&self) -> Option<&str> {
        self.conversation
            .as_deref()?
            .strip_prefix(EMAIL_CONVERSATION)
    }

    /// The gateway and its conversation id, when the case lives in a
    /// messenger or social conversation.
    pub fn gateway_conversation(&self) -> Option<(&str, &str)> {
        if self.email_address().is_some() {
            return None;
        }
        self.conversation.as_deref()?.split_once(':')
    }

    pub fn status(&self) -> CaseStatus {
        CaseStatus::parse(&self.status).unwrap_or(CaseStatus::Open)
    }

    pub fn is_open(&self) -> bool {
        self.status().is_open()
    }
}

/// The first line of a contact's text, shortened: the case's subject.
fn subject(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let line = line.trim();
    if line.chars().count() > 120 {
        let mut s: String = line.chars().take(117).collect();
        s.push('…');
        s
    } else {
        line.to_owned()
    }
}

/// How many times a transaction that lost a race on a unique key is run
/// again (the second run finds what the winner wrote).
pub(crate) const RACE_TRIES: u32 = 4;

impl Store {
    /// Opens a case with its first contact — or, while the customer has an
    /// open case about the same order (or, without an order, any open
    /// case), adds the contact to it; the same `external_id` again returns
    /// its case unchanged. Two servers taking the same contact at once
    /// make one case with one contact.
    pub async fn open_case(&self, new: &NewCase<'_>) -> Result<Opened, StoreError> {
        for _ in 0..RACE_TRIES {
            let opened = crate::db::retry_aborted(|| async {
                let mut tx = self.db.begin().await?;
                if let Some((opened, events)) = open_in(&mut tx, new).await? {
                    self.commit_with_events(tx, &events).await?;
                    Ok(Some(opened))
                } else {
                    tx.rollback().await?;
                    Ok(None)
                }
            })
            .await?;
            if let Some(opened) = opened {
                return Ok(opened);
            }
        }
        Err(StoreError::Corrupt(format!(
            "a contact ({:?}) kept colliding with another request's",
            new.external_id
        )))
    }

    pub async fn case(&self, id: &str) -> Result<Option<Case>, StoreError> {
        self.db
            .opt(sql(format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1")).bind(id))
            .await
    }

    /// A case by the number people say ("1042").
    pub async fn case_by_number(&self, number: i64) -> Result<Option<Case>, StoreError> {
        self.db
            .opt(
                sql(format!(
                    "SELECT {CASE_COLUMNS} FROM cases WHERE number = $1"
                ))
                .bind(number),
            )
            .await
    }

    /// Whether a photo was sent on a case (who may see the case may see it).
    pub async fn case_has_attachment(&self, case_id: &str, id: &str) -> Result<bool, StoreError> {
        let found: Option<(String,)> = self
            .db
            .opt(
                sql(
                    "SELECT id FROM case_entries WHERE case_id = $1 AND attachment_id = $2 LIMIT 1",
                )
                .bind(case_id)
                .bind(id),
            )
            .await?;
        Ok(found.is_some())
    }

    /// A case's timeline, oldest first.
    pub async fn case_entries(&self, case_id: &str) -> Result<Vec<CaseEntry>, StoreError> {
        self.db
            .all(
                sql(format!(
                    "SELECT {ENTRY_COLUMNS} FROM case_entries WHERE case_id = $1 ORDER BY created_at, id"
                ))
                .bind(case_id),
            )
            .await
    }

    /// Adds a contact to a case: an inbound one counts as the customer's
    /// and brings a case waiting on the customer back to work; a person's
    /// outbound one is the case's first response if there was none. A
    /// resolved or closed case takes no contacts (a new one opens a new
    /// case). The same `external_id` again changes nothing.
    pub async fn add_contact(
        &self,
        case_id: &str,
        contact: &NewContact<'_>,
    ) -> Result<(CaseChange, bool), StoreError> {
        crate::db::retry_aborted(|| async {
            let mut tx = self.db.begin().await?;
            if let Some(id) = contact.external_id {
                if let Some(existing) = entry_case(&mut tx, id).await? {
                    tx.rollback().await?;
                    return Ok((Ok(existing), false));
                }
            }
            let Some(case) = lock_case(&mut tx, case_id).await? else {
                tx.rollback().await?;
                return Ok((Err(CaseRefusal::NotFound), false));
            };
            if !case.is_open() {
                tx.rollback().await?;
                return Ok((Err(CaseRefusal::NotOpen), false));
            }
            let Some((case, events)) = contact_in(&mut tx, &case, contact).await? else {
                // Another request took this very contact a moment ago.
                let existing = match contact.external_id {
                    Some(id) => entry_case(&mut tx, id).await?,
                    None => None,
                };
                tx.rollback().await?;
                return Ok((existing.ok_or(CaseRefusal::NotFound), false));
            };
            self.commit_with_events(tx, &events).await?;
            Ok((Ok(case), true))
        })
        .await
    }

    /// Someone is typing on a case (`who`: `customer` or `operator`): a
    /// fleeting event for the pages looking at it, nothing stored on the
    /// case.
    pub async fn case_typing(&self, case_id: &str, who: &str) -> Result<(), StoreError> {
        let tx = self.db.begin().await?;
        self.commit_with_events(
            tx,
            &[NewEvent::new(
                "case.typing",
                &serde_json::json!({ "id": case_id, "who": who }),
            )],
        )
        .await
    }

    /// An internal note (never shown to the customer).
    pub async fn add_note(
        &self,
        case_id: &str,
        author: &str,
        text: &str,
    ) -> Result<CaseChange, StoreError> {
        let mut tx = self.db.begin().await?;
        let Some(case) = lock_case(&mut tx, case_id).await? else {
            tx.rollback().await?;
            return Ok(Err(CaseRefusal::NotFound));
        };
        insert_line(&mut tx, &case.id, "note", text, author).await?;
        let case: Case = tx
            .one(
                sql(format!(
                    "UPDATE cases SET updated_at = $1 WHERE id = $2 RETURNING {CASE_COLUMNS}"
                ))
                .bind(super::now())
                .bind(case_id),
            )
            .await?;
        tx.commit().await?;
        Ok(Ok(case))
    }

    /// Takes a case (or hands it to `to`): the owner works it to closure.
    /// Taking a case someone else owns needs `actor.overrides`.
    pub async fn assign_case(
        &self,
        case_id: &str,
        actor: Actor<'_>,
        to: Actor<'_>,
    ) -> Result<CaseChange, StoreError> {
        let mut tx = self.db.begin().await?;
        let Some(case) = lock_case(&mut tx, case_id).await? else {
            tx.rollback().await?;
            return Ok(Err(CaseRefusal::NotFound));
        };
        if let Some(owner) = &case.owner_id {
            if owner != actor.id && !actor.overrides {
                tx.rollback().await?;
                return Ok(Err(CaseRefusal::OwnedBy(
                    case.owner_login.unwrap_or_default(),
                )));
            }
        }
        let now = super::now();
        let case: Case = tx
            .one(
                sql(format!(
                    "UPDATE cases SET owner_id = $1, owner_login = $2, updated_at = $3, \
                     status = CASE WHEN status = 'new' THEN 'open' ELSE status END \
                     WHERE id = $4 RETURNING {CASE_COLUMNS}"
                ))
                .bind(to.id)
                .bind(to.login)
                .bind(now)
                .bind(case_id),
            )
            .await?;
        let body = format!("owner: {}", to.login);
        insert_line(&mut tx, case_id, "event", &body, actor.login).await?;
        super::support_days::touch_cases(&mut tx, case.created_at).await?;
        self.commit_with_events(tx, &[case.event("case.updated")])
            .await?;
        Ok(Ok(case))
    }

    /// Moves a case to `status`. Resolving or closing frees the customer's
    /// open slot for the order (their next contact opens a new case);
    /// reopening takes it back, unless another case holds it meanwhile.
    pub async fn set_case_status(
        &self,
        case_id: &str,
        status: CaseStatus,
        actor: Actor<'_>,
    ) -> Result<CaseChange, StoreError> {
        let mut tx = self.db.begin().await?;
        let Some(case) = lock_case(&mut tx, case_id).await? else {
            tx.rollback().await?;
            return Ok(Err(CaseRefusal::NotFound));
        };
        if let Some(owner) = &case.owner_id {
            if owner != actor.id && !actor.overrides {
                tx.rollback().await?;
                return Ok(Err(CaseRefusal::OwnedBy(
                    case.owner_login.unwrap_or_default(),
                )));
            }
        }
        if case.status() == status {
            tx.rollback().await?;
            return Ok(Ok(case));
        }
        let key = if status.is_open() {
            let key = open_key(
                case.order_number.as_deref(),
                case.customer_phone.as_deref(),
                case.conversation.as_deref(),
            );
            if let Some(k) = &key {
                let holder: Option<(i64,)> = tx
                    .opt(
                        sql("SELECT number FROM cases WHERE open_key = $1 AND id <> $2")
                            .bind(k.as_str())
                            .bind(case_id),
                    )
                    .await?;
                if let Some((number,)) = holder {
                    tx.rollback().await?;
                    return Ok(Err(CaseRefusal::AnotherOpen(number)));
                }
            }
            key
        } else {
            None
        };
        let now = super::now();
        let resolved_at = match status {
            CaseStatus::Resolved | CaseStatus::Closed => Some(case.resolved_at.unwrap_or(now)),
            _ => None,
        };
        let closed_at = (status == CaseStatus::Closed).then_some(now);
        let updated = tx
            .one::<Case>(
                sql(format!(
                    "UPDATE cases SET status = $1, open_key = $2, resolved_at = $3, closed_at = $4, updated_at = $5, \
                     owner_id = COALESCE(owner_id, $6), owner_login = COALESCE(owner_login, $7) \
                     WHERE id = $8 RETURNING {CASE_COLUMNS}"
                ))
                .bind(status.as_str())
                .bind(key)
                .bind(resolved_at)
                .bind(closed_at)
                .bind(now)
                .bind(actor.id)
                .bind(actor.login)
                .bind(case_id),
            )
            .await;
        let updated = match updated {
            // Another case took the slot between the look and the update.
            Err(e) if e.is_unique_violation() => {
                return Ok(Err(CaseRefusal::AnotherOpen(0)));
            }
            other => other?,
        };
        let body = format!("{STATUS_EVENT}{}", status.as_str());
        insert_line(&mut tx, case_id, "event", &body, actor.login).await?;
        let (updated, breach) = super::sla::judge_in(&mut tx, &updated).await?;
        let name = if status == CaseStatus::Resolved {
            "case.resolved"
        } else {
            "case.updated"
        };
        let mut events = vec![updated.event(name)];
        events.extend(breach);
        self.commit_with_events(tx, &events).await?;
        Ok(Ok(updated))
    }

    /// Records who was at fault and hands the case to that department
    /// (every party but the customer and "unknown" is one): an event
    /// `case.handed_off` tells the department's own systems.
    pub async fn record_fault(
        &self,
        case_id: &str,
        fault: Fault,
        note: Option<&str>,
        actor: Actor<'_>,
    ) -> Result<CaseChange, StoreError> {
        let mut tx = self.db.begin().await?;
        let Some(case) = lock_case(&mut tx, case_id).await? else {
            tx.rollback().await?;
            return Ok(Err(CaseRefusal::NotFound));
        };
        let department = fault.department().map(Fault::as_str);
        let now = super::now();
        let handed_at = match (department, &case.handed_to) {
            (Some(d), Some(before)) if d == before => case.handed_at,
            (Some(_), _) => Some(now),
            (None, _) => None,
        };
        let updated: Case = tx
            .one(
                sql(format!(
                    "UPDATE cases SET fault = $1, fault_note = $2, handed_to = $3, handed_at = $4, updated_at = $5 \
                     WHERE id = $6 RETURNING {CASE_COLUMNS}"
                ))
                .bind(fault.as_str())
                .bind(note)
                .bind(department)
                .bind(handed_at)
                .bind(now)
                .bind(case_id),
            )
            .await?;
        let body = match note {
            Some(n) => format!("fault: {} — {n}", fault.as_str()),
            None => format!("fault: {}", fault.as_str()),
        };
        insert_line(&mut tx, case_id, "event", &body, actor.login).await?;
        let mut events = vec![updated.event("case.updated")];
        if department.is_some() && handed_at == Some(now) {
            events.push(updated.event("case.handed_off"));
        }
        self.commit_with_events(tx, &events).await?;
        Ok(Ok(updated))
    }

    /// A line on the timeline for something done elsewhere (a remedy).
    pub(crate) async fn case_event_in(
        tx: &mut Tx<'_>,
        case_id: &str,
        body: &str,
        author: &str,
    ) -> Result<(), StoreError> {
        insert_line(tx, case_id, "event", body, author).await?;
        Ok(())
    }
}

/// The case a contact with this `external_id` went to.
pub(crate) async fn entry_case(
    tx: &mut Tx<'_>,
    external_id: &str,
) -> Result<Option<Case>, StoreError> {
    tx.opt(
        sql(format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE id = (SELECT case_id FROM case_entries WHERE external_id = $1)"
        ))
        .bind(external_id),
    )
    .await
}

/// Reads a case inside a write transaction, holding other writers of it
/// off until the commit (PostgreSQL's row lock; SQLite's one writer).
pub(crate) async fn lock_case(tx: &mut Tx<'_>, id: &str) -> Result<Option<Case>, StoreError> {
    tx.opt(
        sql(format!(
            "UPDATE cases SET updated_at = updated_at WHERE id = $1 RETURNING {CASE_COLUMNS}"
        ))
        .bind(id),
    )
    .await
}

/// A note or an event on the timeline (no channel, no direction).
pub(crate) async fn insert_line(
    tx: &mut Tx<'_>,
    case_id: &str,
    kind: &str,
    body: &str,
    author: &str,
) -> Result<bool, StoreError> {
    insert_entry_by(
        tx, case_id, kind, None, None, body, author, None, None, None,
    )
    .await
}

/// Inserts a timeline line; false when its `external_id` was taken.
/// `by_person`: for an outbound contact, whether a person wrote it.
#[allow(clippy::too_many_arguments)]
async fn insert_entry_by(
    tx: &mut Tx<'_>,
    case_id: &str,
    kind: &str,
    channel: Option<&str>,
    direction: Option<Direction>,
    body: &str,
    author: &str,
    external_id: Option<&str>,
    by_person: Option<bool>,
    attachment_id: Option<&str>,
) -> Result<bool, StoreError> {
    let at = super::now();
    let inserted: Option<(String,)> = tx
        .opt(
            sql(
                "INSERT INTO case_entries (id, case_id, kind, channel, direction, body, author, external_id, created_at, by_person, attachment_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING RETURNING id",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(case_id)
            .bind(kind)
            .bind(channel)
            .bind(direction.map(Direction::as_str))
            .bind(body)
            .bind(author)
            .bind(external_id)
            .bind(at)
            .bind(by_person)
            .bind(attachment_id),
        )
        .await?;
    if inserted.is_some() && kind == "contact" && direction == Some(Direction::Inbound) {
        super::late::contacted(tx, case_id, at).await?;
    }
    Ok(inserted.is_some())
}

/// Adds a contact to an open case (locked by the caller): the case as it
/// now is and the events to commit with it; `None` when the same contact
/// (its `external_id`) was taken a moment ago.
pub(crate) async fn contact_in(
    tx: &mut Tx<'_>,
    case: &Case,
    contact: &NewContact<'_>,
) -> Result<Option<(Case, Vec<NewEvent>)>, StoreError> {
    if !insert_entry_by(
        tx,
        &case.id,
        "contact",
        Some(contact.channel),
        Some(contact.direction),
        contact.text,
        contact.author,
        contact.external_id,
        Some(contact.by_person),
        contact.attachment_id,
    )
    .await?
    {
        return Ok(None);
    }
    let counted = if contact.follows_previous {
        None
    } else {
        Some(contact.direction)
    };
    let case = touch(tx, &case.id, counted, contact.by_person).await?;
    let (case, breach) = super::sla::judge_in(tx, &case).await?;
    let mut events = vec![case.event("case.updated")];
    events.extend(breach);
    if contact.direction == Direction::Outbound {
        events.push(case.reply_event(contact));
        if contact.by_person {
            queue_mail_reply(tx, &case, contact.text).await?;
        }
    }
    Ok(Some((case, events)))
}

/// After a contact: counts the customer's, brings a case waiting on the
/// customer back to work, and marks a person's first reply.
async fn touch(
    tx: &mut Tx<'_>,
    case_id: &str,
    direction: Option<Direction>,
    by_person: bool,
) -> Result<Case, StoreError> {
    let inbound = direction == Some(Direction::Inbound);
    let reply = direction == Some(Direction::Outbound) && by_person;
    tx.one(
        sql(format!(
            "UPDATE cases SET updated_at = $1, \
             contacts = contacts + CASE WHEN $2 THEN 1 ELSE 0 END, \
             status = CASE WHEN $2 AND status = 'waiting_customer' THEN 'open' ELSE status END, \
             first_response_at = CASE WHEN $3 THEN COALESCE(first_response_at, $1) ELSE first_response_at END \
             WHERE id = $4 RETURNING {CASE_COLUMNS}"
        ))
        .bind(super::now())
        .bind(inbound)
        .bind(reply)
        .bind(case_id),
    )
    .await
}

/// One try at opening (or joining) a case: `None` when it lost a race on
/// a unique key and must be run again.
pub(crate) async fn open_in(
    tx: &mut Tx<'_>,
    new: &NewCase<'_>,
) -> Result<Option<(Opened, Vec<NewEvent>)>, StoreError> {
    if let Some(id) = new.external_id {
        if let Some(case) = entry_case(tx, id).await? {
            return Ok(Some((Opened::Again(case), Vec::new())));
        }
    }
    let key = open_key(new.order_number, new.customer_phone, new.conversation);
    let existing = match &key {
        Some(k) => {
            tx.opt::<(String,)>(sql("SELECT id FROM cases WHERE open_key = $1").bind(k.as_str()))
                .await?
        }
        None => None,
    };
    let (case_id, created) = if let Some((id,)) = existing {
        (id, false)
    } else {
        let (number,): (i64,) = tx
            .one(sql(
                "UPDATE case_sequence SET last_number = last_number + 1 WHERE id = 1 RETURNING last_number",
            ))
            .await?;
        let now = super::now();
        let id = uuid::Uuid::now_v7().to_string();
        let inserted: Option<(String,)> = tx
            .opt(
                sql(
                    "INSERT INTO cases (id, number, open_key, channel, line, category, priority, status, customer_phone, \
                     order_number, incident_id, subject, contacts, created_at, updated_at, conversation) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'new', $8, $9, $10, $11, 0, $12, $12, $13) \
                     ON CONFLICT DO NOTHING RETURNING id",
                )
                .bind(id.as_str())
                .bind(number)
                .bind(key.as_deref())
                .bind(new.channel)
                .bind(new.line)
                .bind(new.category)
                .bind(new.priority)
                .bind(new.customer_phone)
                .bind(new.order_number)
                .bind(new.incident_id)
                .bind(subject(new.text))
                .bind(now)
                .bind(new.conversation),
            )
            .await?;
        if inserted.is_none() {
            // Another request opened the customer's case (or this
            // incident's) a moment ago: run again to join it.
            return Ok(None);
        }
        (id, true)
    };
    if !insert_entry_by(
        tx,
        &case_id,
        "contact",
        Some(new.channel),
        Some(new.direction),
        new.text,
        new.author,
        new.external_id,
        Some(false),
        None,
    )
    .await?
    {
        // The same contact, taken by another request a moment ago.
        return Ok(None);
    }
    if created {
        mark_repeat(tx, &case_id, new).await?;
    } else if let Some(conversation) = new.conversation {
        // A message from a gateway joining a case opened elsewhere: its
        // replies go back to this conversation from now on.
        tx.exec(
            sql("UPDATE cases SET conversation = COALESCE(conversation, $1) WHERE id = $2")
                .bind(conversation)
                .bind(case_id.as_str()),
        )
        .await?;
    }
    let case = touch(tx, &case_id, Some(new.direction), false).await?;
    let (case, breach) = super::sla::judge_in(tx, &case).await?;
    Ok(Some(if created {
        let event = case.event("case.created");
        (
            Opened::Created(case),
            [event].into_iter().chain(breach).collect(),
        )
    } else {
        let event = case.event("case.updated");
        (
            Opened::Joined(case),
            [event].into_iter().chain(breach).collect(),
        )
    }))
}

/// How long after a case is resolved a new one about the same order or
/// category is a repeat of it (METRICS.md, first-contact resolution).
pub const REPEAT_WINDOW_MS: i64 = 7 * 24 * 3_600_000;

/// Marks a new case as a repeat of the customer's latest case about the
/// same order or the same category (not "other", which says nothing of
/// the problem) that is open or was resolved within the window, and that
/// case as followed by a repeat.
async fn mark_repeat(tx: &mut Tx<'_>, case_id: &str, new: &NewCase<'_>) -> Result<(), StoreError> {
    let Some(phone) = new.customer_phone else {
        return Ok(());
    };
    let now = super::now();
    let category = (new.category != "other").then_some(new.category);
    let earlier: Vec<(String, i64)> = tx
        .all(
            sql("UPDATE cases SET repeated_at = COALESCE(repeated_at, $1) \
                 WHERE customer_phone = $2 AND id <> $3 AND created_at <= $1 \
                 AND (order_number = $4 OR category = $5) \
                 AND (resolved_at IS NULL OR resolved_at >= $6) \
                 RETURNING id, created_at")
            .bind(now)
            .bind(phone)
            .bind(case_id)
            .bind(new.order_number)
            .bind(category)
            .bind(now - REPEAT_WINDOW_MS),
        )
        .await?;
    if let Some(since) = earlier.iter().map(|(_, at)| *at).min() {
        super::support_days::touch_cases(tx, since).await?;
    }
    if let Some((latest, _)) = earlier.iter().max_by_key(|(id, at)| (*at, id.clone())) {
        tx.exec(
            sql("UPDATE cases SET repeat_of = $1 WHERE id = $2")
                .bind(latest.as_str())
                .bind(case_id),
        )
        .await?;
    }
    Ok(())
}

/// Whose cases an inbox shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseView {
    /// This person's (user id).
    Mine(String),
    /// Nobody's yet: the line's queue.
    Unassigned,
    /// Handed to this department after a fault was recorded.
    Department(String),
    /// Every case.
    All,
}

/// Which cases to list.
#[derive(Debug, Clone)]
pub struct CaseFilter {
    pub view: CaseView,
    pub line: Option<String>,
    /// One status; `None`: every open one (new, open, waiting) — or, for a
    /// search or a department, every status.
    pub status: Option<String>,
    pub category: Option<String>,
    pub channel: Option<String>,
    /// Only cases opened before this instant (older than an age).
    pub opened_before: Option<i64>,
    /// An order number, a phone (as stored) or a case number.
    pub search: Option<String>,
    /// Only cases that missed a deadline (an SLA breach).
    pub breached: bool,
    pub limit: i64,
}

impl CaseFilter {
    pub fn new(view: CaseView) -> CaseFilter {
        CaseFilter {
            view,
            line: None,
            status: None,
            category: None,
            channel: None,
            opened_before: None,
            search: None,
            breached: false,
            limit: 100,
        }
    }
}

/// The open statuses, as SQL.
pub(crate) const OPEN_STATUSES: &str = "('new', 'open', 'waiting_customer', 'waiting_department')";

impl Store {
    /// Cases as the filter asks, most urgent and then longest untouched
    /// first for open ones (the work to do), newest first otherwise.
    pub async fn cases(&self, f: &CaseFilter) -> Result<Vec<Case>, StoreError> {
        use std::fmt::Write;
        let mut q = sql(String::new());
        let mut text = format!("SELECT {CASE_COLUMNS} FROM cases WHERE 1 = 1");
        let arg = |q: &mut crate::db::Sql, v: crate::db::Arg| {
            q.push_arg(v);
            q.arg_count()
        };
        match &f.view {
            CaseView::Mine(id) => {
                let n = arg(&mut q, id.as_str().into());
                let _ = write!(text, " AND owner_id = ${n}");
            }
            CaseView::Unassigned => text.push_str(" AND owner_id IS NULL"),
            CaseView::Department(d) => {
                let n = arg(&mut q, d.as_str().into());
                let _ = write!(text, " AND handed_to = ${n}");
            }
            CaseView::All => {}
        }
        let every_status = f.search.is_some() || matches!(f.view, CaseView::Department(_));
        match &f.status {
            Some(s) => {
                let n = arg(&mut q, s.as_str().into());
                let _ = write!(text, " AND status = ${n}");
            }
            None if !every_status => {
                let _ = write!(text, " AND status IN {OPEN_STATUSES}");
            }
            None => {}
        }
        for (column, value) in [
            ("line", &f.line),
            ("category", &f.category),
            ("channel", &f.channel),
        ] {
            if let Some(v) = value {
                let n = arg(&mut q, v.as_str().into());
                let _ = write!(text, " AND {column} = ${n}");
            }
        }
        if f.breached {
            text.push_str(" AND sla_state = 'breached'");
        }
        if let Some(before) = f.opened_before {
            let n = arg(&mut q, before.into());
            let _ = write!(text, " AND created_at < ${n}");
        }
        if let Some(s) = &f.search {
            let n = arg(&mut q, s.as_str().into());
            let number = s.trim_start_matches('#').parse::<i64>().ok();
            let m = arg(&mut q, number.into());
            let _ = write!(
                text,
                " AND (order_number = ${n} OR customer_phone = ${n} OR number = ${m})"
            );
        }
        let open_only = f
            .status
            .as_deref()
            .is_none_or(|s| CaseStatus::parse(s).is_some_and(CaseStatus::is_open))
            && !every_status;
        if open_only {
            text.push_str(
                " ORDER BY CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END, updated_at, id",
            );
        } else {
            text.push_str(" ORDER BY updated_at DESC, id DESC");
        }
        let n = arg(&mut q, f.limit.clamp(1, 1000).into());
        let _ = write!(text, " LIMIT ${n}");
        self.db.all(q.with_text(text)).await
    }

    /// How many open cases each line has nobody working on, and how many
    /// are this person's: the inbox's tabs.
    pub async fn inbox_counts(&self, user_id: &str) -> Result<InboxCounts, StoreError> {
        let rows: Vec<(String, i64, i64)> = self
            .db
            .all(
                sql(format!(
                    "SELECT line, CAST(SUM(CASE WHEN owner_id IS NULL THEN 1 ELSE 0 END) AS BIGINT), \
                     CAST(SUM(CASE WHEN owner_id = $1 THEN 1 ELSE 0 END) AS BIGINT) \
                     FROM cases WHERE status IN {OPEN_STATUSES} GROUP BY line"
                ))
                .bind(user_id),
            )
            .await?;
        let mut counts = InboxCounts::default();
        for (line, unassigned, mine) in rows {
            counts.mine += mine;
            counts.unassigned.push((line, unassigned));
        }
        Ok(counts)
    }

    /// A customer's cases, newest first.
    pub async fn customer_cases(&self, phone: &str) -> Result<Vec<Case>, StoreError> {
        self.db
            .all(
                sql(format!(
                    "SELECT {CASE_COLUMNS} FROM cases WHERE customer_phone = $1 ORDER BY created_at DESC, id"
                ))
                .bind(phone),
            )
            .await
    }
}

/// The inbox's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxCounts {
    pub mine: i64,
    /// Per line: open cases nobody owns.
    pub unassigned: Vec<(String, i64)>,
}

impl Store {
    /// Turns an incident into a case (the dispatcher hands it to support):
    /// the case opens with the survey answer as its first contact — or the
    /// customer's open case about the order takes it — and the incident
    /// closes with the outcome "case opened", in one transaction.
    pub async fn case_from_incident(
        &self,
        incident_id: &str,
        actor: Actor<'_>,
        category: &str,
        line: &str,
        text: &str,
    ) -> Result<Result<Opened, super::incidents::Refusal>, StoreError> {
        use doorstep_domain::helpdesk::incidents::Outcome;
        for _ in 0..RACE_TRIES {
            let mut tx = self.db.begin().await?;
            let incident: Option<super::incidents::Incident> = tx
                .opt(
                    sql(format!(
                        "SELECT {} FROM incidents WHERE id = $1",
                        super::incidents::COLUMNS
                    ))
                    .bind(incident_id),
                )
                .await?;
            let Some(incident) = incident else {
                tx.rollback().await?;
                return Ok(Err(super::incidents::Refusal::NotFound));
            };
            let new = NewCase {
                channel: "survey",
                line,
                category,
                priority: &incident.priority,
                order_number: Some(&incident.order_number),
                customer_phone: Some(&incident.customer_phone),
                text,
                external_id: None,
                direction: Direction::Inbound,
                author: actor.login,
                incident_id: Some(incident_id),
                conversation: None,
            };
            let Some((opened, mut events)) = open_in(&mut tx, &new).await? else {
                tx.rollback().await?;
                continue;
            };
            let closed = super::incidents::close_in(
                &mut tx,
                incident_id,
                actor,
                Outcome::CaseOpened,
                Some(&opened.case().id),
            )
            .await?;
            match closed {
                Ok(incident) => {
                    events.push(incident.event("incident.closed"));
                    self.commit_with_events(tx, &events).await?;
                    return Ok(Ok(opened));
                }
                Err(refusal) => {
                    tx.rollback().await?;
                    return Ok(Err(refusal));
                }
            }
        }
        Err(StoreError::Corrupt(format!(
            "incident {incident_id} kept colliding while becoming a case"
        )))
    }
}
