//! The customer's personal file and the claim-abuse signal: what the
//! console shows on the customer's page and before an operator pays again.

use doorstep_domain::helpdesk::claims::{assess, ClaimSignal};
use doorstep_store::helpdesk::file::{ClaimCounts, CustomerFile};
use doorstep_store::StoreError;

use crate::app::App;

/// Whether a customer's compensated claims look like abuse, with the
/// evidence; `None` when they do not.
pub async fn claim_signal(app: &App, phone: &str) -> Result<Option<ClaimSignal>, StoreError> {
    let theirs = app.store.customer_claims(phone).await?;
    let everyone = app.population_claims().await?;
    Ok(judge(theirs, everyone))
}

fn judge(theirs: ClaimCounts, everyone: ClaimCounts) -> Option<ClaimSignal> {
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    assess(
        count(theirs.claims),
        count(theirs.delivered),
        count(everyone.claims),
        count(everyone.delivered),
    )
}

/// What the file's head shows: the money, the loop, the customer's mood.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub orders: usize,
    pub delivered: i64,
    /// On delivered orders (minor units).
    pub spend: i64,
    /// Bonuses and compensations credited, refunds carried out.
    pub compensation: i64,
    pub balance: i64,
    /// Spend minus compensation (METRICS.md: lifetime value).
    pub lifetime_value: i64,
    pub open_cases: usize,
    /// The customer's NPS answers, oldest first: (when, score).
    pub nps: Vec<(i64, f64)>,
}

/// Sums a file up.
pub fn summarise(file: &CustomerFile) -> Summary {
    let compensation: i64 = file
        .ledger
        .entries
        .iter()
        .filter(|e| e.kind == "credit")
        .map(|e| e.amount_minor)
        .sum::<i64>()
        // A reversed credit was not compensation after all.
        + file
            .ledger
            .entries
            .iter()
            .filter(|e| e.kind == "reversal" && e.amount_minor < 0 && e.remedy_id.is_some())
            .map(|e| e.amount_minor)
            .sum::<i64>()
        + file
            .remedies
            .iter()
            .filter(|r| r.status == "done" && matches!(r.remedy_type.as_str(), "full_refund" | "price_difference_refund"))
            .filter_map(|r| r.amount_minor)
            .sum::<i64>();
    let mut nps: Vec<(i64, f64)> = file
        .answers
        .iter()
        .filter_map(|a| a.nps.map(|n| (a.finished_at, n)))
        .collect();
    nps.sort_by_key(|(at, _)| *at);
    Summary {
        orders: file.orders.len(),
        delivered: file.delivered,
        spend: file.spend,
        compensation,
        balance: file.ledger.balance,
        lifetime_value: file.spend - compensation,
        open_cases: file.cases.iter().filter(|c| c.is_open()).count(),
        nps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_judged_against_everyone_elses() {
        let everyone = ClaimCounts {
            claims: 155,
            delivered: 22_006,
        };
        assert!(judge(
            ClaimCounts {
                claims: 5,
                delivered: 6
            },
            everyone
        )
        .is_some());
        assert!(judge(
            ClaimCounts {
                claims: 1,
                delivered: 6
            },
            everyone
        )
        .is_none());
    }
}
