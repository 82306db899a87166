//! Surveys: their definitions, checked when they are made, and the answers
//! to them, checked against the exact version they answered. Beside them,
//! what is worked out from the answers: the scores ([`metrics`]), the key
//! drivers ([`drivers`]), root causes ([`causes`]) and the self-filling
//! signals ([`signals`]).

pub mod causes;
pub mod drivers;
pub mod metrics;
pub mod signals;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A text in one or several languages: `"Как вам доставка?"` or
/// `{"ru": "Как вам доставка?", "en": "How was the delivery?"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Texts {
    One(String),
    Many(BTreeMap<String, String>),
}

impl Texts {
    /// The text in `lang`, else English, else Russian, else any.
    pub fn get(&self, lang: &str) -> &str {
        match self {
            Texts::One(t) => t,
            Texts::Many(m) => m
                .get(lang)
                .or_else(|| m.get("en"))
                .or_else(|| m.get("ru"))
                .or_else(|| m.values().next())
                .map_or("", String::as_str),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Texts::One(t) => t.trim().is_empty(),
            Texts::Many(m) => m.values().all(|t| t.trim().is_empty()),
        }
    }

    /// The longest of its texts, in characters.
    fn longest(&self) -> usize {
        match self {
            Texts::One(t) => t.chars().count(),
            Texts::Many(m) => m.values().map(|t| t.chars().count()).max().unwrap_or(0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    Nps,
    Scale,
    SingleChoice,
    MultiChoice,
    Text,
    Voice,
    Photo,
    Consent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Texts>,
}

/// When a question is shown, from an earlier answer: a number in
/// `[min, max]`, an option `in` a list, or a consent `equals` true/false.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowIf {
    pub question: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub any_of: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: QuestionType,
    pub text: Texts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// What a scale measures: `csi`, `csat`, `ces` or `factor:NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measures: Option<String>,
    /// Importance of a factor in the weighted CSI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_label: Option<Texts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_label: Option<Texts>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    /// A multiple choice may take an "other" free text.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub other: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<ShowIf>,
}

/// Which orders a survey is for. Every listed condition must hold; an empty
/// list or a missing bound does not restrict.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targeting {
    /// `new` and/or `repeat`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cities: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partners: Vec<String>,
    /// Order amount bounds, inclusive, in the deployment's currency (`1500` or `"1 500,00"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_min: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_max: Option<Value>,
    /// When several surveys fit an order, the highest priority wins.
    #[serde(default)]
    pub priority: i64,
    /// Ask one order in N (by a hash of the order number, so every device
    /// and the server agree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_one_in: Option<u32>,
}

/// A survey as a quality manager writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyDefinition {
    pub name: String,
    /// The survey's name as customers see it, per language (the link
    /// page's heading); the console shows `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Texts>,
    pub questions: Vec<Question>,
    /// Seconds without an answer before the session closes as timed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    /// Which orders get this survey; none means every order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targeting: Option<Targeting>,
    /// Promoters are offered public review links right after the survey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewRequest>,
    /// A mystery-shopper check: filled by an inspector about the courier
    /// who delivered, never offered to customers, never in NPS.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inspection: bool,
    /// Record the conversation at the door, with the customer's consent
    /// asked before the first question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<Recording>,
}

/// The conversation recorded with consent: from the first question to the
/// end, at most `max_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    #[serde(default = "Recording::default_seconds")]
    pub max_seconds: u32,
}

impl Recording {
    /// Five minutes: a door conversation is rarely longer.
    pub const DEFAULT_SECONDS: u32 = 300;
    /// The longest a recording may be set to (a voice upload's size limit
    /// holds half an hour of speech at the terminal's bit rate).
    pub const MAX_SECONDS: u32 = 1800;

    fn default_seconds() -> u32 {
        Self::DEFAULT_SECONDS
    }
}

/// The review request: a customer whose NPS answer reaches `min_score`
/// is offered these links (map services, marketplaces); the response
/// records which one was opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// The least NPS answer that gets the offer: 9 (promoters) unless set.
    #[serde(default = "promoter_score")]
    pub min_score: u8,
    pub links: Vec<ReviewLink>,
}

fn promoter_score() -> u8 {
    9
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewLink {
    pub id: String,
    pub label: Texts,
    pub url: String,
}

impl ReviewRequest {
    fn validate(&self, problems: &mut Vec<Problem>) {
        if self.min_score > 10 {
            problems.push(problem(
                "review.min_score",
                "is an NPS answer, 0 to 10 (9 offers promoters)",
            ));
        }
        if self.links.is_empty() {
            problems.push(problem(
                "review.links",
                "give at least one link, or leave the review request out",
            ));
        }
        let mut ids = HashSet::new();
        for (i, link) in self.links.iter().enumerate() {
            if link.id.trim().is_empty() || link.id.len() > 64 || !ids.insert(link.id.as_str()) {
                problems.push(problem(
                    format!("review.links[{i}].id"),
                    format!(
                        "{:?}: link ids must be 1 to 64 characters and unique",
                        link.id
                    ),
                ));
            }
            if link.label.is_empty() {
                problems.push(problem(
                    format!("review.links[{i}].label"),
                    "every link needs its label",
                ));
            }
            let url = link.url.trim();
            if !(url.starts_with("https://") || url.starts_with("http://"))
                || url.len() > 2000
                || url.contains(char::is_whitespace)
            {
                problems.push(problem(
                    format!("review.links[{i}].url"),
                    format!("{:?} is not a web address (https://…)", link.url),
                ));
            }
        }
    }

    /// Whether these answers earn the offer: the survey's NPS answer
    /// reaches the threshold.
    pub fn due(&self, survey: &SurveyDefinition, answers: &[CheckedAnswer]) -> bool {
        survey
            .questions
            .iter()
            .filter(|q| q.kind == QuestionType::Nps)
            .filter_map(|q| answers.iter().find(|a| a.question_id == q.id))
            .filter_map(|a| a.number)
            .any(|n| n >= f64::from(self.min_score))
    }
}

/// What targeting looks at in an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFacts<'a> {
    pub order_number: &'a str,
    pub segment: crate::Segment,
    pub city: &'a str,
    pub partner: Option<&'a str>,
    pub amount: Option<crate::Money>,
}

fn amount(bound: Option<&Value>) -> Result<Option<crate::Money>, String> {
    match bound {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => crate::Money::parse(s).map(Some).map_err(|e| e.to_string()),
        Some(v) => crate::Money::parse(&v.to_string())
            .map(Some)
            .map_err(|e| e.to_string()),
    }
}

/// FNV-1a: a tiny, fixed hash, so that sampling is the same on every device.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Targeting {
    fn validate(&self, problems: &mut Vec<Problem>) {
        for (i, s) in self.segments.iter().enumerate() {
            if s != "new" && s != "repeat" {
                problems.push(problem(
                    format!("targeting.segments[{i}]"),
                    format!("{s:?} is not a segment (new or repeat)"),
                ));
            }
        }
        let min = amount(self.amount_min.as_ref())
            .map_err(|e| problems.push(problem("targeting.amount_min", e)))
            .ok()
            .flatten();
        let max = amount(self.amount_max.as_ref())
            .map_err(|e| problems.push(problem("targeting.amount_max", e)))
            .ok()
            .flatten();
        if let (Some(min), Some(max)) = (min, max) {
            if min > max {
                problems.push(problem("targeting.amount_max", "is below amount_min"));
            }
        }
        if self.sample_one_in == Some(0) {
            problems.push(problem(
                "targeting.sample_one_in",
                "must be 1 or more (1 asks every order)",
            ));
        }
    }

    /// Does this order fit, sampling included?
    pub fn matches(&self, survey_id: &str, order: &OrderFacts<'_>) -> bool {
        let listed =
            |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
        let amount_ok = match order.amount {
            Some(a) => {
                amount(self.amount_min.as_ref())
                    .ok()
                    .flatten()
                    .is_none_or(|min| a >= min)
                    && amount(self.amount_max.as_ref())
                        .ok()
                        .flatten()
                        .is_none_or(|max| a <= max)
            }
            None => self.amount_min.is_none() && self.amount_max.is_none(),
        };
        let sampled = self.sample_one_in.is_none_or(|n| {
            n <= 1
                || fnv1a(&format!("{}:{survey_id}", order.order_number))
                    .is_multiple_of(u64::from(n))
        });
        listed(&self.segments, order.segment.as_str())
            && listed(&self.cities, order.city)
            && (self.partners.is_empty()
                || order.partner.is_some_and(|p| listed(&self.partners, p)))
            && amount_ok
            && sampled
    }
}

/// The survey an order gets: among those whose targeting fits, the highest
/// priority, then the smallest id (so the choice never wavers).
pub fn choose_survey<'a>(
    order: &OrderFacts<'_>,
    surveys: &'a [(String, SurveyDefinition)],
) -> Option<&'a str> {
    surveys
        .iter()
        .filter(|(id, s)| id != SUPPORT_SURVEY_ID && !s.inspection)
        .filter(|(id, s)| s.targeting.as_ref().is_none_or(|t| t.matches(id, order)))
        .max_by(|(a_id, a), (b_id, b)| {
            let pa = a.targeting.as_ref().map_or(0, |t| t.priority);
            let pb = b.targeting.as_ref().map_or(0, |t| t.priority);
            pa.cmp(&pb).then_with(|| b_id.cmp(a_id))
        })
        .map(|(id, _)| id.as_str())
}

/// One thing wrong, with where it is (`questions[2].max`, `answers[0].value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        field: field.into(),
        message: message.into(),
    }
}

const MEASURES: &str = "csi, csat, ces or factor:NAME";

/// Most questions one survey may ask: every terminal downloads every
/// survey, and a door survey is a minute at the door.
pub const MAX_QUESTIONS: usize = 100;
/// Most options one choice question may offer.
pub const MAX_OPTIONS: usize = 50;
/// Longest text (a question's or an option's, in one language), in characters.
pub const MAX_TEXT: usize = 2_000;

/// Checks a show-if rule against the question it depends on: its values
/// must be of that answer's type (a number for nps and scale, an option id
/// for a choice, true or false for a consent) — the terminal and the server
/// compare strictly, so `"9"` never equals 9.
fn check_rule(
    rule: &ShowIf,
    on: &Question,
    at: &dyn Fn(&str) -> String,
    problems: &mut Vec<Problem>,
) {
    let values = rule
        .any_of
        .iter()
        .flatten()
        .map(|v| ("show_if.in", v))
        .chain(rule.equals.iter().map(|v| ("show_if.equals", v)));
    match on.kind {
        QuestionType::Nps | QuestionType::Scale => {
            for (field, v) in values {
                if !v.is_number() {
                    problems.push(problem(
                        at(field),
                        format!(
                            "{v} is not a number; {:?} is answered with a number, so write it without quotes (e.g. 9)",
                            on.id
                        ),
                    ));
                }
            }
        }
        QuestionType::SingleChoice | QuestionType::MultiChoice => {
            if rule.min.is_some() || rule.max.is_some() {
                problems.push(problem(
                    at("show_if"),
                    format!(
                        "{:?} is a choice: use in or equals with its option ids, not min or max",
                        on.id
                    ),
                ));
            }
            for (field, v) in values {
                match v.as_str() {
                    Some(id) if on.options.iter().any(|o| o.id == id) => {}
                    _ => problems.push(problem(
                        at(field),
                        format!(
                            "{v} is not an option of {:?} ({})",
                            on.id,
                            on.options
                                .iter()
                                .map(|o| o.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )),
                }
            }
        }
        QuestionType::Consent => {
            if rule.min.is_some() || rule.max.is_some() || rule.any_of.is_some() {
                problems.push(problem(
                    at("show_if"),
                    format!("{:?} is a consent: use equals true or equals false", on.id),
                ));
            }
            if let Some(v) = &rule.equals {
                if !v.is_boolean() {
                    problems.push(problem(
                        at("show_if.equals"),
                        format!(
                            "{v} is not true or false, which is how {:?} is answered",
                            on.id
                        ),
                    ));
                }
            }
        }
        QuestionType::Text | QuestionType::Voice | QuestionType::Photo => problems.push(problem(
            at("show_if.question"),
            format!(
                "{:?} is answered freely (text, voice or photo): a question cannot be shown by it",
                on.id
            ),
        )),
    }
}

impl SurveyDefinition {
    /// Every text of the survey with its place (`questions[2].text`, …).
    fn texts(&self) -> Vec<(String, &Texts)> {
        let mut out: Vec<(String, &Texts)> = Vec::new();
        if let Some(t) = &self.title {
            out.push(("title".to_owned(), t));
        }
        for (i, q) in self.questions.iter().enumerate() {
            out.push((format!("questions[{i}].text"), &q.text));
            if let Some(t) = &q.min_label {
                out.push((format!("questions[{i}].min_label"), t));
            }
            if let Some(t) = &q.max_label {
                out.push((format!("questions[{i}].max_label"), t));
            }
            for (j, o) in q.options.iter().enumerate() {
                if let Some(t) = &o.text {
                    out.push((format!("questions[{i}].options[{j}].text"), t));
                }
            }
        }
        if let Some(r) = &self.review {
            for (j, l) in r.links.iter().enumerate() {
                out.push((format!("review.links[{j}].label"), &l.label));
            }
        }
        out
    }

    /// The languages the survey is written in: every language any of its
    /// texts has (a text given as one plain string is in none and all).
    pub fn languages(&self) -> Vec<String> {
        let mut found: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        for (_, t) in self.texts() {
            if let Texts::Many(m) = t {
                found.extend(
                    m.iter()
                        .filter(|(_, v)| !v.trim().is_empty())
                        .map(|(k, _)| k.as_str()),
                );
            }
        }
        found.into_iter().map(str::to_owned).collect()
    }

    /// The texts that lack one of the survey's languages, as problems
    /// (`questions[3].text`: "no text in uk"): a customer who picked that
    /// language would meet another one mid-survey.
    pub fn missing_texts(&self) -> Vec<Problem> {
        let languages = self.languages();
        self.texts()
            .into_iter()
            .filter_map(|(place, t)| {
                let Texts::Many(m) = t else { return None };
                let missing: Vec<&str> = languages
                    .iter()
                    .filter(|l| m.get(*l).is_none_or(|v| v.trim().is_empty()))
                    .map(String::as_str)
                    .collect();
                (!missing.is_empty()).then(|| {
                    problem(
                        &place,
                        format!(
                            "no text in {} (the survey's other texts have it); add it, or the customer who chose it reads another language here",
                            missing.join(", ")
                        ),
                    )
                })
            })
            .collect()
    }

    /// Checks a definition; every problem is reported with its place.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            problems.push(problem("name", "must be 1 to 200 characters"));
        }
        if self.title.as_ref().is_some_and(|t| t.longest() > 200) {
            problems.push(problem(
                "title",
                "must be at most 200 characters in each language",
            ));
        }
        if self.questions.is_empty() {
            problems.push(problem("questions", "a survey needs at least one question"));
        }
        if self.questions.len() > MAX_QUESTIONS {
            problems.push(problem(
                "questions",
                format!(
                    "holds {} questions; a survey may ask at most {MAX_QUESTIONS} (every terminal downloads it, and the customer is at the door)",
                    self.questions.len()
                ),
            ));
            return problems;
        }
        if let Some(t) = &self.targeting {
            t.validate(&mut problems);
        }
        if let Some(r) = &self.review {
            r.validate(&mut problems);
            if !self.questions.iter().any(|q| q.kind == QuestionType::Nps) {
                problems.push(problem(
                    "review",
                    "a review request follows the NPS answer; add an nps question",
                ));
            }
        }
        if let Some(r) = &self.recording {
            if !(10..=Recording::MAX_SECONDS).contains(&r.max_seconds) {
                problems.push(problem(
                    "recording.max_seconds",
                    format!(
                        "must be 10 to {} seconds (default {})",
                        Recording::MAX_SECONDS,
                        Recording::DEFAULT_SECONDS
                    ),
                ));
            }
            if self.inspection {
                problems.push(problem(
                    "recording",
                    "an inspection records no conversation: the customer is not there",
                ));
            }
        }
        if self.timeout_seconds == Some(0) {
            problems.push(problem(
                "timeout_seconds",
                "must be more than 0 (or left out for no time-out)",
            ));
        }
        let mut seen: HashMap<&str, &Question> = HashMap::new();
        let mut consent_before = false;
        for (i, q) in self.questions.iter().enumerate() {
            let at = |f: &str| format!("questions[{i}].{f}");
            if q.id.trim().is_empty()
                || q.id.len() > 64
                || !q
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
            {
                problems.push(problem(
                    at("id"),
                    format!(
                        "{:?} is not a question id (1 to 64 of a-z, 0-9, _ - .)",
                        q.id
                    ),
                ));
            }
            if seen.contains_key(q.id.as_str()) {
                problems.push(problem(
                    at("id"),
                    format!(
                        "{:?} is used by an earlier question; ids must be unique",
                        q.id
                    ),
                ));
            }
            if q.text.is_empty() {
                problems.push(problem(at("text"), "every question needs its text"));
            }
            if q.text.longest() > MAX_TEXT {
                problems.push(problem(
                    at("text"),
                    format!("is longer than {MAX_TEXT} characters"),
                ));
            }
            if q.options.len() > MAX_OPTIONS {
                problems.push(problem(
                    at("options"),
                    format!(
                        "holds {} options; a question may offer at most {MAX_OPTIONS}",
                        q.options.len()
                    ),
                ));
                continue;
            }
            if q.options
                .iter()
                .any(|o| o.id.len() > 64 || o.text.as_ref().is_some_and(|t| t.longest() > MAX_TEXT))
            {
                problems.push(problem(
                    at("options"),
                    format!(
                        "an option id is at most 64 characters, and its text at most {MAX_TEXT}"
                    ),
                ));
            }
            match q.kind {
                QuestionType::Scale => {
                    match (q.min, q.max) {
                        (Some(min), Some(max)) if min < max && max - min <= 100 => {}
                        (Some(_), Some(_)) => problems.push(problem(
                            at("max"),
                            "a scale needs min < max (at most 100 points apart)",
                        )),
                        _ => problems.push(problem(
                            at("min"),
                            "a scale needs its min and max, e.g. 1 and 5",
                        )),
                    }
                    match q.measures.as_deref().map(Measure::parse) {
                        Some(Some(_)) => {}
                        Some(None) => problems.push(problem(
                            at("measures"),
                            format!(
                                "{:?} is not something a scale measures ({MEASURES})",
                                q.measures.as_deref().unwrap_or("")
                            ),
                        )),
                        None => problems.push(problem(
                            at("measures"),
                            format!("say what the scale measures: {MEASURES}"),
                        )),
                    }
                    if q.weight.is_some_and(|w| !(w > 0.0 && w.is_finite())) {
                        problems.push(problem(
                            at("weight"),
                            "an importance weight must be a positive number",
                        ));
                    }
                }
                QuestionType::SingleChoice | QuestionType::MultiChoice => {
                    if q.options.is_empty() {
                        problems.push(problem(at("options"), "a choice needs at least one option"));
                    }
                    let mut ids = HashSet::new();
                    for (j, o) in q.options.iter().enumerate() {
                        if o.id.trim().is_empty() || !ids.insert(o.id.as_str()) {
                            problems.push(problem(
                                format!("questions[{i}].options[{j}].id"),
                                format!("{:?}: option ids must be non-empty and unique", o.id),
                            ));
                        }
                    }
                }
                QuestionType::Voice | QuestionType::Photo if !consent_before => {
                    problems.push(problem(at("type"), "photo and voice need a consent question before them: without consent they are not offered"));
                }
                _ => {}
            }
            if let Some(rule) = &q.show_if {
                match seen.get(rule.question.as_str()) {
                    None => problems.push(problem(
                        at("show_if.question"),
                        format!("{:?} is not an earlier question", rule.question),
                    )),
                    Some(_)
                        if rule.min.is_none()
                            && rule.max.is_none()
                            && rule.any_of.is_none()
                            && rule.equals.is_none() =>
                    {
                        problems.push(problem(
                            at("show_if"),
                            "give a condition: min and/or max, in, or equals",
                        ));
                    }
                    Some(on) => check_rule(rule, on, &at, &mut problems),
                }
            }
            if q.kind == QuestionType::Consent {
                consent_before = true;
            }
            seen.insert(&q.id, q);
        }
        problems
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }
}

/// What a scale measures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measure {
    Csi,
    Csat,
    Ces,
    Factor(String),
}

impl Measure {
    pub fn parse(s: &str) -> Option<Measure> {
        match s.trim() {
            "csi" => Some(Measure::Csi),
            "csat" => Some(Measure::Csat),
            "ces" => Some(Measure::Ces),
            other => other
                .strip_prefix("factor:")
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| Measure::Factor(n.to_owned())),
        }
    }
}

/// How a survey session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    Completed,
    Refused,
    TimedOut,
}

impl ResponseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseStatus::Completed => "completed",
            ResponseStatus::Refused => "refused",
            ResponseStatus::TimedOut => "timed_out",
        }
    }

    /// A status as stored (anything unknown reads as completed).
    pub fn from_stored(s: &str) -> ResponseStatus {
        match s {
            "refused" => ResponseStatus::Refused,
            "timed_out" => ResponseStatus::TimedOut,
            _ => ResponseStatus::Completed,
        }
    }
}

/// How a response reached Doorstep: a courier's terminal, a customer's
/// survey link, another system through the API, or the customer's status
/// page of a support case (the built-in support survey).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Terminal,
    Link,
    Api,
    Support,
}

/// The built-in survey the status page asks after a case is resolved; it
/// is never offered at the door.
pub const SUPPORT_SURVEY_ID: &str = "support";

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Terminal,
        Channel::Link,
        Channel::Api,
        Channel::Support,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Terminal => "terminal",
            Channel::Link => "link",
            Channel::Api => "api",
            Channel::Support => "support",
        }
    }

    /// A channel by its name; `None` for any other word.
    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Which answers a figure covers besides their period: every dimension that
/// is set must match (a missing partner matches the empty one). The one
/// filter of the API, the console, reports and the store's queries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dimensions {
    pub courier: Option<String>,
    pub city: Option<String>,
    pub partner: Option<String>,
    pub segment: Option<crate::Segment>,
    pub survey: Option<String>,
    pub channel: Option<Channel>,
}

impl Dimensions {
    /// Each dimension's rollup column and wanted value, where one is set.
    pub fn columns(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("courier_id", self.courier.as_deref()),
            ("city", self.city.as_deref()),
            ("partner", self.partner.as_deref()),
            ("segment", self.segment.map(crate::Segment::as_str)),
            ("survey_id", self.survey.as_deref()),
            ("channel", self.channel.map(Channel::as_str)),
        ]
        .into_iter()
        .filter_map(|(c, v)| Some((c, v?)))
    }

    /// Whether something with these dimensions (as stored: names, `new`,
    /// `terminal`; no courier is `None`) passes the filter.
    pub fn admit(
        &self,
        courier: Option<&str>,
        city: &str,
        partner: &str,
        segment: &str,
        survey: &str,
        channel: &str,
    ) -> bool {
        let is = |want: Option<&str>, have: &str| want.is_none_or(|w| w == have);
        self.courier.as_deref().is_none_or(|w| courier == Some(w))
            && is(self.city.as_deref(), city)
            && is(self.partner.as_deref(), partner)
            && is(self.segment.map(crate::Segment::as_str), segment)
            && is(self.survey.as_deref(), survey)
            && is(self.channel.map(Channel::as_str), channel)
    }
}

/// One checked answer, in the form it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedAnswer {
    pub question_id: String,
    pub kind: QuestionType,
    /// NPS and scale answers.
    pub number: Option<f64>,
    /// Single and multiple choice: the option ids.
    pub options: Vec<String>,
    /// Free text, the "other" text of a choice, or an attachment id.
    pub text: Option<String>,
    /// Consent.
    pub flag: Option<bool>,
}

/// A fingerprint of the answers tapped (numbers, options, consents; free
/// text and attachments left out), in question order: the same sequence
/// given again and again reads as the same fingerprint. `None` without any.
pub fn answer_signature(answers: &[CheckedAnswer]) -> Option<String> {
    use std::fmt::Write;
    let mut parts: Vec<(&str, String)> = answers
        .iter()
        .filter_map(|a| {
            let v = if let Some(n) = a.number {
                format!("{n}")
            } else if !a.options.is_empty() {
                let mut o = a.options.clone();
                o.sort();
                o.join("+")
            } else if let Some(f) = a.flag {
                if f { "yes" } else { "no" }.to_owned()
            } else {
                return None;
            };
            Some((a.question_id.as_str(), v))
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    parts.sort();
    let mut out = String::new();
    for (q, v) in parts {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{q}={v}");
    }
    // Bounded: a fingerprint, not a copy of the answers.
    if out.len() > 400 {
        let mut end = 400;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    Some(out)
}

fn matches(rule: &ShowIf, answer: &CheckedAnswer) -> bool {
    if let Some(n) = answer.number {
        return rule.min.is_none_or(|m| n >= m)
            && rule.max.is_none_or(|m| n <= m)
            && rule
                .any_of
                .as_ref()
                .is_none_or(|list| list.iter().any(|v| v.as_f64() == Some(n)))
            && rule.equals.as_ref().is_none_or(|v| v.as_f64() == Some(n));
    }
    if let Some(flag) = answer.flag {
        return rule
            .equals
            .as_ref()
            .is_none_or(|v| v.as_bool() == Some(flag));
    }
    let in_list = |id: &String| {
        rule.any_of
            .as_ref()
            .is_some_and(|list| list.iter().any(|v| v.as_str() == Some(id)))
    };
    let equal = |id: &String| rule.equals.as_ref().is_some_and(|v| v.as_str() == Some(id));
    answer.options.iter().any(|id| in_list(id) || equal(id))
}

/// Checks the answers of one response against the survey version it
/// answered: types, ranges, options, show-if and consent. Returns the
/// answers in storable form, or every problem found.
pub fn check_answers(
    survey: &SurveyDefinition,
    status: ResponseStatus,
    answers: &[(String, Value)],
) -> Result<Vec<CheckedAnswer>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut given: HashMap<&str, CheckedAnswer> = HashMap::new();
    for (i, (question_id, value)) in answers.iter().enumerate() {
        let at = |f: &str| format!("answers[{i}].{f}");
        let Some(q) = survey.question(question_id) else {
            problems.push(problem(
                at("question_id"),
                format!("{question_id:?} is not a question of this survey version"),
            ));
            continue;
        };
        if given.contains_key(question_id.as_str()) {
            problems.push(problem(
                at("question_id"),
                format!("{question_id:?} is answered twice"),
            ));
            continue;
        }
        match check_value(q, value) {
            Ok(answer) => {
                given.insert(&q.id, answer);
            }
            Err(message) => problems.push(problem(at("value"), message)),
        }
    }
    // Show-if and consent, in the survey's order.
    let mut consent = false;
    for q in &survey.questions {
        let shown = q.show_if.as_ref().is_none_or(|rule| {
            given
                .get(rule.question.as_str())
                .is_some_and(|a| matches(rule, a))
        });
        let answered = given.contains_key(q.id.as_str());
        if answered && !shown {
            problems.push(problem(format!("answers.{}", q.id), "was not shown to this customer (its show_if condition is not met), so it cannot be answered"));
        }
        if answered && matches!(q.kind, QuestionType::Voice | QuestionType::Photo) && !consent {
            problems.push(problem(format!("answers.{}", q.id), "photo and voice are kept only after the customer's consent, and no consent was given"));
        }
        if q.kind == QuestionType::Consent {
            consent = given.get(q.id.as_str()).and_then(|a| a.flag) == Some(true);
        }
        if status == ResponseStatus::Completed && q.required && shown && !answered {
            problems.push(problem(
                format!("answers.{}", q.id),
                "is required in a completed response",
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut out: Vec<CheckedAnswer> = given.into_values().collect();
    out.sort_by(|a, b| a.question_id.cmp(&b.question_id));
    Ok(out)
}

/// Walks the survey in order as the terminal does: a question is shown
/// when its show-if holds on the answers kept so far (those of questions
/// shown; an answer to a hidden question does not count), and a photo or
/// voice question only after a consent answered yes. Returns the questions
/// shown and the answers kept.
fn walk<'a>(
    survey: &'a SurveyDefinition,
    answers: &[(String, Value)],
) -> (Vec<&'a Question>, Vec<(String, Value)>) {
    let mut given: HashMap<&str, CheckedAnswer> = HashMap::new();
    let mut shown = Vec::new();
    let mut kept = Vec::new();
    let mut consent = false;
    for q in &survey.questions {
        let visible = q.show_if.as_ref().is_none_or(|rule| {
            given
                .get(rule.question.as_str())
                .is_some_and(|a| matches(rule, a))
        }) && (!matches!(q.kind, QuestionType::Photo | QuestionType::Voice)
            || consent);
        if visible {
            shown.push(q);
            if let Some((id, value)) = answers.iter().find(|(id, _)| *id == q.id) {
                if let Ok(checked) = check_value(q, value) {
                    given.insert(q.id.as_str(), checked);
                }
                kept.push((id.clone(), value.clone()));
            }
        }
        if q.kind == QuestionType::Consent {
            consent = given.get(q.id.as_str()).and_then(|a| a.flag) == Some(true);
        }
    }
    (shown, kept)
}

/// The ids of the questions shown to a customer who gave `answers`, in the
/// survey's order (see [`walk`]): the rule the terminal's and the link
/// page's JavaScript apply, tested against the same fixtures.
pub fn shown_questions(survey: &SurveyDefinition, answers: &[(String, Value)]) -> Vec<String> {
    walk(survey, answers)
        .0
        .into_iter()
        .map(|q| q.id.clone())
        .collect()
}

/// Keeps only the answers to questions that were shown, given the earlier
/// answers: a form without scripts sends every field, and a customer's
/// change of mind must not turn into an error.
pub fn shown_only(survey: &SurveyDefinition, answers: &[(String, Value)]) -> Vec<(String, Value)> {
    walk(survey, answers).1
}

fn check_value(q: &Question, value: &Value) -> Result<CheckedAnswer, String> {
    let mut answer = CheckedAnswer {
        question_id: q.id.clone(),
        kind: q.kind,
        number: None,
        options: Vec::new(),
        text: None,
        flag: None,
    };
    match q.kind {
        QuestionType::Nps => {
            let n = value
                .as_i64()
                .filter(|n| (0..=10).contains(n))
                .ok_or_else(|| format!("{value} is not an NPS answer (a whole number 0 to 10)"))?;
            answer.number = Some(n as f64);
        }
        QuestionType::Scale => {
            let (min, max) = (q.min.unwrap_or(1), q.max.unwrap_or(5));
            let n = value
                .as_i64()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    format!("{value} is not on this scale (a whole number {min} to {max})")
                })?;
            answer.number = Some(n as f64);
        }
        QuestionType::SingleChoice => {
            let id = value
                .as_str()
                .ok_or_else(|| format!("{value} is not an option id (a string)"))?;
            if !q.options.iter().any(|o| o.id == id) {
                return Err(format!("{id:?} is not an option of this question"));
            }
            answer.options.push(id.to_owned());
        }
        QuestionType::MultiChoice => {
            let list: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                Value::Object(map) => {
                    // {"options": [...], "other": "text"}
                    answer.text = map.get("other").and_then(Value::as_str).map(str::to_owned);
                    map.get("options")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().collect())
                        .ok_or("a multiple choice answer is a list of option ids")?
                }
                _ => return Err(format!("{value} is not a list of option ids")),
            };
            for item in list {
                let id = item
                    .as_str()
                    .ok_or_else(|| format!("{item} is not an option id"))?;
                if !q.options.iter().any(|o| o.id == id) {
                    return Err(format!("{id:?} is not an option of this question"));
                }
                if !answer.options.iter().any(|o| o == id) {
                    answer.options.push(id.to_owned());
                }
            }
            if answer.text.is_some() && !q.other {
                return Err("this question takes no \"other\" text".to_owned());
            }
        }
        QuestionType::Text => {
            let t = value
                .as_str()
                .ok_or_else(|| format!("{value} is not a text"))?;
            if t.chars().count() > 4000 {
                return Err("is longer than 4000 characters".to_owned());
            }
            answer.text = Some(t.to_owned());
        }
        QuestionType::Voice | QuestionType::Photo => {
            let id = value
                .as_str()
                .filter(|s| !s.trim().is_empty() && s.len() <= 128)
                .ok_or_else(|| format!("{value} is not an attachment id"))?;
            answer.text = Some(id.to_owned());
        }
        QuestionType::Consent => {
            answer.flag = Some(
                value
                    .as_bool()
                    .ok_or_else(|| format!("{value} is not a consent answer (true or false)"))?,
            );
        }
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn door_survey() -> SurveyDefinition {
        serde_json::from_value(json!({
            "name": "Door survey",
            "questions": [
                {"id": "nps", "type": "nps", "text": {"ru": "Порекомендуете нас?", "en": "Would you recommend us?"}, "required": true},
                {"id": "why", "type": "multi_choice", "text": "Что пошло не так?", "other": true,
                 "options": [{"id": "late"}, {"id": "damaged"}], "show_if": {"question": "nps", "max": 6}},
                {"id": "csi", "type": "scale", "text": "Оцените доставку", "min": 1, "max": 9, "measures": "csi"},
                {"id": "ok", "type": "consent", "text": "Можно сфотографировать?"},
                {"id": "photo", "type": "photo", "text": "Фото", "show_if": {"question": "ok", "equals": true}}
            ]
        }))
        .unwrap()
    }

    fn answers(v: &Value) -> Vec<(String, Value)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["question_id"].as_str().unwrap().to_owned(),
                    a["value"].clone(),
                )
            })
            .collect()
    }

    #[test]
    fn show_if_values_must_have_the_type_of_the_answer_they_compare_with() {
        let survey = |rule: Value, on: Value| -> Vec<String> {
            let def: SurveyDefinition = serde_json::from_value(json!({
                "name": "n",
                "questions": [on, {"id": "next", "type": "text", "text": "t", "show_if": rule}]
            }))
            .unwrap();
            def.validate()
                .into_iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect()
        };
        let nps = json!({"id": "nps", "type": "nps", "text": "n"});
        let choice = json!({"id": "why", "type": "multi_choice", "text": "w", "options": [{"id": "late"}, {"id": "rude"}]});
        let consent = json!({"id": "ok", "type": "consent", "text": "c"});
        let text = json!({"id": "say", "type": "text", "text": "s"});
        assert_eq!(
            survey(json!({"question": "nps", "in": [9, 10]}), nps.clone()),
            Vec::<String>::new()
        );
        let strings = survey(json!({"question": "nps", "in": ["9", "10"]}), nps.clone());
        assert_eq!(strings.len(), 2, "{strings:?}");
        assert!(
            strings[0].starts_with("questions[1].show_if.in: \"9\" is not a number"),
            "{strings:?}"
        );
        assert_eq!(
            survey(json!({"question": "nps", "equals": "9"}), nps).len(),
            1
        );
        assert_eq!(
            survey(json!({"question": "why", "in": ["late"]}), choice.clone()),
            Vec::<String>::new()
        );
        let unknown = survey(
            json!({"question": "why", "in": ["lost", 3]}),
            choice.clone(),
        );
        assert_eq!(unknown.len(), 2, "{unknown:?}");
        assert!(
            unknown[0].contains("not an option of \"why\" (late, rude)"),
            "{unknown:?}"
        );
        assert_eq!(
            survey(json!({"question": "why", "max": 3}), choice).len(),
            1
        );
        assert_eq!(
            survey(json!({"question": "ok", "equals": true}), consent.clone()),
            Vec::<String>::new()
        );
        assert_eq!(
            survey(json!({"question": "ok", "equals": "yes"}), consent).len(),
            1
        );
        assert_eq!(
            survey(json!({"question": "say", "equals": "x"}), text).len(),
            1
        );
    }

    #[test]
    fn a_survey_has_at_most_a_hundred_questions_of_fifty_options() {
        let questions: Vec<Value> = (0..=MAX_QUESTIONS)
            .map(|i| json!({"id": format!("q{i}"), "type": "nps", "text": "n"}))
            .collect();
        let def: SurveyDefinition =
            serde_json::from_value(json!({"name": "n", "questions": questions})).unwrap();
        let problems = def.validate();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "questions");
        assert!(problems[0].message.contains("at most 100"), "{problems:?}");
        let options: Vec<Value> = (0..=MAX_OPTIONS)
            .map(|i| json!({"id": format!("o{i}")}))
            .collect();
        let def: SurveyDefinition = serde_json::from_value(json!({"name": "n", "questions": [
            {"id": "c", "type": "single_choice", "text": "c", "options": options},
            {"id": "t", "type": "text", "text": "x".repeat(MAX_TEXT + 1)}
        ]}))
        .unwrap();
        let fields: Vec<String> = def.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["questions[0].options", "questions[1].text"]);
    }

    #[test]
    fn a_good_definition_has_no_problems() {
        assert!(door_survey().validate().is_empty());
    }

    #[test]
    fn definition_problems_say_where() {
        let bad: SurveyDefinition = serde_json::from_value(json!({
            "name": "",
            "questions": [
                {"id": "s", "type": "scale", "text": "x", "min": 5, "max": 1, "measures": "mood"},
                {"id": "s", "type": "photo", "text": "y"},
                {"id": "c", "type": "single_choice", "text": "z", "options": [], "show_if": {"question": "later", "max": 1}}
            ]
        }))
        .unwrap();
        let fields: Vec<String> = bad.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "name",
                "questions[0].max",
                "questions[0].measures",
                "questions[1].id",
                "questions[1].type",
                "questions[2].options",
                "questions[2].show_if.question"
            ]
        );
    }

    #[test]
    fn answers_follow_types_ranges_and_show_if() {
        let s = door_survey();
        let ok = check_answers(
            &s,
            ResponseStatus::Completed,
            &answers(&json!([
                {"question_id": "nps", "value": 3}, {"question_id": "why", "value": ["late"]},
                {"question_id": "ok", "value": true}, {"question_id": "photo", "value": "att-1"}
            ])),
        )
        .unwrap();
        assert_eq!(ok.len(), 4);
        // A promoter never saw "what went wrong".
        let err = check_answers(
            &s,
            ResponseStatus::Completed,
            &answers(&json!([
                {"question_id": "nps", "value": 10}, {"question_id": "why", "value": ["late"]}
            ])),
        )
        .unwrap_err();
        assert_eq!(err[0].field, "answers.why");
        let err = check_answers(&s, ResponseStatus::Completed, &answers(&json!([
            {"question_id": "nps", "value": 11}, {"question_id": "csi", "value": 0}, {"question_id": "zzz", "value": 1}
        ])))
        .unwrap_err();
        let fields: Vec<&str> = err.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "answers[0].value",
                "answers[1].value",
                "answers[2].question_id",
                "answers.nps"
            ]
        );
    }

    fn facts<'a>(
        number: &'a str,
        segment: crate::Segment,
        city: &'a str,
        amount: i64,
    ) -> OrderFacts<'a> {
        OrderFacts {
            order_number: number,
            segment,
            city,
            partner: Some("Лавка"),
            amount: Some(crate::Money::from_minor(amount * 100)),
        }
    }

    #[test]
    fn targeting_picks_the_highest_priority_survey_that_fits() {
        let mut first = door_survey();
        first.targeting =
            Some(serde_json::from_value(json!({"segments": ["new"], "priority": 5})).unwrap());
        let mut big = door_survey();
        big.targeting = Some(
            serde_json::from_value(
                json!({"amount_min": "5 000", "cities": ["Москва"], "priority": 9}),
            )
            .unwrap(),
        );
        let general = door_survey();
        let surveys = vec![
            ("first".to_owned(), first),
            ("big".to_owned(), big),
            ("general".to_owned(), general),
        ];
        use crate::Segment::{New, Repeat};
        assert_eq!(
            choose_survey(&facts("A-1", New, "Москва", 100), &surveys),
            Some("first")
        );
        assert_eq!(
            choose_survey(&facts("A-2", New, "Москва", 9000), &surveys),
            Some("big")
        );
        assert_eq!(
            choose_survey(&facts("A-3", Repeat, "Київ", 9000), &surveys),
            Some("general")
        );
    }

    #[test]
    fn sampling_asks_about_one_in_n_and_always_the_same_orders() {
        let mut sampled = door_survey();
        sampled.targeting = Some(serde_json::from_value(json!({"sample_one_in": 4})).unwrap());
        let surveys = vec![("s".to_owned(), sampled)];
        let picked = (0..4000)
            .filter(|i| {
                let number = format!("N-{i}");
                choose_survey(
                    &facts(&number, crate::Segment::New, "Москва", 100),
                    &surveys,
                )
                .is_some()
            })
            .count();
        assert!((850..1150).contains(&picked), "about a quarter: {picked}");
        let again = facts("N-17", crate::Segment::New, "Москва", 100);
        assert_eq!(
            choose_survey(&again, &surveys),
            choose_survey(&again, &surveys)
        );
    }

    #[test]
    fn targeting_problems_say_where() {
        let mut s = door_survey();
        s.targeting = Some(
            serde_json::from_value(
                json!({"segments": ["vip"], "amount_min": "x", "sample_one_in": 0}),
            )
            .unwrap(),
        );
        let fields: Vec<String> = s.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "targeting.segments[0]",
                "targeting.amount_min",
                "targeting.sample_one_in"
            ]
        );
    }

    #[test]
    fn hidden_answers_are_dropped_not_refused() {
        let s = door_survey();
        let kept = shown_only(
            &s,
            &answers(&json!([
                {"question_id": "nps", "value": 10}, {"question_id": "why", "value": ["late"]}, {"question_id": "csi", "value": 8}
            ])),
        );
        let ids: Vec<&str> = kept.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["nps", "csi"]);
    }

    #[test]
    fn photos_need_consent_and_refusals_need_no_answers() {
        let s = door_survey();
        let err = check_answers(&s, ResponseStatus::Completed, &answers(&json!([
            {"question_id": "nps", "value": 9}, {"question_id": "ok", "value": false}, {"question_id": "photo", "value": "att-1"}
        ])))
        .unwrap_err();
        assert!(err.iter().any(|p| p.message.contains("consent")));
        assert!(check_answers(&s, ResponseStatus::Refused, &[])
            .unwrap()
            .is_empty());
        // A time-out keeps what was answered, without the required ones.
        assert_eq!(
            check_answers(
                &s,
                ResponseStatus::TimedOut,
                &answers(&json!([{"question_id": "csi", "value": 7}]))
            )
            .unwrap()
            .len(),
            1
        );
    }
}
