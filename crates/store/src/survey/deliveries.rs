//! The delivery rollup behind the on-time rate (METRICS.md: delivered within
//! [promised_from, promised_to] / delivered), kept by the order import in
//! the same transaction, rebuilt from the orders on demand.

use std::collections::{BTreeMap, HashMap};

use doorstep_domain::time::local_day;
use jiff::tz::TimeZone;

use crate::db::{sql, Tx};
use crate::survey::rollups::{days_query, key_columns, GroupBy, GroupKey, MetricsFilter};
use crate::survey::week_cache::Cut;
use crate::{Store, StoreError};

/// A row of the delivery rollup: day, month, city, partner, courier.
type DeliveryKey = (i64, i64, String, String, String);

/// Increments of (delivered, on time) per rollup row.
#[derive(Default)]
pub(crate) struct DeliveryDeltas(BTreeMap<DeliveryKey, (i64, i64)>);

/// An order as far as the on-time rate goes.
pub(crate) struct Delivery<'a> {
    pub city: &'a str,
    pub partner: Option<&'a str>,
    pub courier_id: Option<&'a str>,
    pub promised_from: i64,
    pub promised_to: i64,
    pub delivered_at: Option<i64>,
}

impl DeliveryDeltas {
    /// Counts an order in (`sign` 1) or out (`sign` −1); undelivered
    /// orders count nowhere.
    pub(crate) fn add(&mut self, d: &Delivery<'_>, sign: i64, tz: &TimeZone) {
        let Some(at) = d.delivered_at else { return };
        let (day, month) = local_day(at, tz);
        let on_time = i64::from(at >= d.promised_from && at <= d.promised_to);
        let e = self
            .0
            .entry((
                day,
                month,
                d.city.to_owned(),
                d.partner.unwrap_or("").to_owned(),
                d.courier_id.unwrap_or("").to_owned(),
            ))
            .or_default();
        e.0 += sign;
        e.1 += sign * on_time;
    }

    /// The local days these increments fall on.
    pub(crate) fn days(&self) -> Vec<i64> {
        let mut days: Vec<i64> = self.0.keys().map(|k| k.0).collect();
        days.dedup();
        days
    }

    pub(crate) async fn write(self, tx: &mut Tx<'_>) -> Result<(), StoreError> {
        let rows: Vec<_> = self.0.into_iter().filter(|(_, v)| *v != (0, 0)).collect();
        tx.exec_rows(
            "INSERT INTO rollup_delivery_days (day, month, city, partner, courier_id, delivered, on_time) VALUES",
            7,
            "ON CONFLICT (day, city, partner, courier_id) DO UPDATE SET \
             delivered = rollup_delivery_days.delivered + excluded.delivered, \
             on_time = rollup_delivery_days.on_time + excluded.on_time",
            &rows,
            |q, ((day, month, city, partner, courier), (delivered, on_time))| {
                q.push_arg(*day);
                q.push_arg(*month);
                q.push_arg(city.as_str());
                q.push_arg(partner.as_str());
                q.push_arg(courier.as_str());
                q.push_arg(*delivered);
                q.push_arg(*on_time);
            },
        )
        .await?;
        Ok(())
    }
}

/// The same grouping keys as the survey rollups.
fn key_sql(group: GroupBy) -> Option<&'static str> {
    Some(match group {
        GroupBy::All => "''",
        GroupBy::Courier => "courier_id",
        GroupBy::City => "city",
        GroupBy::Partner => "partner",
        GroupBy::Day => "CAST(day AS TEXT)",
        GroupBy::Week => "CAST(day - ((day + 3) % 7) AS TEXT)",
        GroupBy::Month => "CAST(month AS TEXT)",
        GroupBy::Segment | GroupBy::Survey | GroupBy::Channel => return None,
    })
}

impl Store {
    /// Delivered and on-time orders per group, keyed like
    /// [`Store::metric_tallies`]; `None` where on-time has no meaning (a
    /// grouping or filter by survey, channel or segment: answers' things).
    pub async fn delivery_tallies(
        &self,
        filter: &MetricsFilter,
        group: GroupBy,
        period: Option<GroupBy>,
    ) -> Result<Option<HashMap<GroupKey, (i64, i64)>>, StoreError> {
        if filter.dims.segment.is_some()
            || filter.dims.survey.is_some()
            || filter.dims.channel.is_some()
        {
            return Ok(None);
        }
        let Some(keys) = key_columns(group, period, key_sql) else {
            return Ok(None);
        };
        // As the survey rollups: whole built weeks from the weekly rows
        // (kept in memory), the rest from the daily ones.
        let cut = if group == GroupBy::Partner || filter.dims.partner.is_some() {
            Cut::Deliveries
        } else {
            Cut::DeliveriesByCourier
        };
        let mut sums: HashMap<GroupKey, (i64, i64)> = HashMap::new();
        let days = self
            .add_built_weeks(cut, filter, group, period, &mut sums, |s, r| {
                s.0 += r.delivered;
                s.1 += r.on_time;
            })
            .await?;
        if !days.is_empty() {
            let head = format!(
                "SELECT {keys}, CAST(COALESCE(SUM(delivered), 0) AS BIGINT) AS delivered, \
                 CAST(COALESCE(SUM(on_time), 0) AS BIGINT) AS on_time FROM rollup_delivery_days WHERE "
            );
            let rows: Vec<(String, Option<String>, i64, i64)> = self
                .db
                .all(days_query(&head, &days, filter, "1, 2"))
                .await?;
            for (key, period, d, o) in rows {
                let s = sums.entry(GroupKey { key, period }).or_default();
                s.0 += d;
                s.1 += o;
            }
        }
        if group == GroupBy::All && period.is_none() {
            let all = sums
                .values()
                .fold((0, 0), |(d, o), (dd, oo)| (d + dd, o + oo));
            sums = HashMap::from([(GroupKey::of("all"), all)]);
        }
        Ok(Some(sums))
    }

    /// Recomputes the delivery rollup from the orders, in one transaction.
    pub async fn rebuild_deliveries(&self, tz: &TimeZone) -> Result<u64, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            order_number: String,
            city: String,
            partner: Option<String>,
            courier_id: Option<String>,
            promised_from: i64,
            promised_to: i64,
            delivered_at: Option<i64>,
        }
        let mut tx = self.db.begin().await?;
        crate::survey::rollups::hold_writers_off(&mut tx, "rollup_delivery_days").await?;
        tx.exec(sql("DELETE FROM rollup_delivery_days")).await?;
        // The weekly rows were built from the old days: the daily rows
        // answer until the weeks are built again.
        crate::survey::rollups::forget_weeks(&mut tx).await?;
        crate::survey::day_builds::touch_days(&mut tx, None).await?;
        let mut deltas = DeliveryDeltas::default();
        let mut after = String::new();
        let mut seen = 0_u64;
        loop {
            let page: Vec<Row> = tx
                .all(
                    sql("SELECT order_number, city, partner, courier_id, promised_from, promised_to, delivered_at \
                         FROM orders WHERE order_number > $1 AND delivered_at IS NOT NULL \
                         ORDER BY order_number LIMIT 5000")
                    .bind(after.as_str()),
                )
                .await?;
            let Some(last) = page.last() else { break };
            after.clone_from(&last.order_number);
            for r in &page {
                deltas.add(
                    &Delivery {
                        city: &r.city,
                        partner: r.partner.as_deref(),
                        courier_id: r.courier_id.as_deref(),
                        promised_from: r.promised_from,
                        promised_to: r.promised_to,
                        delivered_at: r.delivered_at,
                    },
                    1,
                    tz,
                );
            }
            seen += page.len() as u64;
        }
        deltas.write(&mut tx).await?;
        tx.commit().await?;
        Ok(seen)
    }

    /// Whether orders were delivered but the delivery rollup is empty (a
    /// database from before it existed): then it needs a rebuild.
    pub async fn deliveries_need_rebuild(&self) -> Result<bool, StoreError> {
        let (rolled,): (i64,) = self
            .db
            .one(sql(
                "SELECT COUNT(*) FROM (SELECT 1 FROM rollup_delivery_days LIMIT 1) x",
            ))
            .await?;
        if rolled > 0 {
            return Ok(false);
        }
        let (delivered,): (i64,) = self
            .db
            .one(sql("SELECT COUNT(*) FROM (SELECT 1 FROM orders WHERE delivered_at IS NOT NULL LIMIT 1) x"))
            .await?;
        Ok(delivered > 0)
    }
}
