//! The helpdesk's figures for the dashboard, the console and reports:
//! what closing the loop achieved (by city, dispatcher or period) and who
//! was at fault (by party, courier and partner, with what it cost).

use std::collections::BTreeMap;

use doorstep_domain::helpdesk::recovery::{figures, IncidentFacts, LoopFigures};
use doorstep_domain::time::{date_of_day, local_day, week_start};
use doorstep_store::{Store, StoreError};
use jiff::tz::TimeZone;
use serde::Serialize;

/// How the loop's figures are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopGroup {
    All,
    City,
    Dispatcher,
    Day,
    Week,
    Month,
}

impl LoopGroup {
    pub fn parse(s: &str) -> Option<LoopGroup> {
        Some(match s.trim() {
            "" | "all" => LoopGroup::All,
            "city" => LoopGroup::City,
            "dispatcher" => LoopGroup::Dispatcher,
            "day" => LoopGroup::Day,
            "week" => LoopGroup::Week,
            "month" => LoopGroup::Month,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LoopGroup::All => "all",
            LoopGroup::City => "city",
            LoopGroup::Dispatcher => "dispatcher",
            LoopGroup::Day => "day",
            LoopGroup::Week => "week",
            LoopGroup::Month => "month",
        }
    }
}

/// One group's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoopGroupRow {
    pub key: String,
    #[serde(flatten)]
    pub figures: LoopFigures,
}

fn period_key(ms: i64, group: LoopGroup, tz: &TimeZone) -> String {
    let (day, month) = local_day(ms, tz);
    match group {
        LoopGroup::Day => date_of_day(day).to_string(),
        LoopGroup::Week => date_of_day(week_start(day)).to_string(),
        _ => format!("{}-{:02}", month / 100, month % 100),
    }
}

/// The loop's figures for incidents answered in `[from, to)`, grouped;
/// groups in key order, the whole period first when grouped by `All`.
pub async fn loop_figures(
    store: &Store,
    tz: &TimeZone,
    from: i64,
    to: i64,
    group: LoopGroup,
) -> Result<Vec<LoopGroupRow>, StoreError> {
    let rows = store.loop_rows(from, to).await?;
    let now = doorstep_store::now_millis();
    let mut groups: BTreeMap<String, Vec<IncidentFacts>> = BTreeMap::new();
    for r in rows {
        let key = match group {
            LoopGroup::All => String::new(),
            LoopGroup::City => r.city.clone(),
            LoopGroup::Dispatcher => r.owner_login.clone().unwrap_or_default(),
            LoopGroup::Day | LoopGroup::Week | LoopGroup::Month => {
                period_key(r.answered_at, group, tz)
            }
        };
        groups.entry(key).or_default().push(IncidentFacts {
            answered_at: r.answered_at,
            first_attempt_at: r.first_attempt_at,
            reached_at: r.reached_at,
            outcome: r.outcome,
            next_order_at: r.next_order_at,
        });
    }
    if group == LoopGroup::All && groups.is_empty() {
        groups.insert(String::new(), Vec::new());
    }
    Ok(groups
        .into_iter()
        .map(|(key, list)| LoopGroupRow {
            key,
            figures: figures(&list, now),
        })
        .collect())
}

/// Who was at fault in a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Faults {
    /// (party, cases, compensation in minor units), most cases first.
    pub by_party: Vec<(String, i64, i64)>,
    /// The couriers and partners most often at fault (at most ten each).
    pub by_courier: Vec<(String, i64, i64)>,
    pub by_partner: Vec<(String, i64, i64)>,
}

fn ranked(map: BTreeMap<String, (i64, i64)>, take: usize) -> Vec<(String, i64, i64)> {
    let mut list: Vec<(String, i64, i64)> = map.into_iter().map(|(k, (n, c))| (k, n, c)).collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    list.truncate(take);
    list
}

/// Faults recorded on cases opened in `[from, to)`.
pub async fn faults(store: &Store, from: i64, to: i64) -> Result<Faults, StoreError> {
    let rows = store.fault_rows(from, to).await?;
    let mut party: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut courier: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut partner: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in rows {
        let add = |m: &mut BTreeMap<String, (i64, i64)>, key: String| {
            let e = m.entry(key).or_default();
            e.0 += r.cases;
            e.1 += r.compensation;
        };
        add(&mut party, r.fault.clone());
        if r.fault == "courier" {
            if let Some(c) = &r.courier_id {
                add(&mut courier, c.clone());
            }
        }
        if r.fault == "partner" {
            if let Some(p) = &r.partner {
                add(&mut partner, p.clone());
            }
        }
    }
    Ok(Faults {
        by_party: ranked(party, usize::MAX),
        by_courier: ranked(courier, 10),
        by_partner: ranked(partner, 10),
    })
}
