//! Erasing a customer's personal data on request: name, e-mail and phone
//! are replaced by a pseudonym, free-text answers are blanked, photos and
//! voice messages are deleted, open survey links are withdrawn. Scores,
//! choices and orders stay, so the figures already reported do not change.

use crate::db::sql;
use crate::{Store, StoreError};

/// What an erasure removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    /// The pseudonym that now stands for the customer.
    pub pseudonym: String,
    pub orders: usize,
    pub texts: u64,
    /// Attachments whose records were deleted; their files are the caller's
    /// to delete (the store does not own the data directory).
    pub attachments: Vec<String>,
    pub links: u64,
}

impl Store {
    /// Erases one customer's personal data in one transaction. `None` when
    /// there is no customer with this phone.
    pub async fn erase_customer(&self, phone: &str) -> Result<Option<Erased>, StoreError> {
        let mut tx = self.db.begin().await?;
        // A customer known from orders, or only from support (a case
        // opened by phone, a ledger).
        let found: Option<(String,)> = tx
            .opt(
                sql("SELECT phone FROM customers WHERE phone = $1 \
                     UNION SELECT customer_phone FROM cases WHERE customer_phone = $1 \
                     UNION SELECT customer_phone FROM ledger_accounts WHERE customer_phone = $1")
                .bind(phone),
            )
            .await?;
        if found.is_none() {
            return Ok(None);
        }
        let pseudonym = format!(
            "erased-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let orders: Vec<(String,)> = tx
            .all(sql("SELECT order_number FROM orders WHERE customer_phone = $1").bind(phone))
            .await?;
        let numbers: Vec<&str> = orders.iter().map(|(n,)| n.as_str()).collect();
        let media: Vec<(String,)> = tx
            .all_in(
                "SELECT text_value FROM answers WHERE kind IN ('photo', 'voice') AND text_value IS NOT NULL AND order_number IN",
                &numbers,
                "",
                |q, n| q.push_arg(*n),
            )
            .await?;
        // Photos the customer sent in their cases' chats go too.
        let chat: Vec<(String,)> = tx
            .all(
                sql(
                    "SELECT attachment_id FROM case_entries WHERE attachment_id IS NOT NULL \
                     AND case_id IN (SELECT id FROM cases WHERE customer_phone = $1)",
                )
                .bind(phone),
            )
            .await?;
        tx.exec(
            sql(
                "UPDATE case_entries SET attachment_id = NULL WHERE attachment_id IS NOT NULL \
                 AND case_id IN (SELECT id FROM cases WHERE customer_phone = $1)",
            )
            .bind(phone),
        )
        .await?;
        let mut attachments: Vec<String> = media.into_iter().chain(chat).map(|(id,)| id).collect();
        attachments.sort();
        attachments.dedup();
        let mut texts = 0;
        let mut links = 0;
        for chunk in numbers.chunks(500) {
            let mut list = String::new();
            crate::db::list_placeholders(&mut list, chunk.len(), 1);
            let mut q = sql(format!(
                "UPDATE answers SET text_value = NULL WHERE text_value IS NOT NULL AND order_number IN ({list})"
            ));
            for n in chunk {
                q.push_arg(*n);
            }
            texts += tx.exec(q).await?;
            let mut q = sql(format!(
                "DELETE FROM survey_links WHERE order_number IN ({list})"
            ));
            for n in chunk {
                q.push_arg(*n);
            }
            links += tx.exec(q).await?;
        }
        for chunk in attachments.chunks(500) {
            let mut list = String::new();
            crate::db::list_placeholders(&mut list, chunk.len(), 1);
            let mut q = sql(format!("DELETE FROM attachments WHERE id IN ({list})"));
            for id in chunk {
                q.push_arg(id.as_str());
            }
            tx.exec(q).await?;
        }
        // What the customer said to support goes; what was done stays.
        texts += tx
            .exec(
                sql("UPDATE case_entries SET body = '—' WHERE kind = 'contact' \
                     AND case_id IN (SELECT id FROM cases WHERE customer_phone = $1)")
                .bind(phone),
            )
            .await?;
        // Notices carried their address (an e-mail, a phone) and text.
        tx.exec(
            sql(
                "UPDATE notices SET address = '—', subject = '—', body = '—' \
                 WHERE case_id IN (SELECT id FROM cases WHERE customer_phone = $1)",
            )
            .bind(phone),
        )
        .await?;
        // The e-mail thread's message ids carry the customer's domain.
        tx.exec(
            sql("DELETE FROM mail_messages WHERE case_id IN (SELECT id FROM cases WHERE customer_phone = $1)")
                .bind(phone),
        )
        .await?;
        tx.exec(
            sql("UPDATE cases SET subject = '—', conversation = NULL, \
                 open_key = CASE WHEN open_key = $1 THEN $2 ELSE open_key END \
                 WHERE customer_phone = $3")
            .bind(format!("phone:{phone}"))
            .bind(format!("phone:{pseudonym}"))
            .bind(phone),
        )
        .await?;
        // The support figures tell customers apart by a digest of the
        // phone: the days of their cases are built again under the
        // pseudonym's.
        let (since,): (Option<i64>,) = tx
            .one(sql("SELECT MIN(created_at) FROM cases WHERE customer_phone = $1").bind(phone))
            .await?;
        if let Some(since) = since {
            crate::helpdesk::support_days::touch_cases(&mut tx, since).await?;
        }
        for table in [
            "incidents",
            "cases",
            "remedies",
            "ledger_entries",
            "ledger_accounts",
        ] {
            tx.exec(
                sql(format!(
                    "UPDATE {table} SET customer_phone = $1 WHERE customer_phone = $2"
                ))
                .bind(pseudonym.as_str())
                .bind(phone),
            )
            .await?;
        }
        tx.exec(
            sql("UPDATE orders SET customer_phone = $1 WHERE customer_phone = $2")
                .bind(pseudonym.as_str())
                .bind(phone),
        )
        .await?;
        tx.exec(
            sql("UPDATE customers SET phone = $1, name = NULL, email = NULL, updated_at = $2 WHERE phone = $3")
                .bind(pseudonym.as_str())
                .bind(crate::now_millis())
                .bind(phone),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(Erased {
            pseudonym,
            orders: numbers.len(),
            texts,
            attachments,
            links,
        }))
    }
}
