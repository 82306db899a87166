//! Sums for the key drivers: each rated question's answers paired with the
//! NPS answer of the same response, per survey version (the scale of a
//! question is the version's), over a filter.

use crate::rollups::MetricsFilter;
use crate::{Store, StoreError};

/// One scale question's pairs (x: its answer, y: the NPS answer).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct QuestionPairs {
    pub survey_id: String,
    pub survey_version: i64,
    pub question_id: String,
    pub n: i64,
    pub sx: f64,
    pub sy: f64,
    pub sxx: f64,
    pub syy: f64,
    pub sxy: f64,
}

impl Store {
    /// Per survey version and scale question, the sums of its answers
    /// paired with the NPS answer, over the completed responses a filter
    /// admits. One grouped query over the period's responses.
    pub async fn question_pairs(
        &self,
        filter: &MetricsFilter,
    ) -> Result<Vec<QuestionPairs>, StoreError> {
        let mut text = String::from(
            "SELECT r.survey_id, r.survey_version, f.question_id, COUNT(*) AS n, \
             SUM(f.number_value) AS sx, SUM(y.number_value) AS sy, \
             SUM(f.number_value * f.number_value) AS sxx, SUM(y.number_value * y.number_value) AS syy, \
             SUM(f.number_value * y.number_value) AS sxy \
             FROM responses r \
             JOIN answers y ON y.order_number = r.order_number AND y.response_id = r.id AND y.kind = 'nps' \
             JOIN answers f ON f.order_number = r.order_number AND f.response_id = r.id AND f.kind = 'scale' \
             WHERE r.status = 'completed' AND r.finished_at >= $1 AND r.finished_at < $2 \
             AND y.number_value IS NOT NULL AND f.number_value IS NOT NULL",
        );
        let values = filter.clause(&mut text, "r.", 3);
        text.push_str(" GROUP BY r.survey_id, r.survey_version, f.question_id");
        let mut q = crate::db::sql(text).bind(filter.from_ms).bind(filter.to_ms);
        for v in values {
            q.push_arg(v);
        }
        self.db.all(q).await
    }
}
