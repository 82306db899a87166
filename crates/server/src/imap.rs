//! Reading a line's mailbox over IMAP (async-imap): the messages that came
//! after the last one taken, looked at read-only (`EXAMINE`, `BODY.PEEK`)
//! so the mailbox's flags stay as its people left them.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_imap::Client;
use doorstep_store::helpdesk::mail::Mailbox;
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

/// The most messages one look takes (the rest come at the next).
pub const BATCH: usize = 50;

/// The most of one message read: room for a few phone photos (each at
/// most 5 MB, a third more as base64); beyond it the message is cut off —
/// its headers and text come first — and its photos are not taken.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// The most bytes one look holds in memory: once past it, the rest wait
/// for the next look.
const MAX_LOOK_BYTES: usize = 32 * 1024 * 1024;

/// How long one look at a mailbox may take.
const TIMEOUT: Duration = Duration::from_mins(1);

/// What one look found.
#[derive(Debug, Default)]
pub struct Fetched {
    /// The folder's UIDVALIDITY: when it changes, its UIDs are new.
    pub uid_validity: u32,
    /// The new messages, oldest first: (UID, the message as sent).
    pub messages: Vec<(u32, Vec<u8>)>,
}

/// How a mailbox's connection is protected.
pub const SECURITIES: [&str; 3] = ["tls", "starttls", "none"];

/// The messages of `mailbox` after its last UID taken (all of them after
/// a UIDVALIDITY change), at most [`BATCH`].
pub async fn fetch_new(mailbox: &Mailbox) -> anyhow::Result<Fetched> {
    look(mailbox, true).await
}

/// Signs in and opens the folder, reading nothing: whether the mailbox
/// can be read as set.
pub async fn check(mailbox: &Mailbox) -> anyhow::Result<()> {
    look(mailbox, false).await.map(|_| ())
}

async fn look(mailbox: &Mailbox, fetch: bool) -> anyhow::Result<Fetched> {
    let port = u16::try_from(mailbox.port).unwrap_or(993);
    let place = format!("{}:{port}", mailbox.host);
    tokio::time::timeout(TIMEOUT, async {
        let tcp = TcpStream::connect((mailbox.host.as_str(), port))
            .await
            .with_context(|| format!("cannot connect to {place}"))?;
        match mailbox.security.as_str() {
            "tls" => {
                let tls = tls_connect(&mailbox.host, tcp).await?;
                read(Client::new(tls), true, mailbox, fetch).await
            }
            "starttls" => {
                let mut client = Client::new(tcp);
                greeting(&mut client).await?;
                client
                    .run_command_and_check_ok("STARTTLS", None)
                    .await
                    .with_context(|| format!("{place} refused STARTTLS"))?;
                let tls = tls_connect(&mailbox.host, client.into_inner()).await?;
                // No greeting after STARTTLS.
                read(Client::new(tls), false, mailbox, fetch).await
            }
            _ => read(Client::new(tcp), true, mailbox, fetch).await,
        }
    })
    .await
    .map_err(|_| anyhow::anyhow!("{place} did not answer within {} s", TIMEOUT.as_secs()))?
}

async fn greeting<T>(client: &mut Client<T>) -> anyhow::Result<()>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    client
        .read_response()
        .await?
        .context("the server closed the connection before greeting")?;
    Ok(())
}

async fn tls_connect(
    host: &str,
    tcp: TcpStream,
) -> anyhow::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .with_context(|| format!("{host:?} is not a host name"))?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .with_context(|| format!("TLS with {host} failed"))
}

async fn read<T>(
    mut client: Client<T>,
    greet: bool,
    mailbox: &Mailbox,
    fetch: bool,
) -> anyhow::Result<Fetched>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    if greet {
        greeting(&mut client).await?;
    }
    let mut session = client
        .login(&mailbox.username, &mailbox.password)
        .await
        .map_err(|(e, _)| {
            anyhow::anyhow!(
                "{} refused to sign in {:?}: {e}",
                mailbox.host,
                mailbox.username
            )
        })?;
    let folder = session
        .examine(&mailbox.folder)
        .await
        .with_context(|| format!("cannot open the folder {:?}", mailbox.folder))?;
    let uid_validity = folder.uid_validity.unwrap_or(0);
    let after = if mailbox.uid_validity == Some(i64::from(uid_validity)) {
        u32::try_from(mailbox.last_uid).unwrap_or(0)
    } else {
        0
    };
    let mut fetched = Fetched {
        uid_validity,
        messages: Vec::new(),
    };
    let nothing_new =
        !fetch || folder.exists == 0 || folder.uid_next.is_some_and(|next| next <= after + 1);
    if !nothing_new {
        let mut uids: Vec<u32> = session
            .uid_search(format!("UID {}:*", after + 1))
            .await?
            .into_iter()
            // `n:*` names the last message even when it is older.
            .filter(|uid| *uid > after)
            .collect();
        uids.sort_unstable();
        uids.truncate(BATCH);
        let mut held = 0;
        for uid in uids {
            if held >= MAX_LOOK_BYTES {
                break;
            }
            let mut stream = session
                .uid_fetch(
                    uid.to_string(),
                    format!("(UID BODY.PEEK[]<0.{MAX_MESSAGE_BYTES}>)"),
                )
                .await?;
            while let Some(fetch) = stream.try_next().await? {
                if fetch.uid == Some(uid) {
                    if let Some(body) = fetch.body() {
                        held += body.len();
                        fetched.messages.push((uid, body.to_vec()));
                    }
                }
            }
        }
    }
    let _ = session.logout().await;
    Ok(fetched)
}
