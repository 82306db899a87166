//! Items refused at the door, as the dashboard and the causes page read
//! them: the refusal rate (METRICS.md: orders with items refused ÷ orders
//! delivered, over the same period and filters) by city, partner, courier
//! and reason, and the refusal reasons that mean a root cause.

use std::collections::HashMap;

use doorstep_domain::survey::causes::{Cause, Vocabulary};
use doorstep_store::refusals::RefusalCut;
use doorstep_store::survey::rollups::{GroupBy, GroupKey, MetricsFilter};
use doorstep_store::Store;

/// One group's refusals.
#[derive(Debug, Clone, PartialEq)]
pub struct RefusalRow {
    /// A city, partner or courier id (`""`: none), or a reason's id.
    pub key: String,
    /// Orders with items refused.
    pub refused: i64,
    /// Orders delivered in the group (for a reason: all delivered orders).
    pub delivered: i64,
}

impl RefusalRow {
    /// Refused ÷ delivered; `None` when nothing was delivered.
    pub fn rate(&self) -> Option<f64> {
        (self.delivered > 0).then(|| self.refused as f64 / self.delivered as f64)
    }
}

/// The refusals over a filter, cut one way, worst rate first; `None` where
/// the filter names an answers' thing (survey, channel, segment).
pub async fn refusal_rates(
    store: &Store,
    filter: &MetricsFilter,
    cut: RefusalCut,
) -> anyhow::Result<Option<Vec<RefusalRow>>> {
    let Some(refused) = store.refusal_tallies(filter, cut).await? else {
        return Ok(None);
    };
    if refused.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let group = match cut {
        RefusalCut::City => GroupBy::City,
        RefusalCut::Partner => GroupBy::Partner,
        RefusalCut::Courier => GroupBy::Courier,
        RefusalCut::All | RefusalCut::Reason => GroupBy::All,
    };
    let delivered: HashMap<GroupKey, (i64, i64)> = store
        .delivery_tallies(filter, group, None)
        .await?
        .unwrap_or_default();
    let of = |key: &str| -> i64 {
        let key = if group == GroupBy::All { "all" } else { key };
        delivered.get(&GroupKey::of(key)).map_or(0, |d| d.0)
    };
    let mut rows: Vec<RefusalRow> = refused
        .into_iter()
        .map(|(key, n)| RefusalRow {
            delivered: of(&key),
            key,
            refused: n,
        })
        .collect();
    // Worst first: a group with refusals but nothing delivered, then the
    // highest rate, then the most refused.
    rows.sort_by(|a, b| {
        let rate = match (a.rate(), b.rate()) {
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => y.total_cmp(&x),
            (None, None) => std::cmp::Ordering::Equal,
        };
        rate.then(b.refused.cmp(&a.refused)).then(a.key.cmp(&b.key))
    });
    Ok(Some(rows))
}

/// The root causes a refusal reason means: those whose options name it, or
/// whose id it is — as a chosen answer option would.
pub fn causes_of_reason<'a>(vocabulary: &'a Vocabulary, reason: &str) -> Vec<&'a Cause> {
    vocabulary
        .causes
        .iter()
        .filter(|c| c.id == reason || c.options.iter().any(|o| o == reason))
        .collect()
}
