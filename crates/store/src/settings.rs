//! Deployment settings, kept as key/value rows so new ones need no migration.

use doorstep_domain::Deployment;

use crate::db::sql;
use crate::{Store, StoreError};

pub(crate) const UPSERT_SETTING: &str =
    "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";

impl Store {
    /// The deployment's settings; defaults where none were saved.
    pub async fn deployment(&self) -> Result<Deployment, StoreError> {
        let rows: Vec<(String, String)> =
            self.db.all(sql("SELECT key, value FROM settings")).await?;
        let mut d = Deployment::default();
        for (key, value) in rows {
            match key.as_str() {
                "name" => d.name = value,
                "time_zone" => d.time_zone = value,
                "phone_country" => d.phone_country = value,
                "currency" => d.currency = value,
                "operator_limit" => {
                    if let Ok(v) = value.parse() {
                        d.operator_limit = v;
                    }
                }
                "refusal_policy" => {
                    if let Some(p) = doorstep_domain::survey::metrics::RefusalPolicy::parse(&value)
                    {
                        d.refusal_policy = p;
                    }
                }
                _ => {}
            }
        }
        Ok(d)
    }

    /// Saves every setting in one transaction.
    pub async fn save_deployment(&self, d: &Deployment) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        for (key, value) in [
            ("name", &d.name),
            ("time_zone", &d.time_zone),
            ("phone_country", &d.phone_country),
            ("currency", &d.currency),
            ("refusal_policy", &d.refusal_policy.as_str().to_owned()),
            ("operator_limit", &d.operator_limit.to_string()),
        ] {
            tx.exec(sql(UPSERT_SETTING).bind(key).bind(value)).await?;
        }
        // Every process reloads its copy when it sees this.
        self.commit_with_events(
            tx,
            &[crate::events::NewEvent::new(
                "settings.changed",
                &serde_json::json!({}),
            )],
        )
        .await?;
        Ok(())
    }

    /// A free-form setting (used for one-off markers such as "demo loaded").
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = self
            .db
            .opt(sql("SELECT value FROM settings WHERE key = $1").bind(key))
            .await?;
        Ok(row.map(|(v,)| v))
    }

    /// A setting made on first use: its value, or `make()`'s written now.
    /// Two processes making it at once keep one — the first written — and
    /// both get that one.
    pub async fn setting_made_once(
        &self,
        key: &str,
        make: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        if let Some(v) = self.setting(key).await? {
            return Ok(v);
        }
        let fresh = make();
        let (kept,): (String,) = self
            .db
            .write_one(
                sql("INSERT INTO settings (key, value) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET value = settings.value RETURNING value")
                .bind(key)
                .bind(fresh),
            )
            .await?;
        Ok(kept)
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.db
            .exec(sql(UPSERT_SETTING).bind(key).bind(value))
            .await?;
        Ok(())
    }
}
