//! Items refused at the door: recorded once per client-made id, with the
//! `order.items_refused` event in the same transaction; read back for the
//! order and the personal file.

use doorstep_domain::refusal::RefusedItem;

use crate::db::sql;
use crate::events::NewEvent;
use crate::{OrderView, Store, StoreError};

/// A refusal to record.
pub struct NewRefusal<'a> {
    /// The client's UUID: the same id again records nothing.
    pub id: &'a str,
    /// The refused order: its courier, city and partner are kept with it.
    pub order: &'a OrderView,
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
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
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

impl Store {
    /// Records a refusal of an order's items. The same id twice — a retry,
    /// two requests at once — records it once (the database's primary key
    /// decides).
    pub async fn record_refusal(&self, r: &NewRefusal<'_>) -> Result<Recorded, StoreError> {
        let o = r.order;
        let mut tx = self.db.begin().await?;
        let made: Option<(String,)> = tx
            .opt(
                sql("INSERT INTO refusals (id, order_number, whole_order, courier_id, city, partner, recorded_at, token_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING RETURNING id")
                .bind(r.id)
                .bind(o.order_number.as_str())
                .bind(r.whole_order)
                .bind(o.courier_id.as_deref())
                .bind(o.city.as_str())
                .bind(o.partner.as_deref())
                .bind(r.recorded_at)
                .bind(r.token_id),
            )
            .await?;
        if made.is_none() {
            tx.rollback().await?;
            return Ok(Recorded::Duplicate);
        }
        let items: Vec<(i64, &RefusedItem)> = (0..).zip(r.items).collect();
        tx.exec_rows(
            "INSERT INTO refused_items (refusal_id, position, item, quantity, reason, note) VALUES",
            6,
            "",
            &items,
            |q, (position, item)| {
                q.push_arg(r.id);
                q.push_arg(*position);
                q.push_arg(item.item.as_str());
                q.push_arg(item.quantity);
                q.push_arg(item.reason.as_str());
                q.push_arg(item.note.as_deref());
            },
        )
        .await?;
        let event = NewEvent::new(
            "order.items_refused",
            &serde_json::json!({
                "refusal_id": r.id,
                "order_number": o.order_number,
                "whole_order": r.whole_order,
                "courier_id": o.courier_id,
                "city": o.city,
                "partner": o.partner,
                "recorded_at": r.recorded_at,
                "items": r.items.iter().map(|i| serde_json::json!({
                    "item": i.item, "quantity": i.quantity, "reason": i.reason.as_str(), "note": i.note,
                })).collect::<Vec<_>>(),
            }),
        );
        self.commit_with_events(tx, &[event]).await?;
        Ok(Recorded::Created)
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
}

/// How refused orders are counted on the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalCut {
    All,
    City,
    Partner,
    Courier,
    /// By the reason given (an order refused for two reasons counts under each).
    Reason,
}

impl Store {
    /// Orders with items refused, recorded within the filter's period, per
    /// group (`""` for no partner or courier). `None` where the filter names
    /// something refusals do not have (a survey, channel or segment: answers'
    /// things).
    pub async fn refusal_tallies(
        &self,
        filter: &crate::survey::rollups::MetricsFilter,
        cut: RefusalCut,
    ) -> Result<Option<Vec<(String, i64)>>, StoreError> {
        let dims = &filter.dims;
        if dims.segment.is_some() || dims.survey.is_some() || dims.channel.is_some() {
            return Ok(None);
        }
        let key = match cut {
            RefusalCut::All => "''",
            RefusalCut::City => "r.city",
            RefusalCut::Partner => "COALESCE(r.partner, '')",
            RefusalCut::Courier => "COALESCE(r.courier_id, '')",
            RefusalCut::Reason => "i.reason",
        };
        let join = if cut == RefusalCut::Reason {
            " JOIN refused_items i ON i.refusal_id = r.id"
        } else {
            ""
        };
        let mut text = format!(
            "SELECT {key} AS k, COUNT(DISTINCT r.order_number) AS n FROM refusals r{join} \
             WHERE r.recorded_at >= $1 AND r.recorded_at < $2"
        );
        let values = filter.clause(&mut text, "r.", 3);
        text.push_str(" GROUP BY 1 ORDER BY 2 DESC, 1");
        let mut q = sql(text).bind(filter.from_ms).bind(filter.to_ms);
        for v in values {
            q.push_arg(v);
        }
        Ok(Some(self.db.all(q).await?))
    }
}
