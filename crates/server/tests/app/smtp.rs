//! A small SMTP server for tests: it speaks enough of RFC 5321 for a real
//! client (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps every message it
//! accepts, and can be told to refuse recipients.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone, Default)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent (dot-stuffing undone).
    pub data: String,
}

#[derive(Clone, Default)]
pub struct SmtpServer {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// Answer recipients with 550 (a mail server that refuses).
    pub refuse: Arc<Mutex<bool>>,
}

impl SmtpServer {
    /// A server that the deployment of `store` sends its mail through
    /// (from `care@example.com`).
    pub async fn serving(store: &doorstep_store::Store) -> SmtpServer {
        let server = SmtpServer::start().await;
        doorstep::mail::Smtp {
            host: "127.0.0.1".into(),
            port: server.port,
            security: doorstep::mail::Security::None,
            username: String::new(),
            password: String::new(),
            from: "Doorstep <care@example.com>".into(),
        }
        .save(store)
        .await
        .unwrap();
        server
    }

    pub async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let server = SmtpServer {
            port: listener.local_addr().unwrap().port(),
            ..SmtpServer::default()
        };
        let s = server.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = s.session(socket).await;
                });
            }
        });
        server
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The messages received, once there is one (up to 10 s: a background
    /// job may be the one sending).
    pub async fn messages_once_any(&self) -> Vec<Received> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while self.messages().is_empty() && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.messages()
    }

    async fn session(&self, socket: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 test.local ESMTP ready\r\n").await?;
        let mut current = Received::default();
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_owned();
            let upper = command.to_ascii_uppercase();
            if upper.starts_with("EHLO") {
                write
                    .write_all(b"250-test.local\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                    .await?;
            } else if upper.starts_with("HELO") {
                write.write_all(b"250 test.local\r\n").await?;
            } else if upper.starts_with("MAIL FROM:") {
                current = Received {
                    from: address(&command[10..]),
                    ..Received::default()
                };
                write.write_all(b"250 OK\r\n").await?;
            } else if upper.starts_with("RCPT TO:") {
                if *self.refuse.lock().unwrap() {
                    write
                        .write_all(b"550 5.1.1 mailbox unavailable\r\n")
                        .await?;
                } else {
                    current.to.push(address(&command[8..]));
                    write.write_all(b"250 OK\r\n").await?;
                }
            } else if upper == "DATA" {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                current.data = data;
                self.received
                    .lock()
                    .unwrap()
                    .push(std::mem::take(&mut current));
                write.write_all(b"250 OK queued\r\n").await?;
            } else if upper == "QUIT" {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else if upper == "RSET" || upper == "NOOP" {
                write.write_all(b"250 OK\r\n").await?;
            } else {
                write.write_all(b"502 not implemented\r\n").await?;
            }
        }
    }
}

fn address(s: &str) -> String {
    s.trim()
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap_or_default()
        .to_owned()
}
