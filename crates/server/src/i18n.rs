//! All UI text through Fluent: English and Russian, complete.

use std::collections::BTreeMap;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// A language the console speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ru];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    /// The language's own name, for the switcher.
    pub fn native_name(self) -> &'static str {
        CustomerTr::native_name(self.code())
    }

    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The first supported language of an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        negotiate(header, &Lang::ALL.map(Lang::code)).and_then(Lang::parse)
    }
}

const SOURCES: [(Lang, &str); 2] = [
    (Lang::En, include_str!("../locales/en/main.ftl")),
    (Lang::Ru, include_str!("../locales/ru/main.ftl")),
];

/// The terminal's customer-facing texts in languages the console does not
/// speak: (language, Fluent source).
pub const TERMINAL_ONLY: [(&str, &str); 2] = [
    ("uk", include_str!("../locales/uk/terminal.ftl")),
    ("uz", include_str!("../locales/uz/terminal.ftl")),
];

/// The languages a customer can be spoken to in (the link survey, the
/// terminal's customer screens): the console's and the terminal-only ones.
pub const CUSTOMER_LANGUAGES: [&str; 4] = ["en", "ru", "uk", "uz"];

/// The best of `available` (language codes) for an `Accept-Language`
/// header: the highest-weighted range whose primary subtag one of them has
/// (`uk-UA` finds `uk`; `*` takes the first); none when nothing fits.
pub fn negotiate<'a>(header: &str, available: &[&'a str]) -> Option<&'a str> {
    let mut ranges: Vec<(f32, usize, String)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';');
            let range = pieces.next()?.trim();
            let primary = range.split(['-', '_']).next()?.to_ascii_lowercase();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            (!primary.is_empty() && q > 0.0).then_some((q, i, primary))
        })
        .collect();
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranges.iter().find_map(|(_, _, primary)| {
        if primary == "*" {
            available.first().copied()
        } else {
            available
                .iter()
                .copied()
                .find(|a| a.eq_ignore_ascii_case(primary))
        }
    })
}

/// Words for a customer, in any of [`CUSTOMER_LANGUAGES`]: the console's
/// catalogue for English and Russian, the customer texts for the others
/// (a missing one falls back to English). What customer pages' templates call.
#[derive(Clone, Copy)]
pub struct CustomerTr {
    code: &'static str,
}

impl CustomerTr {
    /// The words of `code` (`uk-UA` is `uk`); English for a language
    /// customers are not spoken to in.
    pub fn new(code: &str) -> CustomerTr {
        let primary = code.trim().split(['-', '_']).next().unwrap_or_default();
        CustomerTr {
            code: CUSTOMER_LANGUAGES
                .into_iter()
                .find(|c| c.eq_ignore_ascii_case(primary))
                .unwrap_or("en"),
        }
    }

    pub fn lang(&self) -> &'static str {
        self.code
    }

    fn text(&self, key: &str, args: Option<&FluentArgs<'_>>) -> String {
        let i18n = i18n();
        if let Some(lang) = Lang::parse(self.code) {
            return i18n.text(lang, key, args);
        }
        let found = i18n
            .customer
            .iter()
            .find(|(code, _)| *code == self.code)
            .and_then(|(_, bundle)| {
                let pattern = bundle.get_message(key)?.value()?;
                let mut errors = Vec::new();
                Some(
                    bundle
                        .format_pattern(pattern, args, &mut errors)
                        .into_owned(),
                )
            });
        found.unwrap_or_else(|| i18n.text(Lang::En, key, args))
    }

    pub fn t(&self, key: &str) -> String {
        self.text(key, None)
    }

    /// A text with one named argument.
    pub fn with<'v>(&self, key: &str, name: &str, value: impl Into<FluentValue<'v>>) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_owned(), value.into());
        self.text(key, Some(&args))
    }

    /// A text with two named arguments.
    pub fn with2<'v>(
        &self,
        key: &str,
        first: &str,
        a: impl Into<FluentValue<'v>>,
        second: &str,
        b: impl Into<FluentValue<'v>>,
    ) -> String {
        let mut args = FluentArgs::new();
        args.set(first.to_owned(), a.into());
        args.set(second.to_owned(), b.into());
        self.text(key, Some(&args))
    }

    /// A text with any number of named string arguments.
    pub fn with_all(&self, key: &str, named: &[(&str, &str)]) -> String {
        let mut args = FluentArgs::new();
        for (name, value) in named {
            args.set((*name).to_owned(), FluentValue::from(*value));
        }
        self.text(key, Some(&args))
    }

    /// The language's own name, for the page's language switch.
    pub fn native_name(code: &str) -> &'static str {
        match code {
            "ru" => "Русский",
            "uk" => "Українська",
            "uz" => "Oʻzbekcha",
            "en" => "English",
            _ => "",
        }
    }
}

/// The messages of a Fluent `source` whose ids start with `prefix`, without
/// the prefix, each variable left as `{name}` for a script to fill in.
pub fn prefixed_texts(code: &str, source: &str, prefix: &str) -> BTreeMap<String, String> {
    let Ok(resource) = FluentResource::try_new(source.to_owned()) else {
        return BTreeMap::new();
    };
    let ids: Vec<String> = resource
        .entries()
        .filter_map(|e| match e {
            fluent_syntax::ast::Entry::Message(m) if m.id.name.starts_with(prefix) => {
                Some(m.id.name.to_owned())
            }
            _ => None,
        })
        .collect();
    let id: LanguageIdentifier = code.parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    bundle.set_use_isolating(false);
    if bundle.add_resource(resource).is_err() {
        return BTreeMap::new();
    }
    let mut args = FluentArgs::new();
    for name in [
        "n", "name", "date", "time", "order", "seconds", "total", "city", "low", "high",
    ] {
        args.set(name, FluentValue::from(format!("{{{name}}}")));
    }
    ids.into_iter()
        .filter_map(|key| {
            let pattern = bundle.get_message(&key)?.value()?;
            let mut errors = Vec::new();
            let text = bundle
                .format_pattern(pattern, Some(&args), &mut errors)
                .into_owned();
            Some((key[prefix.len()..].to_owned(), text))
        })
        .collect()
}

/// The translations, loaded once for the process.
pub fn i18n() -> &'static I18n {
    static I18N: std::sync::LazyLock<I18n> = std::sync::LazyLock::new(I18n::load);
    &I18N
}

/// Translations bound to a language, from the process-wide catalogue.
pub fn tr(lang: Lang) -> Tr<'static> {
    Tr { i18n: i18n(), lang }
}

/// The loaded translations.
pub struct I18n {
    bundles: Vec<(Lang, FluentBundle<FluentResource>)>,
    /// The customer texts of the languages the console does not speak.
    customer: Vec<(&'static str, FluentBundle<FluentResource>)>,
}

impl I18n {
    /// Loads the built-in translations; a syntax error in them is a bug
    /// caught by the tests, so it panics.
    pub fn load() -> I18n {
        let bundles = SOURCES
            .iter()
            .map(|(lang, source)| {
                let id: LanguageIdentifier = lang.code().parse().expect("valid language id");
                let resource =
                    FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(_, errors)| {
                        panic!("{} translations do not parse: {errors:?}", lang.code())
                    });
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                // Isolation marks would show up inside HTML attributes and CSV.
                bundle.set_use_isolating(false);
                bundle.add_resource(resource).unwrap_or_else(|errors| {
                    panic!("{} translations clash: {errors:?}", lang.code())
                });
                (*lang, bundle)
            })
            .collect();
        let customer = TERMINAL_ONLY
            .iter()
            .map(|(code, source)| {
                let id: LanguageIdentifier = code.parse().expect("valid language id");
                let resource =
                    FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(_, errors)| {
                        panic!("{code} customer texts do not parse: {errors:?}")
                    });
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                bundle.set_use_isolating(false);
                bundle
                    .add_resource(resource)
                    .unwrap_or_else(|errors| panic!("{code} customer texts clash: {errors:?}"));
                (*code, bundle)
            })
            .collect();
        I18n { bundles, customer }
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        &self
            .bundles
            .iter()
            .find(|(l, _)| *l == lang)
            .unwrap_or(&self.bundles[0])
            .1
    }

    /// The text for `key`, with arguments; the key itself if it is missing
    /// (a test makes sure none is).
    pub fn text(&self, lang: Lang, key: &str, args: Option<&FluentArgs<'_>>) -> String {
        let bundle = self.bundle(lang);
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            return key.to_owned();
        };
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned()
    }

    /// Every message whose id starts with `prefix`, without the prefix,
    /// with each variable left as `{name}` for the page's script to fill.
    pub fn texts_with_prefix(&self, lang: Lang, prefix: &str) -> BTreeMap<String, String> {
        let source = SOURCES
            .iter()
            .find(|(l, _)| *l == lang)
            .map_or("", |(_, s)| s);
        prefixed_texts(lang.code(), source, prefix)
    }

    /// Every message id of a language.
    #[cfg(test)]
    fn keys(lang: Lang) -> Vec<String> {
        let source = SOURCES.iter().find(|(l, _)| *l == lang).unwrap().1;
        let resource = FluentResource::try_new(source.to_owned()).unwrap();
        resource
            .entries()
            .filter_map(|e| match e {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                _ => None,
            })
            .collect()
    }
}

/// Translations bound to one request's language; what templates call.
#[derive(Clone, Copy)]
pub struct Tr<'a> {
    pub i18n: &'a I18n,
    pub lang: Lang,
}

impl Tr<'_> {
    pub fn t(&self, key: &str) -> String {
        self.i18n.text(self.lang, key, None)
    }

    /// A text with one named argument.
    pub fn with<'v>(&self, key: &str, name: &str, value: impl Into<FluentValue<'v>>) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_owned(), value.into());
        self.i18n.text(self.lang, key, Some(&args))
    }

    /// A text with two named arguments.
    pub fn with2<'v>(
        &self,
        key: &str,
        first: &str,
        a: impl Into<FluentValue<'v>>,
        second: &str,
        b: impl Into<FluentValue<'v>>,
    ) -> String {
        let mut args = FluentArgs::new();
        args.set(first.to_owned(), a.into());
        args.set(second.to_owned(), b.into());
        self.i18n.text(self.lang, key, Some(&args))
    }

    /// A text with any number of named arguments.
    pub fn args(&self, key: &str, values: Vec<(&str, FluentValue<'_>)>) -> String {
        let mut args = FluentArgs::new();
        for (name, value) in values {
            args.set(name.to_owned(), value);
        }
        self.i18n.text(self.lang, key, Some(&args))
    }

    /// How a survey was taken: its mode (or channel) and duration.
    pub fn survey_how(&self, key: &str, mode: &str, seconds: i64) -> String {
        let mut args = FluentArgs::new();
        args.set(
            "mode",
            FluentValue::from(self.t(&format!("response-mode-{mode}"))),
        );
        args.set("seconds", FluentValue::from(seconds));
        self.i18n.text(self.lang, key, Some(&args))
    }

    /// "Shown when «question» is …".
    pub fn args_show_if(&self, question: &str, condition: &str) -> String {
        let mut args = FluentArgs::new();
        args.set("question", FluentValue::from(question.to_owned()));
        args.set("condition", FluentValue::from(condition.to_owned()));
        self.i18n.text(self.lang, "survey-show-if", Some(&args))
    }

    pub fn lang(&self) -> &'static str {
        self.lang.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_message() {
        let en = I18n::keys(Lang::En);
        let ru = I18n::keys(Lang::Ru);
        let missing_ru: Vec<_> = en.iter().filter(|k| !ru.contains(k)).collect();
        let missing_en: Vec<_> = ru.iter().filter(|k| !en.contains(k)).collect();
        assert!(missing_ru.is_empty(), "missing in Russian: {missing_ru:?}");
        assert!(missing_en.is_empty(), "missing in English: {missing_en:?}");
        assert!(en.len() > 50, "the console has more text than {}", en.len());
    }

    /// Words the pages turn into message ids (`case-status-{status}`, …):
    /// every word of each vocabulary has its text.
    #[test]
    fn every_helpdesk_word_has_a_text() {
        use doorstep_domain::helpdesk::cases::{CaseChannel, CaseStatus, Direction, Fault, Line};
        use doorstep_domain::helpdesk::incidents::{AttemptResult, Outcome};
        use doorstep_domain::helpdesk::remedies::{RemedyStatus, RemedyType};
        let en = I18n::keys(Lang::En);
        let mut wanted: Vec<String> = Vec::new();
        wanted.extend(CaseStatus::ALL.iter().map(|s| format!("case-status-{s}")));
        wanted.extend(
            CaseStatus::ALL
                .iter()
                .filter(|s| **s != CaseStatus::New)
                .map(|s| format!("case-move-{s}")),
        );
        wanted.extend(CaseChannel::ALL.iter().map(|s| format!("channel-{s}")));
        wanted.extend(Line::ALL.iter().map(|s| format!("line-{s}")));
        wanted.extend(Line::ALL.iter().map(|s| format!("cases-tab-{s}")));
        wanted.extend(Line::ALL.iter().map(|s| format!("cases-explain-{s}")));
        wanted.extend(Direction::ALL.iter().map(|s| format!("direction-{s}")));
        wanted.extend(Fault::ALL.iter().map(|s| format!("fault-{s}")));
        wanted.extend(RemedyType::ALL.iter().map(|s| format!("remedy-{s}")));
        wanted.extend(RemedyType::ALL.iter().map(|s| format!("remedy-hint-{s}")));
        wanted.extend(
            RemedyStatus::ALL
                .iter()
                .map(|s| format!("remedy-status-{s}")),
        );
        wanted.extend(AttemptResult::ALL.iter().map(|s| format!("attempt-{s}")));
        wanted.extend(Outcome::ALL.iter().map(|s| format!("outcome-{s}")));
        let missing: Vec<&String> = wanted.iter().filter(|k| !en.contains(k)).collect();
        assert!(missing.is_empty(), "no text for {missing:?}");
    }

    #[test]
    fn formats_with_arguments_and_plurals() {
        let i18n = I18n::load();
        let ru = Tr {
            i18n: &i18n,
            lang: Lang::Ru,
        };
        assert_eq!(ru.with("orders-found", "count", 1), "Найден 1 заказ");
        assert_eq!(ru.with("orders-found", "count", 5), "Найдено 5 заказов");
        let en = Tr {
            i18n: &i18n,
            lang: Lang::En,
        };
        assert_eq!(en.with("orders-found", "count", 2), "2 orders found");
    }

    #[test]
    fn negotiates_over_the_languages_on_offer() {
        let all = CUSTOMER_LANGUAGES;
        assert_eq!(negotiate("uk", &all), Some("uk"));
        assert_eq!(
            negotiate("uk-UA,uk;q=0.9,ru;q=0.8,en;q=0.7", &all),
            Some("uk")
        );
        assert_eq!(negotiate("uz-Latn-UZ", &all), Some("uz"));
        assert_eq!(negotiate("de,uz;q=0.3,ru;q=0.5", &all), Some("ru"));
        assert_eq!(negotiate("de, fr", &all), None);
        assert_eq!(negotiate("uk;q=0, en", &all), Some("en"));
        // Only what the survey has: a Ukrainian reader of a ru/en survey.
        assert_eq!(negotiate("uk,ru;q=0.5", &["en", "ru"]), Some("ru"));
        assert_eq!(negotiate("*", &["ru", "en"]), Some("ru"));
    }

    /// The customer texts of the languages the console does not speak name
    /// only messages English has, and have every text a customer page shows.
    #[test]
    fn customer_languages_have_every_customer_text() {
        let en = I18n::keys(Lang::En);
        for (code, source) in TERMINAL_ONLY {
            let resource = FluentResource::try_new(source.to_owned()).unwrap();
            let keys: Vec<String> = resource
                .entries()
                .filter_map(|e| match e {
                    fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                    _ => None,
                })
                .collect();
            let unknown: Vec<&String> = keys.iter().filter(|k| !en.contains(k)).collect();
            assert!(
                unknown.is_empty(),
                "{code}: not English messages: {unknown:?}"
            );
            let missing: Vec<&String> = en
                .iter()
                .filter(|k| k.starts_with("link-") && !keys.contains(k))
                .collect();
            assert!(missing.is_empty(), "{code}: missing {missing:?}");
        }
        assert_eq!(CustomerTr::new("uk-UA").t("link-send"), "Надіслати");
        assert_eq!(CustomerTr::new("de").lang(), "en");
    }

    #[test]
    fn picks_the_language_from_the_header() {
        assert_eq!(
            Lang::from_accept_language("ru-RU,ru;q=0.9,en;q=0.8"),
            Some(Lang::Ru)
        );
        assert_eq!(Lang::from_accept_language("de,en;q=0.5"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("de"), None);
    }
}
