//! Items refused at the door: recorded once per client-made id, with the
//! `order.items_refused` event in the same transaction; read back for the
//! order and the personal file.

use doorstep_domain::refusal::RefusedItem;

use doorstep_domain::time::local_day;
use jiff::tz::TimeZone;

use crate::db::{sql, Tx};
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
    /// The local day `recorded_at` falls on (deployment time zone): its
    /// place in the refusal rates' rollup.
    pub day: i64,
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
        count_refusal(&mut tx, o, r.day, r.items.iter().map(|i| i.reason.as_str())).await?;
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

/// Counts a refused order once overall and once per reason, on `day`: the
/// first refusal of an order (and of a reason for it) wins by the primary
/// keys of `refused_orders` and `refused_order_reasons`; the rollup rows are
/// written in one statement in key order (so that two refusals at once take
/// their locks in the same order).
async fn count_refusal(
    tx: &mut Tx<'_>,
    o: &OrderView,
    day: i64,
    reasons: impl Iterator<Item = &str>,
) -> Result<(), StoreError> {
    let first: Option<(String,)> = tx
        .opt(
            sql("INSERT INTO refused_orders (order_number) VALUES ($1) ON CONFLICT DO NOTHING RETURNING order_number")
                .bind(o.order_number.as_str()),
        )
        .await?;
    let mut reasons: Vec<&str> = reasons.collect();
    reasons.sort_unstable();
    reasons.dedup();
    let fresh: Vec<(String,)> = tx
        .all_rows(
            "INSERT INTO refused_order_reasons (order_number, reason) VALUES",
            2,
            "ON CONFLICT DO NOTHING RETURNING reason",
            &reasons,
            |q, reason| {
                q.push_arg(o.order_number.as_str());
                q.push_arg(*reason);
            },
        )
        .await?;
    let mut keys: Vec<String> = fresh.into_iter().map(|(r,)| r).collect();
    if first.is_some() {
        keys.push(String::new());
    }
    keys.sort_unstable();
    let place = (
        o.city.as_str(),
        o.partner.as_deref().unwrap_or(""),
        o.courier_id.as_deref().unwrap_or(""),
    );
    let rows: Vec<(RefusalDay<'_>, i64)> = keys
        .iter()
        .map(|reason| ((day, reason.as_str(), place.0, place.1, place.2), 1))
        .collect();
    add_refusal_days(tx, &rows).await
}

/// A row of the refusal rates' rollup: day, reason (`''`: the order),
/// city, partner, courier.
type RefusalDay<'a> = (i64, &'a str, &'a str, &'a str, &'a str);

/// Adds orders to the refusal rates' rollup rows: by courier, and summed
/// without him (rows in key order, so that concurrent writers lock alike).
async fn add_refusal_days(
    tx: &mut Tx<'_>,
    rows: &[(RefusalDay<'_>, i64)],
) -> Result<(), StoreError> {
    tx.exec_rows(
        "INSERT INTO rollup_refusal_days (day, reason, city, partner, courier_id, orders) VALUES",
        6,
        "ON CONFLICT (reason, day, city, partner, courier_id) DO UPDATE \
         SET orders = rollup_refusal_days.orders + excluded.orders",
        rows,
        |q, ((day, reason, city, partner, courier), n)| {
            q.push_arg(*day);
            q.push_arg(*reason);
            q.push_arg(*city);
            q.push_arg(*partner);
            q.push_arg(*courier);
            q.push_arg(*n);
        },
    )
    .await?;
    let mut places: std::collections::BTreeMap<(&str, i64, &str, &str), i64> =
        std::collections::BTreeMap::new();
    for ((day, reason, city, partner, _), n) in rows {
        *places.entry((*reason, *day, *city, *partner)).or_default() += n;
    }
    let places: Vec<_> = places.into_iter().collect();
    tx.exec_rows(
        "INSERT INTO rollup_refusal_place_days (reason, day, city, partner, orders) VALUES",
        5,
        "ON CONFLICT (reason, day, city, partner) DO UPDATE \
         SET orders = rollup_refusal_place_days.orders + excluded.orders",
        &places,
        |q, ((reason, day, city, partner), n)| {
            q.push_arg(*reason);
            q.push_arg(*day);
            q.push_arg(*city);
            q.push_arg(*partner);
            q.push_arg(*n);
        },
    )
    .await?;
    Ok(())
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
    /// Orders with items refused within the filter's period (by the local
    /// day of the order's first refusal; of a reason, of the first refusal
    /// giving it), per group (`""` for no partner or courier), from the
    /// rollup. `None` where the filter names something refusals do not have
    /// (a survey, channel or segment: answers' things).
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
            RefusalCut::City => "city",
            RefusalCut::Partner => "partner",
            RefusalCut::Courier => "courier_id",
            RefusalCut::Reason => "reason",
        };
        let reason = if cut == RefusalCut::Reason {
            "reason <> ''"
        } else {
            "reason = ''"
        };
        // Without a courier cut, the rows summed without him (far fewer).
        let table = if cut == RefusalCut::Courier || dims.courier.is_some() {
            "rollup_refusal_days"
        } else {
            "rollup_refusal_place_days"
        };
        let mut text = format!(
            "SELECT {key} AS k, CAST(SUM(orders) AS BIGINT) AS n FROM {table} \
             WHERE {reason} AND day >= $1 AND day <= $2"
        );
        let values = filter.rollup_clause(&mut text, 3);
        text.push_str(" GROUP BY 1 ORDER BY 2 DESC, 1");
        let mut q = sql(text).bind(filter.from_day).bind(filter.to_day);
        for v in values {
            q.push_arg(v);
        }
        Ok(Some(self.db.all(q).await?))
    }

    /// Recomputes the refusal rates' rollup from the refusals, in one
    /// transaction, a page of orders at a time (memory holds only the
    /// rollup's rows).
    pub async fn rebuild_refusal_days(&self, tz: &TimeZone) -> Result<u64, StoreError> {
        #[derive(sqlx::FromRow)]
        struct FirstRefusal {
            order_number: String,
            reason: String,
            first_at: i64,
            city: String,
            partner: String,
            courier_id: String,
        }
        let mut tx = self.db.begin().await?;
        crate::survey::rollups::hold_writers_off(
            &mut tx,
            "refused_orders, refused_order_reasons, rollup_refusal_days, rollup_refusal_place_days",
        )
        .await?;
        for table in [
            "refused_orders",
            "refused_order_reasons",
            "rollup_refusal_days",
            "rollup_refusal_place_days",
        ] {
            tx.exec(sql(format!("DELETE FROM {table}"))).await?;
        }
        let mut sums: std::collections::BTreeMap<(i64, String, String, String, String), i64> =
            std::collections::BTreeMap::new();
        let mut orders = 0_u64;
        // A page of orders with their first refusal (reason ''), then the
        // same orders' first refusal of each reason: both read a range of
        // the refusals' order index.
        let mut after = String::new();
        loop {
            let page: Vec<FirstRefusal> = tx
                .all(
                    sql("SELECT order_number, '' AS reason, MIN(recorded_at) AS first_at, MIN(city) AS city, \
                         MIN(COALESCE(partner, '')) AS partner, MIN(COALESCE(courier_id, '')) AS courier_id \
                         FROM refusals WHERE order_number > $1 GROUP BY order_number ORDER BY order_number LIMIT 5000")
                    .bind(after.as_str()),
                )
                .await?;
            let Some(last) = page.last() else { break };
            let reasons: Vec<FirstRefusal> = tx
                .all(
                    sql("SELECT r.order_number, i.reason, MIN(r.recorded_at) AS first_at, MIN(r.city) AS city, \
                         MIN(COALESCE(r.partner, '')) AS partner, MIN(COALESCE(r.courier_id, '')) AS courier_id \
                         FROM refusals r JOIN refused_items i ON i.refusal_id = r.id \
                         WHERE r.order_number > $1 AND r.order_number <= $2 GROUP BY r.order_number, i.reason")
                    .bind(after.as_str())
                    .bind(last.order_number.as_str()),
                )
                .await?;
            after.clone_from(&last.order_number);
            tx.exec_rows(
                "INSERT INTO refused_orders (order_number) VALUES",
                1,
                "",
                &page,
                |q, f| q.push_arg(f.order_number.as_str()),
            )
            .await?;
            tx.exec_rows(
                "INSERT INTO refused_order_reasons (order_number, reason) VALUES",
                2,
                "",
                &reasons,
                |q, f| {
                    q.push_arg(f.order_number.as_str());
                    q.push_arg(f.reason.as_str());
                },
            )
            .await?;
            orders += page.len() as u64;
            for f in page.into_iter().chain(reasons) {
                let (day, _) = local_day(f.first_at, tz);
                *sums
                    .entry((day, f.reason, f.city, f.partner, f.courier_id))
                    .or_default() += 1;
            }
        }
        let rows: Vec<(RefusalDay<'_>, i64)> = sums
            .iter()
            .map(|((day, reason, city, partner, courier), n)| {
                (
                    (
                        *day,
                        reason.as_str(),
                        city.as_str(),
                        partner.as_str(),
                        courier.as_str(),
                    ),
                    *n,
                )
            })
            .collect();
        add_refusal_days(&mut tx, &rows).await?;
        tx.commit().await?;
        Ok(orders)
    }

    /// Whether refusals were recorded but their rollup is empty (a database
    /// from before it existed): then it needs a rebuild.
    pub async fn refusal_days_need_rebuild(&self) -> Result<bool, StoreError> {
        let (rolled,): (i64,) = self
            .db
            .one(sql(
                "SELECT COUNT(*) FROM (SELECT 1 FROM rollup_refusal_days LIMIT 1) x",
            ))
            .await?;
        if rolled > 0 {
            return Ok(false);
        }
        let (refused,): (i64,) = self
            .db
            .one(sql(
                "SELECT COUNT(*) FROM (SELECT 1 FROM refusals LIMIT 1) x",
            ))
            .await?;
        Ok(refused > 0)
    }
}
