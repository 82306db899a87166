//! Secrets: password hashing, random tokens and their stored hashes.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Hashes a password with argon2id (CPU-heavy: call from a blocking thread).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("could not hash the password: {e}"))
}

/// Checks a password against a stored argon2 hash (CPU-heavy).
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// A fresh secret of 32 random bytes, URL-safe, with a prefix that says what
/// it is (so a leaked one is recognised by secret scanners and people).
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a secret: its SHA-256, hex. Secrets are random and
/// long, so a fast hash is enough (unlike passwords).
pub fn secret_hash(secret: &str) -> String {
    sha256_hex(secret)
}

/// SHA-256 of a text, as 64 hex digits.
pub fn sha256_hex(text: &str) -> String {
    sha256_bytes_hex(text.as_bytes())
}

/// The SHA-256 of bytes as 64 lowercase hex digits.
pub fn sha256_bytes_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write;
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A short code a courier can type on a phone: 8 characters without look-alikes, as `XXXX-XXXX`.
pub fn enrollment_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut code = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        let idx = (OsRng.next_u32() as usize) % ALPHABET.len();
        code.push(ALPHABET[idx] as char);
    }
    code
}

/// Normalises a typed enrolment code (case, spaces, dash) before hashing.
pub fn normalize_code(code: &str) -> String {
    let clean: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if clean.len() == 8 {
        format!("{}-{}", &clean[..4], &clean[4..])
    } else {
        clean
    }
}

/// A random password for the first admin: 20 URL-safe characters.
pub fn random_password() -> String {
    let mut bytes = [0u8; 15];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Slows guessing: after `max` failures for a key within `window_ms`, the
/// key is refused until the window has passed. In memory, per process.
pub struct Throttle {
    max: u32,
    window_ms: i64,
    entries: std::sync::Mutex<std::collections::HashMap<String, (u32, i64)>>,
}

impl Throttle {
    pub fn new(max: u32, window_ms: i64) -> Throttle {
        Throttle {
            max,
            window_ms,
            entries: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, (u32, i64)>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long this key must still wait, if it is locked out.
    pub fn wait_ms(&self, key: &str, now: i64) -> Option<i64> {
        let entries = self.entries();
        let (count, since) = entries.get(key)?;
        let left = since + self.window_ms - now;
        (*count >= self.max && left > 0).then_some(left)
    }

    /// Counts a failed attempt.
    pub fn failed(&self, key: &str, now: i64) {
        let mut entries = self.entries();
        // Forget old windows now and then, so the map stays small.
        if entries.len() > 10_000 {
            let window = self.window_ms;
            entries.retain(|_, (_, since)| now - *since < window);
        }
        let entry = entries.entry(key.to_owned()).or_insert((0, now));
        if now - entry.1 >= self.window_ms {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    /// A success clears the key's failures.
    pub fn succeeded(&self, key: &str) {
        self.entries().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let a = new_secret("ds");
        assert_ne!(a, new_secret("ds"));
        assert!(a.starts_with("ds_") && a.len() > 40);
        assert_eq!(secret_hash(&a).len(), 64);
        assert_ne!(secret_hash(&a), secret_hash(&new_secret("ds")));
    }

    #[test]
    fn sha256_matches_the_published_test_vectors() {
        // FIPS 180-2, appendix B.1, and the empty message.
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_bytes_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            secret_hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn throttle_locks_after_repeated_failures_for_the_window() {
        let t = Throttle::new(3, 1000);
        for _ in 0..3 {
            assert_eq!(t.wait_ms("anna", 0), None);
            t.failed("anna", 0);
        }
        assert_eq!(t.wait_ms("anna", 400), Some(600));
        assert_eq!(t.wait_ms("olga", 400), None, "other keys are not affected");
        assert_eq!(t.wait_ms("anna", 1000), None, "the window passes");
        t.succeeded("anna");
        assert_eq!(t.wait_ms("anna", 500), None);
    }

    #[test]
    fn codes_are_typeable() {
        let c = enrollment_code();
        assert_eq!(c.len(), 9);
        assert_eq!(normalize_code(&c.to_lowercase().replace('-', " ")), c);
    }
}
