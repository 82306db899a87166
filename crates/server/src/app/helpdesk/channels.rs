//! Setting up the channels customers write on: a line's mailbox (read over
//! IMAP, replies sent from its address) and the messenger gateways that
//! post to `/hooks/gateways/{id}`. The command line and Settings → Channels
//! both go through here.

use doorstep_domain::helpdesk::cases::Line;
use doorstep_store::helpdesk::gateways::Gateway;
use doorstep_store::helpdesk::mail::{Mailbox, NewMailbox};
use doorstep_store::{Store, StoreError};

/// A line's mailbox as an admin typed it.
#[derive(Debug, Clone, Default)]
pub struct MailboxInput {
    pub line: String,
    pub address: String,
    pub host: String,
    /// `None`: 993 for TLS, 143 otherwise.
    pub port: Option<u16>,
    pub security: String,
    pub username: String,
    pub password: String,
    pub folder: String,
}

/// Why a mailbox was not saved.
#[derive(Debug, thiserror::Error)]
pub enum MailboxRefusal {
    #[error("the line must be one of {}", Line::words())]
    Line,
    #[error("{0:?} is not an e-mail address (e.g. \"Care <care@example.com>\")")]
    Address(String),
    #[error("{0:?} is not a host name (e.g. imap.example.com)")]
    Host(String),
    #[error("the security must be one of tls, starttls, none")]
    Security,
    #[error("give the account's user name (often the address itself)")]
    Username,
    #[error("give the account's password")]
    Password,
    #[error("give the folder to read (INBOX unless the mail server files them elsewhere)")]
    Folder,
    /// Signing in or opening the folder failed: the server's words.
    #[error("the mailbox cannot be read, so it was not saved: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a mailbox, signs in to it and opens its folder (unless
/// `check` is false), then saves it: from then on the job `mail.read`
/// reads it every 20 s.
pub async fn save_mailbox(
    store: &Store,
    input: &MailboxInput,
    check: bool,
) -> Result<Mailbox, MailboxRefusal> {
    let line = Line::parse(input.line.trim()).ok_or(MailboxRefusal::Line)?;
    let address = input.address.trim();
    if address.parse::<lettre::message::Mailbox>().is_err() {
        return Err(MailboxRefusal::Address(address.to_owned()));
    }
    let host = input.host.trim();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(MailboxRefusal::Host(host.to_owned()));
    }
    let security = input.security.trim();
    if !crate::imap::SECURITIES.contains(&security) {
        return Err(MailboxRefusal::Security);
    }
    let username = input.username.trim();
    if username.is_empty() {
        return Err(MailboxRefusal::Username);
    }
    if input.password.is_empty() {
        return Err(MailboxRefusal::Password);
    }
    let folder = input.folder.trim();
    if folder.is_empty() {
        return Err(MailboxRefusal::Folder);
    }
    let port = input
        .port
        .unwrap_or(if security == "tls" { 993 } else { 143 });
    let new = NewMailbox {
        line: line.as_str(),
        address,
        host,
        port,
        security,
        username,
        password: &input.password,
        folder,
    };
    if check {
        let probe = Mailbox {
            line: new.line.to_owned(),
            address: address.to_owned(),
            host: host.to_owned(),
            port: i64::from(port),
            security: security.to_owned(),
            username: username.to_owned(),
            password: input.password.clone(),
            folder: folder.to_owned(),
            uid_validity: None,
            last_uid: 0,
            checked_at: None,
            last_error: None,
            created_at: 0,
        };
        crate::imap::check(&probe)
            .await
            .map_err(|e| MailboxRefusal::Unreadable(format!("{e:#}")))?;
    }
    Ok(store.set_mailbox(&new).await?)
}

/// Why a gateway was not added.
#[derive(Debug, thiserror::Error)]
pub enum GatewayRefusal {
    #[error("{0:?}: use 1 to 40 lower-case Latin letters, digits, '-' or '_' (e.g. telegram)")]
    Name(String),
    #[error("\"email\" is the e-mail channel's own (a line's mailbox); choose another name")]
    EmailName,
    #[error("the channel must be messenger or social")]
    Channel,
    #[error("a gateway named {0:?} exists; choose another name or remove it first")]
    Taken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The channels a gateway's messages may come on.
pub const GATEWAY_CHANNELS: [&str; 2] = ["messenger", "social"];

/// Adds a gateway under a new signing secret; the gateway and the secret
/// (to show once).
pub async fn add_gateway(
    store: &Store,
    name: &str,
    channel: &str,
) -> Result<(Gateway, String), GatewayRefusal> {
    let name = name.trim();
    if name.is_empty()
        || name.len() > 40
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    {
        return Err(GatewayRefusal::Name(name.to_owned()));
    }
    if name == "email" {
        return Err(GatewayRefusal::EmailName);
    }
    if !GATEWAY_CHANNELS.contains(&channel) {
        return Err(GatewayRefusal::Channel);
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let secret = crate::webhooks::new_secret();
    match store.add_gateway(&id, name, channel, &secret).await? {
        Some(g) => Ok((g, secret)),
        None => Err(GatewayRefusal::Taken(name.to_owned())),
    }
}

/// Where a gateway posts customers' messages.
pub fn gateway_hook(gateway: &Gateway) -> String {
    format!(
        "{}/hooks/gateways/{}",
        crate::app::survey::links::public_base(None),
        gateway.id
    )
}
