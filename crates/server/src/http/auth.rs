//! Who is calling: extractors that make a handler's signature say who may
//! call it. People sign in with a session cookie (console pages); machines
//! send a bearer token (`/api/v1`).

use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use doorstep_domain::{Role, TokenRole};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::AppState;
use crate::i18n::Lang;
use crate::security::secret_hash;

pub const SESSION_COOKIE: &str = "doorstep_session";
pub const LANG_COOKIE: &str = "doorstep_lang";

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: String,
    pub login: String,
    pub role: Role,
    pub lang: Lang,
    pub csrf: String,
}

impl CurrentUser {
    /// May this user open pages guarded by `A`?
    pub fn may<A: Access>(&self) -> bool {
        A::ROLES.contains(&self.role)
    }
}

/// A set of roles allowed somewhere.
pub trait Access: Send + Sync + 'static {
    const ROLES: &'static [Role];
}

/// Declares marker types that allow a set of roles: `Name => [Role, …];`
/// for `Access` (people) or `TokenAccess` (tokens).
macro_rules! allowed_roles {
    ($access:ident, $kind:ident: $($(#[$doc:meta])* $name:ident => [$($role:ident),*];)*) => {
        $( $(#[$doc])* pub struct $name; impl $access for $name { const ROLES: &'static [$kind] = &[$($kind::$role),*]; } )*
    };
}

allowed_roles! { Access, Role:
    /// Everyone with an account: orders, customers, the dashboard.
    AnyStaff => [Admin, Quality, Dispatcher, Operator];
    /// Settings, accounts and tokens.
    AdminOnly => [Admin];
    /// Surveys and their design.
    QualityDesk => [Admin, Quality];
    /// The dispatch desk: the live incident queue (quality managers look
    /// on), answers' photos and voice messages.
    DispatchDesk => [Admin, Quality, Dispatcher];
    /// Those who work incidents (claim, call back, close) and approve
    /// remedies over an operator's limit.
    Dispatchers => [Admin, Dispatcher];
    /// The support desk: cases on every channel, remedies, the ledger.
    CaseDesk => [Admin, Dispatcher, Operator];
}

/// A signed-in person whose role is in `A`. Without a session the browser
/// is sent to the login page; with the wrong role it gets 403.
pub struct Staff<A: Access>(pub CurrentUser, pub PhantomData<A>);

/// Why a page request was turned away.
pub enum PageRejection {
    SignIn { next: String },
    Forbidden { lang: Lang },
    Internal,
}

impl IntoResponse for PageRejection {
    fn into_response(self) -> Response {
        match self {
            PageRejection::SignIn { next } => {
                let target = format!(
                    "/login?next={}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                Redirect::to(&target).into_response()
            }
            PageRejection::Forbidden { lang } => {
                super::pages::status_page(lang, StatusCode::FORBIDDEN)
            }
            PageRejection::Internal => {
                super::pages::status_page(Lang::En, StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

async fn session_user(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<CurrentUser>, PageRejection> {
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(cookie) = jar.get(SESSION_COOKIE) else {
        return Ok(None);
    };
    let found = state
        .store
        .session_user(&secret_hash(cookie.value()))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "session lookup failed");
            PageRejection::Internal
        })?;
    Ok(found.and_then(|s| {
        Some(CurrentUser {
            role: s.role.parse().ok()?,
            lang: Lang::parse(&s.language).unwrap_or(Lang::En),
            id: s.id,
            login: s.login,
            csrf: s.csrf_token,
        })
    }))
}

impl<A: Access, S> FromRequestParts<S> for Staff<A>
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = PageRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let Some(user) = session_user(parts, &state).await? else {
            let next = parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned();
            return Err(PageRejection::SignIn { next });
        };
        if !user.may::<A>() {
            return Err(PageRejection::Forbidden { lang: user.lang });
        }
        Ok(Staff(user, PhantomData))
    }
}

/// The signed-in person if any (the login page, the language switch).
pub struct MaybeUser(pub Option<CurrentUser>);

impl<S> FromRequestParts<S> for MaybeUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = PageRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        Ok(MaybeUser(session_user(parts, &state).await?))
    }
}

/// The language of a page for someone not signed in: their cookie, then
/// their browser's preference, then English.
pub fn visitor_lang(headers: &axum::http::HeaderMap) -> Lang {
    let jar = CookieJar::from_headers(headers);
    jar.get(LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::En)
}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A form posted by a signed-in person of role `A`, with its CSRF token
/// checked against the session's.
pub struct StaffForm<A: Access, T>(pub CurrentUser, pub T, pub PhantomData<A>);

impl<A: Access, T: DeserializeOwned, S> FromRequest<S> for StaffForm<A, T>
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let Staff(user, _) = Staff::<A>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let field: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or(CsrfField {
            csrf: String::new(),
        });
        if !constant_time_eq(field.csrf.as_bytes(), user.csrf.as_bytes()) {
            return Err(super::pages::status_page(user.lang, StatusCode::FORBIDDEN));
        }
        let form: T = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the form could not be read: {e}"),
            )
                .into_response()
        })?;
        Ok(StaffForm(user, form, PhantomData))
    }
}

/// Compares secrets without leaking where they differ through timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A machine caller identified by its bearer token.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's id, recorded with what it sends (which device answered).
    pub token_id: String,
    /// The token's name ("crm", "oms"): who did it, on a case's timeline.
    pub name: String,
    pub role: TokenRole,
    /// The courier a terminal token belongs to.
    pub courier_id: Option<String>,
}

/// Token roles allowed on a route.
pub trait TokenAccess: Send + Sync + 'static {
    const ROLES: &'static [TokenRole];
}

allowed_roles! { TokenAccess, TokenRole:
    /// The company's systems.
    Integration => [Integration];
    /// Integration systems and courier terminals.
    IntegrationOrTerminal => [Integration, Terminal];
    /// Courier terminals only.
    TerminalOnly => [Terminal];
    /// Mystery shoppers' terminals only.
    InspectorOnly => [Inspector];
}

/// A bearer-token caller whose role is in `A`: 401 without a valid token,
/// 403 with a token of another role.
pub struct Bearer<A: TokenAccess>(pub Caller, pub PhantomData<A>);

/// Tokens are marked as used at most this often, to keep reads cheap.
const TOUCH_EVERY_MS: i64 = 5 * 60 * 1000;

impl<A: TokenAccess, S> FromRequestParts<S> for Bearer<A>
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(ApiError::Unauthorized)?;
        let hash = secret_hash(secret);
        let token = state
            .token_by_hash(&hash)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let role: TokenRole = token.role.parse().map_err(|e| {
            ApiError::Internal(anyhow::anyhow!("token {} has a bad role: {e}", token.id))
        })?;
        if !A::ROLES.contains(&role) {
            let allowed: Vec<&str> = A::ROLES.iter().map(|r| r.as_str()).collect();
            return Err(ApiError::Forbidden(format!(
                "a {role} token may not do this; it needs a token with the role {}",
                allowed.join(" or ")
            )));
        }
        let now = doorstep_store::now_millis();
        if token.last_used_at.is_none_or(|t| now - t > TOUCH_EVERY_MS) {
            state.token_touched(&hash, now);
            let store = state.store.clone();
            let id = token.id.clone();
            tokio::spawn(async move {
                if let Err(e) = store.touch_token(&id).await {
                    tracing::warn!(error = %e, "could not mark a token as used");
                }
            });
        }
        Ok(Bearer(
            Caller {
                name: token.name,
                token_id: token.id,
                role,
                courier_id: token.courier_id,
            },
            PhantomData,
        ))
    }
}

impl Caller {
    /// The token as someone acting on the helpdesk: "token:crm".
    pub fn actor_id(&self) -> String {
        format!("token:{}", self.token_id)
    }
}

/// A form with nothing but its CSRF token (a button).
#[derive(serde::Deserialize)]
pub struct NoFields {}
