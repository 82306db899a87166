//! Erasing a customer's personal data on request: name, e-mail and phone
//! are replaced by a pseudonym, free-text answers are blanked, photos and
//! voice messages are deleted, open survey links are withdrawn. Scores,
//! choices and orders stay, so the figures already reported do not change.
//! A customer known only by an e-mail address or a messenger chat (their
//! cases carry no phone) is found by the address, or by a case of theirs.

use crate::db::{sql, Tx};
use crate::helpdesk::cases::EMAIL_CONVERSATION;
use crate::{Store, StoreError};

/// Who is to be erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erasee<'a> {
    /// By phone (as stored): their orders, answers, cases, ledger.
    Phone(&'a str),
    /// By e-mail address (lower case): their e-mail cases, and everything
    /// of the customer with this address when one is known by phone.
    Email(&'a str),
    /// The customer who wrote in case `number`: by its phone when it has
    /// one, else by its conversation (an e-mail address, a messenger chat).
    Case(i64),
}

/// The phone of the customer known by this e-mail address, if any.
async fn by_email(tx: &mut Tx<'_>, address: &str) -> Result<Option<String>, StoreError> {
    let phone: Option<(String,)> = tx
        .opt(
            sql("SELECT phone FROM customers WHERE lower(email) = $1 ORDER BY updated_at DESC LIMIT 1")
                .bind(address.to_lowercase()),
        )
        .await?;
    Ok(phone.map(|(p,)| p))
}

/// The customer to erase: a phone, and the conversations of cases with
/// no phone (`email:…`, a gateway's chat).
async fn find(
    tx: &mut Tx<'_>,
    who: Erasee<'_>,
) -> Result<(Option<String>, Vec<String>), StoreError> {
    Ok(match who {
        Erasee::Phone(phone) => {
            let email: Option<(Option<String>,)> = tx
                .opt(sql("SELECT email FROM customers WHERE phone = $1").bind(phone))
                .await?;
            let conversations = email
                .and_then(|(e,)| e)
                .map(|e| format!("{EMAIL_CONVERSATION}{}", e.to_lowercase()))
                .into_iter()
                .collect();
            (Some(phone.to_owned()), conversations)
        }
        Erasee::Email(address) => {
            let phone = by_email(tx, address).await?;
            (
                phone,
                vec![format!("{EMAIL_CONVERSATION}{}", address.to_lowercase())],
            )
        }
        Erasee::Case(number) => {
            let case: Option<(Option<String>, Option<String>)> = tx
                .opt(
                    sql("SELECT customer_phone, conversation FROM cases WHERE number = $1")
                        .bind(number),
                )
                .await?;
            match case {
                Some((Some(phone), _)) => return Box::pin(find(tx, Erasee::Phone(&phone))).await,
                Some((None, Some(conversation))) => {
                    let phone = match conversation.strip_prefix(EMAIL_CONVERSATION) {
                        Some(address) => by_email(tx, address).await?,
                        None => None,
                    };
                    (phone, vec![conversation])
                }
                None | Some((None, None)) => (None, Vec::new()),
            }
        }
    })
}

/// What an erasure removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    /// The pseudonym that now stands for the customer.
    pub pseudonym: String,
    pub orders: usize,
    /// Support cases whose texts and addresses went.
    pub cases: usize,
    pub texts: u64,
    /// Attachments whose records were deleted; their files are the caller's
    /// to delete (the store does not own the data directory).
    pub attachments: Vec<String>,
    pub links: u64,
}

impl Store {
    /// Erases one customer's personal data in one transaction. `None` when
    /// there is no such customer.
    pub async fn erase_customer(&self, who: Erasee<'_>) -> Result<Option<Erased>, StoreError> {
        let mut tx = self.db.begin().await?;
        let (phone, conversations) = find(&mut tx, who).await?;
        // A customer known from orders, or only from support (a case
        // opened by phone, a ledger; an e-mail or a chat).
        let mut cases: Vec<(String, i64)> = Vec::new();
        if let Some(phone) = &phone {
            cases = tx
                .all(
                    sql("SELECT id, created_at FROM cases WHERE customer_phone = $1")
                        .bind(phone.as_str()),
                )
                .await?;
        }
        let by_conversation: Vec<(String, i64)> = tx
            .all_in(
                "SELECT id, created_at FROM cases WHERE conversation IN",
                &conversations,
                "",
                |q, c| q.push_arg(c.as_str()),
            )
            .await?;
        cases.extend(by_conversation);
        cases.sort();
        cases.dedup();
        let known = match &phone {
            Some(phone) => tx
                .opt::<(String,)>(
                    sql("SELECT phone FROM customers WHERE phone = $1 \
                         UNION SELECT customer_phone FROM ledger_accounts WHERE customer_phone = $1 \
                         UNION SELECT customer_phone FROM calls WHERE customer_phone = $1")
                    .bind(phone.as_str()),
                )
                .await?
                .is_some(),
            None => false,
        };
        if !known && cases.is_empty() {
            tx.rollback().await?;
            return Ok(None);
        }
        let pseudonym = format!(
            "erased-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let case_ids: Vec<&str> = cases.iter().map(|(id, _)| id.as_str()).collect();
        let orders: Vec<(String,)> = match &phone {
            Some(phone) => {
                tx.all(
                    sql("SELECT order_number FROM orders WHERE customer_phone = $1")
                        .bind(phone.as_str()),
                )
                .await?
            }
            None => Vec::new(),
        };
        let numbers: Vec<&str> = orders.iter().map(|(n,)| n.as_str()).collect();
        let media: Vec<(String,)> = tx
            .all_in(
                "SELECT text_value FROM answers WHERE kind IN ('photo', 'voice') AND text_value IS NOT NULL AND order_number IN",
                &numbers,
                "",
                |q, n| q.push_arg(*n),
            )
            .await?;
        // Recordings of the conversations at their door.
        let recorded: Vec<(String,)> = tx
            .all_in(
                "SELECT attachment_id FROM recordings WHERE order_number IN",
                &numbers,
                "",
                |q, n| q.push_arg(*n),
            )
            .await?;
        tx.exec_in(
            "DELETE FROM recordings WHERE order_number IN",
            &numbers,
            "",
            |q, n| q.push_arg(*n),
        )
        .await?;
        // Photos the customer sent in their cases' chats go too.
        let chat: Vec<(String,)> = tx
            .all_in(
                "SELECT attachment_id FROM case_entries WHERE attachment_id IS NOT NULL AND case_id IN",
                &case_ids,
                "",
                |q, id| q.push_arg(*id),
            )
            .await?;
        tx.exec_in(
            "UPDATE case_entries SET attachment_id = NULL WHERE attachment_id IS NOT NULL AND case_id IN",
            &case_ids,
            "",
            |q, id| q.push_arg(*id),
        )
        .await?;
        let mut attachments: Vec<String> = media
            .into_iter()
            .chain(recorded)
            .chain(chat)
            .map(|(id,)| id)
            .collect();
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
            .exec_in(
                "UPDATE case_entries SET body = '—' WHERE kind = 'contact' AND case_id IN",
                &case_ids,
                "",
                |q, id| q.push_arg(*id),
            )
            .await?;
        // Notices carried their address (an e-mail, a phone) and text.
        tx.exec_in(
            "UPDATE notices SET address = '—', subject = '—', body = '—' WHERE case_id IN",
            &case_ids,
            "",
            |q, id| q.push_arg(*id),
        )
        .await?;
        // So did the mass notices they were sent, by their phone.
        if let Some(phone) = &phone {
            tx.exec(
                sql("UPDATE notices SET address = '—', subject = '—', body = '—', customer_phone = $1 \
                     WHERE customer_phone = $2")
                .bind(pseudonym.as_str())
                .bind(phone.as_str()),
            )
            .await?;
        }
        // The e-mail thread's message ids carry the customer's domain.
        tx.exec_in(
            "DELETE FROM mail_messages WHERE case_id IN",
            &case_ids,
            "",
            |q, id| q.push_arg(*id),
        )
        .await?;
        // A case open for the phone or the conversation keeps its slot
        // under the pseudonym (an order's number is no one's personal data).
        tx.exec_in(
            &format!(
                "UPDATE cases SET subject = '—', conversation = NULL, \
                 open_key = CASE WHEN open_key LIKE 'phone:%' THEN 'phone:{pseudonym}' \
                 WHEN open_key LIKE 'conversation:%' THEN 'erased:' || id ELSE open_key END WHERE id IN"
            ),
            &case_ids,
            "",
            |q, id| q.push_arg(*id),
        )
        .await?;
        // The support figures tell customers apart by a digest of the
        // phone: the days of their cases are built again under the
        // pseudonym's.
        if let Some(since) = cases.iter().map(|(_, at)| *at).min() {
            crate::helpdesk::support_days::touch_cases(&mut tx, since).await?;
        }
        if let Some(phone) = &phone {
            // The calls keep the call, not the number: the PBX's record of
            // the caller goes, the call stays the pseudonym's.
            tx.exec(
                sql(
                    "UPDATE call_events SET data = '[]' WHERE event = 'ENTERQUEUE' \
                     AND call_id IN (SELECT id FROM calls WHERE customer_phone = $1)",
                )
                .bind(phone.as_str()),
            )
            .await?;
            tx.exec(
                sql(
                    "UPDATE calls SET caller = NULL, customer_phone = $1 WHERE customer_phone = $2",
                )
                .bind(pseudonym.as_str())
                .bind(phone.as_str()),
            )
            .await?;
            for table in [
                "incidents",
                "cases",
                "remedies",
                "ledger_entries",
                "ledger_accounts",
                "orders",
            ] {
                tx.exec(
                    sql(format!(
                        "UPDATE {table} SET customer_phone = $1 WHERE customer_phone = $2"
                    ))
                    .bind(pseudonym.as_str())
                    .bind(phone.as_str()),
                )
                .await?;
            }
            tx.exec(
                sql("UPDATE customers SET phone = $1, name = NULL, email = NULL, updated_at = $2 WHERE phone = $3")
                    .bind(pseudonym.as_str())
                    .bind(crate::now_millis())
                    .bind(phone.as_str()),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Some(Erased {
            pseudonym,
            orders: numbers.len(),
            cases: cases.len(),
            texts,
            attachments,
            links,
        }))
    }
}
