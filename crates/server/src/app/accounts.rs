//! Accounts and credentials: the rules for a new account, issuing API
//! tokens and terminal enrolment codes — shared by Settings and the
//! command line. Secrets are returned once, in the clear; only their
//! SHA-256 is stored.

use doorstep_domain::TokenRole;
use doorstep_store::{NewApiToken, Store, StoreError};

use crate::security::{enrollment_code, new_secret, secret_hash};

/// How long an enrolment code stays valid.
pub const ENROLLMENT_HOURS: i64 = 24;

/// The rules for a new login and password.
pub fn check_new_account(login: &str, password: &str) -> Result<(), String> {
    if login.is_empty()
        || login.chars().count() > 64
        || !login
            .chars()
            .all(|c| c.is_alphanumeric() || "._-@".contains(c))
    {
        return Err(format!(
            "{login:?} is not a usable login (1 to 64 letters, digits, or . _ - @)"
        ));
    }
    if password.chars().count() < 10 {
        return Err("the password must be at least 10 characters long".to_owned());
    }
    Ok(())
}

/// Issues an API token of `role` (a terminal's for `courier`); its
/// secret, to show once (`dst_…` for terminals and inspectors' devices,
/// `ds_…` otherwise).
pub async fn issue_token(
    store: &Store,
    name: &str,
    role: TokenRole,
    courier: Option<&str>,
) -> Result<String, StoreError> {
    let secret = new_secret(
        if matches!(role, TokenRole::Terminal | TokenRole::Inspector) {
            "dst"
        } else {
            "ds"
        },
    );
    store
        .create_token(&NewApiToken {
            name,
            role: role.as_str(),
            token_hash: &secret_hash(&secret),
            courier_id: courier,
        })
        .await?;
    Ok(secret)
}

/// Issues a one-time enrolment code for a courier's device, valid
/// [`ENROLLMENT_HOURS`].
pub async fn issue_enrollment_code(store: &Store, courier_id: &str) -> Result<String, StoreError> {
    let code = enrollment_code();
    let expires = doorstep_store::now_millis() + ENROLLMENT_HOURS * 3600 * 1000;
    store
        .create_enrollment_code(&secret_hash(&code), courier_id, expires)
        .await?;
    Ok(code)
}

/// Issues a one-time enrolment code for a mystery shopper's device, valid
/// [`ENROLLMENT_HOURS`]: it is exchanged for an `inspector` token.
pub async fn issue_inspector_code(store: &Store, name: &str) -> Result<String, StoreError> {
    let code = enrollment_code();
    let expires = doorstep_store::now_millis() + ENROLLMENT_HOURS * 3600 * 1000;
    store
        .create_inspector_code(&secret_hash(&code), name, expires)
        .await?;
    Ok(code)
}
