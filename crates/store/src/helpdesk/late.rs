//! Late orders (METRICS.md: past `promised_to` and not delivered), found by
//! the `orders.late` job: each gets an incident of category `late`, a case
//! and a proactive notice, once (see the migration `0023_late_orders.sql`),
//! and the rows the dashboard's "told first" figures are read from.

use doorstep_domain::helpdesk::cases::Direction;
use doorstep_domain::helpdesk::late::LateFacts;

use super::cases::{Case, NewCase, CASE_COLUMNS};
use crate::db::sql;
use crate::{OrderView, Store, StoreError};

/// How far back the job looks for orders that became late: an order late
/// for longer than this was missed (the service was down, or the order
/// came in with its window long over) and its customer has long since
/// called — a notice now would only confuse them.
pub const LOOK_BACK_MS: i64 = 24 * 3_600_000;

/// What is written on a late order's case as its first (outbound) contact.
pub struct LateCase<'a> {
    pub reason: String,
    pub text: &'a str,
    pub line: &'a str,
}

impl Store {
    /// Orders that became late in the last day before `now` and are not
    /// handled yet, the longest late first, at most `limit` (each read
    /// with what a notice needs: the customer's name and e-mail).
    pub async fn late_orders_due(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<OrderView>, StoreError> {
        self.db
            .all(
                sql(format!(
                    "{} WHERE o.delivered_at IS NULL AND o.promised_to < $1 AND o.promised_to >= $2 \
                     AND NOT EXISTS (SELECT 1 FROM late_orders l WHERE l.order_number = o.order_number) \
                     ORDER BY o.promised_to, o.order_number LIMIT $3",
                    crate::orders::ORDER_VIEW_SELECT
                ))
                .bind(now)
                .bind(now - LOOK_BACK_MS)
                .bind(limit),
            )
            .await
    }

    /// Raises a late order's incident (category `late`) and opens its
    /// case — or joins the customer's open case about the order — in one
    /// transaction; the incident closes at once as handed to that case.
    /// Once per order: when its incident was raised before (a run that
    /// stopped before the notice, another server), its case comes back.
    pub async fn raise_late_order(
        &self,
        order: &OrderView,
        new: &LateCase<'_>,
    ) -> Result<Case, StoreError> {
        for _ in 0..super::cases::RACE_TRIES {
            let mut tx = self.db.begin().await?;
            let Some((incident, mut events)) =
                super::incidents::raise_late(&mut tx, order, new.reason.clone()).await?
            else {
                let case: Option<Case> = tx
                    .opt(
                        sql(format!(
                            "SELECT {CASE_COLUMNS} FROM cases WHERE id = (SELECT case_id FROM incidents \
                             WHERE order_number = $1 AND rule_id = $2)"
                        ))
                        .bind(order.order_number.as_str())
                        .bind(super::incidents::LATE_RULE),
                    )
                    .await?;
                tx.rollback().await?;
                return case.ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "the late incident of order {} has no case",
                        order.order_number
                    ))
                });
            };
            let opened = super::cases::open_in(
                &mut tx,
                &NewCase {
                    channel: doorstep_domain::helpdesk::cases::CaseChannel::Proactive.as_str(),
                    line: new.line,
                    category: "late",
                    priority: &incident.priority,
                    order_number: Some(&order.order_number),
                    customer_phone: Some(&order.customer_phone),
                    text: new.text,
                    external_id: Some(&format!("late:{}", order.order_number)),
                    direction: Direction::Outbound,
                    author: "doorstep",
                    incident_id: Some(&incident.id),
                    conversation: None,
                },
            )
            .await?;
            let Some((opened, more)) = opened else {
                tx.rollback().await?;
                continue;
            };
            events.extend(more);
            tx.exec(
                sql(
                    "UPDATE incidents SET status = 'closed', outcome = 'case_opened', closed_at = $1, case_id = $2 \
                     WHERE id = $3",
                )
                .bind(super::now())
                .bind(opened.case().id.as_str())
                .bind(incident.id.as_str()),
            )
            .await?;
            self.commit_with_events(tx, &events).await?;
            return Ok(opened.case().clone());
        }
        Err(StoreError::Corrupt(format!(
            "the case of late order {} kept colliding",
            order.order_number
        )))
    }

    /// Records a late order handled — its case and its notice written — so
    /// the job does not come back to it. `false` when it was already.
    pub async fn late_order_handled(
        &self,
        order: &OrderView,
        case_id: &str,
        notice_id: Option<&str>,
    ) -> Result<bool, StoreError> {
        let wrote = self
            .db
            .exec(
                sql(
                    "INSERT INTO late_orders (order_number, case_id, notice_id, promised_to, detected_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (order_number) DO NOTHING",
                )
                .bind(order.order_number.as_str())
                .bind(case_id)
                .bind(notice_id)
                .bind(order.promised_to)
                .bind(super::now()),
            )
            .await?;
        Ok(wrote == 1)
    }

    /// The late orders whose window closed in `[from, to)` — delivered
    /// after it, or still undelivered at `now` — with when their customer
    /// was told, first got in touch about the order, and their NPS answer.
    pub async fn late_order_facts(
        &self,
        from: i64,
        to: i64,
        now: i64,
    ) -> Result<Vec<LateFacts>, StoreError> {
        let rows: Vec<(Option<i64>, Option<i64>, Option<f64>)> = self
            .db
            .all(
                sql(
                    "SELECT (SELECT n.sent_at FROM late_orders l JOIN notices n ON n.id = l.notice_id \
                        WHERE l.order_number = o.order_number) AS told_at, \
                     (SELECT MIN(e.created_at) FROM cases c JOIN case_entries e ON e.case_id = c.id \
                        WHERE c.order_number = o.order_number AND e.kind = 'contact' AND e.direction = 'inbound') \
                        AS first_contact_at, \
                     (SELECT MAX(a.number_value) FROM answers a WHERE a.order_number = o.order_number \
                        AND a.kind = 'nps' AND a.number_value IS NOT NULL) AS nps \
                     FROM orders o WHERE o.promised_to >= $1 AND o.promised_to < $2 \
                     AND (o.delivered_at IS NULL OR o.delivered_at > o.promised_to) \
                     AND (o.delivered_at > o.promised_to OR (o.delivered_at IS NULL AND o.promised_to < $3))",
                )
                // The late orders' own index (migration 0034): its
                // predicate is the second condition, word for word.
                .bind(from)
                .bind(to)
                .bind(now),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(told_at, first_contact_at, nps)| LateFacts {
                told_at,
                first_contact_at,
                nps: nps.map(|v| v.round() as i64),
            })
            .collect())
    }
}
