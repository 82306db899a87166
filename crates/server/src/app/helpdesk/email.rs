//! The e-mail channel: a customer's message read from a line's mailbox
//! opens a case or joins one — the case its In-Reply-To or References
//! belong to, else the case number (`[#1042]`) or an order number in its
//! subject, else the customer's open case — and an operator's reply goes
//! back by e-mail in the same thread (see `notices`), in the customer's
//! language, from the line's address.

use doorstep_domain::helpdesk::cases::MAX_TEXT_CHARS;
use doorstep_store::helpdesk::cases::{Opened, EMAIL_CONVERSATION};
use mail_parser::MessageParser;

use super::cases::{self as use_cases, CaseError, CaseRequest, ContactRequest};
use crate::app::App;

/// A customer's message as read from a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// Its Message-ID without the angle brackets (made from its content
    /// when it has none).
    pub message_id: String,
    /// What it answers: In-Reply-To, then References newest first.
    pub parents: Vec<String>,
    /// The sender's address, lower-cased.
    pub from: String,
    pub subject: String,
    /// Its text, without the quoted earlier messages.
    pub text: String,
    /// The photos it carries (attached or inline), checked by their
    /// content like the chat's: at most [`MAX_PHOTOS`], each within the
    /// photo size limit; none from a message cut off at the size read.
    pub photos: Vec<Photo>,
}

/// A photo from an e-mail, as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

/// The most photos taken from one message.
pub const MAX_PHOTOS: usize = 5;

/// The photos among a message's parts.
fn photos(message: &mail_parser::Message<'_>, raw: &[u8]) -> Vec<Photo> {
    use crate::app::survey::attachments::{sniff, MAX_PHOTO_BYTES};
    if raw.len() >= crate::imap::MAX_MESSAGE_BYTES {
        tracing::warn!(
            bytes = raw.len(),
            "an e-mail is larger than Doorstep reads: its text is taken, its photos are not"
        );
        return Vec::new();
    }
    message
        .attachments()
        .filter_map(|part| {
            let bytes = part.contents();
            let found = sniff(bytes).filter(|f| f.kind == "photo")?;
            (bytes.len() <= MAX_PHOTO_BYTES).then(|| Photo {
                bytes: bytes.to_vec(),
                content_type: found.content_type,
            })
        })
        .take(MAX_PHOTOS)
        .collect()
}

/// Why a message read from a mailbox was left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// Not a message (no sender, no text).
    Unreadable,
    /// An out-of-office reply, a bounce, a mailing list: answering it
    /// would start a loop.
    Automatic,
    /// Sent by the line itself.
    Ours,
}

/// Reads one message; `Err` says why it is not a customer's.
pub fn parse(raw: &[u8]) -> Result<Inbound, Skipped> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(Skipped::Unreadable)?;
    let automatic = message
        .header_raw("Auto-Submitted")
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("no"))
        || message.header_raw("Precedence").is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "bulk" | "junk" | "list" | "auto_reply"
            )
        })
        || message.header_raw("List-Id").is_some();
    let from = message
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(|a| a.trim().to_lowercase())
        .filter(|a| a.contains('@'))
        .ok_or(Skipped::Unreadable)?;
    if automatic || from.starts_with("mailer-daemon@") || from.starts_with("postmaster@") {
        return Err(Skipped::Automatic);
    }
    let message_id = match message.message_id() {
        Some(id) if !id.trim().is_empty() => id.trim().to_owned(),
        _ => {
            use sha2::Digest;
            format!("{:x}@doorstep.invalid", sha2::Sha256::digest(raw))
        }
    };
    let mut parents: Vec<String> = Vec::new();
    for list in [message.in_reply_to(), message.references()] {
        let ids = list.as_text_list().unwrap_or_default();
        // References are oldest first: the nearest parent is the last.
        for id in ids.iter().rev() {
            let id = id.trim().to_owned();
            if !id.is_empty() && !parents.contains(&id) {
                parents.push(id);
            }
        }
    }
    let subject = message.subject().unwrap_or_default().trim().to_owned();
    let body = message.body_text(0).unwrap_or_default();
    let text = without_quotes(&body);
    let photos = photos(&message, raw);
    if text.is_empty() && subject.is_empty() && photos.is_empty() {
        return Err(Skipped::Unreadable);
    }
    Ok(Inbound {
        message_id,
        parents,
        from,
        subject,
        text,
        photos,
    })
}

/// A reply's own words: what comes before the quoted earlier message
/// (`On … wrote:`, `-----Original Message-----`, lines starting `>`) and
/// the signature separator.
pub fn without_quotes(body: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for line in body.lines() {
        let t = line.trim();
        let lower = t.to_lowercase();
        let quote_header = (lower.ends_with("wrote:")
            || lower.ends_with("пишет:")
            || lower.ends_with("написал:")
            || lower.ends_with("написала:")
            || lower.ends_with("написав:")
            || lower.ends_with("написала(-в):")
            || lower.ends_with("yozdi:"))
            && t.chars().count() < 200;
        if t == "--"
            || line == "-- "
            || lower.starts_with("-----original message")
            || lower.starts_with("-----исходное сообщение")
            || quote_header
        {
            break;
        }
        if t.starts_with('>') {
            continue;
        }
        kept.push(line.trim_end());
    }
    let text = kept.join("\n");
    text.trim().to_owned()
}

/// The case number a subject names as `[#1042]` (our replies' subjects).
pub fn case_number_in(subject: &str) -> Option<i64> {
    let start = subject.find("[#")? + 2;
    let end = subject[start..].find(']')? + start;
    subject[start..end].trim().parse().ok()
}

/// Words of a subject that may be order numbers (`Order 10023`,
/// `заказ №A-17`).
fn order_words(subject: &str) -> Vec<String> {
    let mut words: Vec<String> = subject
        .split(|c: char| {
            c.is_whitespace()
                || matches!(c, ',' | ';' | ':' | '(' | ')' | '[' | ']' | '№' | '#' | '"')
        })
        .map(|w| w.trim_matches(|c: char| c == '.' || c == '!' || c == '?'))
        .filter(|w| w.len() >= 3 && w.len() <= 64 && w.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_owned)
        .collect();
    words.sort();
    words.dedup();
    words.truncate(20);
    words
}

/// A message's text as a contact: the subject leads a new case's first
/// message; too long a text is cut to what a contact holds.
fn contact_text(message: &Inbound, new_case: bool) -> String {
    let subject = message.subject.trim();
    let lower = subject.to_lowercase();
    let reply_subject = ["re:", "aw:", "отв:", "ответ:", "fwd:", "fw:"]
        .iter()
        .any(|p| lower.starts_with(p));
    let text = if message.text.is_empty() {
        subject.to_owned()
    } else if new_case && !subject.is_empty() && !reply_subject {
        format!("{subject}\n\n{}", message.text)
    } else {
        message.text.clone()
    };
    if text.chars().count() > MAX_TEXT_CHARS {
        let mut cut: String = text.chars().take(MAX_TEXT_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        text
    }
}

/// Where a message went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// A new case, or joined one: its id and number.
    Created(String, i64),
    Joined(String, i64),
    /// Read before (another server, a mailbox read again): the case it
    /// went to.
    Again(String),
}

impl Taken {
    /// The case the message went to.
    pub fn case_id(&self) -> &str {
        match self {
            Taken::Created(id, _) | Taken::Joined(id, _) | Taken::Again(id) => id,
        }
    }
}

/// Takes a customer's message from `line`'s mailbox: opens or joins a
/// case, and ties the message to its thread. Taking the same message
/// again adds nothing.
pub async fn take(app: &App, line: &str, message: &Inbound) -> Result<Taken, CaseError> {
    let store = &app.store;
    let external_id = format!("mail:{}", message.message_id);
    if let Some(case_id) = store
        .mail_thread_case(std::slice::from_ref(&message.message_id))
        .await?
    {
        return Ok(Taken::Again(case_id));
    }
    // The thread it answers, else the case its subject names.
    let mut thread_case = store.mail_thread_case(&message.parents).await?;
    if thread_case.is_none() {
        if let Some(number) = case_number_in(&message.subject) {
            thread_case = store.case_by_number(number).await?.map(|c| c.id);
        }
    }
    let conversation = format!("{EMAIL_CONVERSATION}{}", message.from);
    if let Some(case_id) = thread_case {
        let joined = use_cases::add_contact(
            app,
            &case_id,
            &ContactRequest {
                channel: "email".to_owned(),
                direction: None,
                text: contact_text(message, false),
                external_id: Some(external_id.clone()),
            },
            "email",
            false,
        )
        .await?;
        match joined {
            (Ok(case), _) => {
                store.set_case_conversation(&case.id, &conversation).await?;
                store
                    .add_mail_message(&message.message_id, &case.id, "inbound")
                    .await?;
                return Ok(Taken::Joined(case.id, case.number));
            }
            // A resolved (or since erased) case: the customer writes
            // again, which opens a new case — a repeat contact, measured
            // as such.
            (Err(_), _) => {}
        }
    }
    let orders = store.known_orders(&order_words(&message.subject)).await?;
    let phone = store.customer_by_email(&message.from).await?;
    let opened = use_cases::open(
        app,
        &CaseRequest {
            channel: "email".to_owned(),
            line: Some(line.to_owned()),
            order_number: orders.first().cloned(),
            customer_phone: phone,
            text: contact_text(message, true),
            external_id: Some(external_id),
            conversation: Some(conversation.clone()),
            ..CaseRequest::default()
        },
        "email",
    )
    .await?;
    let case = opened.case();
    store.set_case_conversation(&case.id, &conversation).await?;
    store
        .add_mail_message(&message.message_id, &case.id, "inbound")
        .await?;
    Ok(match opened {
        Opened::Created(c) => Taken::Created(c.id, c.number),
        Opened::Joined(c) => Taken::Joined(c.id, c.number),
        Opened::Again(c) => Taken::Again(c.id),
    })
}

/// The message's photos, each a contact of its own on the case (kept like
/// the chat's photos: the same store, retention and erasure), before the
/// mailbox's place moves past the message: read again after a crash, they
/// are added once (their ids come from the message's).
async fn add_photos(app: &App, case_id: &str, message: &Inbound) -> anyhow::Result<()> {
    use doorstep_domain::helpdesk::cases::Direction;
    use doorstep_store::helpdesk::cases::NewContact;
    for (i, photo) in message.photos.iter().enumerate() {
        let id = crate::security::sha256_bytes_hex(&photo.bytes);
        crate::app::survey::attachments::save(&app.data_dir, &id, &photo.bytes)
            .await
            .map_err(|e| {
                anyhow::anyhow!("an e-mailed photo could not be written to the data directory: {e}")
            })?;
        app.store
            .add_attachment(
                &id,
                "photo",
                photo.content_type,
                i64::try_from(photo.bytes.len()).unwrap_or(i64::MAX),
                None,
            )
            .await?;
        let external = format!("mail:{}#photo{}", message.message_id, i + 1);
        let contact = NewContact {
            channel: "email",
            direction: Direction::Inbound,
            text: "📷",
            author: "email",
            external_id: Some(&external),
            by_person: false,
            attachment_id: Some(&id),
            follows_previous: true,
        };
        // A case closed meanwhile keeps the message's text; its photos
        // would need a case to go to.
        let _ = app.store.add_contact(case_id, &contact).await?;
    }
    Ok(())
}

/// The address part of a sender like `Care <care@shop.example>`.
pub fn bare_address(sender: &str) -> String {
    sender.parse::<lettre::message::Mailbox>().map_or_else(
        |_| sender.trim().to_lowercase(),
        |m| m.email.to_string().to_lowercase(),
    )
}

/// Reads every line's mailbox once: each new message is taken and the
/// mailbox's place moves past it. A message that cannot be a contact is
/// passed over (logged); a mailbox that cannot be read keeps its place
/// and says why in Settings. The number of messages taken.
pub async fn read_mailboxes(app: &App) -> anyhow::Result<usize> {
    let store = &app.store;
    let mut taken = 0;
    for mailbox in store.mailboxes().await? {
        let fetched = match crate::imap::fetch_new(&mailbox).await {
            Ok(f) => f,
            Err(e) => {
                let why = format!("{e:#}");
                tracing::warn!(line = %mailbox.line, error = %why, "a mailbox could not be read");
                store.mailbox_failed(&mailbox.line, &why).await?;
                continue;
            }
        };
        let ours = bare_address(&mailbox.address);
        let validity = i64::from(fetched.uid_validity);
        let mut last = if mailbox.uid_validity == Some(validity) {
            mailbox.last_uid
        } else {
            0
        };
        for (uid, raw) in &fetched.messages {
            match parse(raw).and_then(|m| {
                if m.from == ours {
                    Err(Skipped::Ours)
                } else {
                    Ok(m)
                }
            }) {
                Ok(message) => match take(app, &mailbox.line, &message).await {
                    Ok(t) => {
                        add_photos(app, t.case_id(), &message).await?;
                        if !matches!(t, Taken::Again(_)) {
                            taken += 1;
                        }
                    }
                    Err(CaseError::Invalid(p)) => {
                        tracing::warn!(line = %mailbox.line, uid, problem = %p, "an e-mail was not taken");
                    }
                    // The database failed: this message is read again.
                    Err(CaseError::Store(e)) => return Err(e.into()),
                },
                Err(skipped) => {
                    tracing::debug!(line = %mailbox.line, uid, ?skipped, "an e-mail was passed over");
                }
            }
            last = i64::from(*uid);
            store.mailbox_read(&mailbox.line, validity, last).await?;
        }
        if fetched.messages.is_empty() {
            store.mailbox_read(&mailbox.line, validity, last).await?;
        }
    }
    Ok(taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_read_with_its_thread_and_without_the_quote() {
        let raw = b"From: =?UTF-8?B?0JDQvdC90LA=?= <Anna@Example.com>\r\n\
To: care@shop.example\r\n\
Subject: Re: Your request No. 12 [#12]\r\n\
Message-ID: <r2@example.com>\r\n\
In-Reply-To: <n1@shop.example>\r\n\
References: <m0@example.com> <n1@shop.example>\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Still nothing.\r\n\
\r\n\
On Mon, 7 Dec 2026 at 10:00, Shop <care@shop.example> wrote:\r\n\
> We are on it.\r\n";
        let m = parse(raw).unwrap();
        assert_eq!(m.message_id, "r2@example.com");
        assert_eq!(m.from, "anna@example.com");
        assert_eq!(m.parents, vec!["n1@shop.example", "m0@example.com"]);
        assert_eq!(m.text, "Still nothing.");
        assert_eq!(case_number_in(&m.subject), Some(12));
        assert_eq!(
            contact_text(&m, true),
            "Still nothing.",
            "a reply's subject is not news"
        );
    }

    #[test]
    fn automatic_mail_is_left_alone_and_a_message_without_id_gets_one() {
        let away = b"From: a@example.com\r\nAuto-Submitted: auto-replied\r\nSubject: Away\r\n\r\nI am away.\r\n";
        assert_eq!(parse(away), Err(Skipped::Automatic));
        let bounce =
            b"From: MAILER-DAEMON@mx.example.com\r\nSubject: Undelivered\r\n\r\nfailed\r\n";
        assert_eq!(parse(bounce), Err(Skipped::Automatic));
        let plain =
            b"From: a@example.com\r\nSubject: Order A-17 broken\r\n\r\nThe box was wet.\r\n";
        let m = parse(plain).unwrap();
        assert!(m.message_id.ends_with("@doorstep.invalid"));
        assert_eq!(
            parse(plain).unwrap().message_id,
            m.message_id,
            "the same message, the same id"
        );
        assert_eq!(order_words(&m.subject), vec!["A-17"]);
        assert_eq!(
            contact_text(&m, true),
            "Order A-17 broken\n\nThe box was wet."
        );
        assert_eq!(
            parse(b"Subject: x\r\n\r\nno sender\r\n"),
            Err(Skipped::Unreadable)
        );
    }

    #[test]
    fn quotes_in_russian_and_signatures_are_cut() {
        let body = "Где заказ?\n--\nАнна\n";
        assert_eq!(without_quotes(body), "Где заказ?");
        let body = "Спасибо!\n\nПн, 7 дек. 2026 г. в 10:00, Магазин <care@shop.example> пишет:\n> Мы занимаемся\n";
        assert_eq!(without_quotes(body), "Спасибо!");
        assert_eq!(order_words("Заказ №10023: не пришёл"), vec!["10023"]);
        assert_eq!(case_number_in("no number"), None);
    }
}
