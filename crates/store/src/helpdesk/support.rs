//! What the support figures (METRICS.md, "Support") are counted from: the
//! facts kept on each case — opened, resolved, its customer contacts,
//! repeats, each deadline met or missed, the business time of the first
//! reply, the customer's satisfaction — summed by the database per group,
//! each fact in the period its own instant falls in (a case opened in May
//! and resolved in June counts as opened in May and resolved in June).

use std::collections::BTreeMap;
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
    /// Periods `[from, to)`, keyed by their position in the list.
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
                self.commit_with_events(tx, &[case.event("case.rated")])
                    .await?;
            }
            None => tx.rollback().await?,
        }
        Ok(rated)
    }

    /// The counts of cases in `[from, to)` (each fact by its own instant),
    /// grouped as asked; for periods, `from`/`to` are the periods' span.
    /// Keys are the group's value, or the period's position as text.
    pub async fn support_counts(
        &self,
        from: i64,
        to: i64,
        groups: &SupportGroups,
    ) -> Result<BTreeMap<String, SupportCounts>, StoreError> {
        let periods = match groups {
            SupportGroups::Periods(p) => p.clone(),
            _ => vec![(from, to)],
        };
        if periods.is_empty() {
            return Ok(BTreeMap::new());
        }
        let mut with = String::from("WITH b(i, lo, hi) AS (VALUES ");
        for (i, (lo, hi)) in periods.iter().enumerate() {
            if i == 0 {
                let _ = write!(
                    with,
                    "(CAST({i} AS BIGINT), CAST({lo} AS BIGINT), CAST({hi} AS BIGINT))"
                );
            } else {
                let _ = write!(with, ", ({i}, {lo}, {hi})");
            }
        }
        with.push_str(") ");
        let key = match groups {
            SupportGroups::Line => "c.line",
            SupportGroups::Channel => "c.channel",
            SupportGroups::Operator => "COALESCE(c.owner_login, '')",
            SupportGroups::Category => "c.category",
            SupportGroups::Periods(_) => "CAST(b.i AS TEXT)",
        };
        let from_cases = |at: &str, extra: &str| {
            format!("FROM b JOIN cases c ON c.{at} >= b.lo AND c.{at} < b.hi{extra}")
        };
        let mut out: BTreeMap<String, SupportCounts> = BTreeMap::new();

        let opened: Vec<(String, i64, i64, i64)> = self
            .db
            .all(sql(format!(
                "{with}SELECT {key}, COUNT(*), \
                 COUNT(DISTINCT CASE WHEN c.contacts > 0 THEN COALESCE(c.customer_phone, c.id) END), \
                 COUNT(DISTINCT CASE WHEN c.contacts >= 2 OR c.repeat_of IS NOT NULL OR c.repeated_at IS NOT NULL \
                   THEN COALESCE(c.customer_phone, c.id) END) \
                 {} GROUP BY {key}",
                from_cases("created_at", "")
            )))
            .await?;
        for (k, cases, customers, repeat) in opened {
            let g = out.entry(k).or_default();
            g.cases = cases;
            g.customers = customers;
            g.repeat_customers = repeat;
        }

        let resolved: Vec<(String, i64, i64)> = self
            .db
            .all(sql(format!(
                "{with}SELECT {key}, COUNT(*), \
                 COALESCE(SUM(CASE WHEN c.contacts = 1 AND c.repeated_at IS NULL THEN 1 ELSE 0 END), 0) \
                 {} GROUP BY {key}",
                from_cases("resolved_at", "")
            )))
            .await?;
        for (k, n, fcr) in resolved {
            let g = out.entry(k).or_default();
            g.resolved = n;
            g.fcr = fcr;
        }

        for (due, met, first) in [
            ("first_response_due_at", "first_response_met", true),
            ("resolution_due_at", "resolution_met", false),
        ] {
            let rows: Vec<(String, i64, i64)> = self
                .db
                .all(sql(format!(
                    "{with}SELECT {key}, COUNT(*), COALESCE(SUM(CASE WHEN c.{met} THEN 1 ELSE 0 END), 0) \
                     {} GROUP BY {key}",
                    from_cases(due, &format!(" AND c.{met} IS NOT NULL"))
                )))
                .await?;
            for (k, n, m) in rows {
                let g = out.entry(k).or_default();
                if first {
                    (g.first_response_due, g.first_response_met) = (n, m);
                } else {
                    (g.resolution_due, g.resolution_met) = (n, m);
                }
            }
        }

        // The median: the middle one or two of each group's times.
        let medians: Vec<(String, i64, i64)> = self
            .db
            .all(sql(format!(
                "{with}SELECT k, CAST(SUM(ms) AS BIGINT), COUNT(*) FROM (\
                 SELECT {key} AS k, c.first_response_ms AS ms, \
                 ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY c.first_response_ms) AS rn, \
                 COUNT(*) OVER (PARTITION BY {key}) AS n \
                 {}) t WHERE rn = (n + 1) / 2 OR rn = (n + 2) / 2 GROUP BY k",
                from_cases("first_response_at", " AND c.first_response_ms IS NOT NULL")
            )))
            .await?;
        for (k, sum, n) in medians {
            if n > 0 {
                out.entry(k).or_default().median_first_response_ms = Some(sum / n);
            }
        }

        let csat: Vec<(String, i64, i64)> = self
            .db
            .all(sql(format!(
                "{with}SELECT {key}, COUNT(*), COALESCE(SUM(CASE WHEN c.csat >= 4 THEN 1 ELSE 0 END), 0) \
                 {} GROUP BY {key}",
                from_cases("csat_at", " AND c.csat IS NOT NULL")
            )))
            .await?;
        for (k, n, top) in csat {
            let g = out.entry(k).or_default();
            (g.csat_answers, g.csat_top2) = (n, top);
        }
        Ok(out)
    }
}
