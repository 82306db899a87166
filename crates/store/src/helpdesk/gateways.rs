//! Messenger and social-network gateways: who may post customers'
//! messages to `/hooks/gateways/{id}`, with the secret their signatures
//! are checked with.

use crate::db::sql;
use crate::{Store, StoreError};

/// A gateway as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Gateway {
    pub id: String,
    pub name: String,
    /// The case channel its messages come on: `messenger` or `social`.
    pub channel: String,
    pub secret: String,
    pub created_at: i64,
    pub last_message_at: Option<i64>,
}

const COLUMNS: &str = "id, name, channel, secret, created_at, last_message_at";

impl Store {
    /// Adds a gateway; `None` when the name is taken.
    pub async fn add_gateway(
        &self,
        id: &str,
        name: &str,
        channel: &str,
        secret: &str,
    ) -> Result<Option<Gateway>, StoreError> {
        self.db
            .write_opt(
                sql(format!(
                    "INSERT INTO gateways (id, name, channel, secret, created_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (name) DO NOTHING RETURNING {COLUMNS}"
                ))
                .bind(id)
                .bind(name)
                .bind(channel)
                .bind(secret)
                .bind(crate::now_millis()),
            )
            .await
    }

    pub async fn gateway(&self, id: &str) -> Result<Option<Gateway>, StoreError> {
        self.db
            .opt(sql(format!("SELECT {COLUMNS} FROM gateways WHERE id = $1")).bind(id))
            .await
    }

    pub async fn gateways(&self) -> Result<Vec<Gateway>, StoreError> {
        self.db
            .all(sql(format!("SELECT {COLUMNS} FROM gateways ORDER BY name")))
            .await
    }

    /// Removes a gateway: its messages are refused from then on.
    pub async fn remove_gateway(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .db
            .exec(sql("DELETE FROM gateways WHERE id = $1").bind(id))
            .await?
            > 0)
    }

    /// Notes that a gateway's message arrived (shown in Settings).
    pub async fn gateway_heard(&self, id: &str) -> Result<(), StoreError> {
        self.db
            .exec(
                sql("UPDATE gateways SET last_message_at = $1 WHERE id = $2")
                    .bind(crate::now_millis())
                    .bind(id),
            )
            .await?;
        Ok(())
    }
}
