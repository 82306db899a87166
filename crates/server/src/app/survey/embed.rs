//! A survey embedded in the company's own customer account page (seed
//! 000): the company's server signs a token for one order with the
//! deployment's embed key; its page shows `/embed?token=…` in an iframe
//! (or loads `/embed.js`, which makes the iframe). Nobody can answer for
//! another order: a token names its order and expires, and only the key
//! makes one.
//!
//! A token is `PAYLOAD.SIGNATURE`: PAYLOAD is the base64url (no padding)
//! of JSON `{"order_number": "…", "exp": UNIX_SECONDS, "survey"?: "…"}`,
//! SIGNATURE the base64url of HMAC-SHA256 over PAYLOAD (its text) with the
//! key's bytes.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use doorstep_store::{Store, StoreError};

/// The setting that holds the key.
const KEY_SETTING: &str = "embed_key";

/// The longest a token may be valid, in days from now (a link's limit).
pub const MAX_DAYS: i64 = super::links::MAX_DAYS as i64;

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    pub order_number: String,
    /// Until when it may be used (seconds since 1970).
    pub exp: i64,
    /// A survey to ask; left out, the one whose targeting fits the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey: Option<String>,
}

/// Why a token is refused (said to the company's developer, not to the
/// customer, who sees "not found").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbedError {
    #[error("the token is not PAYLOAD.SIGNATURE in base64url")]
    Shape,
    #[error("the signature does not match: sign the payload's text with HMAC-SHA256 under the embed key (doorstep survey embed-key)")]
    Signature,
    #[error("the payload is not JSON {{\"order_number\", \"exp\", \"survey\"?}}: {0}")]
    Payload(String),
    #[error("the token expired at {0}")]
    Expired(i64),
    #[error("the token is valid for more than {MAX_DAYS} days; give an earlier exp")]
    TooLong,
}

/// The deployment's embed key, made on first use (the first written
/// stands when two servers make it at once).
pub async fn key(store: &Store) -> Result<String, StoreError> {
    store
        .setting_made_once(KEY_SETTING, || crate::security::new_secret("dse"))
        .await
}

fn mac(key: &str, payload: &str) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(payload.as_bytes());
    mac
}

/// A token for `claims` (what the company's server does; here for tests
/// and the CLI's example).
pub fn sign(key: &str, claims: &Claims) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = b64.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signature = b64.encode(mac(key, &payload).finalize().into_bytes());
    format!("{payload}.{signature}")
}

/// The claims of a token this deployment's key signed, valid at `now_s`.
pub fn verify(key: &str, token: &str, now_s: i64) -> Result<Claims, EmbedError> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (payload, signature) = token.trim().split_once('.').ok_or(EmbedError::Shape)?;
    let signature = b64.decode(signature).map_err(|_| EmbedError::Shape)?;
    mac(key, payload)
        .verify_slice(&signature)
        .map_err(|_| EmbedError::Signature)?;
    let json = b64.decode(payload).map_err(|_| EmbedError::Shape)?;
    let claims: Claims =
        serde_json::from_slice(&json).map_err(|e| EmbedError::Payload(e.to_string()))?;
    if claims.exp <= now_s {
        return Err(EmbedError::Expired(claims.exp));
    }
    if claims.exp - now_s > MAX_DAYS * 86_400 {
        return Err(EmbedError::TooLong);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_key_makes_a_token_and_a_token_names_its_order() {
        let key = "dse_test";
        let now = 1_800_000_000;
        let claims = Claims {
            order_number: "A-1".into(),
            exp: now + 3600,
            survey: None,
        };
        let token = sign(key, &claims);
        assert_eq!(verify(key, &token, now), Ok(claims.clone()));
        assert_eq!(verify("another", &token, now), Err(EmbedError::Signature));
        // Another order under the same signature: refused.
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let forged = format!(
            "{}.{}",
            b64.encode(br#"{"order_number":"A-2","exp":1800003600}"#),
            token.split_once('.').unwrap().1
        );
        assert_eq!(verify(key, &forged, now), Err(EmbedError::Signature));
        assert_eq!(
            verify(key, &token, now + 3600),
            Err(EmbedError::Expired(now + 3600))
        );
        let long = sign(
            key,
            &Claims {
                exp: now + 100 * 86_400,
                ..claims
            },
        );
        assert_eq!(verify(key, &long, now), Err(EmbedError::TooLong));
        assert_eq!(verify(key, "nonsense", now), Err(EmbedError::Shape));
    }
}
