//! Opening a case, adding a contact: the request as the company's systems
//! or an operator give it, checked field by field, then stored (a contact
//! joins the customer's open case about the order; the same external id
//! again finds its case).

use doorstep_domain::helpdesk::alerts::Priority;
use doorstep_domain::helpdesk::cases::{check_text, CaseChannel, Direction, Line};
use doorstep_domain::helpdesk::sla::Standing;
use doorstep_store::helpdesk::cases::{Case, CaseChange, CaseEntry, NewCase, NewContact, Opened};
use doorstep_store::StoreError;

use super::{optional_text, parse_phone};
use crate::app::{problem, App, Problem};

/// The longest external id (a CRM's message id, a PBX's call id).
pub const MAX_EXTERNAL_ID: usize = 200;

/// A contact that opens a case, as written by the caller.
#[derive(Debug, Clone, Default)]
pub struct CaseRequest {
    pub channel: String,
    pub line: Option<String>,
    pub category: Option<String>,
    pub priority: Option<String>,
    pub order_number: Option<String>,
    pub customer_phone: Option<String>,
    pub text: String,
    pub external_id: Option<String>,
    /// Outbound: the company reached out first (a proactive notice).
    pub direction: Option<String>,
    /// The gateway conversation it came from ("GATEWAY:CONVERSATION"):
    /// where replies go, and what finds the case without an order or a
    /// phone.
    pub conversation: Option<String>,
}

/// Why a case request failed.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("{0}")]
    Invalid(Problem),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Problem> for CaseError {
    fn from(p: Problem) -> Self {
        CaseError::Invalid(p)
    }
}

fn channel(value: &str) -> Result<CaseChannel, Problem> {
    CaseChannel::parse(value).ok_or_else(|| {
        problem(
            "channel",
            format!(
                "{value:?} is not a channel; use one of {}",
                CaseChannel::words()
            ),
        )
    })
}

fn direction(value: Option<&str>) -> Result<Direction, Problem> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(Direction::Inbound),
        Some(v) => Direction::parse(v).ok_or_else(|| {
            problem(
                "direction",
                format!(
                    "{v:?} is not a direction; use one of {}",
                    Direction::words()
                ),
            )
        }),
    }
}

fn text(value: &str) -> Result<&str, Problem> {
    check_text(value).map_err(|m| problem("text", m))
}

/// Opens a case (or adds the contact to the customer's open one), taken
/// by `author` (an operator's login, a token's name).
pub async fn open(app: &App, req: &CaseRequest, author: &str) -> Result<Opened, CaseError> {
    let channel = channel(&req.channel)?;
    let line = match req.line.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Line::Customers,
        Some(v) => Line::parse(v).ok_or_else(|| {
            problem(
                "line",
                format!("{v:?} is not a line; use one of {}", Line::words()),
            )
        })?,
    };
    let categories = app.store.case_categories().await?;
    let category = match req.category.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => "other".to_owned(),
        Some(v) => categories
            .iter()
            .find(|c| c.id == v)
            .map(|c| c.id.clone())
            .ok_or_else(|| {
                let known: Vec<&str> = categories.iter().map(|c| c.id.as_str()).collect();
                problem(
                    "category",
                    format!(
                        "{v:?} is not a case category; use one of {} (an admin edits the list in Settings)",
                        known.join(", ")
                    ),
                )
            })?,
    };
    let priority = match req
        .priority
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => Priority::Normal,
        Some(v) => Priority::parse(v).ok_or_else(|| {
            problem(
                "priority",
                format!("{v:?} is not a priority; use urgent, high or normal"),
            )
        })?,
    };
    let order_number = optional_text("order_number", req.order_number.as_deref(), 64)?;
    let mut customer_phone = match req.customer_phone.as_deref().map(str::trim) {
        Some(p) if !p.is_empty() => Some(parse_phone(app, "customer_phone", p)?),
        _ => None,
    };
    if let Some(number) = &order_number {
        if let Some(order) = app.store.order(number).await? {
            if customer_phone.is_none() {
                customer_phone = Some(order.customer_phone);
            }
        }
    }
    if order_number.is_none() && customer_phone.is_none() && req.conversation.is_none() {
        return Err(problem(
            "customer_phone",
            "give order_number or customer_phone: a case is about a customer or an order",
        )
        .into());
    }
    let text = text(&req.text)?;
    let external_id = optional_text("external_id", req.external_id.as_deref(), MAX_EXTERNAL_ID)?;
    let direction = direction(req.direction.as_deref())?;
    let opened = app
        .store
        .open_case(&NewCase {
            channel: channel.as_str(),
            line: line.as_str(),
            category: &category,
            priority: priority.as_str(),
            order_number: order_number.as_deref(),
            customer_phone: customer_phone.as_deref(),
            text,
            external_id: external_id.as_deref(),
            direction,
            author,
            incident_id: None,
            conversation: req.conversation.as_deref(),
        })
        .await?;
    // The customer who wrote is sent the case's status page (once per
    // case: a retry that failed before writes it now).
    if direction == Direction::Inbound {
        super::notices::status_link(app, opened.case()).await?;
        // Until a person joins a chat, the assistant answers it.
        if !matches!(opened, Opened::Again(_)) {
            let language = super::notices::customer_language(app, opened.case()).await?;
            super::bot::after_message(app, opened.case(), channel.as_str(), text, &language)
                .await?;
        }
    }
    Ok(opened)
}

/// A contact added to a known case, as written by the caller.
#[derive(Debug, Clone, Default)]
pub struct ContactRequest {
    pub channel: String,
    pub direction: Option<String>,
    pub text: String,
    pub external_id: Option<String>,
}

/// Adds a contact to a case: whether it was new (not a resend), and the
/// case as it now is — or why not.
pub async fn add_contact(
    app: &App,
    case_id: &str,
    req: &ContactRequest,
    author: &str,
    by_person: bool,
) -> Result<(CaseChange, bool), CaseError> {
    let channel = channel(&req.channel)?;
    let direction = direction(req.direction.as_deref())?;
    let text = text(&req.text)?;
    let external_id = optional_text("external_id", req.external_id.as_deref(), MAX_EXTERNAL_ID)?;
    let added = app
        .store
        .add_contact(
            case_id,
            &NewContact {
                channel: channel.as_str(),
                direction,
                text,
                author,
                external_id: external_id.as_deref(),
                by_person,
                attachment_id: None,
                follows_previous: false,
            },
        )
        .await?;
    // A customer's new message in a chat: the assistant's turn.
    if let ((Ok(case), true), Direction::Inbound) = (&added, direction) {
        let language = super::notices::customer_language(app, case).await?;
        super::bot::after_message(app, case, channel.as_str(), text, &language).await?;
    }
    Ok(added)
}

/// A case by its id or by the number people say ("1042", "#1042").
pub async fn find(app: &App, key: &str) -> Result<Option<Case>, StoreError> {
    let key = key.trim();
    match key.trim_start_matches('#').parse::<i64>() {
        Ok(number) => app.store.case_by_number(number).await,
        Err(_) => app.store.case(key).await,
    }
}

/// Where a case stands against its line's promises now (judged live: the
/// stored standing is as of its last change or the SLA job's last look).
pub async fn sla_standing(
    app: &App,
    case: &Case,
    entries: &[CaseEntry],
) -> Result<Standing, StoreError> {
    let setup = app.store.sla_setup().await?;
    Ok(setup.standing(case, entries, doorstep_store::now_millis()))
}
