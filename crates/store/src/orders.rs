//! Orders, customers, couriers, partners and cities: the bulk upsert used by
//! every import, and the lookups behind the Orders pages and API.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use doorstep_domain::time::to_millis;
use doorstep_domain::{OrderRecord, Segment};

use crate::db::{sql, Backend, Tx};
use crate::{now_millis, Store, StoreError};

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// What happened to one order of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOutcome {
    Inserted,
    Updated,
    Unchanged,
}

impl RowOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RowOutcome::Inserted => "inserted",
            RowOutcome::Updated => "updated",
            RowOutcome::Unchanged => "unchanged",
        }
    }
}

impl BatchOutcome {
    pub fn add(&mut self, other: BatchOutcome) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }

    pub fn count(&mut self, row: RowOutcome) {
        match row {
            RowOutcome::Inserted => self.inserted += 1,
            RowOutcome::Updated => self.updated += 1,
            RowOutcome::Unchanged => self.unchanged += 1,
        }
    }

    pub fn of(rows: &[RowOutcome]) -> BatchOutcome {
        let mut total = BatchOutcome::default();
        for row in rows {
            total.count(*row);
        }
        total
    }
}

/// An order as stored, with its customer's and courier's names.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct OrderView {
    pub order_number: String,
    pub customer_phone: String,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub city: String,
    pub partner: Option<String>,
    pub courier_id: Option<String>,
    pub courier_name: Option<String>,
    pub promised_from: i64,
    pub promised_to: i64,
    pub delivered_at: Option<i64>,
    pub amount_minor: Option<i64>,
    /// Is this the customer's first order (by promised time, then number)?
    pub first_order: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Where an order stands against its promised window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Not delivered, window not over yet.
    Pending,
    /// Not delivered and the window is over (METRICS.md: late).
    Late,
    DeliveredOnTime,
    DeliveredLate,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 4] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Late,
        DeliveryStatus::DeliveredOnTime,
        DeliveryStatus::DeliveredLate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Late => "late",
            DeliveryStatus::DeliveredOnTime => "delivered_on_time",
            DeliveryStatus::DeliveredLate => "delivered_late",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        DeliveryStatus::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// The SQL condition selecting orders in this state (`$now` is the
    /// placeholder for the current time).
    fn condition(self, now: &str) -> String {
        match self {
            DeliveryStatus::Pending => format!("o.delivered_at IS NULL AND o.promised_to >= {now}"),
            DeliveryStatus::Late => format!("o.delivered_at IS NULL AND o.promised_to < {now}"),
            DeliveryStatus::DeliveredOnTime => {
                "o.delivered_at IS NOT NULL AND o.delivered_at >= o.promised_from AND o.delivered_at <= o.promised_to"
                    .to_owned()
            }
            DeliveryStatus::DeliveredLate => {
                "o.delivered_at IS NOT NULL AND (o.delivered_at < o.promised_from OR o.delivered_at > o.promised_to)"
                    .to_owned()
            }
        }
    }
}

impl OrderView {
    pub fn segment(&self) -> Segment {
        Segment::of_order(self.first_order)
    }

    pub fn status(&self, now_ms: i64) -> DeliveryStatus {
        match self.delivered_at {
            Some(d) if d >= self.promised_from && d <= self.promised_to => {
                DeliveryStatus::DeliveredOnTime
            }
            Some(_) => DeliveryStatus::DeliveredLate,
            None if now_ms > self.promised_to => DeliveryStatus::Late,
            None => DeliveryStatus::Pending,
        }
    }
}

pub(crate) const ORDER_VIEW_SELECT: &str = "SELECT o.order_number, o.customer_phone, c.name AS customer_name, \
     c.email AS customer_email, o.city, o.partner, o.courier_id, k.name AS courier_name, o.promised_from, \
     o.promised_to, o.delivered_at, o.amount_minor, \
     COALESCE(c.first_order_number = o.order_number, FALSE) AS first_order, o.created_at, o.updated_at \
     FROM orders o JOIN customers c ON c.phone = o.customer_phone LEFT JOIN couriers k ON k.id = o.courier_id";

/// Filters of the Orders list; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// Exact customer phone (E.164).
    pub phone: Option<String>,
    /// Any of these customer phones (what a typed number may mean).
    pub phones: Vec<String>,
    /// Order numbers starting with this text.
    pub order_prefix: Option<String>,
    /// Orders whose number starts with this text, or whose customer's name
    /// contains it (as typed, in lower case, or capitalised).
    pub text: Option<String>,
    /// Orders whose customer answered the NPS question in this band.
    pub nps: Option<NpsBand>,
    pub city: Option<String>,
    pub courier_id: Option<String>,
    pub partner: Option<String>,
    /// Promised window starting at or after this instant (ms).
    pub from_ms: Option<i64>,
    /// Promised window starting before this instant (ms).
    pub to_ms: Option<i64>,
    pub status: Option<DeliveryStatus>,
}

/// One page of orders and how many match in all.
#[derive(Debug, Clone)]
pub struct OrderPage {
    pub orders: Vec<OrderView>,
    pub total: i64,
}

/// A customer's card: the seed of the personal file.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomerView {
    pub phone: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub created_at: i64,
    pub orders: i64,
    pub late_orders: i64,
    pub first_order_at: Option<i64>,
    pub last_order_at: Option<i64>,
}

/// The stored form of one order row, for comparing and writing.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct StoredOrder {
    order_number: String,
    customer_phone: String,
    city: String,
    partner: Option<String>,
    courier_id: Option<String>,
    promised_from: i64,
    promised_to: i64,
    delivered_at: Option<i64>,
    amount_minor: Option<i64>,
    customer_name: Option<String>,
    customer_email: Option<String>,
    courier_name: Option<String>,
    customer_vip: Option<bool>,
}

impl StoredOrder {
    fn delivery(&self) -> crate::survey::deliveries::Delivery<'_> {
        crate::survey::deliveries::Delivery {
            city: &self.city,
            partner: self.partner.as_deref(),
            courier_id: self.courier_id.as_deref(),
            promised_from: self.promised_from,
            promised_to: self.promised_to,
            delivered_at: self.delivered_at,
        }
    }

    fn from_record(r: &OrderRecord) -> StoredOrder {
        StoredOrder {
            order_number: r.order_number.as_str().to_owned(),
            customer_phone: r.customer_phone.as_str().to_owned(),
            city: r.city.clone(),
            partner: r.partner.clone(),
            courier_id: r.courier_id.clone(),
            promised_from: to_millis(r.promised_from),
            promised_to: to_millis(r.promised_to),
            delivered_at: r.delivered_at.map(to_millis),
            amount_minor: r.amount.map(doorstep_domain::Money::minor),
            customer_name: r.customer_name.clone(),
            customer_email: r.customer_email.clone(),
            courier_name: r.courier_name.clone(),
            customer_vip: r.customer_vip,
        }
    }

    /// Would writing `self` change what `stored` holds? Names and e-mails
    /// left empty in an import keep what is stored.
    fn same_as(&self, stored: &StoredOrder) -> bool {
        let kept = |new: &Option<String>, old: &Option<String>| new.is_none() || new == old;
        self.customer_phone == stored.customer_phone
            && self.city == stored.city
            && self.partner == stored.partner
            && self.courier_id == stored.courier_id
            && self.promised_from == stored.promised_from
            && self.promised_to == stored.promised_to
            && self.delivered_at == stored.delivered_at
            && self.amount_minor == stored.amount_minor
            && kept(&self.customer_name, &stored.customer_name)
            && kept(&self.customer_email, &stored.customer_email)
            && kept(&self.courier_name, &stored.courier_name)
            && (self.customer_vip.is_none() || self.customer_vip == stored.customer_vip)
    }
}

/// Rows per transaction of an upsert.
const ROWS_PER_TRANSACTION: usize = 1000;

impl Store {
    /// Upserts a batch of checked orders in one transaction, with their
    /// customers, couriers, partners and cities, and keeps each customer's
    /// order sequence (the segment) right. Re-sending the same orders changes
    /// nothing and reports them as unchanged. One outcome per record, in order.
    pub async fn upsert_orders(
        &self,
        records: &[OrderRecord],
        city_time_zone: &str,
    ) -> Result<Vec<RowOutcome>, StoreError> {
        crate::db::retry_aborted(|| async {
            let mut outcomes = Vec::with_capacity(records.len());
            let mut tx = self.db.begin().await?;
            for chunk in records.chunks(ROWS_PER_TRANSACTION) {
                outcomes.extend(upsert_chunk(&mut tx, chunk, city_time_zone).await?);
            }
            tx.commit().await?;
            Ok(outcomes)
        })
        .await
    }

    pub async fn order(&self, order_number: &str) -> Result<Option<OrderView>, StoreError> {
        self.db
            .opt(sql(format!("{ORDER_VIEW_SELECT} WHERE o.order_number = $1")).bind(order_number))
            .await
    }

    /// A page of orders matching `filter`, newest promised window first.
    pub async fn search_orders(
        &self,
        filter: &OrderFilter,
        limit: i64,
        offset: i64,
    ) -> Result<OrderPage, StoreError> {
        let (where_clause, args) = filter_clause(filter);
        let mut count = sql(format!("SELECT COUNT(*) FROM orders o{where_clause}"));
        let mut page = sql(format!(
            "{ORDER_VIEW_SELECT}{where_clause} ORDER BY o.promised_from DESC, o.order_number DESC LIMIT ${} OFFSET ${}",
            args.len() + 1,
            args.len() + 2
        ));
        for arg in args {
            count.push_arg(arg.clone());
            page.push_arg(arg);
        }
        let (total,): (i64,) = self.db.one(count).await?;
        let orders = self.db.all(page.bind(limit).bind(offset)).await?;
        Ok(OrderPage { orders, total })
    }

    pub async fn customer(&self, phone: &str) -> Result<Option<CustomerView>, StoreError> {
        self.db
            .opt(
                sql("SELECT c.phone, c.name, c.email, c.created_at, \
                     (SELECT COUNT(*) FROM orders o WHERE o.customer_phone = c.phone) AS orders, \
                     (SELECT COUNT(*) FROM orders o WHERE o.customer_phone = c.phone \
                        AND ((o.delivered_at IS NULL AND o.promised_to < $2) OR o.delivered_at > o.promised_to)) AS late_orders, \
                     (SELECT MIN(o.promised_from) FROM orders o WHERE o.customer_phone = c.phone) AS first_order_at, \
                     (SELECT MAX(o.promised_from) FROM orders o WHERE o.customer_phone = c.phone) AS last_order_at \
                     FROM customers c WHERE c.phone = $1")
                .bind(phone)
                .bind(now_millis()),
            )
            .await
    }

    /// Cities with their time zones, by name.
    pub async fn cities(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.db
            .all(sql("SELECT name, time_zone FROM cities ORDER BY name"))
            .await
    }

    /// Couriers (id, name), by name.
    pub async fn couriers(&self) -> Result<Vec<(String, Option<String>)>, StoreError> {
        self.db
            .all(sql("SELECT id, name FROM couriers ORDER BY name, id"))
            .await
    }

    pub async fn partners(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = self
            .db
            .all(sql("SELECT name FROM partners ORDER BY name"))
            .await?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }

    /// Adds a courier or renames it.
    pub async fn upsert_courier(&self, id: &str, name: Option<&str>) -> Result<(), StoreError> {
        self.db
            .exec(
                sql(
                    "INSERT INTO couriers (id, name, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET name = COALESCE(excluded.name, couriers.name)",
                )
                .bind(id)
                .bind(name)
                .bind(now_millis()),
            )
            .await
            .map(|_| ())
    }

    pub async fn courier(&self, id: &str) -> Result<Option<(String, Option<String>)>, StoreError> {
        self.db
            .opt(sql("SELECT id, name FROM couriers WHERE id = $1").bind(id))
            .await
    }

    /// Every courier's id and name (the id where no name is known).
    pub async fn courier_names(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.db
            .all(sql(
                "SELECT id, COALESCE(name, id) FROM couriers ORDER BY id",
            ))
            .await
    }

    /// Sets the time zone a city's local times are read in.
    pub async fn set_city_time_zone(&self, city: &str, time_zone: &str) -> Result<(), StoreError> {
        self.db
            .exec(
                sql(
                    "INSERT INTO cities (name, time_zone, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET time_zone = excluded.time_zone",
                )
                .bind(city)
                .bind(time_zone)
                .bind(now_millis()),
            )
            .await
            .map(|_| ())
    }

    pub async fn count_orders(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = self.db.one(sql("SELECT COUNT(*) FROM orders")).await?;
        Ok(n)
    }
}

fn filter_clause(f: &OrderFilter) -> (String, Vec<crate::db::Arg>) {
    let mut conditions: Vec<String> = Vec::new();
    let mut args: Vec<crate::db::Arg> = Vec::new();
    // The placeholder of a new argument.
    let mut mark = |arg: crate::db::Arg| {
        args.push(arg);
        format!("${}", args.len())
    };
    if let Some(phone) = &f.phone {
        conditions.push(format!("o.customer_phone = {}", mark(phone.into())));
    }
    if !f.phones.is_empty() {
        let marks: Vec<String> = f.phones.iter().map(|p| mark(p.into())).collect();
        conditions.push(format!("o.customer_phone IN ({})", marks.join(", ")));
    }
    if let Some(prefix) = &f.order_prefix {
        let m = mark(format!("{}%", like_escaped(prefix)).into());
        conditions.push(format!("o.order_number LIKE {m} ESCAPE '\\'"));
    }
    if let Some(text) = &f.text {
        // SQLite's LIKE folds only ASCII case: the spellings a name is
        // written in are tried one by one.
        let number = mark(format!("{}%", like_escaped(text)).into());
        let names: Vec<String> = spellings(text)
            .iter()
            .map(|spelling| {
                let m = mark(format!("%{}%", like_escaped(spelling)).into());
                format!("name LIKE {m} ESCAPE '\\'")
            })
            .collect();
        conditions.push(format!(
            "(o.order_number LIKE {number} ESCAPE '\\' OR o.customer_phone IN \
             (SELECT phone FROM customers WHERE {}))",
            names.join(" OR ")
        ));
    }
    if let Some(city) = &f.city {
        conditions.push(format!("o.city = {}", mark(city.into())));
    }
    if let Some(courier) = &f.courier_id {
        conditions.push(format!("o.courier_id = {}", mark(courier.into())));
    }
    if let Some(partner) = &f.partner {
        conditions.push(format!("o.partner = {}", mark(partner.into())));
    }
    if let Some(from) = f.from_ms {
        conditions.push(format!("o.promised_from >= {}", mark(from.into())));
    }
    if let Some(to) = f.to_ms {
        conditions.push(format!("o.promised_from < {}", mark(to.into())));
    }
    if let Some(status) = f.status {
        let m = mark(now_millis().into());
        conditions.push(status.condition(&m));
    }
    if let Some(band) = f.nps {
        let (low, high) = band.range();
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM answers a WHERE a.order_number = o.order_number \
             AND a.kind = 'nps' AND a.number_value >= {low} AND a.number_value <= {high})"
        ));
    }
    if conditions.is_empty() {
        (String::new(), args)
    } else {
        (format!(" WHERE {}", conditions.join(" AND ")), args)
    }
}

/// `text` with LIKE's wildcards escaped (`\\` is the escape).
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// How a typed name may be written: as typed, in lower case, with each
/// word capitalised, in upper case.
fn spellings(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let title: String = lower
        .split(' ')
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
        })
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = vec![text.to_owned(), lower, title, text.to_uppercase()];
    out.sort();
    out.dedup();
    out
}

/// An NPS answer's band, for filtering orders by what the customer said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpsBand {
    Detractor,
    Passive,
    Promoter,
}

impl NpsBand {
    pub const ALL: [NpsBand; 3] = [NpsBand::Detractor, NpsBand::Passive, NpsBand::Promoter];

    pub fn as_str(self) -> &'static str {
        match self {
            NpsBand::Detractor => "detractor",
            NpsBand::Passive => "passive",
            NpsBand::Promoter => "promoter",
        }
    }

    pub fn parse(s: &str) -> Option<NpsBand> {
        NpsBand::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// The band of an NPS answer.
    pub fn of(score: i64) -> NpsBand {
        NpsBand::ALL
            .into_iter()
            .find(|b| score <= b.range().1)
            .unwrap_or(NpsBand::Promoter)
    }

    fn range(self) -> (i64, i64) {
        match self {
            NpsBand::Detractor => (0, 6),
            NpsBand::Passive => (7, 8),
            NpsBand::Promoter => (9, 10),
        }
    }
}

impl Store {
    /// The NPS answer of each of these orders that has one (the latest).
    pub async fn order_nps(&self, numbers: &[&str]) -> Result<HashMap<String, i64>, StoreError> {
        if numbers.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(String, f64)> = self
            .db
            .all_in(
                "SELECT order_number, number_value FROM answers WHERE kind = 'nps' \
                 AND number_value IS NOT NULL AND order_number IN",
                numbers,
                "",
                |q, n| q.push_arg(*n),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(n, v)| (n, v.round() as i64))
            .collect())
    }
}

/// The stored orders among `numbers`, with their customer's and courier's
/// names. On PostgreSQL the order rows are locked (in order-number order)
/// until the transaction ends, so that a concurrent import of the same
/// orders waits and then compares with what this one wrote; SQLite's one
/// writer needs no lock.
async fn stored_orders(tx: &mut Tx<'_>, numbers: &[&str]) -> Result<Vec<StoredOrder>, StoreError> {
    let lock = match tx.backend() {
        Backend::Postgres => "ORDER BY o.order_number FOR UPDATE OF o",
        Backend::Sqlite => "",
    };
    tx.all_in(
        "SELECT o.order_number, o.customer_phone, o.city, o.partner, o.courier_id, o.promised_from, o.promised_to, \
         o.delivered_at, o.amount_minor, c.name AS customer_name, c.email AS customer_email, k.name AS courier_name, \
         c.vip AS customer_vip \
         FROM orders o JOIN customers c ON c.phone = o.customer_phone LEFT JOIN couriers k ON k.id = o.courier_id \
         WHERE o.order_number IN",
        numbers,
        lock,
        |q, n| q.push_arg(*n),
    )
    .await
}

/// What writing `row` over `old` (if stored) does.
fn outcome_over(row: &StoredOrder, old: Option<&StoredOrder>) -> RowOutcome {
    match old {
        None => RowOutcome::Inserted,
        Some(old) if row.same_as(old) => RowOutcome::Unchanged,
        Some(_) => RowOutcome::Updated,
    }
}

/// Upserts one chunk. Every write goes in key order (cities, partners,
/// couriers, customers, orders, rollup rows), so that concurrent imports
/// sharing couriers or orders take their locks in one order; a deadlock
/// the database still finds runs the transaction again (see
/// [`crate::db::retry_aborted`]). What is new is decided by the insert, not
/// by the read before it: two imports of one new order insert it once, and
/// the other compares with it as an update.
async fn upsert_chunk(
    tx: &mut Tx<'_>,
    records: &[OrderRecord],
    city_time_zone: &str,
) -> Result<Vec<RowOutcome>, StoreError> {
    // The same order twice in one chunk: the last row wins; the earlier one
    // is reported against the row it was replaced by.
    let rows: Vec<StoredOrder> = records.iter().map(StoredOrder::from_record).collect();
    let mut last_of: HashMap<&str, usize> = HashMap::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        last_of.insert(row.order_number.as_str(), i);
    }
    let mut numbers: Vec<&str> = last_of.keys().copied().collect();
    numbers.sort_unstable();
    let mut existing: HashMap<String, StoredOrder> = stored_orders(tx, &numbers)
        .await?
        .into_iter()
        .map(|e| (e.order_number.clone(), e))
        .collect();

    let mut outcomes = Vec::with_capacity(rows.len());
    // (position in `rows`) of the last row of each order, to be written.
    let mut to_write: Vec<usize> = Vec::with_capacity(last_of.len());
    for (i, row) in rows.iter().enumerate() {
        let last = last_of[row.order_number.as_str()];
        if last != i {
            let superseded_by = &rows[last];
            outcomes.push(if superseded_by == row {
                RowOutcome::Unchanged
            } else {
                RowOutcome::Updated
            });
            continue;
        }
        let outcome = outcome_over(row, existing.get(&row.order_number));
        if outcome != RowOutcome::Unchanged {
            to_write.push(i);
        }
        outcomes.push(outcome);
    }
    if to_write.is_empty() {
        return Ok(outcomes);
    }
    to_write.sort_unstable_by(|a, b| rows[*a].order_number.cmp(&rows[*b].order_number));
    let now = now_millis();
    let writing: Vec<&StoredOrder> = to_write.iter().map(|&i| &rows[i]).collect();
    write_dimensions(tx, &writing, city_time_zone, now).await?;
    // New orders first: the insert says which really were new.
    let new: Vec<&StoredOrder> = writing
        .iter()
        .copied()
        .filter(|r| !existing.contains_key(&r.order_number))
        .collect();
    let inserted: Vec<(String,)> = tx
        .all_rows(
            "INSERT INTO orders (order_number, customer_phone, city, partner, courier_id, promised_from, promised_to, \
             delivered_at, amount_minor, created_at, updated_at) VALUES",
            11,
            "ON CONFLICT (order_number) DO NOTHING RETURNING order_number",
            &new,
            |q, row| bind_order(q, row, now),
        )
        .await?;
    let inserted: HashSet<String> = inserted.into_iter().map(|(n,)| n).collect();
    let raced: Vec<&str> = new
        .iter()
        .map(|r| r.order_number.as_str())
        .filter(|n| !inserted.contains(*n))
        .collect();
    if !raced.is_empty() {
        // Inserted by a concurrent import since the read above: compare
        // with what it stored, as with any stored order.
        for e in stored_orders(tx, &raced).await? {
            existing.insert(e.order_number.clone(), e);
        }
        for &i in &to_write {
            let row = &rows[i];
            if raced.contains(&row.order_number.as_str()) {
                outcomes[i] = outcome_over(row, existing.get(&row.order_number));
            }
        }
    }
    let updated: Vec<&StoredOrder> = to_write
        .iter()
        .filter(|&&i| outcomes[i] == RowOutcome::Updated)
        .map(|&i| &rows[i])
        .collect();
    tx.exec_rows(
        "INSERT INTO orders (order_number, customer_phone, city, partner, courier_id, promised_from, promised_to, \
         delivered_at, amount_minor, created_at, updated_at) VALUES",
        11,
        "ON CONFLICT (order_number) DO UPDATE SET customer_phone = excluded.customer_phone, city = excluded.city, \
         partner = excluded.partner, courier_id = excluded.courier_id, promised_from = excluded.promised_from, \
         promised_to = excluded.promised_to, delivered_at = excluded.delivered_at, \
         amount_minor = excluded.amount_minor, updated_at = excluded.updated_at",
        &updated,
        |q, row| bind_order(q, row, now),
    )
    .await?;
    // Customers whose first order may have moved later or gone elsewhere:
    // their first order is looked up again. (Earlier is handled by the
    // running minimum of the customers' upsert.)
    let mut moved_phones: Vec<&str> = updated
        .iter()
        .filter_map(|row| {
            let old = existing.get(&row.order_number)?;
            (old.customer_phone != row.customer_phone || old.promised_from < row.promised_from)
                .then_some(old.customer_phone.as_str())
        })
        .collect();
    moved_phones.sort_unstable();
    moved_phones.dedup();
    refind_first_orders(tx, &moved_phones).await?;
    // The delivery rollup: the old version of an updated order out, the new in.
    let tz = jiff::tz::TimeZone::get(city_time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let mut deliveries = crate::survey::deliveries::DeliveryDeltas::default();
    for &i in &to_write {
        let row = &rows[i];
        match outcomes[i] {
            RowOutcome::Inserted => deliveries.add(&row.delivery(), 1, &tz),
            RowOutcome::Updated => {
                if let Some(old) = existing.get(&row.order_number) {
                    deliveries.add(&old.delivery(), -1, &tz);
                }
                deliveries.add(&row.delivery(), 1, &tz);
            }
            RowOutcome::Unchanged => {}
        }
    }
    // The late facts: orders not delivered or delivered late have a row,
    // the others none.
    let (mut late, mut in_time) = (Vec::new(), Vec::new());
    for &i in &to_write {
        let row = &rows[i];
        match outcomes[i] {
            RowOutcome::Unchanged => {}
            _ if row.delivered_at.is_none_or(|d| d > row.promised_to) => {
                late.push(row.order_number.as_str());
            }
            RowOutcome::Updated => in_time.push(row.order_number.as_str()),
            RowOutcome::Inserted => {}
        }
    }
    crate::helpdesk::late::orders_written(tx, &late, &in_time).await?;
    let days = deliveries.days();
    deliveries.write(tx).await?;
    // Weeks before days, as every transaction that marks both (on
    // PostgreSQL, locks taken in one order never wait on each other in a
    // cycle).
    crate::survey::rollups::mark_late_weeks(tx, days.iter().copied(), now).await?;
    crate::survey::day_builds::touch_days(tx, Some(&days)).await?;
    Ok(outcomes)
}

fn bind_order(q: &mut crate::db::Sql, row: &StoredOrder, now: i64) {
    q.push_arg(row.order_number.as_str());
    q.push_arg(row.customer_phone.as_str());
    q.push_arg(row.city.as_str());
    q.push_arg(row.partner.as_deref());
    q.push_arg(row.courier_id.as_deref());
    q.push_arg(row.promised_from);
    q.push_arg(row.promised_to);
    q.push_arg(row.delivered_at);
    q.push_arg(row.amount_minor);
    q.push_arg(now);
    q.push_arg(now);
}

/// Cities, partners, couriers and customers of the rows about to be written.
async fn write_dimensions(
    tx: &mut Tx<'_>,
    rows: &[&StoredOrder],
    city_time_zone: &str,
    now: i64,
) -> Result<(), StoreError> {
    let cities: Vec<&str> = rows
        .iter()
        .map(|r| r.city.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    tx.exec_rows(
        "INSERT INTO cities (name, time_zone, created_at) VALUES",
        3,
        "ON CONFLICT (name) DO NOTHING",
        &cities,
        |q, city| {
            q.push_arg(*city);
            q.push_arg(city_time_zone);
            q.push_arg(now);
        },
    )
    .await?;

    let partners: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.partner.as_deref())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    tx.exec_rows(
        "INSERT INTO partners (name, created_at) VALUES",
        2,
        "ON CONFLICT (name) DO NOTHING",
        &partners,
        |q, partner| {
            q.push_arg(*partner);
            q.push_arg(now);
        },
    )
    .await?;

    let mut couriers: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for row in rows {
        if let Some(id) = row.courier_id.as_deref() {
            let name = couriers.entry(id).or_default();
            if row.courier_name.is_some() {
                *name = row.courier_name.as_deref();
            }
        }
    }
    let couriers: Vec<(&str, Option<&str>)> = couriers.into_iter().collect();
    tx.exec_rows(
        "INSERT INTO couriers (id, name, created_at) VALUES",
        3,
        "ON CONFLICT (id) DO UPDATE SET name = COALESCE(excluded.name, couriers.name)",
        &couriers,
        |q, (id, name)| {
            q.push_arg(*id);
            q.push_arg(*name);
            q.push_arg(now);
        },
    )
    .await?;

    // Per customer: name, e-mail, and the earliest of the orders being written.
    let mut customers: BTreeMap<&str, Customer<'_>> = BTreeMap::new();
    for row in rows {
        let entry = customers
            .entry(row.customer_phone.as_str())
            .or_insert(Customer {
                name: None,
                email: None,
                vip: None,
                first: (row.promised_from, row.order_number.as_str()),
            });
        if row.customer_vip.is_some() {
            entry.vip = row.customer_vip;
        }
        if row.customer_name.is_some() {
            entry.name = row.customer_name.as_deref();
        }
        if row.customer_email.is_some() {
            entry.email = row.customer_email.as_deref();
        }
        entry.first = entry
            .first
            .min((row.promised_from, row.order_number.as_str()));
    }
    let customers: Vec<_> = customers.into_iter().collect();
    tx.exec_rows(
        "INSERT INTO customers (phone, name, email, first_order_at, first_order_number, created_at, updated_at, vip) VALUES",
        8,
        "ON CONFLICT (phone) DO UPDATE SET name = COALESCE(excluded.name, customers.name), \
         email = COALESCE(excluded.email, customers.email), \
         vip = COALESCE(excluded.vip, customers.vip), \
         first_order_number = CASE WHEN customers.first_order_at IS NULL \
             OR excluded.first_order_at < customers.first_order_at \
             OR (excluded.first_order_at = customers.first_order_at AND excluded.first_order_number < customers.first_order_number) \
             THEN excluded.first_order_number ELSE customers.first_order_number END, \
         first_order_at = CASE WHEN customers.first_order_at IS NULL OR excluded.first_order_at < customers.first_order_at \
             THEN excluded.first_order_at ELSE customers.first_order_at END, \
         updated_at = excluded.updated_at \
         WHERE (excluded.name IS NOT NULL AND excluded.name IS DISTINCT FROM customers.name) \
            OR (excluded.email IS NOT NULL AND excluded.email IS DISTINCT FROM customers.email) \
            OR (excluded.vip IS NOT NULL AND excluded.vip IS DISTINCT FROM customers.vip) \
            OR customers.first_order_at IS NULL \
            OR excluded.first_order_at < customers.first_order_at \
            OR (excluded.first_order_at = customers.first_order_at \
                AND excluded.first_order_number < customers.first_order_number)",
        &customers,
        |q, (phone, c)| {
            q.push_arg(*phone);
            q.push_arg(c.name);
            q.push_arg(c.email);
            q.push_arg(c.first.0);
            q.push_arg(c.first.1);
            q.push_arg(now);
            q.push_arg(now);
            q.push_arg(crate::db::Arg::Bool(c.vip));
        },
    )
    .await?;
    Ok(())
}

/// A customer as the rows of one batch describe them.
struct Customer<'a> {
    name: Option<&'a str>,
    email: Option<&'a str>,
    vip: Option<bool>,
    /// The earliest (promised_from, order_number) among the batch's orders.
    first: (i64, &'a str),
}

/// Looks up again the first order of customers whose first order may have
/// moved later or to another customer (an order re-imported with a later
/// time or another phone). Rare: only updates that move an order do this.
async fn refind_first_orders(tx: &mut Tx<'_>, phones: &[&str]) -> Result<(), StoreError> {
    for phone in phones {
        tx.exec(
            sql("UPDATE customers SET \
                 first_order_number = (SELECT o.order_number FROM orders o WHERE o.customer_phone = $1 \
                     ORDER BY o.promised_from, o.order_number LIMIT 1), \
                 first_order_at = (SELECT MIN(o.promised_from) FROM orders o WHERE o.customer_phone = $1) \
                 WHERE phone = $1")
            .bind(*phone),
        )
        .await?;
    }
    Ok(())
}
