//! `doorstep mailbox set|list|remove`: the e-mail channel's mailbox per
//! line, read over IMAP; replies go out from its address.

use crate::app::helpdesk::channels::{save_mailbox, MailboxInput, MailboxRefusal};
use clap::Subcommand;
use doorstep_domain::helpdesk::cases::Line;

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

/// The flag a refusal is about.
fn refused_flag(refusal: &MailboxRefusal) -> &'static str {
    match refusal {
        MailboxRefusal::Address(_) => "address",
        MailboxRefusal::Host(_) => "host",
        MailboxRefusal::Security => "security",
        MailboxRefusal::Username => "username",
        MailboxRefusal::Password => "password-stdin",
        MailboxRefusal::Folder => "folder",
        _ => "line",
    }
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
            let password = read_stdin_line("password")?;
            let input = MailboxInput {
                line: l,
                address,
                host,
                port,
                security,
                username,
                password,
                folder,
            };
            let m = save_mailbox(store, &input, !no_check)
                .await
                .map_err(|e| match e {
                    MailboxRefusal::Line => {
                        anyhow::anyhow!("--line {:?}: use one of {}", input.line, Line::words())
                    }
                    MailboxRefusal::Unreadable(_) => {
                        anyhow::anyhow!("{e} (--no-check saves it anyway)")
                    }
                    MailboxRefusal::Store(e) => e.into(),
                    other => anyhow::anyhow!("--{}: {other}", refused_flag(&other)),
                })?;
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
