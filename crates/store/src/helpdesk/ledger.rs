//! Remedies and the customer's bonus ledger. A remedy is applied once per
//! case and idempotency key (the table's unique key decides, whatever
//! races it); one that credits the bonus account writes its ledger entry
//! in the same transaction, under a key of its own, so a credit can never
//! be written twice. The ledger is append-only: the balance is the sum of
//! the entries, a mistake is reversed by a counter-entry (at most once),
//! and a debit beyond the balance is refused while the customer's other
//! ledger writers wait (their `ledger_accounts` row).

use doorstep_domain::helpdesk::remedies::{needs_approval, RemedyStatus, RemedyType};
use doorstep_domain::Money;
use serde::Serialize;

use super::cases::{Case, CASE_COLUMNS};
use super::Actor;
use crate::db::{sql, Tx};
use crate::events::NewEvent;
use crate::{Store, StoreError};

/// A remedy as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct Remedy {
    pub id: String,
    pub case_id: String,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub remedy_type: String,
    pub amount_minor: Option<i64>,
    pub currency: String,
    pub status: String,
    pub customer_phone: Option<String>,
    pub requested_by: String,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
    pub outcome_note: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const REMEDY_COLUMNS: &str =
    "id, case_id, idempotency_key, fingerprint, remedy_type, amount_minor, currency, status, \
     customer_phone, requested_by, decided_by, decision_note, outcome_note, created_at, updated_at";

/// One ledger entry (amount signed, minor units).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct LedgerEntry {
    pub id: String,
    pub customer_phone: String,
    pub amount_minor: i64,
    pub currency: String,
    /// `credit`, `debit` or `reversal`.
    pub kind: String,
    pub case_id: Option<String>,
    pub remedy_id: Option<String>,
    pub reverses: Option<String>,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub reason: Option<String>,
    pub author: String,
    pub created_at: i64,
}

const ENTRY_COLUMNS: &str =
    "id, customer_phone, amount_minor, currency, kind, case_id, remedy_id, reverses, \
     idempotency_key, fingerprint, reason, author, created_at";

/// A remedy asked for on a case.
#[derive(Debug, Clone)]
pub struct NewRemedy<'a> {
    pub case_id: &'a str,
    pub kind: RemedyType,
    pub amount: Option<i64>,
    pub currency: &'a str,
    pub idempotency_key: &'a str,
    pub note: Option<&'a str>,
    pub actor: Actor<'a>,
    /// The most the actor may grant on one case without approval (minor
    /// units); `None`: no limit.
    pub limit: Option<i64>,
}

/// Why a remedy (or a ledger write) was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerRefusal {
    NotFound,
    /// The case is closed: reopen it first.
    CaseClosed,
    /// A bonus credit needs the customer's phone on the case.
    NoCustomer,
    /// The idempotency key was used before for something else: what it
    /// was used for.
    KeyReused(String),
    /// A debit beyond the balance: the balance.
    Insufficient(i64),
    /// Not in the state the change needs: its state.
    NotPending(String),
    /// A reversal cannot itself be reversed.
    IsReversal,
}

/// What a remedy or ledger write came to: done now (`true`) or found done
/// before (`false`, a retry), or refused.
pub type Written<T> = Result<(T, bool), LedgerRefusal>;

/// A customer's ledger: balance and entries, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    pub balance: i64,
    pub entries: Vec<LedgerEntry>,
}

#[derive(Serialize)]
struct RemedyEvent<'a> {
    id: &'a str,
    case_id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    amount: Option<i64>,
    currency: &'a str,
    status: &'a str,
    order_number: Option<&'a str>,
    customer_phone: Option<&'a str>,
}

#[derive(Serialize)]
struct LedgerEvent<'a> {
    id: &'a str,
    customer_phone: &'a str,
    amount: i64,
    currency: &'a str,
    kind: &'a str,
    case_id: Option<&'a str>,
    reverses: Option<&'a str>,
    balance: i64,
}

impl Remedy {
    /// The event of this remedy: `remedy.<status>` (a remedy that reaches
    /// the company's systems is `remedy.requested`: theirs to carry out).
    /// Unlike case events it names the customer: the company's systems
    /// need to know whom to refund or credit.
    fn event(&self, order_number: Option<&str>) -> NewEvent {
        let name = match self.status.as_str() {
            "applied" => "remedy.applied",
            "requested" => "remedy.requested",
            "pending_approval" => "remedy.pending_approval",
            "refused" => "remedy.refused",
            "done" => "remedy.done",
            "failed" => "remedy.failed",
            "reversed" => "remedy.reversed",
            _ => "remedy.updated",
        };
        NewEvent::new(
            name,
            &RemedyEvent {
                id: &self.id,
                case_id: &self.case_id,
                kind: &self.remedy_type,
                amount: self.amount_minor,
                currency: &self.currency,
                status: &self.status,
                order_number,
                customer_phone: self.customer_phone.as_deref(),
            },
        )
    }

    pub fn kind(&self) -> Option<RemedyType> {
        RemedyType::parse(&self.remedy_type)
    }

    /// "bonus_credit 300.00" for the case's timeline.
    fn describe(&self) -> String {
        match self.amount_minor {
            Some(a) => format!(
                "{} {} {}",
                self.remedy_type,
                Money::from_minor(a).plain(),
                self.currency
            ),
            None => self.remedy_type.clone(),
        }
    }
}

impl LedgerEntry {
    fn event(&self, balance: i64) -> NewEvent {
        NewEvent::new(
            "ledger.entry",
            &LedgerEvent {
                id: &self.id,
                customer_phone: &self.customer_phone,
                amount: self.amount_minor,
                currency: &self.currency,
                kind: &self.kind,
                case_id: self.case_id.as_deref(),
                reverses: self.reverses.as_deref(),
                balance,
            },
        )
    }
}

fn fingerprint(kind: &str, amount: Option<i64>, extra: &str) -> String {
    match amount {
        Some(a) => format!("{kind}:{a}:{extra}"),
        None => format!("{kind}::{extra}"),
    }
}

/// Statuses whose amount counts as granted on the case (for the limit).
const GRANTED: &str = "('applied', 'requested', 'done', 'pending_approval')";

impl Store {
    /// Applies a remedy to a case — credits the bonus account, or asks the
    /// company's systems to carry it out, or (over the actor's limit)
    /// waits for approval. The same key on the same case again returns
    /// the remedy it made; with other content it is refused.
    pub async fn apply_remedy(&self, new: &NewRemedy<'_>) -> Result<Written<Remedy>, StoreError> {
        crate::db::retry_aborted(|| async {
            for _ in 0..4 {
                let mut tx = self.db.begin().await?;
                match apply_in(&mut tx, new).await? {
                    Attempt::Done(result, events) => {
                        self.commit_with_events(tx, &events).await?;
                        return Ok(result);
                    }
                    Attempt::Refused(result) => {
                        tx.rollback().await?;
                        return Ok(result);
                    }
                    Attempt::Raced => tx.rollback().await?,
                }
            }
            Err(StoreError::Corrupt(format!(
                "remedy key {:?} kept colliding",
                new.idempotency_key
            )))
        })
        .await
    }

    pub async fn remedy(&self, id: &str) -> Result<Option<Remedy>, StoreError> {
        self.db
            .opt(
                sql(format!(
                    "SELECT {REMEDY_COLUMNS} FROM remedies WHERE id = $1"
                ))
                .bind(id),
            )
            .await
    }

    /// A case's remedies, oldest first.
    pub async fn case_remedies(&self, case_id: &str) -> Result<Vec<Remedy>, StoreError> {
        self.db
            .all(
                sql(format!(
                    "SELECT {REMEDY_COLUMNS} FROM remedies WHERE case_id = $1 ORDER BY created_at, id"
                ))
                .bind(case_id),
            )
            .await
    }

    /// A customer's remedies, newest first.
    pub async fn customer_remedies(&self, phone: &str) -> Result<Vec<Remedy>, StoreError> {
        self.db
            .all(
                sql(format!(
                    "SELECT {REMEDY_COLUMNS} FROM remedies WHERE customer_phone = $1 ORDER BY created_at DESC, id"
                ))
                .bind(phone),
            )
            .await
    }

    /// Approves (it is applied or requested as if under the limit) or
    /// refuses (with the approver's reason) a remedy waiting for approval.
    /// Deciding twice changes nothing the second time.
    pub async fn decide_remedy(
        &self,
        id: &str,
        approve: bool,
        note: Option<&str>,
        actor: Actor<'_>,
    ) -> Result<Written<Remedy>, StoreError> {
        crate::db::retry_aborted(|| async {
            let mut tx = self.db.begin().await?;
            let current = lock_remedy(&mut tx, id).await?;
            let Some(current) = current else {
                tx.rollback().await?;
                return Ok(Err(LedgerRefusal::NotFound));
            };
            if current.status != RemedyStatus::PendingApproval.as_str() {
                tx.rollback().await?;
                return Ok(Err(LedgerRefusal::NotPending(current.status)));
            }
            let credits = current.kind().is_some_and(RemedyType::credits_ledger);
            let status = match (approve, credits) {
                (false, _) => RemedyStatus::Refused,
                (true, true) => RemedyStatus::Applied,
                (true, false) => RemedyStatus::Requested,
            };
            let remedy: Remedy = tx
                .one(
                    sql(format!(
                        "UPDATE remedies SET status = $1, decided_by = $2, decision_note = $3, updated_at = $4 \
                         WHERE id = $5 RETURNING {REMEDY_COLUMNS}"
                    ))
                    .bind(status.as_str())
                    .bind(actor.login)
                    .bind(note)
                    .bind(super::now())
                    .bind(id),
                )
                .await?;
            let case = case_in(&mut tx, &remedy.case_id).await?;
            let mut events = vec![remedy.event(case.order_number.as_deref())];
            if status == RemedyStatus::Applied {
                events.extend(credit_for(&mut tx, &remedy, actor.login).await?);
            }
            let verb = if approve { "approved" } else { "refused" };
            let body = match note {
                Some(n) => format!("remedy {verb}: {} — {n}", remedy.describe()),
                None => format!("remedy {verb}: {}", remedy.describe()),
            };
            Store::case_event_in(&mut tx, &remedy.case_id, &body, actor.login).await?;
            self.commit_with_events(tx, &events).await?;
            Ok(Ok((remedy, true)))
        })
        .await
    }

    /// The company's systems report how a requested remedy went (`done`
    /// or `failed`). The same report again is a success that changes
    /// nothing; a different one after the first is refused.
    pub async fn remedy_outcome(
        &self,
        id: &str,
        outcome: RemedyStatus,
        note: Option<&str>,
        author: &str,
    ) -> Result<Written<Remedy>, StoreError> {
        let mut tx = self.db.begin().await?;
        let current = lock_remedy(&mut tx, id).await?;
        let Some(current) = current else {
            tx.rollback().await?;
            return Ok(Err(LedgerRefusal::NotFound));
        };
        if current.status == outcome.as_str() {
            tx.rollback().await?;
            return Ok(Ok((current, false)));
        }
        if current.status != RemedyStatus::Requested.as_str() {
            tx.rollback().await?;
            return Ok(Err(LedgerRefusal::NotPending(current.status)));
        }
        let remedy: Remedy = tx
            .one(
                sql(format!(
                    "UPDATE remedies SET status = $1, outcome_note = $2, updated_at = $3 WHERE id = $4 \
                     RETURNING {REMEDY_COLUMNS}"
                ))
                .bind(outcome.as_str())
                .bind(note)
                .bind(super::now())
                .bind(id),
            )
            .await?;
        let case = case_in(&mut tx, &remedy.case_id).await?;
        let body = match note {
            Some(n) => format!("remedy {}: {} — {n}", outcome.as_str(), remedy.describe()),
            None => format!("remedy {}: {}", outcome.as_str(), remedy.describe()),
        };
        Store::case_event_in(&mut tx, &remedy.case_id, &body, author).await?;
        let events = [
            remedy.event(case.order_number.as_deref()),
            case.event("case.updated"),
        ];
        self.commit_with_events(tx, &events).await?;
        Ok(Ok((remedy, true)))
    }

    /// A customer's ledger: the balance (the sum of every entry) and the
    /// newest `limit` entries.
    pub async fn ledger(&self, phone: &str, limit: i64) -> Result<Ledger, StoreError> {
        let (balance,): (i64,) = self
            .db
            .one(
                sql("SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries WHERE customer_phone = $1")
                    .bind(phone),
            )
            .await?;
        let entries = self
            .db
            .all(
                sql(format!(
                    "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE customer_phone = $1 \
                     ORDER BY created_at DESC, id DESC LIMIT $2"
                ))
                .bind(phone)
                .bind(limit),
            )
            .await?;
        Ok(Ledger { balance, entries })
    }

    pub async fn ledger_entry(&self, id: &str) -> Result<Option<LedgerEntry>, StoreError> {
        self.db
            .opt(
                sql(format!(
                    "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE id = $1"
                ))
                .bind(id),
            )
            .await
    }

    /// The customer spends bonuses (reported by the company's systems):
    /// a debit, refused beyond the balance. The same key again returns the
    /// debit it made.
    pub async fn debit(
        &self,
        phone: &str,
        amount: i64,
        currency: &str,
        key: &str,
        reason: Option<&str>,
        author: &str,
    ) -> Result<Written<LedgerEntry>, StoreError> {
        let key = format!("debit:{key}");
        let print = fingerprint("debit", Some(amount), phone);
        crate::db::retry_aborted(|| async {
            let mut tx = self.db.begin().await?;
            lock_account(&mut tx, phone).await?;
            if let Some(before) = entry_by_key(&mut tx, &key).await? {
                tx.rollback().await?;
                return Ok(if before.fingerprint == print {
                    Ok((before, false))
                } else {
                    Err(LedgerRefusal::KeyReused(before.fingerprint))
                });
            }
            let balance = balance_in(&mut tx, phone).await?;
            if amount > balance {
                tx.rollback().await?;
                return Ok(Err(LedgerRefusal::Insufficient(balance)));
            }
            let entry = LedgerEntry {
                id: uuid::Uuid::now_v7().to_string(),
                customer_phone: phone.to_owned(),
                amount_minor: -amount,
                currency: currency.to_owned(),
                kind: "debit".to_owned(),
                case_id: None,
                remedy_id: None,
                reverses: None,
                idempotency_key: key.clone(),
                fingerprint: print.clone(),
                reason: reason.map(str::to_owned),
                author: author.to_owned(),
                created_at: super::now(),
            };
            // The account row holds other writers of this ledger off, so
            // the key cannot have been taken since the look above.
            insert_entry(&mut tx, &entry).await?;
            let event = entry.event(balance - amount);
            self.commit_with_events(tx, &[event]).await?;
            Ok(Ok((entry, true)))
        })
        .await
    }

    /// Reverses an entry with a counter-entry and a reason: at most once
    /// (a second reversal returns the first). A remedy whose credit is
    /// reversed is marked so.
    pub async fn reverse_entry(
        &self,
        id: &str,
        reason: &str,
        author: &str,
    ) -> Result<Written<LedgerEntry>, StoreError> {
        crate::db::retry_aborted(|| async {
            let mut tx = self.db.begin().await?;
            let original: Option<LedgerEntry> = tx
                .opt(sql(format!("SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE id = $1")).bind(id))
                .await?;
            let Some(original) = original else {
                tx.rollback().await?;
                return Ok(Err(LedgerRefusal::NotFound));
            };
            if original.reverses.is_some() {
                tx.rollback().await?;
                return Ok(Err(LedgerRefusal::IsReversal));
            }
            lock_account(&mut tx, &original.customer_phone).await?;
            let key = format!("reversal:{id}");
            if let Some(before) = entry_by_key(&mut tx, &key).await? {
                tx.rollback().await?;
                return Ok(Ok((before, false)));
            }
            let balance = balance_in(&mut tx, &original.customer_phone).await?;
            let entry = LedgerEntry {
                id: uuid::Uuid::now_v7().to_string(),
                customer_phone: original.customer_phone.clone(),
                amount_minor: -original.amount_minor,
                currency: original.currency.clone(),
                kind: "reversal".to_owned(),
                case_id: original.case_id.clone(),
                remedy_id: original.remedy_id.clone(),
                reverses: Some(original.id.clone()),
                idempotency_key: key,
                fingerprint: fingerprint("reversal", Some(-original.amount_minor), id),
                reason: Some(reason.to_owned()),
                author: author.to_owned(),
                created_at: super::now(),
            };
            insert_entry(&mut tx, &entry).await?;
            let mut events = vec![entry.event(balance - original.amount_minor)];
            if let Some(remedy_id) = &original.remedy_id {
                let reversed: Option<Remedy> = tx
                    .opt(
                        sql(format!(
                            "UPDATE remedies SET status = 'reversed', decision_note = $1, updated_at = $2 \
                             WHERE id = $3 RETURNING {REMEDY_COLUMNS}"
                        ))
                        .bind(reason)
                        .bind(super::now())
                        .bind(remedy_id.as_str()),
                    )
                    .await?;
                if let Some(r) = reversed {
                    let case = case_in(&mut tx, &r.case_id).await?;
                    events.push(r.event(case.order_number.as_deref()));
                    let body = format!("remedy reversed: {} — {reason}", r.describe());
                    Store::case_event_in(&mut tx, &r.case_id, &body, author).await?;
                }
            }
            self.commit_with_events(tx, &events).await?;
            Ok(Ok((entry, true)))
        })
        .await
    }
}

/// What one try at applying a remedy came to.
enum Attempt {
    Done(Written<Remedy>, Vec<NewEvent>),
    Refused(Written<Remedy>),
    /// Lost a race on the key to another request: run again.
    Raced,
}

async fn apply_in(tx: &mut Tx<'_>, new: &NewRemedy<'_>) -> Result<Attempt, StoreError> {
    let print = fingerprint(new.kind.as_str(), new.amount, "");
    let before: Option<Remedy> = tx
        .opt(
            sql(format!(
                "SELECT {REMEDY_COLUMNS} FROM remedies WHERE case_id = $1 AND idempotency_key = $2"
            ))
            .bind(new.case_id)
            .bind(new.idempotency_key),
        )
        .await?;
    if let Some(before) = before {
        return Ok(Attempt::Refused(if before.fingerprint == print {
            Ok((before, false))
        } else {
            Err(LedgerRefusal::KeyReused(before.fingerprint))
        }));
    }
    // Holds other writers of the case off until the commit.
    let case: Option<Case> = tx
        .opt(
            sql(format!(
                "UPDATE cases SET updated_at = $1 WHERE id = $2 RETURNING {CASE_COLUMNS}"
            ))
            .bind(super::now())
            .bind(new.case_id),
        )
        .await?;
    let Some(case) = case else {
        return Ok(Attempt::Refused(Err(LedgerRefusal::NotFound)));
    };
    if case.status == "closed" {
        return Ok(Attempt::Refused(Err(LedgerRefusal::CaseClosed)));
    }
    if new.kind.credits_ledger() && case.customer_phone.is_none() {
        return Ok(Attempt::Refused(Err(LedgerRefusal::NoCustomer)));
    }
    let (granted,): (i64,) = tx
        .one(
            sql(format!(
                "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM remedies \
                 WHERE case_id = $1 AND status IN {GRANTED}"
            ))
            .bind(new.case_id),
        )
        .await?;
    let status = if needs_approval(new.kind, new.amount, granted, new.limit) {
        RemedyStatus::PendingApproval
    } else if new.kind.credits_ledger() {
        RemedyStatus::Applied
    } else {
        RemedyStatus::Requested
    };
    let now = super::now();
    let remedy = Remedy {
        id: uuid::Uuid::now_v7().to_string(),
        case_id: new.case_id.to_owned(),
        idempotency_key: new.idempotency_key.to_owned(),
        fingerprint: print,
        remedy_type: new.kind.as_str().to_owned(),
        amount_minor: new.amount,
        currency: new.currency.to_owned(),
        status: status.as_str().to_owned(),
        customer_phone: case.customer_phone.clone(),
        requested_by: new.actor.login.to_owned(),
        decided_by: None,
        decision_note: None,
        outcome_note: new.note.map(str::to_owned),
        created_at: now,
        updated_at: now,
    };
    let inserted: Option<(String,)> = tx
        .opt(
            sql(
                "INSERT INTO remedies (id, case_id, idempotency_key, fingerprint, remedy_type, amount_minor, currency, \
                 status, customer_phone, requested_by, outcome_note, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
                 ON CONFLICT (case_id, idempotency_key) DO NOTHING RETURNING id",
            )
            .bind(remedy.id.as_str())
            .bind(new.case_id)
            .bind(new.idempotency_key)
            .bind(remedy.fingerprint.as_str())
            .bind(new.kind.as_str())
            .bind(new.amount)
            .bind(new.currency)
            .bind(status.as_str())
            .bind(case.customer_phone.as_deref())
            .bind(new.actor.login)
            .bind(new.note)
            .bind(now),
        )
        .await?;
    if inserted.is_none() {
        return Ok(Attempt::Raced);
    }
    let mut events = vec![remedy.event(case.order_number.as_deref())];
    if status == RemedyStatus::Applied {
        events.extend(credit_for(tx, &remedy, new.actor.login).await?);
    }
    let body = format!("remedy: {} — {}", remedy.describe(), status.as_str());
    Store::case_event_in(tx, new.case_id, &body, new.actor.login).await?;
    events.push(case.event("case.updated"));
    Ok(Attempt::Done(Ok((remedy, true)), events))
}

/// Credits an applied remedy's amount to the customer's bonus account,
/// under a key that is the remedy's own: once, whatever calls it again.
async fn credit_for(
    tx: &mut Tx<'_>,
    remedy: &Remedy,
    author: &str,
) -> Result<Vec<NewEvent>, StoreError> {
    let (Some(phone), Some(amount)) = (&remedy.customer_phone, remedy.amount_minor) else {
        return Ok(Vec::new());
    };
    lock_account(tx, phone).await?;
    let key = format!("remedy:{}", remedy.id);
    if entry_by_key(tx, &key).await?.is_some() {
        return Ok(Vec::new());
    }
    let balance = balance_in(tx, phone).await?;
    let entry = LedgerEntry {
        id: uuid::Uuid::now_v7().to_string(),
        customer_phone: phone.clone(),
        amount_minor: amount,
        currency: remedy.currency.clone(),
        kind: "credit".to_owned(),
        case_id: Some(remedy.case_id.clone()),
        remedy_id: Some(remedy.id.clone()),
        reverses: None,
        idempotency_key: key,
        fingerprint: fingerprint("credit", Some(amount), &remedy.id),
        reason: Some(remedy.remedy_type.clone()),
        author: author.to_owned(),
        created_at: super::now(),
    };
    insert_entry(tx, &entry).await?;
    Ok(vec![entry.event(balance + amount)])
}

/// Reads a remedy inside a write transaction, holding its other writers
/// off until the commit (a decision or an outcome is taken once).
async fn lock_remedy(tx: &mut Tx<'_>, id: &str) -> Result<Option<Remedy>, StoreError> {
    tx.opt(
        sql(format!(
            "UPDATE remedies SET updated_at = updated_at WHERE id = $1 RETURNING {REMEDY_COLUMNS}"
        ))
        .bind(id),
    )
    .await
}

/// Holds the customer's other ledger writers off until this transaction
/// ends (PostgreSQL's row lock on their account row; SQLite has one
/// writer anyway).
async fn lock_account(tx: &mut Tx<'_>, phone: &str) -> Result<(), StoreError> {
    tx.exec(
        sql(
            "INSERT INTO ledger_accounts (customer_phone, entries) VALUES ($1, 1) \
             ON CONFLICT (customer_phone) DO UPDATE SET entries = ledger_accounts.entries + 1",
        )
        .bind(phone),
    )
    .await?;
    Ok(())
}

async fn balance_in(tx: &mut Tx<'_>, phone: &str) -> Result<i64, StoreError> {
    let (balance,): (i64,) = tx
        .one(
            sql("SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries WHERE customer_phone = $1")
                .bind(phone),
        )
        .await?;
    Ok(balance)
}

async fn entry_by_key(tx: &mut Tx<'_>, key: &str) -> Result<Option<LedgerEntry>, StoreError> {
    tx.opt(
        sql(format!(
            "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE idempotency_key = $1"
        ))
        .bind(key),
    )
    .await
}

async fn insert_entry(tx: &mut Tx<'_>, e: &LedgerEntry) -> Result<(), StoreError> {
    tx.exec(
        sql(
            "INSERT INTO ledger_entries (id, customer_phone, amount_minor, currency, kind, case_id, remedy_id, reverses, \
             idempotency_key, fingerprint, reason, author, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(e.id.as_str())
        .bind(e.customer_phone.as_str())
        .bind(e.amount_minor)
        .bind(e.currency.as_str())
        .bind(e.kind.as_str())
        .bind(e.case_id.as_deref())
        .bind(e.remedy_id.as_deref())
        .bind(e.reverses.as_deref())
        .bind(e.idempotency_key.as_str())
        .bind(e.fingerprint.as_str())
        .bind(e.reason.as_deref())
        .bind(e.author.as_str())
        .bind(e.created_at),
    )
    .await?;
    Ok(())
}

async fn case_in(tx: &mut Tx<'_>, id: &str) -> Result<Case, StoreError> {
    tx.one(sql(format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1")).bind(id))
        .await
}

/// A remedy waiting for approval, with what the approver weighs.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingApproval {
    #[sqlx(flatten)]
    pub remedy: Remedy,
    pub case_number: i64,
    pub subject: String,
    pub category: String,
    /// What the case has been granted already (applied, requested, done).
    pub granted: i64,
}

impl Store {
    /// The approvers' queue, oldest first, each with its case: one query.
    pub async fn pending_approvals(&self, limit: i64) -> Result<Vec<PendingApproval>, StoreError> {
        let columns: Vec<String> = REMEDY_COLUMNS
            .split(", ")
            .map(|c| format!("r.{c}"))
            .collect();
        self.db
            .all(
                sql(format!(
                    "SELECT {}, c.number AS case_number, c.subject, c.category, \
                     CAST(COALESCE((SELECT SUM(g.amount_minor) FROM remedies g WHERE g.case_id = r.case_id \
                     AND g.status IN ('applied', 'requested', 'done')), 0) AS BIGINT) AS granted \
                     FROM remedies r JOIN cases c ON c.id = r.case_id \
                     WHERE r.status = 'pending_approval' ORDER BY r.created_at, r.id LIMIT $1",
                    columns.join(", ")
                ))
                .bind(limit),
            )
            .await
    }
}

impl Store {
    /// How many remedies wait for approval.
    pub async fn pending_count(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = self
            .db
            .one(sql(
                "SELECT COUNT(*) FROM remedies WHERE status = 'pending_approval'",
            ))
            .await?;
        Ok(n)
    }
}
