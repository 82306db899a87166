//! What the support figures (METRICS.md, "Support") are counted from (see
//! [`super::support_days`] for how they are summed): the facts kept on
//! each case — opened, resolved, its customer contacts, repeats, each
//! deadline met or missed, the business time of the first reply, the
//! customer's satisfaction — summed per group, each fact in the period its own instant falls in (a case opened in May
//! and resolved in June counts as opened in May and resolved in June).

use std::fmt::Write;

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
    /// The resolved cases a customer contacted about (FCR's population:
    /// a case opened to tell a customer first, who never answered, is
    /// neither).
    pub resolved_contacted: i64,
}

/// The lowest and highest CSAT answer.
pub const CSAT_RANGE: std::ops::RangeInclusive<i64> = 1..=5;

/// The built-in support survey's questions (migration 0017).
pub const CSAT_QUESTION: &str = "support_csat";
pub const CES_QUESTION: &str = "support_ces";
pub const COMMENT_QUESTION: &str = "support_comment";

/// A customer's rating of a resolved case, as the status page asks it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rating<'a> {
    /// 1–5.
    pub csat: i64,
    /// 1–7, if answered.
    pub ces: Option<i64>,
    pub comment: Option<&'a str>,
}

impl Rating<'_> {
    /// As the support survey's answers.
    fn answers(&self) -> Vec<doorstep_domain::survey::CheckedAnswer> {
        use doorstep_domain::survey::{CheckedAnswer, QuestionType};
        let answer = |id: &str, kind, number: Option<i64>, text: Option<&str>| CheckedAnswer {
            question_id: id.to_owned(),
            kind,
            number: number.map(|n| n as f64),
            options: Vec::new(),
            text: text.map(str::to_owned),
            flag: None,
        };
        let mut out = vec![answer(
            CSAT_QUESTION,
            QuestionType::Scale,
            Some(self.csat),
            None,
        )];
        if let Some(ces) = self.ces {
            out.push(answer(CES_QUESTION, QuestionType::Scale, Some(ces), None));
        }
        if let Some(comment) = self.comment.filter(|c| !c.trim().is_empty()) {
            out.push(answer(
                COMMENT_QUESTION,
                QuestionType::Text,
                None,
                Some(comment),
            ));
        }
        out
    }
}

impl Store {
    /// Records the customer's satisfaction with a resolved case (CSAT
    /// 1–5); see [`Store::rate_case_with`].
    pub async fn rate_case(
        &self,
        case_id: &str,
        csat: i64,
    ) -> Result<Option<super::cases::Case>, StoreError> {
        self.rate_case_with(
            case_id,
            &Rating {
                csat,
                ..Rating::default()
            },
        )
        .await
    }

    /// Records the customer's rating of a resolved case. The first answer
    /// stands: the same answer sent again, or a second one, changes
    /// nothing (`None`). A case about an order has its rating stored as a
    /// response of the support survey too (by the caller); a case without
    /// one keeps the whole rating on its timeline, and the alert rules look
    /// at it here, in the same transaction — so a CSAT of 3 or less raises
    /// a call-back about the case (an incident keyed `case:{number}`).
    pub async fn rate_case_with(
        &self,
        case_id: &str,
        rating: &Rating<'_>,
    ) -> Result<Option<super::cases::Case>, StoreError> {
        if !CSAT_RANGE.contains(&rating.csat) {
            return Err(StoreError::Corrupt(format!(
                "a CSAT of {} (1 to 5)",
                rating.csat
            )));
        }
        let mut tx = self.db.begin().await?;
        let rated: Option<super::cases::Case> = tx
            .opt(
                sql(format!(
                    "UPDATE cases SET csat = $1, csat_at = $2 WHERE id = $3 AND csat IS NULL RETURNING {}",
                    super::cases::CASE_COLUMNS
                ))
                .bind(rating.csat)
                .bind(super::now())
                .bind(case_id),
            )
            .await?;
        let Some(case) = &rated else {
            tx.rollback().await?;
            return Ok(None);
        };
        super::support_days::touch_cases(&mut tx, case.created_at).await?;
        let mut events = vec![case.event("case.rated")];
        if case.order_number.is_none() {
            let mut line = format!("{RATING_EVENT}CSAT {}/5", rating.csat);
            if let Some(ces) = rating.ces {
                let _ = write!(line, ", CES {ces}/7");
            }
            if let Some(comment) = rating.comment.filter(|c| !c.trim().is_empty()) {
                let _ = write!(line, " — {}", comment.trim());
            }
            Store::case_event_in(&mut tx, &case.id, &line, "customer").await?;
            events
                .extend(super::incidents::raise_for_case(&mut tx, case, &rating.answers()).await?);
        }
        self.commit_with_events(tx, &events).await?;
        Ok(rated)
    }
}

/// How the timeline line of a rating begins.
pub const RATING_EVENT: &str = "rating: ";
