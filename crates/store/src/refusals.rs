//! Items refused at the door: recorded once per client-made id, with the
//! `order.items_refused` event in the same transaction; read back for the
//! order, the personal file and the dashboard's refusal rates.

use doorstep_domain::refusal::RefusedItem;
use serde::Serialize;

use crate::db::sql;
use crate::events::NewEvent;
use crate::{Store, StoreError};

/// A refusal to record.
pub struct NewRefusal<'a> {
    /// The client's UUID: the same id again records nothing.
    pub id: &'a str,
    pub order_number: &'a str,
    pub whole_order: bool,
    pub items: &'a [RefusedItem],
    /// The terminal or integration token it came with.
    pub token_id: Option<&'a str>,
    pub recorded_at: i64,
}

/// What recording did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Created,
    /// This id was recorded before: nothing changed.
    Duplicate,
}

/// A refused item as stored, with its refusal.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct RefusedRow {
    pub refusal_id: String,
    pub order_number: String,
    pub whole_order: bool,
    pub courier_id: Option<String>,
    pub recorded_at: i64,
    pub item: String,
    pub quantity: i64,
    pub reason: String,
    pub note: Option<String>,
}

/// One group of the refusal figures: orders promised in the period, those
/// with a refusal, and the items refused.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefusalCount {
    pub key: String,
    pub orders: i64,
    pub refused_orders: i64,
    pub items: i64,
}

/// What the refusal figures are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalGroup {
    Partner,
    City,
    Courier,
    Reason,
}

impl Store {
    /// Records a refusal of `order_number`'s items; `None` when there is no
    /// such order. The same id twice — a retry, two requests at once —
    /// records it once (the database's primary key decides).
    pub async fn record_refusal(&self, r: &NewRefusal<'_>) -> Result<Option<Recorded>, StoreError> {
        let mut tx = self.db.begin().await?;
        let order: Option<(Option<String>, String, Option<String>)> = tx
            .opt(
                sql("SELECT courier_id, city, partner FROM orders WHERE order_number = $1")
                    .bind(r.order_number),
            )
            .await?;
        let Some((courier, city, partner)) = order else {
            tx.rollback().await?;
            return Ok(None);
        };
        let made: Option<(String,)> = tx
            .opt(
                sql("INSERT INTO refusals (id, order_number, whole_order, courier_id, city, partner, recorded_at, token_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING RETURNING id")
                .bind(r.id)
                .bind(r.order_number)
                .bind(r.whole_order)
                .bind(courier.as_deref())
                .bind(city.as_str())
                .bind(partner.as_deref())
                .bind(r.recorded_at)
                .bind(r.token_id),
            )
            .await?;
        if made.is_none() {
            tx.rollback().await?;
            return Ok(Some(Recorded::Duplicate));
        }
        for (position, item) in r.items.iter().enumerate() {
            tx.exec(
                sql("INSERT INTO refused_items (refusal_id, position, item, quantity, reason, note) \
                     VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(r.id)
                .bind(position as i64)
                .bind(item.item.as_str())
                .bind(item.quantity)
                .bind(item.reason.as_str())
                .bind(item.note.as_deref()),
            )
            .await?;
        }
        let event = NewEvent::new(
            "order.items_refused",
            &serde_json::json!({
                "refusal_id": r.id,
                "order_number": r.order_number,
                "whole_order": r.whole_order,
                "courier_id": courier,
                "city": city,
                "partner": partner,
                "recorded_at": r.recorded_at,
                "items": r.items.iter().map(|i| serde_json::json!({
                    "item": i.item, "quantity": i.quantity, "reason": i.reason.as_str(), "note": i.note,
                })).collect::<Vec<_>>(),
            }),
        );
        self.commit_with_events(tx, &[event]).await?;
        Ok(Some(Recorded::Created))
    }

    /// The refused items of some orders, oldest first.
    pub async fn refused_items(&self, orders: &[&str]) -> Result<Vec<RefusedRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in orders.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let mut q = sql(format!(
                "SELECT r.id AS refusal_id, r.order_number, r.whole_order, r.courier_id, r.recorded_at, \
                 i.item, i.quantity, i.reason, i.note FROM refusals r JOIN refused_items i ON i.refusal_id = r.id \
                 WHERE r.order_number IN ({}) ORDER BY r.recorded_at, r.id, i.position",
                marks.join(", ")
            ));
            for n in chunk {
                q = q.bind(*n);
            }
            out.extend(self.db.all::<RefusedRow>(q).await?);
        }
        Ok(out)
    }

    /// The refusal figures of orders promised in `[from, to)`, by `group`:
    /// orders, orders with a refusal (by reason: with an item refused for
    /// it) and items refused.
    pub async fn refusal_counts(
        &self,
        from: i64,
        to: i64,
        group: RefusalGroup,
    ) -> Result<Vec<RefusalCount>, StoreError> {
        if group == RefusalGroup::Reason {
            let all: Option<(i64,)> = self
                .db
                .opt(
                    sql("SELECT COUNT(*) FROM orders WHERE promised_from >= $1 AND promised_from < $2")
                        .bind(from)
                        .bind(to),
                )
                .await?;
            let orders = all.map_or(0, |(n,)| n);
            let mut rows: Vec<RefusalCount> = self
                .db
                .all(
                    sql("SELECT i.reason AS key, CAST(0 AS BIGINT) AS orders, \
                         CAST(COUNT(DISTINCT r.order_number) AS BIGINT) AS refused_orders, \
                         CAST(SUM(i.quantity) AS BIGINT) AS items \
                         FROM orders o JOIN refusals r ON r.order_number = o.order_number \
                         JOIN refused_items i ON i.refusal_id = r.id \
                         WHERE o.promised_from >= $1 AND o.promised_from < $2 GROUP BY i.reason ORDER BY 3 DESC, 1")
                    .bind(from)
                    .bind(to),
                )
                .await?;
            for r in &mut rows {
                r.orders = orders;
            }
            return Ok(rows);
        }
        let key = match group {
            RefusalGroup::Partner => "COALESCE(o.partner, '')",
            RefusalGroup::City => "o.city",
            _ => "COALESCE(o.courier_id, '')",
        };
        self.db
            .all(
                sql(format!(
                    "SELECT {key} AS key, CAST(COUNT(*) AS BIGINT) AS orders, \
                     CAST(COUNT(f.order_number) AS BIGINT) AS refused_orders, \
                     CAST(COALESCE(SUM(f.items), 0) AS BIGINT) AS items \
                     FROM orders o LEFT JOIN (SELECT r.order_number, SUM(i.quantity) AS items FROM refusals r \
                       JOIN refused_items i ON i.refusal_id = r.id WHERE r.recorded_at >= $1 - 2592000000 \
                       GROUP BY r.order_number) f ON f.order_number = o.order_number \
                     WHERE o.promised_from >= $1 AND o.promised_from < $2 \
                     GROUP BY {key} HAVING COUNT(f.order_number) > 0 ORDER BY 3 DESC, 1"
                ))
                .bind(from)
                .bind(to),
            )
            .await
    }
}
