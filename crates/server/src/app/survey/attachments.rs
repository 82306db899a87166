//! Photos and voice messages from the door: checked by their content (not
//! by what the client claims), written under their SHA-256 in the data
//! directory so that the same file sent twice is kept once, and deleted
//! when the retention limit passes.

use std::path::{Path, PathBuf};

use doorstep_store::Store;

/// Largest photo accepted (the terminal shrinks photos to ~300 KB first).
pub const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;
/// Largest voice message accepted (about ten minutes of Opus).
pub const MAX_VOICE_BYTES: usize = 10 * 1024 * 1024;

/// What a file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    /// `photo` or `voice`.
    pub kind: &'static str,
    pub content_type: &'static str,
}

/// Tells a photo or a voice message by its first bytes; anything else is
/// refused, whatever its name or declared type.
pub fn sniff(bytes: &[u8]) -> Option<Sniffed> {
    let found = infer::get(bytes)?;
    let (kind, content_type) = match found.mime_type() {
        "image/jpeg" => ("photo", "image/jpeg"),
        "image/png" => ("photo", "image/png"),
        "image/webp" => ("photo", "image/webp"),
        "image/heif" => ("photo", "image/heif"),
        // Browsers record voice as WebM (Chromium, Firefox) or MP4 (Safari).
        "video/webm" => ("voice", "audio/webm"),
        "video/mp4" | "audio/m4a" => ("voice", "audio/mp4"),
        "audio/ogg" | "audio/opus" => ("voice", "audio/ogg"),
        "audio/mpeg" => ("voice", "audio/mpeg"),
        "audio/x-wav" => ("voice", "audio/wav"),
        "audio/aac" => ("voice", "audio/aac"),
        _ => return None,
    };
    Some(Sniffed { kind, content_type })
}

/// The size limit for a kind.
pub fn limit(kind: &str) -> usize {
    if kind == "photo" {
        MAX_PHOTO_BYTES
    } else {
        MAX_VOICE_BYTES
    }
}

/// An attachment id: a SHA-256 as 64 lowercase hex digits.
pub fn is_id(id: &str) -> bool {
    id.len() == 64
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Where the file with this id lives: `DATA/attachments/ab/abcdef…`.
pub fn path(data_dir: &Path, id: &str) -> PathBuf {
    data_dir.join("attachments").join(&id[..2]).join(id)
}

/// Writes the file unless it is there already: to a temporary name first,
/// then renamed, so a crash never leaves half a photo under its id.
pub async fn save(data_dir: &Path, id: &str, bytes: &[u8]) -> std::io::Result<()> {
    let target = path(data_dir, id);
    if tokio::fs::try_exists(&target).await? {
        return Ok(());
    }
    let dir = target.parent().unwrap_or(data_dir);
    tokio::fs::create_dir_all(dir).await?;
    let temporary = dir.join(format!(".{id}.{}.part", uuid::Uuid::new_v4().simple()));
    tokio::fs::write(&temporary, bytes).await?;
    if let Err(e) = tokio::fs::rename(&temporary, &target).await {
        let _ = tokio::fs::remove_file(&temporary).await;
        return Err(e);
    }
    Ok(())
}

/// Deletes an attachment's file; one already gone is fine.
async fn remove(data_dir: &Path, id: &str) -> std::io::Result<()> {
    match tokio::fs::remove_file(path(data_dir, id)).await {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Deletes the attachments older than `days`, files first, then their
/// records. Returns how many went.
pub async fn purge(store: &Store, data_dir: &Path, days: u32) -> anyhow::Result<usize> {
    let before = doorstep_store::now_millis() - i64::from(days) * 86_400_000;
    let mut deleted = 0;
    loop {
        let batch = store.attachments_before(before, 500).await?;
        if batch.is_empty() {
            return Ok(deleted);
        }
        for a in &batch {
            remove(data_dir, &a.id)
                .await
                .map_err(|e| anyhow::anyhow!("cannot delete attachment {}: {e}", a.id))?;
            store.forget_attachment(&a.id).await?;
            deleted += 1;
        }
    }
}

/// Erases a customer's personal data (see [`Store::erase_customer`]) and
/// deletes the files of their photos and voice messages. `who` is a phone
/// (as people write it, read in the deployment's country), an e-mail
/// address, or a case's number as `#1042` (the customer who wrote in it:
/// how a customer known only by a messenger chat is found).
pub async fn erase_customer(
    store: &Store,
    data_dir: &Path,
    who: &str,
) -> anyhow::Result<Option<doorstep_store::Erased>> {
    use doorstep_store::Erasee;
    let who = who.trim();
    let phone;
    let address;
    let erasee = if let Some(number) = who.strip_prefix('#') {
        let number = number
            .parse::<i64>()
            .map_err(|_| anyhow::anyhow!("{who:?} is not a case number (write it as #1042)"))?;
        Erasee::Case(number)
    } else if who.contains('@') {
        address = crate::app::helpdesk::email::bare_address(who);
        Erasee::Email(&address)
    } else if who.starts_with("erased-") {
        Erasee::Phone(who)
    } else {
        let deployment = store.deployment().await?;
        phone = doorstep_domain::Phone::parse(who, deployment.country())
            .map_err(|e| anyhow::anyhow!("{who:?} is not a phone number: {e}"))?
            .into_string();
        Erasee::Phone(&phone)
    };
    let Some(erased) = store.erase_customer(erasee).await? else {
        return Ok(None);
    };
    for id in erased.attachments.iter().filter(|id| is_id(id)) {
        remove(data_dir, id).await.map_err(|e| {
            anyhow::anyhow!(
                "the data was erased, but the file of attachment {id} could not be deleted: {e}"
            )
        })?;
    }
    Ok(Some(erased))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_and_voices_are_told_by_content_and_the_rest_refused() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0];
        assert_eq!(sniff(&jpeg).map(|s| s.kind), Some("photo"));
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png).map(|s| s.content_type), Some("image/png"));
        let webm = [
            0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01, 0x42,
            0xF2, 0x81, 0x04, 0x42, 0xF3, 0x81, 0x08, 0x42, 0x82, 0x84, b'w', b'e', b'b', b'm',
        ];
        assert_eq!(
            sniff(&webm),
            Some(Sniffed {
                kind: "voice",
                content_type: "audio/webm"
            })
        );
        assert_eq!(sniff(b"<html><script>alert(1)</script>"), None);
        assert_eq!(sniff(b"%PDF-1.7"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn ids_are_sha256_hex() {
        assert!(is_id(&"a1".repeat(32)));
        assert!(!is_id(&"A1".repeat(32)));
        assert!(!is_id("../../etc/passwd"));
        assert!(!is_id(&"a".repeat(63)));
    }
}
