//! The conversation at the door, recorded with the customer's consent:
//! tied to its response once (the upload is an attachment, sent after the
//! answers), read back for the order page, and every play logged.

use doorstep_domain::time::local_day;
use jiff::tz::TimeZone;

use crate::db::sql;
use crate::{now_millis, Store, StoreError};

/// A recording to tie to its response.
pub struct NewRecording<'a> {
    pub order_number: &'a str,
    pub response_id: &'a str,
    /// The uploaded attachment (a voice file).
    pub attachment_id: &'a str,
    pub duration_ms: i64,
    pub token_id: Option<&'a str>,
    /// A terminal's courier: only his responses take his recordings.
    pub courier: Option<&'a str>,
}

/// What tying a recording did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attached {
    Created,
    /// This recording was tied to the response before: nothing changed.
    Duplicate,
    /// Another recording is tied to the response: nothing changed.
    Conflict,
    NoResponse,
    /// Another courier's response.
    OtherCouriers,
    /// The customer did not agree to a recording (or was not asked).
    NoConsent,
    /// No voice attachment with that id was uploaded.
    NoAttachment,
}

/// A response's recording, as the order page plays it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RecordingRow {
    pub order_number: String,
    pub response_id: String,
    pub attachment_id: String,
    pub duration_ms: i64,
    pub attached_at: i64,
    /// `None` once retention or an erasure deleted the file's record.
    pub content_type: Option<String>,
}

/// One play of a recording in the console.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Play {
    pub response_id: String,
    pub login: String,
    pub played_at: i64,
}

impl Store {
    /// Ties an uploaded recording to its response, once. The response's
    /// day is marked for a rebuild, so the courier's habits count it.
    pub async fn attach_recording(
        &self,
        r: &NewRecording<'_>,
        tz: &TimeZone,
    ) -> Result<Attached, StoreError> {
        let mut tx = self.db.begin().await?;
        let response: Option<(Option<String>, Option<bool>, i64)> = tx
            .opt(
                sql("SELECT courier_id, recording_consent, finished_at FROM responses WHERE order_number = $1 AND id = $2")
                    .bind(r.order_number)
                    .bind(r.response_id),
            )
            .await?;
        let Some((courier, consent, finished_at)) = response else {
            return Ok(Attached::NoResponse);
        };
        if r.courier.is_some() && courier.as_deref() != r.courier {
            return Ok(Attached::OtherCouriers);
        }
        if consent != Some(true) {
            return Ok(Attached::NoConsent);
        }
        let kind: Option<(String,)> = tx
            .opt(sql("SELECT kind FROM attachments WHERE id = $1").bind(r.attachment_id))
            .await?;
        if kind.is_none_or(|(k,)| k != "voice") {
            return Ok(Attached::NoAttachment);
        }
        let made: Option<(String,)> = tx
            .opt(
                sql("INSERT INTO recordings (order_number, response_id, attachment_id, duration_ms, token_id, attached_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (order_number, response_id) DO NOTHING RETURNING attachment_id")
                .bind(r.order_number)
                .bind(r.response_id)
                .bind(r.attachment_id)
                .bind(r.duration_ms)
                .bind(r.token_id)
                .bind(now_millis()),
            )
            .await?;
        if made.is_none() {
            tx.rollback().await?;
            let (stored,): (String,) = self
                .db
                .one(
                    sql("SELECT attachment_id FROM recordings WHERE order_number = $1 AND response_id = $2")
                        .bind(r.order_number)
                        .bind(r.response_id),
                )
                .await?;
            return Ok(if stored == r.attachment_id {
                Attached::Duplicate
            } else {
                Attached::Conflict
            });
        }
        let (day, _) = local_day(finished_at, tz);
        let (today, _) = local_day(now_millis(), tz);
        crate::survey::day_builds::mark_late_days(&mut tx, std::iter::once(day), today).await?;
        tx.commit().await?;
        Ok(Attached::Created)
    }

    /// The recordings of an order's responses.
    pub async fn recordings(&self, order_number: &str) -> Result<Vec<RecordingRow>, StoreError> {
        self.db
            .all(
                sql("SELECT r.order_number, r.response_id, r.attachment_id, r.duration_ms, r.attached_at, a.content_type \
                     FROM recordings r LEFT JOIN attachments a ON a.id = r.attachment_id \
                     WHERE r.order_number = $1 ORDER BY r.attached_at")
                .bind(order_number),
            )
            .await
    }

    /// Logs one play of a response's recording by `login`.
    pub async fn log_play(
        &self,
        order_number: &str,
        response_id: &str,
        login: &str,
    ) -> Result<(), StoreError> {
        self.db
            .exec(
                sql("INSERT INTO recording_plays (order_number, response_id, login, played_at) VALUES ($1, $2, $3, $4)")
                    .bind(order_number)
                    .bind(response_id)
                    .bind(login)
                    .bind(now_millis()),
            )
            .await
            .map(|_| ())
    }

    /// Who played an order's recordings, and when; newest first.
    pub async fn plays(&self, order_number: &str) -> Result<Vec<Play>, StoreError> {
        self.db
            .all(
                sql("SELECT response_id, login, played_at FROM recording_plays WHERE order_number = $1 \
                     ORDER BY played_at DESC LIMIT 200")
                .bind(order_number),
            )
            .await
    }
}
