//! `/terminal/`: the courier's door-survey terminal, an installable PWA of
//! a few static files served from the binary. The service worker's cache is
//! named by a hash of all of them, so a new release replaces the old app on
//! the devices the next time they are online.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::http::AppState;
use std::collections::BTreeMap;

use crate::i18n::{i18n, prefixed_texts, Lang, TERMINAL_ONLY};

const INDEX: &str = include_str!("../../../static/terminal/index.html");
const SCRIPT: &str = include_str!("../../../static/terminal/app.js");
/// The show-if rule, shared with the survey-by-link page.
pub const SHOW_IF: &str = include_str!("../../../static/terminal/show-if.js");
const STYLE: &str = include_str!("../../../static/terminal/terminal.css");
const WORKER: &str = include_str!("../../../static/terminal/sw.js");
const MANIFEST: &str = include_str!("../../../static/terminal/manifest.webmanifest");
const ICON: &str = include_str!("../../../static/terminal/icon.svg");

/// The terminal's texts in every language, keys without their `term-`
/// prefix and with `_` for `-` (`enrol_heading`).
static TEXTS: LazyLock<String> = LazyLock::new(|| {
    let keyed = |texts: BTreeMap<String, String>| -> BTreeMap<String, String> {
        texts
            .into_iter()
            .map(|(k, v)| (k.replace('-', "_"), v))
            .collect()
    };
    let mut all: BTreeMap<&str, BTreeMap<String, String>> = Lang::ALL
        .iter()
        .map(|lang| (lang.code(), keyed(i18n().texts_with_prefix(*lang, "term-"))))
        .collect();
    for (code, source) in TERMINAL_ONLY {
        all.insert(code, keyed(prefixed_texts(code, source, "term-")));
    }
    serde_json::to_string(&all).unwrap_or_else(|_| "{}".to_owned())
});

/// The service worker with its cache named after this release's files.
static WORKER_VERSIONED: LazyLock<String> = LazyLock::new(|| {
    let all = [
        INDEX,
        SHOW_IF,
        SCRIPT,
        STYLE,
        MANIFEST,
        ICON,
        TEXTS.as_str(),
    ]
    .concat();
    let version = &crate::security::sha256_hex(&all)[..12];
    WORKER.replace("__VERSION__", version)
});

/// The terminal's pages may talk only to this server; photos are shown
/// from `blob:` addresses made on the device.
const POLICY: &str = "default-src 'self'; img-src 'self' blob:; media-src 'self' blob:; \
                      connect-src 'self'; script-src 'self'; style-src 'self'; worker-src 'self'; \
                      manifest-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

fn file(content_type: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // Always revalidated: the service worker is what keeps it offline.
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, POLICY),
        ],
        body,
    )
        .into_response()
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/terminal",
            get(|| async { Redirect::permanent("/terminal/") }),
        )
        .route(
            "/terminal/",
            get(|| async { file("text/html; charset=utf-8", INDEX.to_owned()) }),
        )
        .route(
            "/terminal/app.js",
            get(|| async { file("text/javascript; charset=utf-8", SCRIPT.to_owned()) }),
        )
        .route(
            "/terminal/show-if.js",
            get(|| async { file("text/javascript; charset=utf-8", SHOW_IF.to_owned()) }),
        )
        .route(
            "/terminal/terminal.css",
            get(|| async { file("text/css; charset=utf-8", STYLE.to_owned()) }),
        )
        .route(
            "/terminal/sw.js",
            get(|| async { file("text/javascript; charset=utf-8", WORKER_VERSIONED.clone()) }),
        )
        .route(
            "/terminal/manifest.webmanifest",
            get(|| async { file("application/manifest+json", MANIFEST.to_owned()) }),
        )
        .route(
            "/terminal/icon.svg",
            get(|| async { file("image/svg+xml", ICON.to_owned()) }),
        )
        // Browsers ask for it on their own; the same mark as the pages'.
        .route(
            "/favicon.ico",
            get(|| async { file("image/svg+xml", ICON.to_owned()) }),
        )
        .route(
            "/terminal/texts.json",
            get(|| async { file("application/json", TEXTS.clone()) }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terminal_weighs_under_150_kb() {
        let total = INDEX.len()
            + SHOW_IF.len()
            + SCRIPT.len()
            + STYLE.len()
            + WORKER.len()
            + MANIFEST.len()
            + ICON.len()
            + TEXTS.len();
        assert!(
            total < 150 * 1024,
            "the terminal's files weigh {total} bytes"
        );
    }

    #[test]
    fn every_text_the_script_asks_for_exists_in_every_language() {
        let texts: serde_json::Value = serde_json::from_str(&TEXTS).unwrap();
        // Keys the script uses: t("key" or tc("key".
        let mut used = std::collections::BTreeSet::new();
        for call in ["t(\"", "tc(\""] {
            for (i, _) in SCRIPT.match_indices(call) {
                let before = SCRIPT[..i].chars().next_back().unwrap_or(' ');
                if before.is_alphanumeric() || before == '_' || before == '.' {
                    continue;
                }
                let rest = &SCRIPT[i + call.len()..];
                let key: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if rest[key.len()..].starts_with('"') && !key.is_empty() {
                    used.insert(key);
                }
            }
        }
        assert!(used.len() > 30, "found only {used:?}");
        for lang in Lang::ALL {
            for key in &used {
                assert!(
                    texts[lang.code()][key.as_str()].is_string(),
                    "{key} is missing in {}",
                    lang.code()
                );
            }
        }
        assert_eq!(texts["en"]["waiting"], "Waiting to be sent: {n}");
        // What the customer sees (`tc(…)`) exists in the customer-only languages too.
        let mut customer = std::collections::BTreeSet::new();
        for (i, _) in SCRIPT.match_indices("tc(\"") {
            let key: String = SCRIPT[i + 4..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            customer.insert(key);
        }
        customer.extend(
            ["done", "thanks_heading", "thanks_text", "refused_heading"].map(str::to_owned),
        );
        for (code, _) in TERMINAL_ONLY {
            for key in &customer {
                assert!(
                    texts[code][key.as_str()].is_string(),
                    "{key} is missing in {code}"
                );
            }
        }
        assert_eq!(texts["uk"]["step"], "Питання {n} з {total}");
    }
}
