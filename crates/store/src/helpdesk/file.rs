//! The customer's personal file: everything Doorstep knows of one customer
//! — orders, survey answers, incidents, cases and their contacts,
//! remedies, the bonus ledger — read in a handful of indexed queries, and
//! the claim counts the claim-abuse signal weighs.

use super::cases::{Case, CaseEntry};
use super::incidents::Incident;
use super::ledger::{Ledger, Remedy};
use crate::db::sql;
use crate::{OrderFilter, OrderView, Store, StoreError};

/// One survey answer of the customer's, as the file lists it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AnswerLine {
    pub order_number: String,
    pub survey_id: String,
    pub status: String,
    pub channel: String,
    pub finished_at: i64,
    pub nps: Option<f64>,
}

/// Everything about one customer (the newest first in every list).
#[derive(Debug, Clone)]
pub struct CustomerFile {
    pub orders: Vec<OrderView>,
    /// Whether there are more orders than `orders` holds.
    pub more_orders: bool,
    pub answers: Vec<AnswerLine>,
    pub incidents: Vec<Incident>,
    pub cases: Vec<Case>,
    /// The contacts of those cases (oldest first within a case).
    pub contacts: Vec<CaseEntry>,
    pub remedies: Vec<Remedy>,
    /// The customer's calls to the contact center (matched by phone).
    pub calls: Vec<crate::calls::CallRow>,
    /// Notices sent to them without a case (mass notices).
    pub notices: Vec<super::notices::Notice>,
    pub ledger: Ledger,
    /// Spend on delivered orders and their number (minor units).
    pub spend: i64,
    pub delivered: i64,
}

/// The most of each kind a file shows (a customer with thousands of
/// orders: the newest).
pub const FILE_LIMIT: i64 = 1000;

/// A customer's compensated claims and delivered orders, and everyone's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClaimCounts {
    pub claims: i64,
    pub delivered: i64,
}

/// A case counts as a compensated claim when a remedy with an amount was
/// given on it (credited, or carried out by the company).
const CLAIMED: &str = "SELECT DISTINCT case_id FROM remedies WHERE amount_minor IS NOT NULL \
     AND status IN ('applied', 'done')";

impl Store {
    /// A customer's personal file.
    pub async fn customer_file(&self, phone: &str) -> Result<CustomerFile, StoreError> {
        let filter = OrderFilter {
            phone: Some(phone.to_owned()),
            ..OrderFilter::default()
        };
        let page = self.search_orders(&filter, FILE_LIMIT, 0).await?;
        let answers = self
            .db
            .all(
                sql(
                    "SELECT r.order_number, r.survey_id, r.status, r.channel, r.finished_at, \
                     (SELECT a.number_value FROM answers a WHERE a.order_number = r.order_number \
                        AND a.response_id = r.id AND a.kind = 'nps') AS nps \
                     FROM orders o JOIN responses r ON r.order_number = o.order_number \
                     WHERE o.customer_phone = $1 ORDER BY r.finished_at DESC LIMIT $2",
                )
                .bind(phone)
                .bind(FILE_LIMIT),
            )
            .await?;
        let incidents = self.customer_incidents(phone).await?;
        let cases = self.customer_cases(phone).await?;
        let contacts = self
            .db
            .all(
                sql(
                    "SELECT e.id, e.case_id, e.kind, e.channel, e.direction, e.body, e.author, e.external_id, e.created_at, e.by_person, e.attachment_id \
                     FROM case_entries e JOIN cases c ON c.id = e.case_id \
                     WHERE c.customer_phone = $1 AND e.kind = 'contact' ORDER BY e.created_at, e.id LIMIT $2",
                )
                .bind(phone)
                .bind(FILE_LIMIT),
            )
            .await?;
        let remedies = self.customer_remedies(phone).await?;
        let calls = self.customer_calls(phone, FILE_LIMIT).await?;
        let notices = self.customer_notices(phone).await?;
        let ledger = self.ledger(phone, FILE_LIMIT).await?;
        let (spend, delivered): (i64, i64) = self
            .db
            .one(
                sql(
                    "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT), COUNT(*) FROM orders \
                     WHERE customer_phone = $1 AND delivered_at IS NOT NULL",
                )
                .bind(phone),
            )
            .await?;
        Ok(CustomerFile {
            more_orders: page.total > page.orders.len() as i64,
            orders: page.orders,
            answers,
            incidents,
            cases,
            contacts,
            remedies,
            calls,
            notices,
            ledger,
            spend,
            delivered,
        })
    }

    /// A customer's compensated claims and delivered orders.
    pub async fn customer_claims(&self, phone: &str) -> Result<ClaimCounts, StoreError> {
        // By the remedies' own copy of the customer (their index), not by
        // a look through every remedy.
        let (claims, delivered): (i64, i64) = self
            .db
            .one(
                sql("SELECT (SELECT COUNT(DISTINCT case_id) FROM remedies WHERE customer_phone = $1 \
                        AND amount_minor IS NOT NULL AND status IN ('applied', 'done')), \
                     (SELECT COUNT(*) FROM orders WHERE customer_phone = $1 AND delivered_at IS NOT NULL)")
                .bind(phone),
            )
            .await?;
        Ok(ClaimCounts { claims, delivered })
    }

    /// Everyone's compensated claims and delivered orders (a full count:
    /// the application keeps it a while).
    pub async fn population_claims(&self) -> Result<ClaimCounts, StoreError> {
        let (claims, delivered): (i64, i64) = self
            .db
            .one(sql(format!(
                "SELECT (SELECT COUNT(*) FROM ({CLAIMED}) claimed), \
                 (SELECT COUNT(*) FROM orders WHERE delivered_at IS NOT NULL)"
            )))
            .await?;
        Ok(ClaimCounts { claims, delivered })
    }
}
