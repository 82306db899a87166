//! What the support figures (METRICS.md, "Support") are counted from (see
//! [`super::support_days`] for how they are summed): the facts kept on
//! each case — opened, resolved, its customer contacts, repeats, each
//! deadline met or missed, the business time of the first reply, the
//! customer's satisfaction — summed per group, each fact in the period its own instant falls in (a case opened in May
//! and resolved in June counts as opened in May and resolved in June).

use crate::db::sql;
use crate::{Store, StoreError};

/// How the figures are grouped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SupportGroups {
    Line,
    Channel,
    /// The case's owner (`""`: nobody yet).
    Operator,
    Category,
    /// Periods of local days `(first, last)`, in order, keyed by their
    /// position in the list.
    Periods(Vec<(i64, i64)>),
}

/// One group's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupportCounts {
    /// Opened in the period.
    pub cases: i64,
    /// Customers of those cases who contacted us (a case without a phone
    /// is its own customer), and those of them with two or more contacts
    /// on the same problem (a case with 2+ contacts, or a repeat).
    pub customers: i64,
    pub repeat_customers: i64,
    /// Resolved in the period, and of those resolved at the first contact.
    pub resolved: i64,
    pub fcr: i64,
    /// First-response deadlines that fell in the period and were decided
    /// (met, or passed unanswered), and those met; the same for resolution.
    pub first_response_due: i64,
    pub first_response_met: i64,
    pub resolution_due: i64,
    pub resolution_met: i64,
    /// The median business time to the first reply of cases first
    /// answered in the period.
    pub median_first_response_ms: Option<i64>,
    /// CSAT answers given in the period, and those in the top two points.
    pub csat_answers: i64,
    pub csat_top2: i64,
}

/// The lowest and highest CSAT answer.
pub const CSAT_RANGE: std::ops::RangeInclusive<i64> = 1..=5;

impl Store {
    /// Records the customer's satisfaction with a resolved case (CSAT
    /// 1–5). The first answer stands: the same answer sent again, or a
    /// second one, changes nothing (`None`).
    pub async fn rate_case(
        &self,
        case_id: &str,
        csat: i64,
    ) -> Result<Option<super::cases::Case>, StoreError> {
        if !CSAT_RANGE.contains(&csat) {
            return Err(StoreError::Corrupt(format!("a CSAT of {csat} (1 to 5)")));
        }
        let mut tx = self.db.begin().await?;
        let rated: Option<super::cases::Case> = tx
            .opt(
                sql(format!(
                    "UPDATE cases SET csat = $1, csat_at = $2 WHERE id = $3 AND csat IS NULL RETURNING {}",
                    super::cases::CASE_COLUMNS
                ))
                .bind(csat)
                .bind(super::now())
                .bind(case_id),
            )
            .await?;
        match &rated {
            Some(case) => {
                super::support_days::touch_cases(&mut tx, case.created_at).await?;
                self.commit_with_events(tx, &[case.event("case.rated")])
                    .await?;
            }
            None => tx.rollback().await?,
        }
        Ok(rated)
    }
}
