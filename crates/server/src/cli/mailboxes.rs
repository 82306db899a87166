//! `doorstep mailbox set|list|remove`: the e-mail channel's mailbox per
//! line, read over IMAP; replies go out from its address.

use clap::Subcommand;
use doorstep_domain::helpdesk::cases::Line;
use doorstep_store::helpdesk::mail::NewMailbox;

use super::{open_store, read_stdin_line};

#[derive(Subcommand)]
pub enum MailboxCommand {
    /// Set a line's mailbox (or change it); the password is read from
    /// standard input. Checks that it can be read before saving.
    Set {
        /// The line whose customers write to it: customers or couriers.
        #[arg(long, default_value = "customers")]
        line: String,
        /// The address customers write to and replies come from, e.g.
        /// "Care <care@example.com>".
        #[arg(long)]
        address: String,
        /// The IMAP server, e.g. imap.example.com.
        #[arg(long)]
        host: String,
        /// 993 for TLS, 143 for STARTTLS or none.
        #[arg(long)]
        port: Option<u16>,
        #[arg(long, default_value = "tls", value_parser = crate::imap::SECURITIES)]
        security: String,
        /// The account's user name (often the address itself).
        #[arg(long)]
        username: String,
        /// Read the password from standard input (required: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[arg(long, default_value = "INBOX")]
        folder: String,
        /// Save without checking that the mailbox can be read now.
        #[arg(long)]
        no_check: bool,
    },
    /// Every line's mailbox, with when it was last read and what failed.
    List,
    /// Stop reading a line's mailbox.
    Remove {
        #[arg(long)]
        line: String,
    },
}

pub async fn run(database: &str, cmd: MailboxCommand) -> anyhow::Result<()> {
    let store = open_store(database).await?;
    let result = run_with(&store, cmd).await;
    store.close().await;
    result
}

fn line(value: &str) -> anyhow::Result<Line> {
    Line::parse(value.trim())
        .ok_or_else(|| anyhow::anyhow!("--line {value:?}: use one of {}", Line::words()))
}

async fn run_with(store: &doorstep_store::Store, cmd: MailboxCommand) -> anyhow::Result<()> {
    match cmd {
        MailboxCommand::Set {
            line: l,
            address,
            host,
            port,
            security,
            username,
            password_stdin: _,
            folder,
            no_check,
        } => {
            let l = line(&l)?;
            if address.parse::<lettre::message::Mailbox>().is_err() {
                anyhow::bail!("--address {address:?} is not an e-mail address (e.g. \"Care <care@example.com>\")");
            }
            let host = host.trim();
            if host.is_empty() || host.contains(char::is_whitespace) {
                anyhow::bail!("--host {host:?} is not a host name (e.g. imap.example.com)");
            }
            if folder.trim().is_empty() {
                anyhow::bail!("--folder: give the folder to read (INBOX unless the mail server files them elsewhere)");
            }
            let port = port.unwrap_or(if security == "tls" { 993 } else { 143 });
            let password = read_stdin_line("password")?;
            let new = NewMailbox {
                line: l.as_str(),
                address: address.trim(),
                host,
                port,
                security: &security,
                username: username.trim(),
                password: &password,
                folder: folder.trim(),
            };
            if !no_check {
                let probe = doorstep_store::helpdesk::mail::Mailbox {
                    line: new.line.to_owned(),
                    address: new.address.to_owned(),
                    host: new.host.to_owned(),
                    port: i64::from(port),
                    security: security.clone(),
                    username: new.username.to_owned(),
                    password: password.clone(),
                    folder: new.folder.to_owned(),
                    uid_validity: None,
                    last_uid: 0,
                    checked_at: None,
                    last_error: None,
                    created_at: 0,
                };
                crate::imap::check(&probe).await.map_err(|e| {
                    anyhow::anyhow!("the mailbox cannot be read, so it was not saved: {e:#} (--no-check saves it anyway)")
                })?;
            }
            let m = store.set_mailbox(&new).await?;
            println!(
                "The {} line reads {} ({}:{}, {}, folder {}) every 20 s while `doorstep serve` runs; replies go out from {} through the mail server (Reports → mail server).",
                m.line, m.username, m.host, m.port, m.security, m.folder, m.address
            );
        }
        MailboxCommand::List => {
            let all = store.mailboxes().await?;
            if all.is_empty() {
                println!("No mailboxes. Set one with `doorstep mailbox set --line customers --address care@example.com --host imap.example.com --username care@example.com --password-stdin`.");
            }
            for m in all {
                let read = m.checked_at.map_or_else(
                    || "not read yet".to_owned(),
                    |at| format!("last read {}", doorstep_domain::time::from_millis(at)),
                );
                let error = m
                    .last_error
                    .map(|e| format!("  FAILED: {e}"))
                    .unwrap_or_default();
                println!(
                    "{}  {}  {}@{}:{} {} {}  {read}{error}",
                    m.line, m.address, m.username, m.host, m.port, m.security, m.folder
                );
            }
        }
        MailboxCommand::Remove { line: l } => {
            let l = line(&l)?;
            if !store.remove_mailbox(l.as_str()).await? {
                anyhow::bail!(
                    "the {} line has no mailbox (see `doorstep mailbox list`)",
                    l.as_str()
                );
            }
            println!("The {} line's mailbox is no longer read.", l.as_str());
        }
    }
    Ok(())
}
