//! Notices to customers, written once per case and kind and sent by the
//! notices job (see the migration `0019_notices.sql`).

use crate::db::sql;
use crate::{Store, StoreError};

/// A notice as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Notice {
    pub id: String,
    /// The case it is about; none for a mass notice.
    pub case_id: Option<String>,
    /// `status_link`.
    pub kind: String,
    /// `email`, `sms` or `messenger`.
    pub channel: String,
    /// An e-mail address, a phone, or a gateway conversation.
    pub address: String,
    pub language: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub send_after: i64,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
    pub created_at: i64,
    /// A mass notice's: its id, the customer and the order it was sent for.
    pub mass_id: Option<String>,
    pub customer_phone: Option<String>,
    pub order_number: Option<String>,
}

pub(crate) const COLUMNS: &str =
    "id, case_id, kind, channel, address, language, subject, body, status, send_after, \
     attempts, last_error, sent_at, created_at, mass_id, customer_phone, order_number";

/// A notice to write.
#[derive(Debug, Clone)]
pub struct NewNotice<'a> {
    pub case_id: &'a str,
    pub kind: &'a str,
    pub channel: &'a str,
    pub address: &'a str,
    pub language: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub send_after: i64,
}

/// The kind of a late order's apology (its leaving is "told" in the
/// dashboard's told-first figures).
pub const LATE_NOTICE: &str = "late";

/// How many times a notice is tried before it is marked failed.
pub const NOTICE_TRIES: i64 = 5;

/// The statement that writes a notice (nothing when the case has one of
/// its kind), returning it: for [`Store::add_notice`] and for writes that
/// queue a notice in their own transaction.
pub(crate) fn insert(n: &NewNotice<'_>) -> crate::db::Sql {
    sql(format!(
        "INSERT INTO notices (id, case_id, kind, channel, address, language, subject, body, status, \
         send_after, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10) \
         ON CONFLICT (case_id, kind) DO NOTHING RETURNING {COLUMNS}"
    ))
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(n.case_id)
    .bind(n.kind)
    .bind(n.channel)
    .bind(n.address)
    .bind(n.language)
    .bind(n.subject)
    .bind(n.body)
    .bind(n.send_after)
    .bind(super::now())
}

impl Store {
    /// Writes a notice unless the case has one of this kind: `None` then.
    pub async fn add_notice(&self, n: &NewNotice<'_>) -> Result<Option<Notice>, StoreError> {
        self.db.write_opt(insert(n)).await
    }

    /// Claims up to `limit` notices that are due: each is handed to one
    /// claimer only (the status moves on in the same statement).
    pub async fn claim_notices(&self, now: i64, limit: i64) -> Result<Vec<Notice>, StoreError> {
        self.db
            .write_all(
                sql(format!(
                    "UPDATE notices SET status = 'sending', attempts = attempts + 1, send_after = $1 WHERE id IN \
                     (SELECT id FROM notices WHERE status = 'pending' AND send_after <= $1 \
                      ORDER BY send_after LIMIT $2) AND status = 'pending' RETURNING {COLUMNS}"
                ))
                .bind(now)
                .bind(limit),
            )
            .await
    }

    /// Records a notice sent, with a line on its case's timeline (an
    /// automated outbound contact, which moves no SLA clock).
    pub async fn notice_sent(&self, notice: &Notice) -> Result<(), StoreError> {
        let now = super::now();
        let mut tx = self.db.begin().await?;
        tx.exec(
            sql(
                "UPDATE notices SET status = 'sent', sent_at = $1, last_error = NULL WHERE id = $2",
            )
            .bind(now)
            .bind(notice.id.as_str()),
        )
        .await?;
        // An operator's e-mail reply is on the timeline already, and so is
        // a late order's apology (the case opened with it); a mass notice
        // has no case.
        let reply = notice.kind.starts_with(super::cases::MAIL_REPLY_NOTICE)
            || notice.kind == LATE_NOTICE
            || notice.case_id.is_none();
        if let (LATE_NOTICE, Some(case_id)) = (notice.kind.as_str(), notice.case_id.as_deref()) {
            super::late::told(&mut tx, case_id, now).await?;
        }
        tx.exec(
            sql(
                "INSERT INTO case_entries (id, case_id, kind, channel, direction, body, author, external_id, created_at, by_person) \
                 SELECT $1, $2, 'contact', $3, 'outbound', $4, 'doorstep', $5, $6, FALSE WHERE NOT $7 ON CONFLICT DO NOTHING",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(notice.case_id.as_deref().unwrap_or_default())
            .bind(if notice.channel == "sms" { "phone" } else { notice.channel.as_str() })
            .bind(notice.body.as_str())
            .bind(format!("notice:{}", notice.id))
            .bind(now)
            .bind(reply),
        )
        .await?;
        self.commit_with_events(
            tx,
            &[crate::events::NewEvent::new(
                "notice.sent",
                &serde_json::json!({
                    "id": notice.id,
                    "case_id": notice.case_id,
                    "mass_id": notice.mass_id,
                    "order_number": notice.order_number,
                    "kind": notice.kind,
                    "channel": notice.channel,
                    "address": notice.address,
                    "gateway": notice.address.split_once(':').filter(|_| notice.channel == "messenger").map(|(g, _)| g),
                    "conversation_id": notice.address.split_once(':').filter(|_| notice.channel == "messenger").map(|(_, c)| c),
                    "language": notice.language,
                    "subject": notice.subject,
                    "text": notice.body,
                    // SMS and messenger notices are delivered by the
                    // company's gateways subscribed to this event;
                    // e-mails were sent by Doorstep itself.
                    "delivered_by": if notice.channel == "email" { "doorstep" } else { "gateway" },
                }),
            )],
        )
        .await
    }

    /// A try that failed: due again after `retry_at`, or failed for good
    /// after [`NOTICE_TRIES`].
    pub async fn notice_failed(
        &self,
        notice: &Notice,
        error: &str,
        retry_at: i64,
    ) -> Result<(), StoreError> {
        self.db
            .exec(
                sql(
                    "UPDATE notices SET status = CASE WHEN attempts >= $1 THEN 'failed' ELSE 'pending' END, \
                     send_after = $2, last_error = $3 WHERE id = $4",
                )
                .bind(NOTICE_TRIES)
                .bind(retry_at)
                .bind(error)
                .bind(notice.id.as_str()),
            )
            .await?;
        Ok(())
    }

    /// The notices of a case, oldest first.
    pub async fn case_notices(&self, case_id: &str) -> Result<Vec<Notice>, StoreError> {
        self.db
            .all(
                sql(format!(
                    "SELECT {COLUMNS} FROM notices WHERE case_id = $1 ORDER BY created_at, id"
                ))
                .bind(case_id),
            )
            .await
    }

    /// Notices left `sending` by a process that died mid-send go back to
    /// pending (sent at least once rather than never).
    pub async fn requeue_stuck_notices(&self, before: i64) -> Result<u64, StoreError> {
        self.db
            .exec(
                sql("UPDATE notices SET status = 'pending' WHERE status = 'sending' AND send_after < $1")
                    .bind(before),
            )
            .await
    }
}
