//! Mystery-shopper checks: an inspector fills an inspection survey about
//! the courier who delivered an order; it is checked like a response,
//! recorded apart (never in NPS) and summed per courier and question.

use std::collections::BTreeMap;

use doorstep_domain::survey::{check_answers, Problem, QuestionType, ResponseStatus};
use doorstep_store::inspections::{InspectionAnswer, InspectionRecorded, NewInspection};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::responses::SubmittedAnswer;
use crate::app::App;

/// An inspection as an inspector's terminal sends it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmittedInspection {
    /// The client's UUID for this inspection (a retry sends the same).
    pub id: String,
    /// The order the inspector received.
    pub order_number: String,
    pub survey_id: String,
    /// The version answered; the current one when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey_version: Option<i64>,
    /// RFC 3339.
    pub started_at: String,
    pub finished_at: String,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub answers: Vec<SubmittedAnswer>,
}

/// What became of an inspection.
#[derive(Debug)]
pub enum Outcome {
    Recorded {
        created: bool,
        courier_id: Option<String>,
        courier_name: Option<String>,
    },
    Conflict,
    UnknownOrder,
    Invalid(Vec<Problem>),
}

fn problem(field: &str, message: impl Into<String>) -> Problem {
    Problem {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Checks an inspection against its survey version and records it once.
pub async fn record(
    app: &App,
    inspector: &str,
    token_id: &str,
    item: &SubmittedInspection,
    content_hash: &str,
) -> anyhow::Result<Outcome> {
    let mut errors = Vec::new();
    if uuid::Uuid::parse_str(&item.id).is_err() {
        errors.push(problem(
            "id",
            format!(
                "{:?} is not a UUID; the terminal makes one per inspection",
                item.id
            ),
        ));
    }
    let mut times = [0_i64; 2];
    for (slot, (name, text)) in times.iter_mut().zip([
        ("started_at", &item.started_at),
        ("finished_at", &item.finished_at),
    ]) {
        match text.parse::<jiff::Timestamp>() {
            Ok(t) => *slot = t.as_millisecond(),
            Err(e) => errors.push(problem(
                name,
                format!("{text:?} is not an RFC 3339 timestamp ({e}); write e.g. 2026-11-03T14:30:00+03:00"),
            )),
        }
    }
    if times[1] < times[0] {
        errors.push(problem("finished_at", "is before started_at"));
    }
    let Some((version, definition)) = app
        .survey_version(&item.survey_id, item.survey_version)
        .await?
    else {
        errors.push(problem(
            "survey_id",
            match item.survey_version {
                Some(v) => format!("survey {:?} has no version {v}", item.survey_id),
                None => format!("there is no survey {:?}", item.survey_id),
            },
        ));
        return Ok(Outcome::Invalid(errors));
    };
    if !definition.inspection {
        errors.push(problem(
            "survey_id",
            format!(
                "survey {:?} is a customers' survey, not an inspection; an inspector fills only surveys marked as inspections",
                item.survey_id
            ),
        ));
        return Ok(Outcome::Invalid(errors));
    }
    let answers: Vec<(String, Value)> = item
        .answers
        .iter()
        .map(|a| (a.question_id.clone(), a.value.clone()))
        .collect();
    let checked = match check_answers(&definition, ResponseStatus::Completed, &answers) {
        Ok(c) => c,
        Err(problems) => {
            errors.extend(problems);
            Vec::new()
        }
    };
    if checked
        .iter()
        .any(|a| matches!(a.kind, QuestionType::Voice | QuestionType::Photo))
    {
        errors.push(problem(
            "answers",
            "an inspection takes no photo or voice answers",
        ));
    }
    if !errors.is_empty() {
        return Ok(Outcome::Invalid(errors));
    }
    let Some(order) = app.store.order(&item.order_number).await? else {
        return Ok(Outcome::UnknownOrder);
    };
    let done = app
        .store
        .record_inspection(&NewInspection {
            id: &item.id,
            order: &order,
            survey_id: &item.survey_id,
            survey_version: version,
            inspector,
            token_id: Some(token_id),
            started_at: times[0],
            finished_at: times[1],
            content_hash,
            answers: &checked,
        })
        .await?;
    Ok(match done {
        InspectionRecorded::Conflict => Outcome::Conflict,
        InspectionRecorded::Created | InspectionRecorded::Duplicate => Outcome::Recorded {
            created: done == InspectionRecorded::Created,
            courier_id: order.courier_id,
            courier_name: order.courier_name,
        },
    })
}

/// One question's inspection answers summed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QuestionFigure {
    pub survey_id: String,
    pub question_id: String,
    /// `nps`, `scale`, `single_choice`, …
    pub kind: String,
    /// Inspections that answered it.
    pub answers: u64,
    /// The mean of a number answer (NPS, scale); `null` for others.
    pub mean: Option<f64>,
    /// How many chose each option (choices), or said yes/no (consent: `yes`, `no`).
    pub options: BTreeMap<String, u64>,
}

/// One courier's inspections summed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CourierInspections {
    /// `""` for orders with no courier.
    pub courier_id: String,
    pub inspections: u64,
    pub questions: Vec<QuestionFigure>,
}

/// Sums inspection answers per courier and question, couriers in id order,
/// questions as the answers name them (survey, then question id).
pub fn summarise(answers: &[InspectionAnswer]) -> Vec<CourierInspections> {
    /// A question's figure so far, with the sum and count of its numbers.
    type Running = (QuestionFigure, f64, u64);
    #[derive(Default)]
    struct Acc {
        inspections: std::collections::BTreeSet<String>,
        questions: BTreeMap<(String, String), Running>,
    }
    let mut by: BTreeMap<String, Acc> = BTreeMap::new();
    for a in answers {
        let acc = by
            .entry(a.courier_id.clone().unwrap_or_default())
            .or_default();
        acc.inspections.insert(a.inspection_id.clone());
        let (q, sum, numbers) = acc
            .questions
            .entry((a.survey_id.clone(), a.question_id.clone()))
            .or_insert_with(|| {
                let figure = QuestionFigure {
                    survey_id: a.survey_id.clone(),
                    question_id: a.question_id.clone(),
                    kind: a.kind.clone(),
                    answers: 0,
                    mean: None,
                    options: BTreeMap::new(),
                };
                (figure, 0.0, 0)
            });
        q.answers += 1;
        if let Some(n) = a.number_value {
            *sum += n;
            *numbers += 1;
            q.mean = Some(*sum / *numbers as f64);
        }
        if let Some(list) = a.option_ids.as_deref() {
            for o in serde_json::from_str::<Vec<String>>(list).unwrap_or_default() {
                *q.options.entry(o).or_default() += 1;
            }
        }
        if let Some(flag) = a.flag {
            *q.options
                .entry(if flag { "yes" } else { "no" }.to_owned())
                .or_default() += 1;
        }
    }
    by.into_iter()
        .map(|(courier_id, acc)| CourierInspections {
            courier_id,
            inspections: acc.inspections.len() as u64,
            questions: acc.questions.into_values().map(|(q, _, _)| q).collect(),
        })
        .collect()
}

/// One check of an inspection survey as people read it.
pub struct ReadableCheck {
    /// The question in the reader's language.
    pub label: String,
    /// "4.5 of 5", or each option's count ("Yes: 3 · No: 1").
    pub figure: String,
    pub answers: u64,
}

/// The checks of a courier's (or the fleet's) inspections in the survey's
/// order, named in the reader's language; free-text notes left out.
pub async fn readable(
    app: &App,
    summed: &CourierInspections,
    t: crate::i18n::Tr<'_>,
) -> anyhow::Result<Vec<ReadableCheck>> {
    let lang = t.lang();
    let mut checks = Vec::new();
    for q in summed.questions.iter().filter(|q| q.kind != "text") {
        let definition = app.survey_version(&q.survey_id, None).await?;
        let place = definition
            .as_ref()
            .and_then(|(_, d)| d.questions.iter().position(|x| x.id == q.question_id));
        let question = definition
            .as_ref()
            .and_then(|(_, d)| d.question(&q.question_id).cloned());
        let label = question
            .as_ref()
            .map_or_else(|| q.question_id.clone(), |x| x.text.get(lang).to_owned());
        let figure = match (q.mean, &question) {
            (Some(mean), Some(x)) => t.args(
                "courier-inspection-mean",
                vec![
                    ("mean", format!("{mean:.1}").into()),
                    ("max", x.max.unwrap_or(10).into()),
                ],
            ),
            (Some(mean), None) => format!("{mean:.1}"),
            (None, _) => q
                .options
                .iter()
                .map(|(option, n)| {
                    let name = question
                        .as_ref()
                        .and_then(|x| x.options.iter().find(|o| o.id == *option))
                        .and_then(|o| o.text.as_ref())
                        .map_or_else(
                            || match option.as_str() {
                                "yes" | "no" => t.t(&format!("courier-inspection-{option}")),
                                _ => option.clone(),
                            },
                            |text| text.get(lang).to_owned(),
                        );
                    format!("{name}: {n}")
                })
                .collect::<Vec<_>>()
                .join(" · "),
        };
        checks.push((
            (q.survey_id.clone(), place.unwrap_or(usize::MAX)),
            ReadableCheck {
                label,
                figure,
                answers: q.answers,
            },
        ));
    }
    checks.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(checks.into_iter().map(|(_, c)| c).collect())
}

/// Every inspection of the answers summed as one group (the fleet's).
pub fn summarise_all(answers: &[InspectionAnswer]) -> Option<CourierInspections> {
    let all: Vec<InspectionAnswer> = answers
        .iter()
        .map(|a| InspectionAnswer {
            courier_id: None,
            ..a.clone()
        })
        .collect();
    summarise(&all).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(inspection: &str, courier: &str, question: &str, kind: &str) -> InspectionAnswer {
        InspectionAnswer {
            inspection_id: inspection.to_owned(),
            courier_id: Some(courier.to_owned()),
            survey_id: "check".to_owned(),
            question_id: question.to_owned(),
            kind: kind.to_owned(),
            number_value: None,
            option_ids: None,
            text_value: None,
            flag: None,
        }
    }

    #[test]
    fn sums_per_courier_and_question() {
        let mut a1 = answer("i1", "K-1", "polite", "scale");
        a1.number_value = Some(5.0);
        let mut a2 = answer("i2", "K-1", "polite", "scale");
        a2.number_value = Some(2.0);
        let mut s1 = answer("i1", "K-1", "script", "single_choice");
        s1.option_ids = Some(r#"["yes"]"#.to_owned());
        let mut s2 = answer("i2", "K-1", "script", "single_choice");
        s2.option_ids = Some(r#"["no"]"#.to_owned());
        let mut other = answer("i3", "K-2", "polite", "scale");
        other.number_value = Some(4.0);
        let got = summarise(&[a1, s1, a2, s2, other]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].courier_id, "K-1");
        assert_eq!(got[0].inspections, 2);
        let polite = &got[0].questions[0];
        assert_eq!((polite.question_id.as_str(), polite.answers), ("polite", 2));
        assert_eq!(polite.mean, Some(3.5));
        let script = &got[0].questions[1];
        assert_eq!(script.mean, None);
        assert_eq!(script.options.get("yes"), Some(&1));
        assert_eq!(script.options.get("no"), Some(&1));
        assert_eq!(got[1].inspections, 1);
        assert_eq!(got[1].questions[0].mean, Some(4.0));
    }
}
