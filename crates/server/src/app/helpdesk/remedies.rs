//! Applying a remedy and writing the bonus ledger: the request checked
//! field by field (the amount against the remedy's type, a missing amount
//! taken from the category's playbook), the operator's limit applied,
//! then stored once per idempotency key.

use doorstep_domain::helpdesk::remedies::{check_amount, RemedyType, MAX_AMOUNT};
use doorstep_domain::Role;
use doorstep_store::helpdesk::ledger::{LedgerEntry, NewRemedy, Remedy, Written};
use doorstep_store::helpdesk::Actor;
use doorstep_store::StoreError;

use super::optional_text;
use crate::app::{problem, App, Problem};

/// The longest idempotency key.
pub const MAX_KEY: usize = 200;

/// A remedy as the caller asks for it.
#[derive(Debug, Clone, Default)]
pub struct RemedyRequest {
    pub kind: String,
    pub amount: Option<i64>,
    pub idempotency_key: String,
    pub note: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RemedyError {
    #[error("{0}")]
    Invalid(Problem),
    #[error("there is no case {0:?}")]
    NoCase(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Problem> for RemedyError {
    fn from(p: Problem) -> Self {
        RemedyError::Invalid(p)
    }
}

/// The limit per case of someone of `role`: operators have the
/// deployment's; dispatchers, admins and the company's systems none.
pub fn limit_for(app: &App, role: Option<Role>) -> Option<i64> {
    (role == Some(Role::Operator)).then(|| app.deployment().operator_limit)
}

pub fn check_key(key: &str) -> Result<&str, Problem> {
    let key = key.trim();
    if key.is_empty() || key.chars().count() > MAX_KEY {
        return Err(problem(
            "idempotency_key",
            format!(
                "give 1 to {MAX_KEY} characters that name this action (the same key sent again applies it once)"
            ),
        ));
    }
    Ok(key)
}

/// Applies a remedy to a case (by its id) for `actor`, within `limit`.
pub async fn apply(
    app: &App,
    case_id: &str,
    req: &RemedyRequest,
    actor: Actor<'_>,
    limit: Option<i64>,
) -> Result<Written<Remedy>, RemedyError> {
    let kind = RemedyType::parse(&req.kind).ok_or_else(|| {
        problem(
            "type",
            format!(
                "{:?} is not a remedy; use one of {}",
                req.kind,
                RemedyType::words()
            ),
        )
    })?;
    let key = check_key(&req.idempotency_key)?;
    let note = optional_text("note", req.note.as_deref(), 2000)?;
    let case = app
        .store
        .case(case_id)
        .await?
        .ok_or_else(|| RemedyError::NoCase(case_id.to_owned()))?;
    // A remedy that takes an amount and was given none: the category's
    // playbook default for this order, if it has one.
    let amount = match (kind.has_amount(), req.amount) {
        (true, None) => {
            let categories = app.store.case_categories().await?;
            let order_amount = match &case.order_number {
                Some(n) => app.store.order(n).await?.and_then(|o| o.amount_minor),
                None => None,
            };
            categories
                .iter()
                .find(|c| c.id == case.category)
                .and_then(|c| c.playbook.iter().find(|e| e.kind == kind))
                .and_then(|e| e.default_amount(order_amount))
        }
        (_, given) => given,
    };
    let amount = check_amount(kind, amount).map_err(|e| problem("amount", e.to_string()))?;
    let currency = app.deployment().currency;
    Ok(app
        .store
        .apply_remedy(&NewRemedy {
            case_id: &case.id,
            kind,
            amount,
            currency: &currency,
            idempotency_key: key,
            note: note.as_deref(),
            actor,
            limit,
        })
        .await?)
}

/// Checks a ledger amount (a debit): 1 to the most one entry may carry.
pub fn check_ledger_amount(amount: i64) -> Result<i64, Problem> {
    if !(1..=MAX_AMOUNT).contains(&amount) {
        return Err(problem(
            "amount",
            format!("an amount in minor units from 1 to {MAX_AMOUNT} (e.g. 30000 for 300.00)"),
        ));
    }
    Ok(amount)
}

/// The customer spends bonuses: a debit, refused beyond the balance.
pub async fn debit(
    app: &App,
    phone: &str,
    amount: i64,
    key: &str,
    reason: Option<&str>,
    author: &str,
) -> Result<Written<LedgerEntry>, RemedyError> {
    let amount = check_ledger_amount(amount)?;
    let key = check_key(key)?;
    let reason = optional_text("reason", reason, 500)?;
    let currency = app.deployment().currency;
    Ok(app
        .store
        .debit(phone, amount, &currency, key, reason.as_deref(), author)
        .await?)
}
