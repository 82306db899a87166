//! The customer's status page of a case: its unguessable address.
//!
//! A case's token is its id with a MAC of it under the deployment's
//! status key (kept in the database, made once, shared by every server):
//! nothing per case is stored, the address can be given again whenever
//! the case is shown (`status_url`), and no token can be made or changed
//! to reach another case without the key.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use doorstep_store::{Store, StoreError};

/// The setting that holds the key.
const KEY_SETTING: &str = "status_page_key";

/// Bytes of the MAC kept in a token (144 bits).
const MAC_BYTES: usize = 18;

/// The deployment's status key, made on first use (two servers making it
/// at once keep one: the first written).
pub async fn key(store: &Store) -> Result<Vec<u8>, StoreError> {
    Ok(store
        .setting_made_once(KEY_SETTING, || crate::security::new_secret("dsk"))
        .await?
        .into_bytes())
}

fn mac(key: &[u8], case_id: &uuid::Uuid) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(b"case-status:");
    mac.update(case_id.as_bytes());
    mac
}

/// The token of a case (its id is a UUID; `None` for any other id).
pub fn token(key: &[u8], case_id: &str) -> Option<String> {
    let id = uuid::Uuid::parse_str(case_id).ok()?;
    let tag = mac(key, &id).finalize().into_bytes();
    let mut bytes = id.as_bytes().to_vec();
    bytes.extend_from_slice(&tag[..MAC_BYTES]);
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The case a token opens, if it is one this deployment made (checked in
/// constant time).
pub fn case_of(key: &[u8], token: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()?;
    if bytes.len() != 16 + MAC_BYTES {
        return None;
    }
    let id = uuid::Uuid::from_slice(&bytes[..16]).ok()?;
    mac(key, &id).verify_truncated_left(&bytes[16..]).ok()?;
    Some(id.to_string())
}

/// The status page's address for one case, reached at `host` (the
/// request's `Host`; `DOORSTEP_PUBLIC_URL` wins, see `public_base`).
pub async fn link(
    store: &Store,
    host: Option<&str>,
    case_id: &str,
) -> Result<Option<String>, StoreError> {
    let key = key(store).await?;
    Ok(url(
        &crate::app::survey::links::public_base(host),
        &key,
        case_id,
    ))
}

/// The status page's address for a case.
pub fn url(base: &str, key: &[u8], case_id: &str) -> Option<String> {
    token(key, case_id).map(|t| format!("{base}/c/{t}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_opens_its_case_and_no_other() {
        let key = b"dsk_test_key";
        let id = uuid::Uuid::now_v7().to_string();
        let t = token(key, &id).unwrap();
        assert_eq!(t.len(), 46);
        assert_eq!(case_of(key, &t).as_deref(), Some(id.as_str()));
        // Another key, a changed character, a truncated token: nothing.
        assert_eq!(case_of(b"another", &t), None);
        let mut changed = t.clone().into_bytes();
        changed[5] = if changed[5] == b'A' { b'B' } else { b'A' };
        assert_eq!(case_of(key, &String::from_utf8(changed).unwrap()), None);
        assert_eq!(case_of(key, &t[..40]), None);
        assert_eq!(case_of(key, "not base64 at all!"), None);
        // The case next in time has an unrelated token.
        let next = uuid::Uuid::now_v7().to_string();
        let u = token(key, &next).unwrap();
        assert_ne!(t[22..], u[22..]);
        assert_eq!(token(key, "1042"), None);
    }
}
