//! Report schedules: what is e-mailed, how often, to whom, and which period
//! went out last (claimed atomically, so a period is sent once even with
//! several servers).

use crate::db::sql;
use crate::{now_millis, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReportSchedule {
    pub id: String,
    /// `daily`, `weekly` or `monthly`.
    pub frequency: String,
    pub group_by: String,
    /// `csv` or `xlsx`.
    pub format: String,
    /// Addresses, comma-separated.
    pub recipients: String,
    /// The language of the e-mail's text.
    pub language: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_period: Option<String>,
    pub last_sent_at: Option<i64>,
    pub last_error: Option<String>,
}

const COLUMNS: &str =
    "id, frequency, group_by, format, recipients, language, created_by, created_at, \
                       last_period, last_sent_at, last_error";

impl Store {
    pub async fn report_schedules(&self) -> Result<Vec<ReportSchedule>, StoreError> {
        self.db
            .all(sql(format!(
                "SELECT {COLUMNS} FROM report_schedules ORDER BY created_at, id"
            )))
            .await
    }

    pub async fn report_schedule(&self, id: &str) -> Result<Option<ReportSchedule>, StoreError> {
        self.db
            .opt(
                sql(format!(
                    "SELECT {COLUMNS} FROM report_schedules WHERE id = $1"
                ))
                .bind(id),
            )
            .await
    }

    pub async fn add_report_schedule(&self, s: &ReportSchedule) -> Result<(), StoreError> {
        self.db
            .exec(
                sql("INSERT INTO report_schedules (id, frequency, group_by, format, recipients, language, \
                     created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(s.id.as_str())
                .bind(s.frequency.as_str())
                .bind(s.group_by.as_str())
                .bind(s.format.as_str())
                .bind(s.recipients.as_str())
                .bind(s.language.as_str())
                .bind(s.created_by.as_str())
                .bind(s.created_at),
            )
            .await?;
        Ok(())
    }

    /// `false` if there was no such schedule.
    pub async fn delete_report_schedule(&self, id: &str) -> Result<bool, StoreError> {
        let n = self
            .db
            .exec(sql("DELETE FROM report_schedules WHERE id = $1").bind(id))
            .await?;
        Ok(n > 0)
    }

    /// Claims `period` for sending: `true` for exactly one caller, and only
    /// when it was not sent (or claimed) before.
    pub async fn claim_report_period(&self, id: &str, period: &str) -> Result<bool, StoreError> {
        let n = self
            .db
            .exec(
                sql("UPDATE report_schedules SET last_period = $1 \
                     WHERE id = $2 AND (last_period IS NULL OR last_period <> $3)")
                .bind(period)
                .bind(id)
                .bind(period),
            )
            .await?;
        Ok(n == 1)
    }

    /// Records how a sending went; a failed one gives its claim back
    /// (`previous`), so the next round tries again.
    pub async fn report_sent(
        &self,
        id: &str,
        error: Option<&str>,
        previous: Option<&str>,
    ) -> Result<(), StoreError> {
        let q = match error {
            None => sql(
                "UPDATE report_schedules SET last_sent_at = $1, last_error = NULL WHERE id = $2",
            )
            .bind(now_millis())
            .bind(id),
            Some(e) => {
                sql("UPDATE report_schedules SET last_error = $1, last_period = $2 WHERE id = $3")
                    .bind(e)
                    .bind(previous)
                    .bind(id)
            }
        };
        self.db.exec(q).await?;
        Ok(())
    }
}
