//! The helpdesk's tables: alert rules and the incidents they raise
//! ([`incidents`]), cases and their timelines ([`cases`]), remedies and
//! the customer's bonus ledger ([`ledger`]), case categories with their
//! playbooks.

pub mod bot;
pub mod cases;
pub mod file;
pub mod gateways;
pub mod incidents;
pub mod late;
pub mod ledger;
pub mod mail;
pub mod mass;
pub mod notices;
pub mod reports;
pub mod sla;
pub mod support;
pub mod support_days;

tokio::task_local! {
    static AS_OF: i64;
}

/// Runs `work` as if it were `at` (milliseconds since the epoch): the
/// helpdesk's writes inside it — claims, attempts, cases, remedies,
/// ledger entries — are stamped with that time instead of the clock's.
/// For loading history (the demo, a migration from another helpdesk);
/// events keep the real time of their commit.
pub async fn as_of<F: std::future::Future>(at: i64, work: F) -> F::Output {
    AS_OF.scope(at, work).await
}

/// Whether the writes are history being loaded ([`as_of`]): nothing is
/// sent to customers for them.
pub(crate) fn loading_history() -> bool {
    AS_OF.try_with(|_| ()).is_ok()
}

/// Now, for the helpdesk's writes: the clock, or the time [`as_of`] set.
pub(crate) fn now() -> i64 {
    AS_OF
        .try_with(|t| *t)
        .unwrap_or_else(|_| crate::now_millis())
}

/// Who is acting: a person of the console, or a token of the company's
/// systems.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub id: &'a str,
    pub login: &'a str,
    /// May act on what someone else owns (an admin; a dispatcher on cases).
    pub overrides: bool,
}

use doorstep_domain::helpdesk::alerts::{AlertRule, Priority};
use doorstep_domain::helpdesk::remedies::PlaybookEntry;

use crate::db::{sql, Tx};
use crate::{Store, StoreError};

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
pub(crate) async fn enabled_rules(tx: &mut Tx<'_>) -> Result<Vec<AlertRule>, StoreError> {
    let rows: Vec<RuleRow> = tx
        .all(sql(format!(
            "SELECT {RULE_COLUMNS} FROM alert_rules WHERE enabled ORDER BY position, id"
        )))
        .await?;
    Ok(rows.into_iter().filter_map(RuleRow::rule).collect())
}

/// The call-back queue's threshold, read in the transaction that judges
/// the answers (the default when never set or unreadable).
pub(crate) async fn callback_threshold(
    tx: &mut Tx<'_>,
) -> Result<doorstep_domain::helpdesk::alerts::CallbackThreshold, StoreError> {
    use doorstep_domain::helpdesk::alerts::{CallbackThreshold, CALLBACK_SETTING};
    let value: Option<(String,)> = tx
        .opt(sql("SELECT value FROM settings WHERE key = $1").bind(CALLBACK_SETTING))
        .await?;
    Ok(value
        .and_then(|(v,)| CallbackThreshold::parse(&v))
        .unwrap_or_default())
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
                    .bind(now()),
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

/// A case category with its playbook: the remedies it offers and their
/// default amounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseCategory {
    pub id: String,
    pub name_en: String,
    pub name_ru: String,
    pub playbook: Vec<PlaybookEntry>,
}

impl CaseCategory {
    /// Its name in `lang` (`ru` or anything else for English).
    pub fn name(&self, lang: &str) -> &str {
        if lang == "ru" {
            &self.name_ru
        } else {
            &self.name_en
        }
    }
}

#[derive(sqlx::FromRow)]
struct CategoryRow {
    id: String,
    name_en: String,
    name_ru: String,
    playbook: String,
}

impl Store {
    /// The case categories in the order people see them.
    pub async fn case_categories(&self) -> Result<Vec<CaseCategory>, StoreError> {
        let rows: Vec<CategoryRow> = self
            .db
            .all(sql(
                "SELECT id, name_en, name_ru, playbook FROM case_categories ORDER BY position, id",
            ))
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| CaseCategory {
                playbook: serde_json::from_str(&r.playbook).unwrap_or_else(|e| {
                    tracing::error!(category = %r.id, error = %e, "a playbook cannot be read; it offers nothing");
                    Vec::new()
                }),
                id: r.id,
                name_en: r.name_en,
                name_ru: r.name_ru,
            })
            .collect())
    }

    /// Saves a category: a new id goes at the end, a known one is replaced
    /// where it stands.
    pub async fn save_case_category(&self, c: &CaseCategory) -> Result<(), StoreError> {
        let playbook = serde_json::to_string(&c.playbook).unwrap_or_else(|_| "[]".to_owned());
        self.db
            .exec(
                sql("INSERT INTO case_categories (id, name_en, name_ru, playbook, position) \
                     VALUES ($1, $2, $3, $4, (SELECT COALESCE(MAX(position), 0) + 1 FROM case_categories)) \
                     ON CONFLICT (id) DO UPDATE SET name_en = excluded.name_en, name_ru = excluded.name_ru, \
                     playbook = excluded.playbook")
                .bind(c.id.as_str())
                .bind(c.name_en.as_str())
                .bind(c.name_ru.as_str())
                .bind(playbook),
            )
            .await?;
        Ok(())
    }
}
