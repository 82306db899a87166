//! Late orders (METRICS.md: past `promised_to` and not delivered), found by
//! the `orders.late` job: each gets an incident of category `late`, a case
//! and a proactive notice, once (see the migration `0023_late_orders.sql`),
//! and the rows the dashboard's "told first" figures are read from.

use doorstep_domain::helpdesk::cases::Direction;
use doorstep_domain::helpdesk::late::{LateFacts, LateTally};

use super::cases::{Case, NewCase, CASE_COLUMNS};
use crate::db::{sql, Tx};
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
    /// was told, first got in touch about the order, and their NPS answer:
    /// one index range of the kept facts (see [`LATE_FACTS`]).
    pub async fn late_order_facts(
        &self,
        from: i64,
        to: i64,
        now: i64,
    ) -> Result<Vec<LateFacts>, StoreError> {
        let rows: Vec<(Option<i64>, Option<i64>, Option<f64>)> = self
            .db
            .all(
                sql(format!(
                    "SELECT told_at, first_contact_at, nps {LATE_IN_PERIOD}"
                ))
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

    /// [`Store::late_order_facts`] counted by the database: the late
    /// orders of the period by told first or not and NPS answer (a few
    /// dozen rows however many orders; handing tens of thousands of rows
    /// over one by one was most of the figures' time on SQLite). Told
    /// first as [`LateFacts::told_first`] says, in SQL.
    pub async fn late_order_tally(
        &self,
        from: i64,
        to: i64,
        now: i64,
    ) -> Result<Vec<LateTally>, StoreError> {
        let rows: Vec<(i64, Option<f64>, i64)> = self
            .db
            .all(
                sql(format!(
                    "SELECT CAST(CASE WHEN told_at IS NOT NULL \
                       AND (first_contact_at IS NULL OR told_at < first_contact_at) THEN 1 ELSE 0 END AS BIGINT), \
                     nps, COUNT(*) {LATE_IN_PERIOD} GROUP BY 1, 2"
                ))
                .bind(from)
                .bind(to)
                .bind(now),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(told_first, nps, orders)| LateTally {
                told_first: told_first == 1,
                nps: nps.map(|v| v.round() as i64),
                orders: orders.max(0) as u64,
            })
            .collect())
    }

    /// Writes every order's late facts anew from where they are kept (for
    /// `doorstep rollups rebuild`); the rows written.
    pub async fn rebuild_late_facts(&self) -> Result<u64, StoreError> {
        let mut tx = self.db.begin().await?;
        tx.exec(sql("DELETE FROM late_facts")).await?;
        let written = tx
            .exec(sql(format!(
                "{LATE_FACTS} WHERE o.delivered_at IS NULL OR o.delivered_at > o.promised_to"
            )))
            .await?;
        tx.commit().await?;
        Ok(written)
    }
}

/// The kept facts of the orders late in `[$1, $2)` as of `$3`: delivered
/// after their window, or not delivered once it closed.
const LATE_IN_PERIOD: &str = "FROM late_facts WHERE promised_to >= $1 AND promised_to < $2 \
     AND (delivered_at > promised_to OR (delivered_at IS NULL AND promised_to < $3))";

/// The late facts of orders `o` (followed by a `WHERE`): each order's row
/// — its window and delivery, when its late notice left (the notice of
/// kind `late` on a case about it), the customer's first inbound contact
/// about it, its NPS answer — looked up where each is kept. The
/// migration `0035_late_facts.sql` fills the table with the same query.
pub(crate) const LATE_FACTS: &str =
    "INSERT INTO late_facts (order_number, promised_to, delivered_at, told_at, first_contact_at, nps) \
     SELECT o.order_number, o.promised_to, o.delivered_at, \
     (SELECT MIN(n.sent_at) FROM cases c JOIN notices n ON n.case_id = c.id \
        WHERE c.order_number = o.order_number AND n.kind = 'late'), \
     (SELECT MIN(e.created_at) FROM cases c JOIN case_entries e ON e.case_id = c.id \
        WHERE c.order_number = o.order_number AND e.kind = 'contact' AND e.direction = 'inbound'), \
     (SELECT MAX(a.number_value) FROM answers a WHERE a.order_number = o.order_number \
        AND a.kind = 'nps' AND a.number_value IS NOT NULL) \
     FROM orders o";

/// Keeps the late facts of orders just written: those not delivered, or
/// delivered after their window (`late`), get their row — a new one with
/// its facts looked up, an existing one its new window and delivery —
/// and those now delivered in time (`in_time`) lose theirs.
///
/// An order written for the first time in the very moment a contact about
/// it is added elsewhere may miss that contact (each transaction reads
/// what the other had not committed); `doorstep rollups rebuild` puts it
/// right.
pub(crate) async fn orders_written(
    tx: &mut Tx<'_>,
    late: &[&str],
    in_time: &[&str],
) -> Result<(), StoreError> {
    if !in_time.is_empty() {
        tx.exec_in(
            "DELETE FROM late_facts WHERE order_number IN",
            in_time,
            "",
            |q, n| q.push_arg(*n),
        )
        .await?;
    }
    if !late.is_empty() {
        tx.exec_in(
            &format!("{LATE_FACTS} WHERE o.order_number IN"),
            late,
            "ON CONFLICT (order_number) DO UPDATE SET promised_to = excluded.promised_to, \
             delivered_at = excluded.delivered_at",
            |q, n| q.push_arg(*n),
        )
        .await?;
    }
    Ok(())
}

/// A late notice sent at `at` on `case_id`: its order's customer was told.
pub(crate) async fn told(tx: &mut Tx<'_>, case_id: &str, at: i64) -> Result<(), StoreError> {
    earliest(tx, Earliest::Told, case_id, at).await
}

/// An inbound contact at `at` on `case_id`: the first about its order, if
/// none came before.
pub(crate) async fn contacted(tx: &mut Tx<'_>, case_id: &str, at: i64) -> Result<(), StoreError> {
    earliest(tx, Earliest::Contact, case_id, at).await
}

/// A moment of a late order kept as its earliest.
enum Earliest {
    Told,
    Contact,
}

/// Keeps `at` as the earliest `which` of the order `case_id` is about.
async fn earliest(
    tx: &mut Tx<'_>,
    which: Earliest,
    case_id: &str,
    at: i64,
) -> Result<(), StoreError> {
    let column = match which {
        Earliest::Told => "told_at",
        Earliest::Contact => "first_contact_at",
    };
    tx.exec(
        sql(format!(
            "UPDATE late_facts SET {column} = $1 \
             WHERE order_number = (SELECT order_number FROM cases WHERE id = $2) \
             AND ({column} IS NULL OR {column} > $1)"
        ))
        .bind(at)
        .bind(case_id),
    )
    .await?;
    Ok(())
}

/// NPS answers stored for `orders`: their late facts' NPS looked up again
/// (rows only for the orders that have one).
pub(crate) async fn answered(tx: &mut Tx<'_>, orders: &[&str]) -> Result<(), StoreError> {
    if orders.is_empty() {
        return Ok(());
    }
    tx.exec_in(
        "UPDATE late_facts SET nps = (SELECT MAX(a.number_value) FROM answers a \
         WHERE a.order_number = late_facts.order_number AND a.kind = 'nps' AND a.number_value IS NOT NULL) \
         WHERE order_number IN",
        orders,
        "",
        |q, n| q.push_arg(*n),
    )
    .await?;
    Ok(())
}
