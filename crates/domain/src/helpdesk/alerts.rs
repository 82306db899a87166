//! Alert rules: which survey answers need a person at once. A rule is a
//! condition on one response and the priority of the incident it raises;
//! the store evaluates the enabled rules in the transaction that stores the
//! response, so the incident commits with it (one per order and rule).
//!
//! Rules are data (JSON in the console and the store), checked when they
//! are saved: a rule that could never fire, or fires on everything, is
//! refused with what to change.

use serde::{Deserialize, Serialize};

use crate::survey::causes::Tag;
use crate::survey::{CheckedAnswer, QuestionType, ResponseStatus};

/// How soon someone must act on an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent,
    High,
    Normal,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Urgent, Priority::High, Priority::Normal];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::High => "high",
            Priority::Normal => "normal",
        }
    }

    /// A priority by its name; `None` for any other word.
    pub fn parse(s: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// What a response must show for a rule to fire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Condition {
    /// An NPS answer of `value` or less (a detractor: 6).
    NpsAtMost { value: u8 },
    /// A scale question answered `value` or less.
    ScaleAtMost { question: String, value: f64 },
    /// A choice question answered with this option (a reason chosen).
    OptionChosen { question: String, option: String },
    /// A root cause tagged on the response.
    CauseTagged { cause: String },
    /// Any of these words, whole, in a free-text answer, whatever their
    /// letter case ("опоздал" matches "Курьер ОПОЗДАЛ!", not "опоздали").
    Keyword { words: Vec<String> },
    /// The customer left a voice message.
    VoiceLeft,
    /// A repeat customer refused the survey.
    RepeatCustomerRefused,
    /// The survey timed out at a VIP customer's door.
    TimedOutAtVip,
}

/// The rule of the incidents the call-back queue takes: low ratings that
/// no alert rule caught (seed 002: call back low ratings).
pub const CALLBACK_RULE: &str = "low_rating";

/// The setting that holds the call-back threshold.
pub const CALLBACK_SETTING: &str = "callback_threshold";

/// A rating at or below this many points of five (scaled to the
/// question's own scale) goes to the call-back queue when no rule caught
/// it: CSAT 3 of 5 and less by default; 0 turns the queue off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackThreshold(pub u8);

impl Default for CallbackThreshold {
    fn default() -> Self {
        CallbackThreshold(3)
    }
}

impl CallbackThreshold {
    /// From the setting's text: a whole number 0–4 (5 would call back
    /// every rating).
    pub fn parse(text: &str) -> Option<CallbackThreshold> {
        text.trim()
            .parse::<u8>()
            .ok()
            .filter(|v| *v <= 4)
            .map(CallbackThreshold)
    }

    /// Why a completed response, or a case's rating, goes to the call-back
    /// queue: its lowest rating at or below the threshold ("CSAT 3 of 5"),
    /// or an NPS of a detractor. `None`: not low, or the queue is off.
    pub fn low(
        self,
        status: ResponseStatus,
        nps: Option<u8>,
        lowest: Option<crate::survey::metrics::Rating>,
    ) -> Option<String> {
        if self.0 == 0 || status != ResponseStatus::Completed {
            return None;
        }
        let limit = 100.0 * (f64::from(self.0) - 1.0) / 4.0;
        if let Some(r) = lowest.filter(|r| r.norm() <= limit + 1e-9) {
            return Some(format!("rating {} of {}", r.value, r.max));
        }
        nps.filter(|n| *n <= 6).map(|n| format!("NPS {n}"))
    }
}

/// One alert rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRule {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub priority: Priority,
    pub condition: Condition,
}

/// What a rule is judged on: one stored response and what is known of its
/// order's customer.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    pub status: ResponseStatus,
    pub nps: Option<u8>,
    pub answers: &'a [CheckedAnswer],
    pub causes: &'a [Tag],
    /// The order was not the customer's first.
    pub repeat_customer: bool,
    pub vip: bool,
}

/// A problem with a rule, for the form or the API: the field and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    pub field: &'static str,
    pub message: String,
}

fn problem(field: &'static str, message: impl Into<String>) -> RuleProblem {
    RuleProblem {
        field,
        message: message.into(),
    }
}

/// Words of a text, lower-cased, split at anything that is not a letter or
/// a digit.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

impl AlertRule {
    /// The rule every new deployment starts with: a detractor's answer.
    pub fn detractors() -> AlertRule {
        AlertRule {
            id: "detractor".to_owned(),
            name: "NPS 0–6".to_owned(),
            enabled: true,
            priority: Priority::High,
            condition: Condition::NpsAtMost { value: 6 },
        }
    }

    /// Checks a rule before it is saved; every problem at once.
    pub fn check(&self) -> Result<(), Vec<RuleProblem>> {
        let mut problems = Vec::new();
        if self.id.is_empty()
            || self.id.len() > 64
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
        {
            problems.push(problem(
                "id",
                "use 1 to 64 Latin letters, digits, '-' or '_'",
            ));
        }
        if self.name.trim().is_empty() {
            problems.push(problem(
                "name",
                "give the rule a name people will recognise",
            ));
        }
        match &self.condition {
            Condition::NpsAtMost { value } if *value >= 10 => problems.push(problem(
                "condition.value",
                "NPS answers run 0–10: a rule on 10 or less fires on every answer; use 0–9",
            )),
            Condition::ScaleAtMost { question, value } => {
                if question.trim().is_empty() {
                    problems.push(problem("condition.question", "name the scale question"));
                }
                if !value.is_finite() {
                    problems.push(problem("condition.value", "give a number"));
                }
            }
            Condition::OptionChosen { question, option } => {
                if question.trim().is_empty() {
                    problems.push(problem("condition.question", "name the choice question"));
                }
                if option.trim().is_empty() {
                    problems.push(problem("condition.option", "name the option"));
                }
            }
            Condition::CauseTagged { cause } if cause.trim().is_empty() => {
                problems.push(problem("condition.cause", "name the root cause"));
            }
            Condition::Keyword { words: list }
                if list.iter().all(|w| words(w).next().is_none()) =>
            {
                problems.push(problem(
                    "condition.words",
                    "give at least one word (letters or digits)",
                ));
            }
            _ => {}
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Why this rule fires on `seen` (for the incident: "NPS 3", "«late»
    /// chosen in reason", …), or `None` when it does not. A disabled rule
    /// never fires.
    pub fn fires(&self, seen: &Seen) -> Option<String> {
        if !self.enabled {
            return None;
        }
        let completed = seen.status == ResponseStatus::Completed;
        let answer = |question: &str| seen.answers.iter().find(|a| a.question_id == question);
        match &self.condition {
            Condition::NpsAtMost { value } => seen
                .nps
                .filter(|n| completed && n <= value)
                .map(|n| format!("NPS {n}")),
            Condition::ScaleAtMost { question, value } => answer(question)
                .filter(|a| completed && a.kind == QuestionType::Scale)
                .and_then(|a| a.number)
                .filter(|n| n <= value)
                .map(|n| format!("{question} {n}")),
            Condition::OptionChosen { question, option } => answer(question)
                .filter(|a| completed && a.options.iter().any(|o| o == option))
                .map(|_| format!("{question}: {option}")),
            Condition::CauseTagged { cause } => seen
                .causes
                .iter()
                .any(|t| &t.cause_id == cause)
                .then(|| format!("cause {cause}")),
            Condition::Keyword { words: list } => {
                let wanted: Vec<String> = list.iter().flat_map(|w| words(w)).collect();
                seen.answers
                    .iter()
                    .filter(|a| a.kind == QuestionType::Text)
                    .filter_map(|a| a.text.as_deref())
                    .flat_map(words)
                    .find(|w| wanted.contains(w))
                    .map(|w| format!("«{w}»"))
            }
            Condition::VoiceLeft => seen
                .answers
                .iter()
                .any(|a| a.kind == QuestionType::Voice && a.text.is_some())
                .then(|| "voice message".to_owned()),
            Condition::RepeatCustomerRefused => (seen.status == ResponseStatus::Refused
                && seen.repeat_customer)
                .then(|| "a repeat customer refused".to_owned()),
            Condition::TimedOutAtVip => (seen.status == ResponseStatus::TimedOut && seen.vip)
                .then(|| "timed out at a VIP customer".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn low_ratings_go_to_the_call_back_queue_at_the_threshold() {
        use crate::survey::metrics::Rating;
        let done = ResponseStatus::Completed;
        let csat = |v: f64| {
            Some(Rating {
                value: v,
                min: 1.0,
                max: 5.0,
            })
        };
        let t = CallbackThreshold::default();
        assert_eq!(
            t.low(done, None, csat(3.0)).as_deref(),
            Some("rating 3 of 5")
        );
        assert_eq!(t.low(done, None, csat(4.0)), None);
        // Another scale, scaled: 3 of 5 is the middle; 5 of 9 too.
        let csi = |v: f64| {
            Some(Rating {
                value: v,
                min: 1.0,
                max: 9.0,
            })
        };
        assert!(t.low(done, None, csi(5.0)).is_some());
        assert!(t.low(done, None, csi(6.0)).is_none());
        // A detractor's NPS with no rating; nothing for a passive.
        assert_eq!(t.low(done, Some(6), None).as_deref(), Some("NPS 6"));
        assert_eq!(t.low(done, Some(7), csat(5.0)), None);
        // Off, or not completed: never.
        assert_eq!(CallbackThreshold(0).low(done, Some(0), csat(1.0)), None);
        assert_eq!(t.low(ResponseStatus::Refused, Some(0), None), None);
        assert_eq!(CallbackThreshold(1).low(done, None, csat(2.0)), None);
        assert!(CallbackThreshold(1).low(done, None, csat(1.0)).is_some());
        assert_eq!(CallbackThreshold::parse(" 2 "), Some(CallbackThreshold(2)));
        assert_eq!(CallbackThreshold::parse("5"), None);
        assert_eq!(CallbackThreshold::parse("x"), None);
    }

    use super::*;
    use crate::survey::causes::TagSource;

    fn answer(question: &str, kind: QuestionType) -> CheckedAnswer {
        CheckedAnswer {
            question_id: question.to_owned(),
            kind,
            number: None,
            options: Vec::new(),
            text: None,
            flag: None,
        }
    }

    fn seen<'a>(answers: &'a [CheckedAnswer], nps: Option<u8>, causes: &'a [Tag]) -> Seen<'a> {
        Seen {
            status: ResponseStatus::Completed,
            nps,
            answers,
            causes,
            repeat_customer: false,
            vip: false,
        }
    }

    fn rule(condition: Condition) -> AlertRule {
        AlertRule {
            condition,
            ..AlertRule::detractors()
        }
    }

    #[test]
    fn the_default_rule_fires_on_detractors_only() {
        let rule = AlertRule::detractors();
        assert_eq!(rule.check(), Ok(()));
        for (nps, fires) in [(0, true), (6, true), (7, false), (10, false)] {
            assert_eq!(
                rule.fires(&seen(&[], Some(nps), &[])).is_some(),
                fires,
                "NPS {nps}"
            );
        }
        assert_eq!(
            rule.fires(&seen(&[], Some(3), &[])).as_deref(),
            Some("NPS 3")
        );
        // No NPS answer, a refusal, or the rule switched off: nothing.
        assert_eq!(rule.fires(&seen(&[], None, &[])), None);
        let refused = Seen {
            status: ResponseStatus::Refused,
            ..seen(&[], Some(2), &[])
        };
        assert_eq!(rule.fires(&refused), None);
        let off = AlertRule {
            enabled: false,
            ..AlertRule::detractors()
        };
        assert_eq!(off.fires(&seen(&[], Some(0), &[])), None);
    }

    #[test]
    fn scales_reasons_causes_and_voice_are_matched_on_the_answer_asked() {
        let mut speed = answer("speed", QuestionType::Scale);
        speed.number = Some(2.0);
        let mut why = answer("why", QuestionType::MultiChoice);
        why.options = vec!["late".to_owned(), "rude".to_owned()];
        let mut voice = answer("voice", QuestionType::Voice);
        voice.text = Some("att-1".to_owned());
        let answers = [speed, why, voice];
        let late = [Tag {
            cause_id: "late".to_owned(),
            source: TagSource::Choice,
        }];
        let s = seen(&answers, Some(8), &late);
        let scale = |q: &str, value| {
            rule(Condition::ScaleAtMost {
                question: q.to_owned(),
                value,
            })
        };
        assert!(scale("speed", 2.0).fires(&s).is_some());
        assert!(scale("speed", 1.0).fires(&s).is_none());
        assert!(scale("courier", 5.0).fires(&s).is_none(), "not answered");
        let chosen = |o: &str| {
            rule(Condition::OptionChosen {
                question: "why".to_owned(),
                option: o.to_owned(),
            })
        };
        assert_eq!(chosen("rude").fires(&s).as_deref(), Some("why: rude"));
        assert!(chosen("damaged").fires(&s).is_none());
        let cause = |c: &str| {
            rule(Condition::CauseTagged {
                cause: c.to_owned(),
            })
        };
        assert!(cause("late").fires(&s).is_some());
        assert!(cause("damaged").fires(&s).is_none());
        assert!(rule(Condition::VoiceLeft).fires(&s).is_some());
        assert!(rule(Condition::VoiceLeft)
            .fires(&seen(&[], None, &[]))
            .is_none());
    }

    #[test]
    fn keywords_match_whole_words_whatever_their_letter_case() {
        let mut comment = answer("comment", QuestionType::Text);
        comment.text = Some("Курьер ОПОЗДАЛ на час, коробка мятая!".to_owned());
        let answers = [comment];
        let s = seen(&answers, Some(9), &[]);
        let keyword = |w: &[&str]| {
            rule(Condition::Keyword {
                words: w.iter().map(|w| (*w).to_owned()).collect(),
            })
        };
        assert_eq!(
            keyword(&["опоздал"]).fires(&s).as_deref(),
            Some("«опоздал»")
        );
        assert!(keyword(&["Мятая"]).fires(&s).is_some());
        // A word inside another is not the word.
        assert!(keyword(&["час"]).fires(&s).is_some());
        assert!(keyword(&["ча"]).fires(&s).is_none());
        assert!(keyword(&["грубый", "хамство"]).fires(&s).is_none());
    }

    #[test]
    fn refusals_and_time_outs_fire_only_for_the_customers_they_name() {
        let at = |status, repeat_customer, vip| Seen {
            status,
            repeat_customer,
            vip,
            ..seen(&[], None, &[])
        };
        let refused = rule(Condition::RepeatCustomerRefused);
        assert!(refused
            .fires(&at(ResponseStatus::Refused, true, false))
            .is_some());
        assert!(refused
            .fires(&at(ResponseStatus::Refused, false, false))
            .is_none());
        assert!(refused
            .fires(&at(ResponseStatus::TimedOut, true, false))
            .is_none());
        let vip = rule(Condition::TimedOutAtVip);
        assert!(vip
            .fires(&at(ResponseStatus::TimedOut, false, true))
            .is_some());
        assert!(vip
            .fires(&at(ResponseStatus::TimedOut, false, false))
            .is_none());
    }

    #[test]
    fn rules_that_could_never_fire_or_always_fire_are_refused() {
        let fields = |r: AlertRule| -> Vec<&'static str> {
            r.check()
                .err()
                .unwrap_or_default()
                .iter()
                .map(|p| p.field)
                .collect()
        };
        assert_eq!(
            fields(rule(Condition::NpsAtMost { value: 10 })),
            vec!["condition.value"]
        );
        assert_eq!(
            fields(rule(Condition::Keyword {
                words: vec![" ".to_owned(), "!?".to_owned()]
            })),
            vec!["condition.words"]
        );
        assert_eq!(
            fields(AlertRule {
                id: "no spaces".to_owned(),
                name: " ".to_owned(),
                ..AlertRule::detractors()
            }),
            vec!["id", "name"]
        );
        // As JSON, the way the console and the API write rules.
        let json = r#"{"id":"late","name":"Late","enabled":true,"priority":"urgent",
                       "condition":{"type":"option_chosen","question":"why","option":"late"}}"#;
        let parsed: AlertRule = serde_json::from_str(json).unwrap();
        assert_eq!(parsed.priority, Priority::Urgent);
        assert_eq!(parsed.check(), Ok(()));
    }
}
