//! E-mail over SMTP (lettre): the deployment's mail server settings, kept
//! with the other settings, and sending one message with an optional file.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use doorstep_store::Store;

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: a relay on the same host or network only.
    None,
}

impl Security {
    pub fn parse(s: &str) -> Option<Security> {
        match s {
            "starttls" => Some(Security::Starttls),
            "tls" => Some(Security::Tls),
            "none" => Some(Security::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Security::Starttls => "starttls",
            Security::Tls => "tls",
            Security::None => "none",
        }
    }
}

/// The mail server Doorstep sends through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub security: Security,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    /// The sender, e.g. `Doorstep <reports@example.com>`.
    pub from: String,
}

const SETTING: &str = "smtp";

impl Smtp {
    /// The saved settings, if any.
    pub async fn load(store: &Store) -> anyhow::Result<Option<Smtp>> {
        Ok(store
            .setting(SETTING)
            .await?
            .and_then(|v| serde_json::from_str(&v).ok()))
    }

    pub async fn save(&self, store: &Store) -> anyhow::Result<()> {
        store
            .set_setting(SETTING, &serde_json::to_string(self)?)
            .await?;
        Ok(())
    }

    /// What is wrong, field by field.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.host.trim().is_empty() || self.host.contains(char::is_whitespace) {
            out.push(format!(
                "host: {:?} is not a host name (e.g. smtp.example.com)",
                self.host
            ));
        }
        if self.port == 0 {
            out.push("port: give the mail server's port (587 for STARTTLS, 465 for TLS, 25 for a local relay)".to_owned());
        }
        if self.from.parse::<Mailbox>().is_err() {
            out.push(format!(
                "from: {:?} is not an e-mail address (e.g. Doorstep <reports@example.com>)",
                self.from
            ));
        }
        if self.username.is_empty() != self.password.is_empty() {
            out.push(
                "username and password: give both, or neither for a server without sign-in"
                    .to_owned(),
            );
        }
        out
    }
}

/// One message.
#[derive(Default)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    /// (file name, content type, bytes)
    pub attachment: Option<(String, String, Vec<u8>)>,
    /// Where it is in a thread (a case's e-mail conversation).
    pub thread: Option<Thread>,
}

/// A message of an e-mail thread: its own id, what it answers, and the
/// sender the customer answers to (a line's mailbox).
#[derive(Debug, Clone, Default)]
pub struct Thread {
    /// `<…@…>`, kept so the customer's answer finds its case.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    /// The thread's earlier ids, oldest first.
    pub references: Vec<String>,
    /// The line's address, instead of the mail server's sender.
    pub from: Option<String>,
}

/// Addresses from a comma- or line-separated list; each bad one named.
pub fn addresses(list: &str) -> Result<Vec<String>, String> {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for a in list
        .split([',', ';', '\n', '\r'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        if a.parse::<Mailbox>().is_ok() {
            good.push(a.to_owned());
        } else {
            bad.push(format!("{a:?}"));
        }
    }
    if !bad.is_empty() {
        return Err(format!("not e-mail addresses: {}", bad.join(", ")));
    }
    if good.is_empty() {
        return Err("give at least one e-mail address".to_owned());
    }
    Ok(good)
}

/// Sends `mail` through `smtp` (20 s at most).
pub async fn send(smtp: &Smtp, mail: &Mail) -> anyhow::Result<()> {
    let from = mail
        .thread
        .as_ref()
        .and_then(|t| t.from.as_deref())
        .unwrap_or(&smtp.from);
    let mut builder = Message::builder()
        .from(from.parse()?)
        .subject(mail.subject.clone());
    if let Some(thread) = &mail.thread {
        builder = builder.message_id(Some(thread.message_id.clone()));
        if let Some(parent) = &thread.in_reply_to {
            builder = builder.in_reply_to(parent.clone());
        }
        if !thread.references.is_empty() {
            builder = builder.references(thread.references.join(" "));
        }
    }
    for to in &mail.to {
        builder = builder.to(to.parse()?);
    }
    let text = SinglePart::plain(mail.text.clone());
    let message = match &mail.attachment {
        None => builder.singlepart(text)?,
        Some((name, content_type, bytes)) => builder.multipart(
            MultiPart::mixed().singlepart(text).singlepart(
                Attachment::new(name.clone())
                    .body(bytes.clone(), ContentType::parse(content_type)?),
            ),
        )?,
    };
    let transport = match smtp.security {
        Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
        Security::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?,
        Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
    };
    let mut transport = transport
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(20)));
    if !smtp.username.is_empty() {
        transport = transport.credentials(Credentials::new(
            smtp.username.clone(),
            smtp.password.clone(),
        ));
    }
    transport.build().send(message).await.map_err(|e| {
        anyhow::anyhow!(
            "the mail server {}:{} refused or failed: {e}",
            smtp.host,
            smtp.port
        )
    })?;
    Ok(())
}
