//! Mystery-shopper checks: inspectors' enrolment codes, inspections
//! recorded once per client-made id (kept apart from the customers'
//! responses: no rollup, no NPS), and their answers read back.

use doorstep_domain::survey::CheckedAnswer;

use crate::accounts::ApiToken;
use crate::db::sql;
use crate::{now_millis, OrderView, Store, StoreError};

/// An inspection to record.
pub struct NewInspection<'a> {
    /// The client's UUID: the same id again records nothing.
    pub id: &'a str,
    /// The order the inspector received: its courier, city and partner are
    /// kept with the inspection.
    pub order: &'a OrderView,
    pub survey_id: &'a str,
    pub survey_version: i64,
    /// The inspector's name (their token's).
    pub inspector: &'a str,
    pub token_id: Option<&'a str>,
    pub started_at: i64,
    pub finished_at: i64,
    /// What was sent, hashed: the same id with other content is a conflict.
    pub content_hash: &'a str,
    pub answers: &'a [CheckedAnswer],
}

/// What recording an inspection did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InspectionRecorded {
    Created,
    /// This id was recorded before with the same content: nothing changed.
    Duplicate,
    /// This id was recorded before with other content: nothing changed.
    Conflict,
}

/// An inspection as listed.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct InspectionRow {
    pub id: String,
    pub order_number: String,
    pub survey_id: String,
    pub courier_id: Option<String>,
    pub city: String,
    pub inspector: String,
    pub finished_at: i64,
}

/// One answer of an inspection, with whom it was about.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct InspectionAnswer {
    pub inspection_id: String,
    pub courier_id: Option<String>,
    pub survey_id: String,
    pub question_id: String,
    pub kind: String,
    pub number_value: Option<f64>,
    /// Chosen options, as a JSON list.
    pub option_ids: Option<String>,
    pub text_value: Option<String>,
    pub flag: Option<bool>,
}

impl Store {
    pub async fn create_inspector_code(
        &self,
        code_hash: &str,
        name: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.db
            .exec(
                sql("INSERT INTO inspector_codes (code_hash, name, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(code_hash)
                    .bind(name)
                    .bind(now_millis())
                    .bind(expires_at),
            )
            .await
            .map(|_| ())
    }

    /// Exchanges a live inspector's code for an `inspector` token named
    /// after them, once.
    pub async fn redeem_inspector_code(
        &self,
        code_hash: &str,
        token_hash: &str,
    ) -> Result<Option<ApiToken>, StoreError> {
        let now = now_millis();
        let mut tx = self.db.begin().await?;
        let name: Option<(String,)> = tx
            .opt(
                sql("UPDATE inspector_codes SET used_at = $1 \
                     WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING name")
                .bind(now)
                .bind(code_hash),
            )
            .await?;
        let Some((name,)) = name else {
            return Ok(None);
        };
        let token = tx
            .one(
                sql(format!(
                    "INSERT INTO api_tokens (id, name, role, token_hash, courier_id, created_at) \
                     VALUES ($1, $2, 'inspector', $3, NULL, $4) RETURNING {}",
                    crate::accounts::TOKEN_COLUMNS
                ))
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(name)
                .bind(token_hash)
                .bind(now),
            )
            .await?;
        tx.commit().await?;
        Ok(Some(token))
    }

    /// Records an inspection and its answers in one transaction. The same id
    /// twice — a retry, two requests at once — records it once (the
    /// database's primary key decides).
    pub async fn record_inspection(
        &self,
        i: &NewInspection<'_>,
    ) -> Result<InspectionRecorded, StoreError> {
        let o = i.order;
        let mut tx = self.db.begin().await?;
        let made: Option<(String,)> = tx
            .opt(
                sql("INSERT INTO inspections (id, order_number, survey_id, survey_version, courier_id, city, partner, \
                     inspector, token_id, started_at, finished_at, content_hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING RETURNING id")
                .bind(i.id)
                .bind(o.order_number.as_str())
                .bind(i.survey_id)
                .bind(i.survey_version)
                .bind(o.courier_id.as_deref())
                .bind(o.city.as_str())
                .bind(o.partner.as_deref())
                .bind(i.inspector)
                .bind(i.token_id)
                .bind(i.started_at)
                .bind(i.finished_at)
                .bind(i.content_hash),
            )
            .await?;
        if made.is_none() {
            tx.rollback().await?;
            let (stored,): (String,) = self
                .db
                .one(sql("SELECT content_hash FROM inspections WHERE id = $1").bind(i.id))
                .await?;
            return Ok(if stored == i.content_hash {
                InspectionRecorded::Duplicate
            } else {
                InspectionRecorded::Conflict
            });
        }
        tx.exec_rows(
            "INSERT INTO inspection_answers (inspection_id, question_id, kind, number_value, option_ids, text_value, flag) VALUES",
            7,
            "",
            i.answers,
            |q, a| {
                q.push_arg(i.id);
                q.push_arg(a.question_id.as_str());
                q.push_arg(
                    serde_json::to_value(a.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned)),
                );
                q.push_arg(crate::db::Arg::Real(a.number));
                q.push_arg(
                    (!a.options.is_empty())
                        .then(|| serde_json::to_string(&a.options).unwrap_or_default()),
                );
                q.push_arg(a.text.as_deref());
                q.push_arg(crate::db::Arg::Bool(a.flag));
            },
        )
        .await?;
        tx.commit().await?;
        Ok(InspectionRecorded::Created)
    }

    /// Inspections finished in `[from_ms, to_ms)`, of one courier or all,
    /// newest first, at most `limit`.
    pub async fn inspections(
        &self,
        courier: Option<&str>,
        from_ms: i64,
        to_ms: i64,
        limit: i64,
    ) -> Result<Vec<InspectionRow>, StoreError> {
        let mut text = String::from(
            "SELECT id, order_number, survey_id, courier_id, city, inspector, finished_at FROM inspections \
             WHERE finished_at >= $1 AND finished_at < $2",
        );
        if courier.is_some() {
            text.push_str(" AND courier_id = $4");
        }
        text.push_str(" ORDER BY finished_at DESC, id LIMIT $3");
        let mut q = sql(text).bind(from_ms).bind(to_ms).bind(limit);
        if let Some(c) = courier {
            q = q.bind(c);
        }
        self.db.all(q).await
    }

    /// The answers of the inspections finished in `[from_ms, to_ms)`, of one
    /// courier or all.
    pub async fn inspection_answers(
        &self,
        courier: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<InspectionAnswer>, StoreError> {
        let mut text = String::from(
            "SELECT a.inspection_id, i.courier_id, i.survey_id, a.question_id, a.kind, a.number_value, a.option_ids, \
             a.text_value, a.flag FROM inspections i JOIN inspection_answers a ON a.inspection_id = i.id \
             WHERE i.finished_at >= $1 AND i.finished_at < $2",
        );
        if courier.is_some() {
            text.push_str(" AND i.courier_id = $3");
        }
        text.push_str(" ORDER BY i.finished_at, a.inspection_id, a.question_id");
        let mut q = sql(text).bind(from_ms).bind(to_ms);
        if let Some(c) = courier {
            q = q.bind(c);
        }
        self.db.all(q).await
    }
}
