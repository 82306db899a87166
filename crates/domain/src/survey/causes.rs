//! Root causes: a vocabulary of reasons for discontent and delight that the
//! quality manager keeps, and the rules that tag each response with them —
//! from the reason options the customer chose, and from free text by
//! keyword rules for Russian and English, matched on word stems (Snowball),
//! so "опоздал", "опоздание" and "опоздали" are one rule.
//!
//! A keyword is a word or a phrase (its words must follow one another);
//! `*` at the end of a word matches any word starting so ("задерж*"). A match
//! right after a negation ("не", "not", "no", "never", "без") does not count,
//! unless the rule itself starts with one ("не позвонил").

use std::collections::{BTreeMap, HashMap, HashSet};

use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};

use crate::survey::{CheckedAnswer, QuestionType};

/// Ids the console's addresses use (`/causes/untagged`, `/causes/rules`).
const RESERVED_IDS: [&str; 3] = ["untagged", "rules", "tags"];

/// The languages keyword rules are written in.
pub const RULE_LANGUAGES: [&str; 2] = ["ru", "en"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    Discontent,
    Delight,
}

impl Polarity {
    pub fn as_str(self) -> &'static str {
        match self {
            Polarity::Discontent => "discontent",
            Polarity::Delight => "delight",
        }
    }

    pub fn parse(s: &str) -> Option<Polarity> {
        match s {
            "discontent" => Some(Polarity::Discontent),
            "delight" => Some(Polarity::Delight),
            _ => None,
        }
    }
}

/// One cause of the vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    /// Lower-case letters, digits and `_`; stays the same when the labels change.
    pub id: String,
    pub polarity: Polarity,
    /// The name shown, per language (`ru`, `en`, …).
    pub label: BTreeMap<String, String>,
    /// Survey choice options that mean this cause (by option id). An option
    /// whose id is the cause's own id always does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Keyword rules per language (`ru`, `en`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keywords: BTreeMap<String, Vec<String>>,
}

impl Cause {
    /// The label in `lang`, else English, else any, else the id.
    pub fn label_in(&self, lang: &str) -> &str {
        self.label
            .get(lang)
            .or_else(|| self.label.get("en"))
            .or_else(|| self.label.values().next())
            .map_or(self.id.as_str(), String::as_str)
    }
}

/// The whole vocabulary, in the order the manager keeps it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Vocabulary {
    pub causes: Vec<Cause>,
}

/// What is wrong with a vocabulary, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VocabularyError {
    /// `causes[2].id`, `causes[0].keywords.ru[3]`, …
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for VocabularyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl Vocabulary {
    pub fn cause(&self, id: &str) -> Option<&Cause> {
        self.causes.iter().find(|c| c.id == id)
    }

    /// Every problem at once, each with its place.
    pub fn check(&self) -> Result<(), Vec<VocabularyError>> {
        let mut errors = Vec::new();
        let mut seen = HashSet::new();
        let mut err =
            |path: String, message: String| errors.push(VocabularyError { path, message });
        for (i, c) in self.causes.iter().enumerate() {
            let at = format!("causes[{i}]");
            if c.id.is_empty()
                || c.id.len() > 40
                || !c
                    .id
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
            {
                err(
                    format!("{at}.id"),
                    format!(
                        "{:?} is not a usable id: use 1–40 lower-case Latin letters, digits or _",
                        c.id
                    ),
                );
            } else if RESERVED_IDS.contains(&c.id.as_str()) {
                err(
                    format!("{at}.id"),
                    format!("{:?} is reserved by the console; choose another id", c.id),
                );
            } else if !seen.insert(c.id.as_str()) {
                err(
                    format!("{at}.id"),
                    format!("{:?} is used by an earlier cause; ids must differ", c.id),
                );
            }
            if c.label.values().all(|l| l.trim().is_empty()) {
                err(
                    format!("{at}.label"),
                    "give the cause a name in at least one language".to_owned(),
                );
            }
            for (lang, words) in &c.keywords {
                if !RULE_LANGUAGES.contains(&lang.as_str()) {
                    err(
                        format!("{at}.keywords.{lang}"),
                        format!(
                            "keyword rules are for {} only",
                            RULE_LANGUAGES.join(" and ")
                        ),
                    );
                }
                for (j, w) in words.iter().enumerate() {
                    if words_of(w).is_empty() {
                        err(
                            format!("{at}.keywords.{lang}[{j}]"),
                            format!("{w:?} has no word in it"),
                        );
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The vocabulary a new deployment starts with: the usual reasons of a
    /// delivery service, with Russian and English rules.
    pub fn standard() -> Vocabulary {
        fn cause(
            id: &str,
            polarity: Polarity,
            ru: &str,
            en: &str,
            ru_words: &[&str],
            en_words: &[&str],
        ) -> Cause {
            let list = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
            Cause {
                id: id.to_owned(),
                polarity,
                label: BTreeMap::from([("ru".into(), ru.into()), ("en".into(), en.into())]),
                options: Vec::new(),
                keywords: BTreeMap::from([
                    ("ru".to_owned(), list(ru_words)),
                    ("en".to_owned(), list(en_words)),
                ]),
            }
        }
        use Polarity::{Delight, Discontent};
        Vocabulary {
            causes: vec![
                cause(
                    "late",
                    Discontent,
                    "Опоздание",
                    "Late delivery",
                    &[
                        "опоздал",
                        "опоздание",
                        "задерж*",
                        "долго ждал",
                        "позже",
                        "не вовремя",
                    ],
                    &["late", "delay*", "waited", "not on time"],
                ),
                cause(
                    "no_call",
                    Discontent,
                    "Не предупредили",
                    "No call or warning",
                    &[
                        "не позвонил",
                        "не предупредил",
                        "никто не предупредил",
                        "не дозвон*",
                    ],
                    &["did not call", "didn't call", "no call", "no warning"],
                ),
                cause(
                    "damaged",
                    Discontent,
                    "Повреждённый заказ",
                    "Damaged order",
                    &["порван", "помят", "разбит", "поврежд*", "сломан", "протек*"],
                    &["damaged", "broken", "torn", "crushed", "leak*"],
                ),
                cause(
                    "missing",
                    Discontent,
                    "Чего-то не хватало",
                    "Something was missing",
                    &["не хватало", "не было", "недоложил*", "потерял"],
                    &["missing", "not included", "lost"],
                ),
                cause(
                    // Also what a courier records when the customer
                    // refuses an item for its quality.
                    "quality",
                    Discontent,
                    "Качество товара",
                    "Product quality",
                    &["несвеж*", "испорчен*", "просроч*", "тухл*", "невкусн*"],
                    &["stale", "spoiled", "expired", "rotten", "not fresh"],
                ),
                Cause {
                    // What a courier records when the customer refuses
                    // an item as the wrong one.
                    options: vec!["wrong_item".to_owned()],
                    ..cause(
                        "wrong",
                        Discontent,
                        "Привезли не то",
                        "Wrong item",
                        &["перепутал", "не то", "чужой заказ", "другой товар"],
                        &["wrong", "mixed up", "someone else's"],
                    )
                },
                cause(
                    "rude",
                    Discontent,
                    "Невежливый курьер",
                    "Impolite courier",
                    &["груб*", "хам*", "невежлив*", "нахамил"],
                    &["rude", "impolite", "unfriendly"],
                ),
                cause(
                    "packaging",
                    Discontent,
                    "Упаковка",
                    "Packaging",
                    &["упаковк*", "пакет"],
                    &["packaging", "package", "bag"],
                ),
                cause(
                    "fast",
                    Delight,
                    "Быстро",
                    "Fast",
                    &["быстро", "раньше", "оперативн*"],
                    &["fast", "quick*", "early", "earlier"],
                ),
                cause(
                    "polite",
                    Delight,
                    "Вежливый курьер",
                    "Polite courier",
                    &["вежлив*", "приятн*", "доброжелательн*"],
                    &["polite", "friendly", "kind"],
                ),
                cause(
                    "careful",
                    Delight,
                    "Аккуратно",
                    "Handled with care",
                    &["аккуратн*", "бережн*", "упакован"],
                    &["careful*", "neat*", "well packed"],
                ),
                cause(
                    "on_time",
                    Delight,
                    "Точно ко времени",
                    "Right on time",
                    &["вовремя", "точно в срок", "пунктуальн*"],
                    &["on time", "punctual"],
                ),
            ],
        }
    }

    /// The vocabulary ready to tag with.
    pub fn tagger(&self) -> Tagger {
        let ru = Stemmer::create(Algorithm::Russian);
        let en = Stemmer::create(Algorithm::English);
        let mut options: HashMap<String, Vec<usize>> = HashMap::new();
        let mut rules = Vec::new();
        for (i, c) in self.causes.iter().enumerate() {
            for o in std::iter::once(&c.id).chain(&c.options) {
                let list = options.entry(o.clone()).or_default();
                if !list.contains(&i) {
                    list.push(i);
                }
            }
            for (lang, words) in &c.keywords {
                let stemmer = if lang == "ru" { &ru } else { &en };
                for w in words {
                    let terms: Vec<Term> = words_of(w)
                        .into_iter()
                        .map(|word| match word.strip_suffix('*') {
                            Some(prefix) if !prefix.is_empty() => Term::Prefix(prefix.to_owned()),
                            _ => Term::Stem(stemmer.stem(&word).into_owned()),
                        })
                        .collect();
                    if !terms.is_empty() {
                        let negated =
                            matches!(&terms[0], Term::Stem(s) if NEGATIONS.contains(&s.as_str()));
                        rules.push(Rule {
                            cause: i,
                            terms,
                            negated,
                        });
                    }
                }
            }
        }
        Tagger {
            ids: self.causes.iter().map(|c| c.id.clone()).collect(),
            options,
            rules,
            ru,
            en,
        }
    }
}

/// Words that turn a following match around.
const NEGATIONS: [&str; 5] = ["не", "not", "no", "never", "без"];

/// Where a tag came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagSource {
    /// A reason option the customer chose.
    Choice,
    /// A keyword rule matched the customer's words.
    Text,
    /// Set by hand by the quality team.
    Hand,
    /// What the customer told a dispatcher on a call-back.
    Call,
}

impl TagSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TagSource::Choice => "choice",
            TagSource::Text => "text",
            TagSource::Hand => "hand",
            TagSource::Call => "call",
        }
    }

    pub fn parse(s: &str) -> TagSource {
        match s {
            "choice" => TagSource::Choice,
            "text" => TagSource::Text,
            "call" => TagSource::Call,
            _ => TagSource::Hand,
        }
    }
}

/// One cause found in one response.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    pub cause_id: String,
    pub source: TagSource,
}

#[derive(Debug)]
enum Term {
    Stem(String),
    Prefix(String),
}

#[derive(Debug)]
struct Rule {
    cause: usize,
    terms: Vec<Term>,
    /// The rule starts with a negation itself.
    negated: bool,
}

/// A compiled vocabulary.
pub struct Tagger {
    ids: Vec<String>,
    options: HashMap<String, Vec<usize>>,
    rules: Vec<Rule>,
    ru: Stemmer,
    en: Stemmer,
}

impl std::fmt::Debug for Tagger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tagger")
            .field("causes", &self.ids)
            .field("rules", &self.rules.len())
            .finish_non_exhaustive()
    }
}

/// A word of a text: as written (lower case) and its stem.
struct Word {
    lower: String,
    stem: String,
}

impl Tagger {
    /// The causes in a response's answers: chosen options first, then
    /// keyword matches in its free text (each cause once; a choice wins).
    pub fn tag(&self, answers: &[CheckedAnswer]) -> Vec<Tag> {
        let mut found: BTreeMap<usize, TagSource> = BTreeMap::new();
        for a in answers {
            if matches!(
                a.kind,
                QuestionType::SingleChoice | QuestionType::MultiChoice
            ) {
                for o in &a.options {
                    for &i in self.options.get(o).map_or(&[][..], Vec::as_slice) {
                        found.insert(i, TagSource::Choice);
                    }
                }
            }
            let is_text = matches!(
                a.kind,
                QuestionType::Text | QuestionType::SingleChoice | QuestionType::MultiChoice
            );
            if let (true, Some(text)) = (is_text, &a.text) {
                for i in self.text_causes(text) {
                    found.entry(i).or_insert(TagSource::Text);
                }
            }
        }
        found
            .into_iter()
            .map(|(i, source)| Tag {
                cause_id: self.ids[i].clone(),
                source,
            })
            .collect()
    }

    /// The causes a piece of free text mentions.
    pub fn text_causes(&self, text: &str) -> Vec<usize> {
        let words: Vec<Word> = words_of(text)
            .into_iter()
            .map(|lower| {
                let cyrillic = lower.chars().any(|c| ('\u{400}'..='\u{4ff}').contains(&c));
                let stemmer = if cyrillic { &self.ru } else { &self.en };
                Word {
                    stem: stemmer.stem(&lower).into_owned(),
                    lower,
                }
            })
            .collect();
        let mut out = Vec::new();
        for rule in &self.rules {
            if out.contains(&rule.cause) {
                continue;
            }
            let n = rule.terms.len();
            let hit = (0..words.len().saturating_sub(n - 1)).any(|start| {
                let fits = rule
                    .terms
                    .iter()
                    .zip(&words[start..start + n])
                    .all(|(t, w)| match t {
                        Term::Stem(s) => w.stem == *s || w.lower == *s,
                        Term::Prefix(p) => w.lower.starts_with(p.as_str()),
                    });
                let after_negation = start > 0
                    && (NEGATIONS.contains(&words[start - 1].lower.as_str())
                        || NEGATIONS.contains(&words[start - 1].stem.as_str()));
                fits && (rule.negated || !after_negation)
            });
            if hit {
                out.push(rule.cause);
            }
        }
        out
    }
}

/// The words of a text, lower case, `ё` read as `е`; a trailing `*` kept
/// (it marks a prefix in rules). Apostrophes stay inside words.
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '*' || c == '\'' || c == '’'))
        .map(|w| {
            w.trim_matches(|c| c == '\'' || c == '’')
                .to_lowercase()
                .replace('ё', "е")
                .replace('’', "'")
        })
        .filter(|w| !w.is_empty() && w != "*")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> CheckedAnswer {
        CheckedAnswer {
            question_id: "comment".into(),
            kind: QuestionType::Text,
            number: None,
            options: Vec::new(),
            text: Some(t.into()),
            flag: None,
        }
    }

    fn chose(options: &[&str]) -> CheckedAnswer {
        CheckedAnswer {
            question_id: "why".into(),
            kind: QuestionType::MultiChoice,
            number: None,
            options: options.iter().map(|o| (*o).to_owned()).collect(),
            text: None,
            flag: None,
        }
    }

    fn ids(tags: &[Tag]) -> Vec<(&str, TagSource)> {
        tags.iter()
            .map(|t| (t.cause_id.as_str(), t.source))
            .collect()
    }

    #[test]
    fn russian_word_forms_meet_on_their_stem() {
        let tagger = Vocabulary::standard().tagger();
        for comment in [
            "Курьер опоздал почти на час",
            "Опоздание на 40 минут",
            "опоздали опять",
            "Заказ ЗАДЕРЖАЛИ",
        ] {
            assert_eq!(
                ids(&tagger.tag(&[text(comment)])),
                vec![("late", TagSource::Text)],
                "{comment}"
            );
        }
        assert_eq!(
            ids(&tagger.tag(&[text("The courier was late and rude")])),
            vec![("late", TagSource::Text), ("rude", TagSource::Text)]
        );
    }

    #[test]
    fn a_negation_before_a_match_cancels_it_unless_the_rule_starts_with_one() {
        let tagger = Vocabulary::standard().tagger();
        assert!(tagger.tag(&[text("Курьер не опоздал, спасибо")]).is_empty());
        assert_eq!(
            ids(&tagger.tag(&[text("Долго ждала, никто не предупредил")])),
            vec![("late", TagSource::Text), ("no_call", TagSource::Text)]
        );
        assert_eq!(
            ids(&tagger.tag(&[text("He was not late at all")])),
            Vec::<(&str, TagSource)>::new()
        );
    }

    #[test]
    fn chosen_options_tag_by_id_and_by_the_options_a_cause_lists() {
        let mut v = Vocabulary::standard();
        v.causes[0].options.push("delay".into());
        let tagger = v.tagger();
        assert_eq!(
            ids(&tagger.tag(&[chose(&["delay", "damaged"]), text("пакет был порван")])),
            vec![
                ("late", TagSource::Choice),
                ("damaged", TagSource::Choice),
                ("packaging", TagSource::Text)
            ]
        );
        // Option ids no cause knows are left alone.
        assert!(tagger.tag(&[chose(&["other_thing"])]).is_empty());
    }

    #[test]
    fn phrases_need_their_words_in_a_row() {
        let tagger = Vocabulary::standard().tagger();
        assert_eq!(
            ids(&tagger.tag(&[text("Everything was on time")])),
            vec![("on_time", TagSource::Text)]
        );
        assert!(tagger.tag(&[text("time was on my side")]).is_empty());
    }

    #[test]
    fn the_standard_vocabulary_is_valid_and_mistakes_are_named_with_their_place() {
        assert_eq!(Vocabulary::standard().check(), Ok(()));
        let mut v = Vocabulary::standard();
        v.causes[1].id = "late".into();
        v.causes[2].id = "Bad Id".into();
        v.causes[3].label.clear();
        v.causes[4]
            .keywords
            .insert("de".into(), vec!["spät".into()]);
        v.causes[5].keywords.insert("en".into(), vec!["  ".into()]);
        let errors = v.check().unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "causes[1].id",
                "causes[2].id",
                "causes[3].label",
                "causes[4].keywords.de",
                "causes[5].keywords.en[0]"
            ]
        );
        assert!(errors[0].message.contains("earlier cause"), "{}", errors[0]);
    }
}
