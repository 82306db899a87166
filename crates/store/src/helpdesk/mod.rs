//! The helpdesk's tables: alert rules and the incidents they raise
//! ([`incidents`]). (The migration also holds the cases, remedies and
//! ledger tables the next slices fill.)

pub mod incidents;

use doorstep_domain::helpdesk::alerts::{AlertRule, Priority};

use crate::db::{sql, Tx};
use crate::{now_millis, Store, StoreError};

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: String,
    name: String,
    enabled: bool,
    priority: String,
    condition: String,
}

impl RuleRow {
    /// The rule, or `None` (logged) for a row Doorstep could not have
    /// written — it is left out rather than stopping every answer.
    fn rule(self) -> Option<AlertRule> {
        let condition = match serde_json::from_str(&self.condition) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(rule = %self.id, error = %e, "an alert rule's condition cannot be read; the rule is skipped");
                return None;
            }
        };
        Some(AlertRule {
            priority: Priority::parse(&self.priority).unwrap_or(Priority::Normal),
            id: self.id,
            name: self.name,
            enabled: self.enabled,
            condition,
        })
    }
}

const RULE_COLUMNS: &str = "id, name, enabled, priority, condition";

/// The enabled rules, read inside the transaction that stores responses
/// (a rule changed a moment ago applies to the very next answer).
pub(crate) async fn enabled_rules(tx: &mut Tx) -> Result<Vec<AlertRule>, StoreError> {
    let rows: Vec<RuleRow> = tx
        .all(sql(format!(
            "SELECT {RULE_COLUMNS} FROM alert_rules WHERE enabled ORDER BY position, id"
        )))
        .await?;
    Ok(rows.into_iter().filter_map(RuleRow::rule).collect())
}

impl Store {
    /// Every alert rule, in the order the console shows them.
    pub async fn alert_rules(&self) -> Result<Vec<AlertRule>, StoreError> {
        let rows: Vec<RuleRow> = self
            .db
            .all(sql(format!(
                "SELECT {RULE_COLUMNS} FROM alert_rules ORDER BY position, id"
            )))
            .await?;
        Ok(rows.into_iter().filter_map(RuleRow::rule).collect())
    }

    /// Saves a checked rule: a new id is added at the end, a known one is
    /// replaced where it stands.
    pub async fn save_alert_rule(&self, rule: &AlertRule) -> Result<(), StoreError> {
        let condition = serde_json::to_string(&rule.condition).unwrap_or_default();
        self.db
            .exec(
                sql("INSERT INTO alert_rules (id, name, enabled, priority, condition, position, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, (SELECT COALESCE(MAX(position), 0) + 1 FROM alert_rules), $6) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, enabled = excluded.enabled, \
                     priority = excluded.priority, condition = excluded.condition, updated_at = excluded.updated_at")
                    .bind(rule.id.as_str())
                    .bind(rule.name.as_str())
                    .bind(rule.enabled)
                    .bind(rule.priority.as_str())
                    .bind(condition)
                    .bind(now_millis()),
            )
            .await?;
        Ok(())
    }

    /// Removes a rule (its incidents stay); whether there was one.
    pub async fn delete_alert_rule(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .db
            .exec(sql("DELETE FROM alert_rules WHERE id = $1").bind(id))
            .await?
            > 0)
    }
}
