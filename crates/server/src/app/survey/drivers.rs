//! Key drivers for a period and filters: each factor question's answers
//! against the NPS answer, put on one 0–100 scale per factor across survey
//! versions, then placed by importance and performance.

use std::collections::BTreeMap;

use doorstep_domain::survey::drivers::{drivers, Driver, PairSums};
use doorstep_domain::survey::Measure;

use crate::app::survey::metrics::Request;
use crate::app::AppState;

/// The drivers, most urgent first, each with a name for people (the factor
/// question's text in `lang`).
pub async fn compute(
    app: &AppState,
    req: &Request,
    lang: &str,
) -> anyhow::Result<Vec<(String, Driver)>> {
    let tz = app.deployment().tz();
    let rows = app.store.question_pairs(&req.filter(&tz), &tz).await?;
    let mut factors: BTreeMap<String, (String, PairSums)> = BTreeMap::new();
    for row in rows {
        let Some((_, survey)) = app
            .survey_version(&row.survey_id, Some(row.survey_version))
            .await?
        else {
            continue;
        };
        let Some(q) = survey.question(&row.question_id) else {
            continue;
        };
        let Some(Measure::Factor(name)) = q.measures.as_deref().and_then(Measure::parse) else {
            continue;
        };
        let (min, max) = (q.min.unwrap_or(1) as f64, q.max.unwrap_or(5) as f64);
        if max <= min {
            continue;
        }
        let a = 100.0 / (max - min);
        let sums = row.sums.rescaled(a, -min * a);
        let entry = factors
            .entry(name.clone())
            .or_insert_with(|| (q.text.get(lang).to_owned(), PairSums::default()));
        entry.1.merge(&sums);
    }
    let labels: BTreeMap<String, String> = factors
        .iter()
        .map(|(k, (label, _))| (k.clone(), label.clone()))
        .collect();
    Ok(
        drivers(factors.into_iter().map(|(k, (_, s))| (k, s)).collect())
            .into_iter()
            .map(|d| {
                let label = labels
                    .get(&d.factor)
                    .filter(|l| !l.is_empty())
                    .cloned()
                    .unwrap_or_else(|| d.factor.clone());
                (label, d)
            })
            .collect(),
    )
}
