//! Signing in and out, and the language switch.

use askama::Template;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::{render, OrPage, PageResult};
use crate::http::auth::{constant_time_eq, visitor_lang, MaybeUser, LANG_COOKIE, SESSION_COOKIE};
use crate::http::AppState;
use crate::i18n::{tr, Lang, Tr};
use crate::security::{new_secret, secret_hash, verify_password};

const LOGIN_CSRF_COOKIE: &str = "doorstep_login_csrf";
const SESSION_DAYS: i64 = 7;

/// A real argon2 hash to check unknown logins against.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        crate::security::hash_password("no such user").unwrap_or_default()
    });
    &HASH
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: Tr<'static>,
    company: String,
    csrf: String,
    next: String,
    login: String,
    error: Option<String>,
    languages: Vec<(&'static str, &'static str, bool)>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only paths on this site: never an open redirect. A path must start with
/// one `/` followed by anything but `/` or `\\` (browsers read `//host` and
/// `/\\host` as another site), and hold no control character (browsers drop
/// tabs and newlines, so `/\t/evil.example` becomes `//evil.example`) and
/// nothing but ASCII (a path the browser sent is percent-encoded). Anything
/// else goes to the console's start page.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_owned(),
        _ => "/orders".to_owned(),
    }
}

fn is_local_path(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && path.chars().all(|c| c.is_ascii() && !c.is_ascii_control())
}

fn cookie(name: &'static str, value: String, max_age_days: i64) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(time_days(max_age_days))
        .build()
}

fn time_days(days: i64) -> cookie::time::Duration {
    cookie::time::Duration::days(days)
}

fn login_page(
    app: &AppState,
    lang: Lang,
    jar: CookieJar,
    next: String,
    login: String,
    error: Option<String>,
) -> Response {
    // Double-submit token: the form must carry what the cookie holds.
    let csrf = jar
        .get(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() > 20)
        .unwrap_or_else(|| new_secret("csrf"));
    let jar = jar.add(cookie(LOGIN_CSRF_COOKIE, csrf.clone(), 1));
    let page = LoginPage {
        tr: tr(lang),
        company: app.deployment().name,
        csrf,
        next,
        login,
        error,
        languages: Lang::ALL
            .iter()
            .map(|l| (l.code(), l.native_name(), *l == lang))
            .collect(),
    };
    (jar, render(&page)).into_response()
}

pub async fn form(
    State(app): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    if user.is_some() {
        return Redirect::to(&next).into_response();
    }
    login_page(&app, visitor_lang(&headers), jar, next, String::new(), None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

pub async fn submit(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<LoginForm>,
) -> PageResult {
    let lang = visitor_lang(&headers);
    let t = tr(lang);
    let next = safe_next(f.next.as_deref());
    let csrf_ok = jar
        .get(LOGIN_CSRF_COOKIE)
        .is_some_and(|c| constant_time_eq(c.value().as_bytes(), f.csrf.as_bytes()));
    if !csrf_ok {
        return Ok(login_page(
            &app,
            lang,
            jar,
            next,
            f.login,
            Some(t.t("login-expired")),
        ));
    }
    let login = f.login.trim().to_owned();
    let throttle_key = format!("{}|{}", login.to_lowercase(), peer.ip());
    let now = doorstep_store::now_millis();
    if let Some(wait) = app.sign_in_throttle.wait_ms(&throttle_key, now) {
        tracing::warn!(login = %login, peer = %peer.ip(), "sign-in throttled");
        let minutes = (wait + 59_999) / 60_000;
        let page = login_page(
            &app,
            lang,
            jar,
            next,
            login,
            Some(t.with("login-throttled", "minutes", minutes)),
        );
        return Ok((StatusCode::TOO_MANY_REQUESTS, page).into_response());
    }
    let found = app.store.user_for_login(&login).await.page(lang)?;
    // Verify even for unknown logins, so timing does not tell which exist.
    let (user, hash) = match found {
        Some((user, hash)) if user.disabled_at.is_none() => (Some(user), hash),
        _ => (None, dummy_hash().to_owned()),
    };
    let password = f.password;
    let verified = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|_| verified) else {
        app.sign_in_throttle.failed(&throttle_key, now);
        tracing::info!(login = %login, "sign-in refused");
        return Ok(login_page(
            &app,
            lang,
            jar,
            next,
            login,
            Some(t.t("login-failed")),
        ));
    };
    app.sign_in_throttle.succeeded(&throttle_key);
    let session = new_secret("dss");
    let expires = doorstep_store::now_millis() + SESSION_DAYS * 24 * 3600 * 1000;
    app.store
        .create_session(
            &secret_hash(&session),
            &user.id,
            &new_secret("csrf"),
            expires,
        )
        .await
        .page(lang)?;
    tracing::info!(login = %user.login, "signed in");
    let jar = jar.remove(Cookie::from(LOGIN_CSRF_COOKIE)).add(cookie(
        SESSION_COOKIE,
        session,
        SESSION_DAYS,
    ));
    Ok((jar, Redirect::to(&next)).into_response())
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(app): State<AppState>,
    MaybeUser(user): MaybeUser,
    jar: CookieJar,
    Form(f): Form<CsrfOnly>,
) -> PageResult {
    if let (Some(user), Some(session)) = (user, jar.get(SESSION_COOKIE)) {
        if constant_time_eq(user.csrf.as_bytes(), f.csrf.as_bytes()) {
            app.store
                .delete_session(&secret_hash(session.value()))
                .await
                .page(user.lang)?;
        } else {
            return Ok(super::status_page(
                user.lang,
                axum::http::StatusCode::FORBIDDEN,
            ));
        }
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/").build());
    Ok((jar, Redirect::to("/login")).into_response())
}

#[derive(Deserialize)]
pub struct LanguageForm {
    lang: String,
    #[serde(default)]
    csrf: String,
    back: Option<String>,
}

/// Switches the language: remembered on the account when signed in, in a
/// cookie otherwise.
pub async fn language(
    State(app): State<AppState>,
    MaybeUser(user): MaybeUser,
    jar: CookieJar,
    Form(f): Form<LanguageForm>,
) -> PageResult {
    let lang = Lang::parse(&f.lang).unwrap_or(Lang::En);
    let back = safe_next(f.back.as_deref());
    if let Some(user) = user {
        if !constant_time_eq(user.csrf.as_bytes(), f.csrf.as_bytes()) {
            return Ok(super::status_page(
                user.lang,
                axum::http::StatusCode::FORBIDDEN,
            ));
        }
        app.store
            .set_user_language(&user.id, lang.code())
            .await
            .page(user.lang)?;
    }
    let jar = jar.add(cookie(LANG_COOKIE, lang.code().to_owned(), 365));
    Ok((jar, Redirect::to(&back)).into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_on_this_site_are_followed_after_sign_in() {
        for good in [
            "/",
            "/orders",
            "/dashboard?city=%D0%9A%D0%B8%D1%97%D0%B2&group=week",
            "/s/abc",
        ] {
            assert_eq!(safe_next(Some(good)), good);
        }
        for bad in [
            "//evil.example/",
            "/\\evil.example/",
            "/\t/evil.example/",
            "/%09/evil.example/\t",
            "/\n/evil.example/",
            "/orders\r\nSet-Cookie: x=1",
            "https://evil.example/",
            "evil.example",
            "/\u{7f}",
            "/ведомость",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/orders", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/orders");
    }
}
