//! What is known of each photo and voice message: the file itself lives in
//! the data directory under its SHA-256, which is also its id.

use crate::db::sql;
use crate::{now_millis, Store, StoreError};

/// One attachment's record.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Attachment {
    /// The SHA-256 of the content, 64 lowercase hex digits.
    pub id: String,
    /// `photo` or `voice`.
    pub kind: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub created_at: i64,
}

impl Store {
    /// Records an attachment whose file was written. Returns false when it
    /// was known already (the same content sent again).
    pub async fn add_attachment(
        &self,
        id: &str,
        kind: &str,
        content_type: &str,
        size_bytes: i64,
        token_id: Option<&str>,
    ) -> Result<bool, StoreError> {
        let added = self
            .db
            .exec(
                sql("INSERT INTO attachments (id, kind, content_type, size_bytes, token_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING")
                .bind(id)
                .bind(kind)
                .bind(content_type)
                .bind(size_bytes)
                .bind(token_id)
                .bind(now_millis()),
            )
            .await?;
        Ok(added > 0)
    }

    pub async fn attachment(&self, id: &str) -> Result<Option<Attachment>, StoreError> {
        self.db
            .opt(
                sql("SELECT id, kind, content_type, size_bytes, created_at FROM attachments WHERE id = $1")
                    .bind(id),
            )
            .await
    }

    /// The records of those of `ids` that exist, in one round trip per 1,000.
    pub async fn attachments(&self, ids: &[&str]) -> Result<Vec<Attachment>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.db
            .all_in(
                "SELECT id, kind, content_type, size_bytes, created_at FROM attachments WHERE id IN",
                ids,
                "",
                |q, id| q.push_arg(*id),
            )
            .await
    }

    /// Up to `limit` attachments received before `before_ms`, oldest first:
    /// what the retention limit deletes next.
    pub async fn attachments_before(
        &self,
        before_ms: i64,
        limit: i64,
    ) -> Result<Vec<Attachment>, StoreError> {
        self.db
            .all(
                sql(
                    "SELECT id, kind, content_type, size_bytes, created_at FROM attachments \
                     WHERE created_at < $1 ORDER BY created_at LIMIT $2",
                )
                .bind(before_ms)
                .bind(limit),
            )
            .await
    }

    /// Forgets an attachment whose file was deleted.
    pub async fn forget_attachment(&self, id: &str) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        // A recording goes with its file (its consent stays on the response).
        tx.exec(sql("DELETE FROM recordings WHERE attachment_id = $1").bind(id))
            .await?;
        tx.exec(sql("DELETE FROM attachments WHERE id = $1").bind(id))
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
