//! Remedies: what support does for a customer — the one-click actions a
//! category's playbook offers (seed 001), their amounts, which of them
//! credit the bonus ledger here and which are the company's systems' to
//! carry out, and when an operator's action waits for approval.

use serde::{Deserialize, Serialize};

use super::vocabulary;

vocabulary! {
    /// The remedies support can apply.
    RemedyType {
        RedeliverFree => "redeliver_free",
        BonusCredit => "bonus_credit",
        FullRefund => "full_refund",
        PriceDifferenceRefund => "price_difference_refund",
        Compensation => "compensation",
        PaymentRetry => "payment_retry",
        SwitchToCash => "switch_to_cash",
    }
}

vocabulary! {
    /// Where a remedy is.
    RemedyStatus {
        /// Done here: the ledger was credited.
        Applied => "applied",
        /// Sent to the company's systems; their outcome is awaited.
        Requested => "requested",
        /// The company's systems carried it out.
        Done => "done",
        /// The company's systems could not.
        Failed => "failed",
        /// Over the operator's limit: waits for a dispatcher or an admin.
        PendingApproval => "pending_approval",
        /// The approver said no (with a reason).
        Refused => "refused",
        /// Its bonus credit was reversed (a mistake, with a reason).
        Reversed => "reversed",
    }
}

impl RemedyType {
    /// Credited to the customer's bonus account by Doorstep itself.
    pub fn credits_ledger(self) -> bool {
        matches!(self, RemedyType::BonusCredit | RemedyType::Compensation)
    }

    /// Carries an amount (and so counts against an operator's limit).
    pub fn has_amount(self) -> bool {
        matches!(
            self,
            RemedyType::BonusCredit
                | RemedyType::Compensation
                | RemedyType::FullRefund
                | RemedyType::PriceDifferenceRefund
        )
    }
}

/// One remedy a category offers, with its default amount: a fixed sum
/// (minor units) or a share of the order's amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaybookEntry {
    #[serde(rename = "type")]
    pub kind: RemedyType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_percent: Option<u32>,
}

impl PlaybookEntry {
    /// The amount to propose for an order of `order_amount` (minor units):
    /// the fixed sum, the share of the order, the whole order for a full
    /// refund; `None` where the operator must type it (a price difference)
    /// or the remedy has none.
    pub fn default_amount(&self, order_amount: Option<i64>) -> Option<i64> {
        if !self.kind.has_amount() {
            return None;
        }
        if let Some(fixed) = self.fixed {
            return Some(fixed);
        }
        let order = order_amount?;
        match (self.kind, self.share_percent) {
            (_, Some(share)) => Some(order * i64::from(share) / 100),
            (RemedyType::FullRefund, None) => Some(order),
            _ => None,
        }
    }
}

/// Why a remedy request cannot be taken as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemedyError {
    #[error("{0} needs an amount in minor units (e.g. 30000 for 300.00)")]
    AmountMissing(RemedyType),
    #[error("{0} carries no amount; leave `amount` out")]
    AmountNotTaken(RemedyType),
    #[error("an amount must be more than 0 and at most 100000000 minor units")]
    AmountOutOfRange,
}

/// The most one remedy may carry (a million in major units).
pub const MAX_AMOUNT: i64 = 100_000_000;

/// Checks a remedy's amount against its type.
pub fn check_amount(kind: RemedyType, amount: Option<i64>) -> Result<Option<i64>, RemedyError> {
    match (kind.has_amount(), amount) {
        (true, None) => Err(RemedyError::AmountMissing(kind)),
        (false, Some(_)) => Err(RemedyError::AmountNotTaken(kind)),
        (true, Some(a)) if !(1..=MAX_AMOUNT).contains(&a) => Err(RemedyError::AmountOutOfRange),
        (_, a) => Ok(a),
    }
}

/// Whether a remedy asked for by someone whose limit is `limit` (minor
/// units per case; `None` for no limit: dispatchers and admins) must wait
/// for approval, given what was already granted on the case.
pub fn needs_approval(
    kind: RemedyType,
    amount: Option<i64>,
    granted_on_case: i64,
    limit: Option<i64>,
) -> bool {
    match (kind.has_amount(), amount, limit) {
        (true, Some(amount), Some(limit)) => granted_on_case + amount > limit,
        _ => false,
    }
}

/// A customer's balance from their ledger entries' signed amounts.
pub fn balance(amounts: impl IntoIterator<Item = i64>) -> i64 {
    amounts.into_iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playbook_amounts() {
        let fixed = PlaybookEntry {
            kind: RemedyType::BonusCredit,
            fixed: Some(30_000),
            share_percent: None,
        };
        assert_eq!(fixed.default_amount(Some(250_000)), Some(30_000));
        let share = PlaybookEntry {
            kind: RemedyType::Compensation,
            fixed: None,
            share_percent: Some(10),
        };
        assert_eq!(share.default_amount(Some(250_000)), Some(25_000));
        assert_eq!(share.default_amount(None), None);
        let refund = PlaybookEntry {
            kind: RemedyType::FullRefund,
            fixed: None,
            share_percent: None,
        };
        assert_eq!(refund.default_amount(Some(123_456)), Some(123_456));
        let redeliver = PlaybookEntry {
            kind: RemedyType::RedeliverFree,
            fixed: Some(5),
            share_percent: None,
        };
        assert_eq!(redeliver.default_amount(Some(100)), None);
        let json: Vec<PlaybookEntry> = serde_json::from_str(
            r#"[{"type":"bonus_credit","fixed":30000},{"type":"switch_to_cash"}]"#,
        )
        .unwrap();
        assert_eq!(json[1].kind, RemedyType::SwitchToCash);
    }

    #[test]
    fn amounts_fit_their_type() {
        assert_eq!(
            check_amount(RemedyType::BonusCredit, None),
            Err(RemedyError::AmountMissing(RemedyType::BonusCredit))
        );
        assert_eq!(
            check_amount(RemedyType::RedeliverFree, Some(1)),
            Err(RemedyError::AmountNotTaken(RemedyType::RedeliverFree))
        );
        assert_eq!(
            check_amount(RemedyType::BonusCredit, Some(0)),
            Err(RemedyError::AmountOutOfRange)
        );
        assert_eq!(
            check_amount(RemedyType::BonusCredit, Some(300)),
            Ok(Some(300))
        );
        assert_eq!(check_amount(RemedyType::PaymentRetry, None), Ok(None));
        for t in RemedyType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
    }

    #[test]
    fn the_limit_counts_what_the_case_already_got() {
        let credit = RemedyType::BonusCredit;
        assert!(!needs_approval(credit, Some(500), 0, Some(500)));
        assert!(needs_approval(credit, Some(501), 0, Some(500)));
        assert!(needs_approval(credit, Some(300), 300, Some(500)));
        assert!(!needs_approval(credit, Some(1_000_000), 0, None));
        assert!(!needs_approval(
            RemedyType::RedeliverFree,
            None,
            10_000,
            Some(0)
        ));
        assert_eq!(balance([300, -300, 120]), 120);
    }
}
