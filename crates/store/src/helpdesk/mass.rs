//! Mass notices: one proactive notice to every customer whose undelivered
//! order one cause hits (a city, a courier, a partner, a delivery window),
//! written page by page by the `notices.mass` job and sent like every
//! notice — never twice to one customer (see the migration
//! `0026_mass_notices.sql`).

use std::collections::HashMap;
use std::fmt::Write;

use super::notices::Notice;
use crate::db::{sql, Sql};
use crate::{Store, StoreError};

/// Which orders a mass notice is about: not delivered, their promised
/// window overlapping `[window_from, window_to]`, in the city, of the
/// courier and of the partner when given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    pub city: Option<String>,
    pub courier_id: Option<String>,
    pub partner: Option<String>,
    pub window_from: i64,
    pub window_to: i64,
}

impl Selection {
    /// `WHERE …` over `orders o`, its arguments bound to `q` after those
    /// already there.
    fn filter(&self, q: &mut Sql) -> String {
        q.push_arg(self.window_to);
        let mut text = format!(
            "o.delivered_at IS NULL AND o.promised_from <= ${} ",
            q.arg_count()
        );
        q.push_arg(self.window_from);
        let _ = write!(text, "AND o.promised_to >= ${} ", q.arg_count());
        for (column, value) in [
            ("city", &self.city),
            ("courier_id", &self.courier_id),
            ("partner", &self.partner),
        ] {
            if let Some(v) = value {
                q.push_arg(v.as_str());
                let _ = write!(text, "AND o.{column} = ${} ", q.arg_count());
            }
        }
        text
    }
}

/// A mass notice as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MassNotice {
    pub id: String,
    pub city: Option<String>,
    pub courier_id: Option<String>,
    pub partner: Option<String>,
    pub window_from: i64,
    pub window_to: i64,
    /// The text per language, as JSON (`{"ru": "…", "en": "…"}`).
    pub texts: String,
    /// `sending`, `done`.
    pub status: String,
    /// The last order number whose customer was written to.
    pub after_order: String,
    /// Customers written to so far.
    pub customers: i64,
    pub created_by: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

impl MassNotice {
    pub fn selection(&self) -> Selection {
        Selection {
            city: self.city.clone(),
            courier_id: self.courier_id.clone(),
            partner: self.partner.clone(),
            window_from: self.window_from,
            window_to: self.window_to,
        }
    }
}

const COLUMNS: &str =
    "id, city, courier_id, partner, window_from, window_to, texts, status, after_order, \
     customers, created_by, created_at, finished_at";

/// One order a mass notice reaches, with what its notice needs.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Target {
    pub order_number: String,
    pub customer_phone: String,
    pub customer_email: Option<String>,
    pub city: String,
}

/// A notice of a mass notice, to write.
#[derive(Debug, Clone)]
pub struct NewMassNotice {
    pub customer_phone: String,
    pub order_number: String,
    pub channel: &'static str,
    pub address: String,
    pub language: String,
    pub subject: String,
    pub body: String,
    pub send_after: i64,
}

/// The kind of a mass notice's notices.
pub const MASS_KIND: &str = "mass";

impl Store {
    /// How many orders and customers a selection reaches now.
    pub async fn mass_reach(&self, selection: &Selection) -> Result<(i64, i64), StoreError> {
        let mut q = sql(String::new());
        let filter = selection.filter(&mut q);
        let q = q.with_text(format!(
            "SELECT COUNT(*), COUNT(DISTINCT o.customer_phone) FROM orders o WHERE {filter}"
        ));
        self.db.one(q).await
    }

    /// The orders of a selection after `after` (by number), at most
    /// `limit`.
    pub async fn mass_targets(
        &self,
        selection: &Selection,
        after: &str,
        limit: i64,
    ) -> Result<Vec<Target>, StoreError> {
        let mut q = sql(String::new());
        let filter = selection.filter(&mut q);
        q.push_arg(after);
        let after_arg = q.arg_count();
        q.push_arg(limit);
        let limit_arg = q.arg_count();
        let q = q.with_text(format!(
            "SELECT o.order_number, o.customer_phone, c.email AS customer_email, o.city FROM orders o \
             LEFT JOIN customers c ON c.phone = o.customer_phone \
             WHERE {filter}AND o.order_number > ${after_arg} ORDER BY o.order_number LIMIT ${limit_arg}"
        ));
        self.db.all(q).await
    }

    /// The language each of these customers last answered a survey in.
    pub async fn customer_languages(
        &self,
        phones: &[&str],
    ) -> Result<HashMap<String, String>, StoreError> {
        let rows: Vec<(String, String, i64)> = self
            .db
            .all_in(
                "SELECT o.customer_phone, r.language, r.finished_at FROM orders o \
                 JOIN responses r ON r.order_number = o.order_number \
                 WHERE r.language IS NOT NULL AND o.customer_phone IN",
                phones,
                "",
                |q, p| q.push_arg(*p),
            )
            .await?;
        let mut latest: HashMap<String, (String, i64)> = HashMap::new();
        for (phone, language, at) in rows {
            let e = latest.entry(phone).or_insert((language.clone(), at));
            if at > e.1 {
                *e = (language, at);
            }
        }
        Ok(latest.into_iter().map(|(p, (l, _))| (p, l)).collect())
    }

    /// Starts a mass notice (the job writes its notices).
    pub async fn create_mass_notice(
        &self,
        selection: &Selection,
        texts: &str,
        created_by: &str,
    ) -> Result<MassNotice, StoreError> {
        self.db
            .write_opt(
                sql(format!(
                    "INSERT INTO mass_notices (id, city, courier_id, partner, window_from, window_to, texts, \
                     status, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'sending', $8, $9) \
                     RETURNING {COLUMNS}"
                ))
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(selection.city.as_deref())
                .bind(selection.courier_id.as_deref())
                .bind(selection.partner.as_deref())
                .bind(selection.window_from)
                .bind(selection.window_to)
                .bind(texts)
                .bind(created_by)
                .bind(super::now()),
            )
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The newest mass notices first.
    pub async fn mass_notices(&self, limit: i64) -> Result<Vec<MassNotice>, StoreError> {
        self.db
            .all(
                sql(format!(
                    "SELECT {COLUMNS} FROM mass_notices ORDER BY created_at DESC, id DESC LIMIT $1"
                ))
                .bind(limit),
            )
            .await
    }

    pub async fn mass_notice(&self, id: &str) -> Result<Option<MassNotice>, StoreError> {
        self.db
            .opt(sql(format!("SELECT {COLUMNS} FROM mass_notices WHERE id = $1")).bind(id))
            .await
    }

    /// The mass notices still being written, oldest first.
    pub async fn mass_notices_sending(&self) -> Result<Vec<MassNotice>, StoreError> {
        self.db
            .all(sql(format!(
                "SELECT {COLUMNS} FROM mass_notices WHERE status = 'sending' ORDER BY created_at, id"
            )))
            .await
    }

    /// How a mass notice's notices stand: (written, sent, failed).
    pub async fn mass_notice_progress(&self, id: &str) -> Result<(i64, i64, i64), StoreError> {
        self.db
            .one(
                sql("SELECT COUNT(*), \
                     CAST(COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0) AS BIGINT), \
                     CAST(COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) AS BIGINT) \
                     FROM notices WHERE mass_id = $1")
                .bind(id),
            )
            .await
    }

    /// Writes one page of a mass notice's notices (a customer already
    /// written to is passed over) and moves its place to `last_order`, in
    /// one transaction — only if its place is still `from` (another
    /// writer moved on: nothing). `done`: the page was the last. Returns
    /// the notices written, or `None` when another writer got there first.
    pub async fn write_mass_page(
        &self,
        mass: &MassNotice,
        notices: &[NewMassNotice],
        last_order: &str,
        done: bool,
    ) -> Result<Option<u64>, StoreError> {
        let now = super::now();
        let mut tx = self.db.begin().await?;
        let moved = tx
            .exec(
                sql(
                    "UPDATE mass_notices SET after_order = $1, status = $2, finished_at = $3 \
                     WHERE id = $4 AND after_order = $5 AND status = 'sending'",
                )
                .bind(last_order)
                .bind(if done { "done" } else { "sending" })
                .bind(done.then_some(now))
                .bind(mass.id.as_str())
                .bind(mass.after_order.as_str()),
            )
            .await?;
        if moved == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let written = tx
            .exec_rows(
                "INSERT INTO notices (id, kind, channel, address, language, subject, body, status, send_after, \
                 created_at, mass_id, customer_phone, order_number) VALUES",
                13,
                "ON CONFLICT (mass_id, customer_phone) DO NOTHING",
                notices,
                |q, n| {
                    q.push_arg(uuid::Uuid::now_v7().to_string());
                    q.push_arg(MASS_KIND);
                    q.push_arg(n.channel);
                    q.push_arg(n.address.as_str());
                    q.push_arg(n.language.as_str());
                    q.push_arg(n.subject.as_str());
                    q.push_arg(n.body.as_str());
                    q.push_arg("pending");
                    q.push_arg(n.send_after);
                    q.push_arg(now);
                    q.push_arg(mass.id.as_str());
                    q.push_arg(n.customer_phone.as_str());
                    q.push_arg(n.order_number.as_str());
                },
            )
            .await?;
        tx.exec(
            sql("UPDATE mass_notices SET customers = customers + $1 WHERE id = $2")
                .bind(i64::try_from(written).unwrap_or(i64::MAX))
                .bind(mass.id.as_str()),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(written))
    }

    /// The notices a customer was sent without a case (mass notices),
    /// newest first.
    pub async fn customer_notices(&self, phone: &str) -> Result<Vec<Notice>, StoreError> {
        self.db
            .all(
                sql(format!(
                    "SELECT {} FROM notices WHERE customer_phone = $1 ORDER BY created_at DESC, id LIMIT $2",
                    super::notices::COLUMNS
                ))
                .bind(phone)
                .bind(super::file::FILE_LIMIT),
            )
            .await
    }
}
