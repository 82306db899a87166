//! The e-mail channel's tables (see the migration `0020_mailboxes.sql`):
//! each line's mailbox and how far it was read, and the message ids of
//! every case's e-mail thread.

use crate::db::sql;
use crate::{Store, StoreError};

/// A line's mailbox as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Mailbox {
    pub line: String,
    /// The line's address: replies are sent from it.
    pub address: String,
    pub host: String,
    pub port: i64,
    /// `tls`, `starttls` or `none`.
    pub security: String,
    pub username: String,
    pub password: String,
    pub folder: String,
    pub uid_validity: Option<i64>,
    pub last_uid: i64,
    pub checked_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
}

const COLUMNS: &str =
    "line, address, host, port, security, username, password, folder, uid_validity, \
     last_uid, checked_at, last_error, created_at";

/// A mailbox to set up (or change) for a line.
#[derive(Debug, Clone)]
pub struct NewMailbox<'a> {
    pub line: &'a str,
    pub address: &'a str,
    pub host: &'a str,
    pub port: u16,
    pub security: &'a str,
    pub username: &'a str,
    pub password: &'a str,
    pub folder: &'a str,
}

impl Store {
    /// Sets a line's mailbox. A different server, account or folder is
    /// read from its start (the message ids keep that from adding a
    /// message twice); the same one keeps its place.
    pub async fn set_mailbox(&self, m: &NewMailbox<'_>) -> Result<Mailbox, StoreError> {
        self.db
            .write_opt(
                sql(format!(
                    "INSERT INTO mailboxes (line, address, host, port, security, username, password, folder, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (line) DO UPDATE SET address = excluded.address, port = excluded.port, \
                     security = excluded.security, password = excluded.password, last_error = NULL, \
                     uid_validity = CASE WHEN mailboxes.host = excluded.host AND mailboxes.username = excluded.username \
                       AND mailboxes.folder = excluded.folder THEN mailboxes.uid_validity ELSE NULL END, \
                     last_uid = CASE WHEN mailboxes.host = excluded.host AND mailboxes.username = excluded.username \
                       AND mailboxes.folder = excluded.folder THEN mailboxes.last_uid ELSE 0 END, \
                     host = excluded.host, username = excluded.username, folder = excluded.folder \
                     RETURNING {COLUMNS}"
                ))
                .bind(m.line)
                .bind(m.address)
                .bind(m.host)
                .bind(i64::from(m.port))
                .bind(m.security)
                .bind(m.username)
                .bind(m.password)
                .bind(m.folder)
                .bind(crate::now_millis()),
            )
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn mailboxes(&self) -> Result<Vec<Mailbox>, StoreError> {
        self.db
            .all(sql(format!(
                "SELECT {COLUMNS} FROM mailboxes ORDER BY line"
            )))
            .await
    }

    pub async fn mailbox(&self, line: &str) -> Result<Option<Mailbox>, StoreError> {
        self.db
            .opt(sql(format!("SELECT {COLUMNS} FROM mailboxes WHERE line = $1")).bind(line))
            .await
    }

    /// Removes a line's mailbox: it is no longer read.
    pub async fn remove_mailbox(&self, line: &str) -> Result<bool, StoreError> {
        Ok(self
            .db
            .exec(sql("DELETE FROM mailboxes WHERE line = $1").bind(line))
            .await?
            > 0)
    }

    /// Records how far a mailbox was read: the folder's UIDVALIDITY and
    /// the last UID taken. Never moves backwards within one UIDVALIDITY
    /// (two readers at once).
    pub async fn mailbox_read(
        &self,
        line: &str,
        uid_validity: i64,
        last_uid: i64,
    ) -> Result<(), StoreError> {
        self.db
            .exec(
                sql(
                    "UPDATE mailboxes SET last_uid = CASE WHEN uid_validity = $1 AND last_uid > $2 THEN last_uid ELSE $2 END, \
                     uid_validity = $1, checked_at = $3, last_error = NULL WHERE line = $4",
                )
                .bind(uid_validity)
                .bind(last_uid)
                .bind(crate::now_millis())
                .bind(line),
            )
            .await?;
        Ok(())
    }

    /// Records why a mailbox could not be read (shown in Settings).
    pub async fn mailbox_failed(&self, line: &str, error: &str) -> Result<(), StoreError> {
        self.db
            .exec(
                sql("UPDATE mailboxes SET checked_at = $1, last_error = $2 WHERE line = $3")
                    .bind(crate::now_millis())
                    .bind(error)
                    .bind(line),
            )
            .await?;
        Ok(())
    }

    /// Ties a message id to a case's thread; `false` when it was known.
    pub async fn add_mail_message(
        &self,
        message_id: &str,
        case_id: &str,
        direction: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .db
            .exec(
                sql(
                    "INSERT INTO mail_messages (message_id, case_id, direction, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (message_id) DO NOTHING",
                )
                .bind(message_id)
                .bind(case_id)
                .bind(direction)
                .bind(crate::now_millis()),
            )
            .await?
            > 0)
    }

    /// The case the first known of these message ids belongs to (a
    /// reply's In-Reply-To and References).
    pub async fn mail_thread_case(
        &self,
        message_ids: &[String],
    ) -> Result<Option<String>, StoreError> {
        if message_ids.is_empty() {
            return Ok(None);
        }
        let rows: Vec<(String, String)> = self
            .db
            .all_in(
                "SELECT message_id, case_id FROM mail_messages WHERE message_id IN",
                message_ids,
                "",
                |q, id| q.push_arg(id.as_str()),
            )
            .await?;
        Ok(message_ids
            .iter()
            .find_map(|id| rows.iter().find(|(m, _)| m == id).map(|(_, c)| c.clone())))
    }

    /// A case's thread, oldest first: `(message id, direction)`.
    pub async fn mail_thread(&self, case_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.db
            .all(
                sql("SELECT message_id, direction FROM mail_messages WHERE case_id = $1 ORDER BY created_at, message_id")
                    .bind(case_id),
            )
            .await
    }

    /// A case joined from an e-mail thread lives in it from then on: its
    /// replies go out by e-mail (unless it lives in a messenger chat).
    pub async fn set_case_conversation(
        &self,
        case_id: &str,
        conversation: &str,
    ) -> Result<(), StoreError> {
        self.db
            .exec(
                sql("UPDATE cases SET conversation = COALESCE(conversation, $1) WHERE id = $2")
                    .bind(conversation)
                    .bind(case_id),
            )
            .await?;
        Ok(())
    }

    /// The phone of the customer with this e-mail address (any case).
    pub async fn customer_by_email(&self, email: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .db
            .opt::<(String,)>(
                sql("SELECT phone FROM customers WHERE lower(email) = lower($1) ORDER BY updated_at DESC LIMIT 1")
                    .bind(email),
            )
            .await?
            .map(|(p,)| p))
    }

    /// Which of these words are order numbers (an e-mail's subject).
    pub async fn known_orders(&self, words: &[String]) -> Result<Vec<String>, StoreError> {
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(String,)> = self
            .db
            .all_in(
                "SELECT order_number FROM orders WHERE order_number IN",
                words,
                "",
                |q, w| q.push_arg(w.as_str()),
            )
            .await?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }
}
