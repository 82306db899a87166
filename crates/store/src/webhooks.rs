//! Webhook subscriptions and their delivery queues.
//!
//! Each subscription has a cursor into the event outbox. Its delivery job
//! moves events past the cursor into `webhook_deliveries` (only the types
//! it subscribed to) and sends the oldest pending one first, so deliveries
//! go out in event order, at least once. The signing secret is kept in the
//! clear, as signing needs it (Standard Webhooks' symmetric scheme); it is
//! shown to the administrator once, when the subscription is made.

use crate::db::{sql, Backend};
use crate::events::StoredEvent;
use crate::{now_millis, Store, StoreError};

/// A subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub secret: String,
    pub allow_private: bool,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub cursor_event_id: i64,
    pub failing_since: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct WebhookRow {
    id: String,
    url: String,
    event_types: String,
    secret: String,
    allow_private: bool,
    enabled: bool,
    disabled_reason: Option<String>,
    cursor_event_id: i64,
    failing_since: Option<i64>,
    created_by: String,
    created_at: i64,
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Webhook {
        Webhook {
            id: r.id,
            url: r.url,
            event_types: r
                .event_types
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            secret: r.secret,
            allow_private: r.allow_private,
            enabled: r.enabled,
            disabled_reason: r.disabled_reason,
            cursor_event_id: r.cursor_event_id,
            failing_since: r.failing_since,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

impl Webhook {
    /// Whether this subscription wants events named `name`.
    pub fn wants(&self, name: &str) -> bool {
        self.event_types
            .iter()
            .any(|t| t == name || (t == "*" && !crate::events::is_fleeting(name)))
    }
}

/// One delivery, as its log shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Delivery {
    pub webhook_id: String,
    pub event_id: i64,
    pub event_name: String,
    /// pending, delivered or failed.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status: Option<i64>,
    pub last_duration_ms: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A subscription's deliveries by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeliveryCounts {
    pub pending: i64,
    pub delivered: i64,
    pub failed: i64,
}

/// How one attempt went.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    pub duration_ms: i64,
    /// Why it failed (a status outside 2xx, a timeout, a refused address).
    pub error: Option<String>,
    /// When to try again if it failed; `None` gives the delivery up.
    pub retry_at: Option<i64>,
}

const COLUMNS: &str =
    "id, url, event_types, secret, allow_private, enabled, disabled_reason, cursor_event_id, \
                       failing_since, created_by, created_at";

/// The job that delivers a subscription's events.
pub fn job_id(webhook_id: &str) -> String {
    format!("webhook:{webhook_id}")
}

/// Events moved into a queue at a time.
const ENQUEUE_BATCH: i64 = 500;

impl Store {
    /// Subscribes `url` to `event_types` from the next event on, with its
    /// delivery job.
    pub async fn create_webhook(
        &self,
        id: &str,
        url: &str,
        event_types: &[String],
        secret: &str,
        allow_private: bool,
        created_by: &str,
    ) -> Result<Webhook, StoreError> {
        let now = now_millis();
        let mut tx = self.db.begin().await?;
        let row: WebhookRow = tx
            .one(
                sql(format!(
                    "INSERT INTO webhooks ({COLUMNS}) SELECT $1, $2, $3, $4, $5, TRUE, NULL, last_id, NULL, $6, $7 \
                     FROM event_sequence WHERE id = 1 RETURNING {COLUMNS}"
                ))
                .bind(id)
                .bind(url)
                .bind(event_types.join(","))
                .bind(secret)
                .bind(allow_private)
                .bind(created_by)
                .bind(now),
            )
            .await?;
        tx.exec(
            sql(
                "INSERT INTO jobs (id, kind, run_after, created_at) VALUES ($1, 'webhook', $2, $2)",
            )
            .bind(job_id(id))
            .bind(now),
        )
        .await?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// Every subscription, oldest first.
    pub async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        let rows: Vec<WebhookRow> = self
            .db
            .all(sql(format!(
                "SELECT {COLUMNS} FROM webhooks ORDER BY created_at, id"
            )))
            .await?;
        Ok(rows.into_iter().map(Webhook::from).collect())
    }

    pub async fn webhook(&self, id: &str) -> Result<Option<Webhook>, StoreError> {
        let row: Option<WebhookRow> = self
            .db
            .opt(sql(format!("SELECT {COLUMNS} FROM webhooks WHERE id = $1")).bind(id))
            .await?;
        Ok(row.map(Webhook::from))
    }

    /// Removes a subscription with its log and job; false if there was none.
    pub async fn delete_webhook(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.db.begin().await?;
        tx.exec(sql("DELETE FROM webhook_deliveries WHERE webhook_id = $1").bind(id))
            .await?;
        tx.exec(sql("DELETE FROM jobs WHERE id = $1").bind(job_id(id)))
            .await?;
        let n = tx
            .exec(sql("DELETE FROM webhooks WHERE id = $1").bind(id))
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Turns a subscription off (with the reason shown to admins) or on
    /// again (its failures forgotten, its job due now); false if none.
    pub async fn set_webhook_enabled(
        &self,
        id: &str,
        enabled: bool,
        reason: Option<&str>,
    ) -> Result<bool, StoreError> {
        let now = now_millis();
        let mut tx = self.db.begin().await?;
        let n = tx
            .exec(
                sql("UPDATE webhooks SET enabled = $2, disabled_reason = $3, \
                     failing_since = CASE WHEN $2 THEN NULL ELSE failing_since END WHERE id = $1")
                .bind(id)
                .bind(enabled)
                .bind(if enabled { None } else { reason }),
            )
            .await?;
        if enabled {
            tx.exec(
                sql("UPDATE jobs SET run_after = $2 WHERE id = $1")
                    .bind(job_id(id))
                    .bind(now),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Moves the events past a subscription's cursor into its queue (the
    /// ones it wants); how many were queued. Run by the subscription's job
    /// holder only, but safe under a race: the cursor row is locked and
    /// queue rows are unique.
    pub async fn enqueue_webhook_events(&self, webhook: &Webhook) -> Result<usize, StoreError> {
        let mut tx = self.db.begin().await?;
        let lock = match self.backend() {
            Backend::Postgres => "FOR UPDATE",
            Backend::Sqlite => "",
        };
        let Some((cursor,)): Option<(i64,)> = tx
            .opt(
                sql(format!(
                    "SELECT cursor_event_id FROM webhooks WHERE id = $1 {lock}"
                ))
                .bind(webhook.id.as_str()),
            )
            .await?
        else {
            return Ok(0);
        };
        let rows: Vec<crate::events::EventRow> = tx
            .all(
                sql(format!(
                    "SELECT {} FROM events WHERE id > $1 ORDER BY id LIMIT $2",
                    crate::events::EVENT_ROW
                ))
                .bind(cursor)
                .bind(ENQUEUE_BATCH),
            )
            .await?;
        let events = crate::events::expand(rows, cursor, usize::MAX);
        let Some(last) = events.last().map(|e| e.id) else {
            return Ok(0);
        };
        let now = now_millis();
        let wanted: Vec<(i64, &str)> = events
            .iter()
            .filter(|e| webhook.wants(&e.name))
            .map(|e| (e.id, e.name.as_str()))
            .collect();
        tx.exec_rows(
            "INSERT INTO webhook_deliveries (webhook_id, event_id, event_name, state, next_attempt_at, created_at, updated_at) VALUES",
            7,
            "ON CONFLICT (webhook_id, event_id) DO NOTHING",
            &wanted,
            |q, (id, name)| {
                q.push_arg(webhook.id.as_str());
                q.push_arg(*id);
                q.push_arg(*name);
                q.push_arg("pending");
                q.push_arg(now);
                q.push_arg(now);
                q.push_arg(now);
            },
        )
        .await?;
        tx.exec(
            sql("UPDATE webhooks SET cursor_event_id = $2 WHERE id = $1")
                .bind(webhook.id.as_str())
                .bind(last),
        )
        .await?;
        tx.commit().await?;
        Ok(wanted.len())
    }

    /// The oldest pending delivery of a subscription, with its event
    /// (`None` for the event when it was pruned before it could be sent).
    pub async fn next_webhook_delivery(
        &self,
        webhook_id: &str,
    ) -> Result<Option<(Delivery, Option<StoredEvent>)>, StoreError> {
        let Some(delivery): Option<Delivery> = self
            .db
            .opt(
                sql(format!(
                    "{DELIVERY_SELECT} WHERE d.webhook_id = $1 AND d.state = 'pending' ORDER BY d.event_id LIMIT 1"
                ))
                .bind(webhook_id),
            )
            .await?
        else {
            return Ok(None);
        };
        let row: Option<crate::events::EventRow> = self
            .db
            .opt(
                sql(format!(
                    "SELECT {} FROM events WHERE id >= $1 ORDER BY id LIMIT 1",
                    crate::events::EVENT_ROW
                ))
                .bind(delivery.event_id),
            )
            .await?;
        let event: Option<StoredEvent> =
            crate::events::expand(row.into_iter().collect(), delivery.event_id - 1, 1)
                .into_iter()
                .find(|e| e.id == delivery.event_id);
        Ok(Some((delivery, event)))
    }

    /// Records an attempt at a delivery: delivered (no error), to be tried
    /// again (`retry_at`), or failed for good. The subscription's
    /// `failing_since` follows: cleared by a success, set by the first
    /// failure after one. Returns the subscription's `failing_since`.
    pub async fn record_webhook_attempt(
        &self,
        webhook_id: &str,
        event_id: i64,
        attempt: &Attempt,
    ) -> Result<Option<i64>, StoreError> {
        let now = now_millis();
        let state = match (&attempt.error, attempt.retry_at) {
            (None, _) => "delivered",
            (Some(_), Some(_)) => "pending",
            (Some(_), None) => "failed",
        };
        let mut tx = self.db.begin().await?;
        tx.exec(
            sql("UPDATE webhook_deliveries SET state = $3, attempts = attempts + 1, next_attempt_at = $4, \
                 last_status = $5, last_duration_ms = $6, last_error = $7, updated_at = $8 \
                 WHERE webhook_id = $1 AND event_id = $2")
            .bind(webhook_id)
            .bind(event_id)
            .bind(state)
            .bind(attempt.retry_at.unwrap_or(now))
            .bind(attempt.status.map(i64::from))
            .bind(attempt.duration_ms)
            .bind(attempt.error.as_deref())
            .bind(now),
        )
        .await?;
        let failing_since: Option<(Option<i64>,)> = tx
            .opt(
                sql(
                    "UPDATE webhooks SET failing_since = CASE WHEN $2 THEN NULL ELSE COALESCE(failing_since, $3) END \
                     WHERE id = $1 RETURNING failing_since",
                )
                .bind(webhook_id)
                .bind(attempt.error.is_none())
                .bind(now),
            )
            .await?;
        tx.commit().await?;
        Ok(failing_since.and_then(|(f,)| f))
    }

    /// How many of a subscription's deliveries are pending, delivered and
    /// failed.
    pub async fn webhook_delivery_counts(
        &self,
        webhook_id: &str,
    ) -> Result<DeliveryCounts, StoreError> {
        let rows: Vec<(String, i64)> = self
            .db
            .all(
                sql("SELECT state, COUNT(*) FROM webhook_deliveries WHERE webhook_id = $1 GROUP BY state")
                    .bind(webhook_id),
            )
            .await?;
        let get = |state: &str| rows.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
        Ok(DeliveryCounts {
            pending: get("pending"),
            delivered: get("delivered"),
            failed: get("failed"),
        })
    }

    /// A subscription's deliveries that were attempted, newest event first
    /// (those still queued behind them are counted by
    /// [`Store::webhook_delivery_counts`]).
    pub async fn webhook_deliveries(
        &self,
        webhook_id: &str,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.db
            .all(
                sql(format!(
                    "{DELIVERY_SELECT} WHERE d.webhook_id = $1 AND (d.attempts > 0 OR d.state <> 'pending') \
                     ORDER BY d.event_id DESC LIMIT $2"
                ))
                .bind(webhook_id)
                .bind(limit),
            )
            .await
    }

    /// Queues a delivery to be sent again now, ahead of newer ones; false
    /// if there is no such delivery.
    pub async fn resend_webhook_delivery(
        &self,
        webhook_id: &str,
        event_id: i64,
    ) -> Result<bool, StoreError> {
        let now = now_millis();
        let mut tx = self.db.begin().await?;
        let n = tx
            .exec(
                sql("UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $3, created_at = $3, updated_at = $3 \
                     WHERE webhook_id = $1 AND event_id = $2")
                .bind(webhook_id)
                .bind(event_id)
                .bind(now),
            )
            .await?;
        tx.exec(
            sql("UPDATE jobs SET run_after = $2 WHERE id = $1 AND run_after > $2")
                .bind(job_id(webhook_id))
                .bind(now),
        )
        .await?;
        tx.commit().await?;
        Ok(n == 1)
    }
}

const DELIVERY_SELECT: &str =
    "SELECT d.webhook_id, d.event_id, d.event_name, d.state, d.attempts, \
    d.next_attempt_at, d.last_status, d.last_duration_ms, d.last_error, d.created_at, d.updated_at \
    FROM webhook_deliveries d";
