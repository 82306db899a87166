//! Survey links: one-time, expiring links to an order's survey, for SMS,
//! e-mail or the customer's personal account (channel `link`).

use doorstep_domain::survey::{choose_survey, OrderFacts, SurveyDefinition};
use doorstep_domain::Money;
use doorstep_store::Store;

use crate::security::{new_secret, secret_hash};

/// Days a link stays valid unless told otherwise, and the most allowed.
pub const DEFAULT_DAYS: u32 = 7;
pub const MAX_DAYS: u32 = 90;

/// A link just made; `token` is shown once.
pub struct Issued {
    pub token: String,
    pub survey_id: String,
    pub expires_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("there is no order {0:?}")]
    NoOrder(String),
    #[error("there is no survey {0:?}")]
    NoSurvey(String),
    #[error("no survey's targeting fits order {0:?}; name a survey")]
    NothingFits(String),
    #[error(
        "order {0:?} has answered survey {1:?} already; a new link would only tell the customer so"
    )]
    Answered(String, String),
    #[error("a link is valid for 1 to {MAX_DAYS} days, not {0}")]
    Days(u32),
    #[error("survey {0:?} is a mystery-shopper inspection: inspectors fill it on their terminals, customers never get it")]
    Inspection(String),
    #[error(transparent)]
    Store(#[from] doorstep_store::StoreError),
}

/// Makes a link for an order: to `survey` if named, else to the survey its
/// targeting gives.
pub async fn issue(
    store: &Store,
    order_number: &str,
    survey: Option<&str>,
    days: u32,
) -> Result<Issued, IssueError> {
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(IssueError::Days(days));
    }
    let order = store
        .order(order_number)
        .await?
        .ok_or_else(|| IssueError::NoOrder(order_number.to_owned()))?;
    let survey_id = if let Some(id) = survey {
        let record = store
            .survey(id, None)
            .await?
            .ok_or_else(|| IssueError::NoSurvey(id.to_owned()))?;
        let inspection = serde_json::from_str::<SurveyDefinition>(&record.definition)
            .is_ok_and(|d| d.inspection);
        if inspection {
            return Err(IssueError::Inspection(id.to_owned()));
        }
        id.to_owned()
    } else {
        let surveys: Vec<(String, SurveyDefinition)> = store
            .surveys()
            .await?
            .into_iter()
            .filter_map(|r| serde_json::from_str(&r.definition).ok().map(|d| (r.id, d)))
            .collect();
        let facts = OrderFacts {
            order_number: &order.order_number,
            segment: order.segment(),
            city: &order.city,
            partner: order.partner.as_deref(),
            amount: order.amount_minor.map(Money::from_minor),
        };
        choose_survey(&facts, &surveys)
            .map(str::to_owned)
            .ok_or_else(|| IssueError::NothingFits(order_number.to_owned()))?
    };
    // A link to a survey the order has answered (by link or at the door)
    // could only say "already answered".
    if store
        .surveyed(&[order.order_number.as_str()])
        .await?
        .iter()
        .any(|(_, s)| *s == survey_id)
    {
        return Err(IssueError::Answered(order.order_number, survey_id));
    }
    let token = new_secret("s").replace('_', "");
    let expires_at = doorstep_store::now_millis() + i64::from(days) * 24 * 3600 * 1000;
    store
        .create_survey_link(
            &order.order_number,
            &secret_hash(&token),
            &survey_id,
            expires_at,
        )
        .await?;
    Ok(Issued {
        token,
        survey_id,
        expires_at,
    })
}

/// Where the server is reached from outside, for links in messages.
pub fn public_base(host: Option<&str>) -> String {
    match std::env::var("DOORSTEP_PUBLIC_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{}", host.unwrap_or("127.0.0.1:8080")),
    }
}
