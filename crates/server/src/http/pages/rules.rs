//! `/dispatch/rules`: the alert rules — which answers raise an incident
//! for a dispatcher, at what priority. Quality managers and admins edit
//! them; a change applies to the very next answer stored.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use doorstep_domain::helpdesk::alerts::{
    AlertRule, CallbackThreshold, Condition, Priority, CALLBACK_SETTING,
};
use serde::Deserialize;

use super::orders::{encode, Choice};
use super::{render, Chrome, OrPage, PageResult};
use crate::http::auth::{CurrentUser, NoFields, QualityDesk, Staff, StaffForm};
use crate::http::AppState;
use crate::i18n::Tr;

/// The condition types, in the order the form offers them.
const TYPES: [&str; 8] = [
    "nps_at_most",
    "scale_at_most",
    "option_chosen",
    "cause_tagged",
    "keyword",
    "voice_left",
    "repeat_customer_refused",
    "timed_out_at_vip",
];

/// A rule as the list shows it.
pub struct RuleRow {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub priority: String,
    pub priority_label: String,
    pub condition: String,
}

/// Questions, options and causes by id, named in the reader's language
/// (a rule is written with ids; people read names).
struct Names {
    questions: std::collections::HashMap<String, String>,
    options: std::collections::HashMap<(String, String), String>,
    causes: std::collections::HashMap<String, String>,
}

impl Names {
    async fn load(app: &AppState, lang: &str) -> anyhow::Result<Names> {
        let mut questions = std::collections::HashMap::new();
        let mut options = std::collections::HashMap::new();
        for record in app.store.surveys().await? {
            let Ok(d) = serde_json::from_str::<doorstep_domain::survey::SurveyDefinition>(
                &record.definition,
            ) else {
                continue;
            };
            for q in &d.questions {
                questions
                    .entry(q.id.clone())
                    .or_insert_with(|| q.text.get(lang).to_owned());
                for o in &q.options {
                    if let Some(text) = &o.text {
                        options
                            .entry((q.id.clone(), o.id.clone()))
                            .or_insert_with(|| text.get(lang).to_owned());
                    }
                }
            }
        }
        let causes = app
            .vocabulary()
            .causes
            .iter()
            .map(|c| (c.id.clone(), c.label_in(lang).to_owned()))
            .collect();
        Ok(Names {
            questions,
            options,
            causes,
        })
    }

    fn question(&self, id: &str) -> String {
        self.questions
            .get(id)
            .map_or_else(|| id.to_owned(), |t| format!("«{t}»"))
    }
}

/// What a condition says, in the reader's words.
fn describe(c: &Condition, t: Tr<'_>, names: &Names) -> String {
    match c {
        Condition::NpsAtMost { value } => t.with("rule-nps_at_most", "value", i64::from(*value)),
        Condition::ScaleAtMost { question, value } => t.with2(
            "rule-scale_at_most",
            "question",
            names.question(question),
            "value",
            value.to_string(),
        ),
        Condition::OptionChosen { question, option } => t.with2(
            "rule-option_chosen",
            "question",
            names.question(question),
            "option",
            names
                .options
                .get(&(question.clone(), option.clone()))
                .map_or_else(|| option.clone(), |l| format!("«{l}»")),
        ),
        Condition::CauseTagged { cause } => t.with(
            "rule-cause_tagged",
            "cause",
            names
                .causes
                .get(cause)
                .cloned()
                .unwrap_or_else(|| cause.clone()),
        ),
        Condition::Keyword { words } => t.with("rule-keyword", "words", words.join(", ")),
        Condition::VoiceLeft => t.t("rule-voice_left"),
        Condition::RepeatCustomerRefused => t.t("rule-repeat_customer_refused"),
        Condition::TimedOutAtVip => t.t("rule-timed_out_at_vip"),
    }
}

/// The rule form, as typed (also what it shows again after a problem).
#[derive(Deserialize, Default, Clone)]
pub struct RuleForm {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub enabled: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub question: String,
    #[serde(default)]
    pub option: String,
    #[serde(default)]
    pub cause: String,
    #[serde(default)]
    pub words: String,
}

impl RuleForm {
    fn of(rule: &AlertRule) -> RuleForm {
        let mut f = RuleForm {
            id: rule.id.clone(),
            name: rule.name.clone(),
            priority: rule.priority.as_str().to_owned(),
            enabled: rule.enabled.then(|| "on".to_owned()),
            ..RuleForm::default()
        };
        match &rule.condition {
            Condition::NpsAtMost { value } => {
                f.kind = "nps_at_most".into();
                f.value = value.to_string();
            }
            Condition::ScaleAtMost { question, value } => {
                f.kind = "scale_at_most".into();
                f.question.clone_from(question);
                f.value = value.to_string();
            }
            Condition::OptionChosen { question, option } => {
                f.kind = "option_chosen".into();
                f.question.clone_from(question);
                f.option.clone_from(option);
            }
            Condition::CauseTagged { cause } => {
                f.kind = "cause_tagged".into();
                f.cause.clone_from(cause);
            }
            Condition::Keyword { words } => {
                f.kind = "keyword".into();
                f.words = words.join(", ");
            }
            Condition::VoiceLeft => f.kind = "voice_left".into(),
            Condition::RepeatCustomerRefused => f.kind = "repeat_customer_refused".into(),
            Condition::TimedOutAtVip => f.kind = "timed_out_at_vip".into(),
        }
        f
    }

    /// The rule the form describes, or what is wrong (field, message).
    fn rule(&self) -> Result<AlertRule, Vec<(String, String)>> {
        let problem = |field: &str, message: &str| vec![(field.to_owned(), message.to_owned())];
        let number = |field: &str| -> Result<f64, Vec<(String, String)>> {
            self.value
                .trim()
                .replace(',', ".")
                .parse::<f64>()
                .map_err(|_| problem(field, "give a number"))
        };
        let condition = match self.kind.as_str() {
            "nps_at_most" => {
                let v = number("condition.value")?;
                if !(0.0..=10.0).contains(&v) || v.fract() != 0.0 {
                    return Err(problem("condition.value", "a whole number from 0 to 9"));
                }
                Condition::NpsAtMost { value: v as u8 }
            }
            "scale_at_most" => Condition::ScaleAtMost {
                question: self.question.trim().to_owned(),
                value: number("condition.value")?,
            },
            "option_chosen" => Condition::OptionChosen {
                question: self.question.trim().to_owned(),
                option: self.option.trim().to_owned(),
            },
            "cause_tagged" => Condition::CauseTagged {
                cause: self.cause.trim().to_owned(),
            },
            "keyword" => Condition::Keyword {
                words: self
                    .words
                    .split([',', ';', '\n'])
                    .map(str::trim)
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect(),
            },
            "voice_left" => Condition::VoiceLeft,
            "repeat_customer_refused" => Condition::RepeatCustomerRefused,
            "timed_out_at_vip" => Condition::TimedOutAtVip,
            _ => return Err(problem("condition.type", "choose what the rule looks for")),
        };
        let id = if self.id.trim().is_empty() {
            format!("rule-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
        } else {
            self.id.trim().to_owned()
        };
        let rule = AlertRule {
            id,
            name: self.name.trim().to_owned(),
            enabled: self.enabled.is_some(),
            priority: Priority::parse(self.priority.trim()).unwrap_or(Priority::Normal),
            condition,
        };
        rule.check().map_err(|problems| {
            problems
                .into_iter()
                .map(|p| (p.field.to_owned(), p.message))
                .collect::<Vec<_>>()
        })?;
        Ok(rule)
    }
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    c: Chrome,
    rows: Vec<RuleRow>,
    form: RuleForm,
    editing: bool,
    types: Vec<Choice>,
    priorities: Vec<Choice>,
    causes: Vec<Choice>,
    errors: Vec<String>,
    notice: Option<String>,
    /// The call-back queue's threshold: off, or 1–4 of 5.
    callback: Vec<Choice>,
}

#[derive(Deserialize, Default)]
pub struct RulesQuery {
    edit: Option<String>,
    saved: Option<String>,
}

async fn rules_page(
    app: &AppState,
    user: &CurrentUser,
    form: RuleForm,
    editing: bool,
    errors: Vec<(String, String)>,
    notice: Option<String>,
) -> PageResult {
    let c = Chrome::new(app, user, "/dispatch", "alerts-title");
    let t = c.tr;
    let rules = app.store.alert_rules().await.page(user.lang)?;
    let names = Names::load(app, t.lang()).await.page(user.lang)?;
    let vocabulary = app.vocabulary();
    let threshold = app
        .store
        .setting(CALLBACK_SETTING)
        .await
        .page(user.lang)?
        .and_then(|v| CallbackThreshold::parse(&v))
        .unwrap_or_default();
    let view = RulesPage {
        callback: (0..=4)
            .map(|v| Choice {
                selected: threshold.0 == v,
                value: v.to_string(),
                label: if v == 0 {
                    t.t("callback-off")
                } else {
                    t.with("callback-at-most", "value", i64::from(v))
                },
            })
            .collect(),
        rows: rules
            .iter()
            .map(|r| RuleRow {
                id: r.id.clone(),
                name: r.name.clone(),
                enabled: r.enabled,
                priority: r.priority.as_str().to_owned(),
                priority_label: t.t(&format!("priority-{}", r.priority.as_str())),
                condition: describe(&r.condition, t, &names),
            })
            .collect(),
        types: TYPES
            .iter()
            .map(|k| Choice {
                selected: form.kind == *k,
                value: (*k).to_owned(),
                label: t.t(&format!("rule-type-{k}")),
            })
            .collect(),
        priorities: Priority::ALL
            .iter()
            .map(|p| Choice {
                selected: form.priority == p.as_str()
                    || (form.priority.is_empty() && *p == Priority::High),
                value: p.as_str().to_owned(),
                label: t.t(&format!("priority-{}", p.as_str())),
            })
            .collect(),
        causes: vocabulary
            .causes
            .iter()
            .map(|cause| Choice {
                selected: form.cause == cause.id,
                value: cause.id.clone(),
                label: cause.label_in(t.lang()).to_owned(),
            })
            .collect(),
        errors: errors
            .into_iter()
            .map(|(field, message)| {
                format!(
                    "{}: {message}",
                    t.t(&format!("rule-field-{}", field.replace('.', "-")))
                )
            })
            .collect(),
        form,
        editing,
        notice,
        c,
    };
    Ok(render(&view))
}

pub async fn list(
    State(app): State<AppState>,
    Staff(user, _): Staff<QualityDesk>,
    Query(q): Query<RulesQuery>,
) -> PageResult {
    let t = crate::i18n::tr(user.lang);
    let rules = app.store.alert_rules().await.page(user.lang)?;
    let (form, editing) = match q
        .edit
        .and_then(|id| rules.iter().find(|r| r.id == id).cloned())
    {
        Some(rule) => (RuleForm::of(&rule), true),
        None => (
            RuleForm {
                kind: "nps_at_most".into(),
                priority: "high".into(),
                enabled: Some("on".into()),
                ..RuleForm::default()
            },
            false,
        ),
    };
    let notice = q.saved.map(|_| t.t("alerts-saved"));
    rules_page(&app, &user, form, editing, Vec::new(), notice).await
}

pub async fn save(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<QualityDesk, RuleForm>,
) -> PageResult {
    let editing = !form.id.trim().is_empty();
    match form.rule() {
        Ok(rule) => {
            app.store.save_alert_rule(&rule).await.page(user.lang)?;
            tracing::info!(by = %user.login, rule = %rule.id, "alert rule saved");
            Ok(Redirect::to("/dispatch/rules?saved=1").into_response())
        }
        Err(errors) => rules_page(&app, &user, form, editing, errors, None).await,
    }
}

pub async fn toggle(
    State(app): State<AppState>,
    Path(id): Path<String>,
    StaffForm(user, _form, _): StaffForm<QualityDesk, NoFields>,
) -> PageResult {
    let rules = app.store.alert_rules().await.page(user.lang)?;
    if let Some(mut rule) = rules.into_iter().find(|r| r.id == id) {
        rule.enabled = !rule.enabled;
        app.store.save_alert_rule(&rule).await.page(user.lang)?;
        tracing::info!(by = %user.login, rule = %rule.id, enabled = rule.enabled, "alert rule switched");
    }
    Ok(Redirect::to("/dispatch/rules?saved=1").into_response())
}

pub async fn delete(
    State(app): State<AppState>,
    Path(id): Path<String>,
    StaffForm(user, _form, _): StaffForm<QualityDesk, NoFields>,
) -> PageResult {
    if app.store.delete_alert_rule(&id).await.page(user.lang)? {
        tracing::info!(by = %user.login, rule = %id, "alert rule removed");
    }
    Ok(Redirect::to(&format!("/dispatch/rules?saved={}", encode("removed"))).into_response())
}

#[derive(Deserialize)]
pub struct CallbackForm {
    threshold: String,
}

/// Sets the call-back queue's threshold.
pub async fn save_callback(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<QualityDesk, CallbackForm>,
) -> PageResult {
    let Some(threshold) = CallbackThreshold::parse(&form.threshold) else {
        return Ok(Redirect::to("/dispatch/rules").into_response());
    };
    app.store
        .set_setting(CALLBACK_SETTING, &threshold.0.to_string())
        .await
        .page(user.lang)?;
    tracing::info!(by = %user.login, threshold = threshold.0, "call-back threshold set");
    Ok(Redirect::to("/dispatch/rules?saved=1#callback").into_response())
}
