//! What the helpdesk's figures are computed from: the incidents of a
//! period with the customer's next order (did the loop work?), and the
//! cases whose fault was recorded, with what was paid (who was at fault).

use crate::db::sql;
use crate::{Store, StoreError};

/// One incident as the loop's figures need it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LoopRow {
    pub city: String,
    pub owner_login: Option<String>,
    pub answered_at: i64,
    pub first_attempt_at: Option<i64>,
    pub reached_at: Option<i64>,
    pub outcome: Option<String>,
    /// The customer's first order promised after the answer.
    pub next_order_at: Option<i64>,
}

/// Cases whose fault was recorded, counted by party, courier and partner,
/// with the compensation granted on them (minor units).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FaultRow {
    pub fault: String,
    pub courier_id: Option<String>,
    pub partner: Option<String>,
    pub cases: i64,
    pub compensation: i64,
}

impl Store {
    /// The incidents answered in `[from, to)` with what the loop's figures
    /// need (the next order by the customer's index on orders).
    pub async fn loop_rows(&self, from: i64, to: i64) -> Result<Vec<LoopRow>, StoreError> {
        self.db
            .all(
                sql("SELECT i.city, i.owner_login, i.answered_at, i.first_attempt_at, i.reached_at, i.outcome, \
                     (SELECT MIN(o.promised_from) FROM orders o WHERE o.customer_phone = i.customer_phone \
                        AND o.promised_from > i.answered_at) AS next_order_at \
                     FROM incidents i WHERE i.answered_at >= $1 AND i.answered_at < $2 AND i.rule_id <> $3")
                .bind(from)
                .bind(to)
                // A late order's incident stands for lateness, not for an
                // unhappy answer to call back.
                .bind(super::incidents::LATE_RULE),
            )
            .await
    }

    /// Faults recorded on cases opened in `[from, to)`, by party, courier
    /// and partner (from the case's order).
    pub async fn fault_rows(&self, from: i64, to: i64) -> Result<Vec<FaultRow>, StoreError> {
        self.db
            .all(
                sql("SELECT c.fault, o.courier_id, o.partner, COUNT(*) AS cases, \
                     CAST(COALESCE(SUM((SELECT SUM(r.amount_minor) FROM remedies r WHERE r.case_id = c.id \
                        AND r.status IN ('applied', 'done'))), 0) AS BIGINT) AS compensation \
                     FROM cases c LEFT JOIN orders o ON o.order_number = c.order_number \
                     WHERE c.fault IS NOT NULL AND c.created_at >= $1 AND c.created_at < $2 \
                     GROUP BY c.fault, o.courier_id, o.partner")
                .bind(from)
                .bind(to),
            )
            .await
    }
}

impl Store {
    /// The cases opened in `[from, to)` whose fault was found to be this
    /// courier's (the courier of the case's order), newest first.
    pub async fn courier_fault_cases(
        &self,
        courier_id: &str,
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<super::cases::Case>, StoreError> {
        let columns: Vec<String> = super::cases::CASE_COLUMNS
            .split(", ")
            .map(|c| format!("c.{c}"))
            .collect();
        self.db
            .all(
                sql(format!(
                    "SELECT {} FROM cases c JOIN orders o ON o.order_number = c.order_number \
                     WHERE c.fault = 'courier' AND o.courier_id = $1 AND c.created_at >= $2 AND c.created_at < $3 \
                     ORDER BY c.created_at DESC LIMIT $4",
                    columns.join(", ")
                ))
                .bind(courier_id)
                .bind(from)
                .bind(to)
                .bind(limit),
            )
            .await
    }
}
