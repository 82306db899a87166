//! A real mail system for the e-mail channel's tests, started per test:
//! Dovecot (Debian's `dovecot-imapd`) serving IMAP over Maildirs, and
//! aiosmtpd (PyPI) accepting SMTP and delivering each recipient's mail to
//! their Maildir. Every local part is a mailbox (`care@…` →
//! `ROOT/care/Maildir`); any user signs in to IMAP with [`PASSWORD`].
//! `scripts/test.sh` installs both.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "secret";

/// The Maildir delivery the SMTP server runs: one Maildir per local part.
const ROUTER: &str = r"
import mailbox, os

class Route:
    def __init__(self, root):
        self.root = root

    @classmethod
    def from_cli(cls, parser, root):
        return cls(root)

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            local = rcpt.split('@')[0].lower()
            box = mailbox.Maildir(os.path.join(self.root, local, 'Maildir'), create=True)
            box.add(envelope.original_content)
        return '250 OK delivered'
";

pub struct MailServer {
    pub imap_port: u16,
    pub smtp_port: u16,
    root: PathBuf,
    children: Vec<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for(port: u16, what: &str, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{what} exited ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on {port}: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn user_name() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl MailServer {
    /// Starts both servers with mailboxes for `users` (local parts).
    pub fn start(users: &[&str]) -> MailServer {
        let dovecot = ["/usr/sbin/dovecot", "/usr/bin/dovecot"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect(
                "dovecot is not installed (apt-get install dovecot-imapd; scripts/test.sh does)",
            );
        // Short: Dovecot's sockets live under it.
        let root = PathBuf::from(format!(
            "/tmp/ds-mail-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..10]
        ));
        std::fs::create_dir_all(root.join("run")).unwrap();
        // Dovecot reads and moves the mail as an unprivileged user; the
        // SMTP server delivers into the same folders.
        let (mail_user, mail_group) = if is_root() {
            ("nobody".to_owned(), "nogroup".to_owned())
        } else {
            let me = user_name();
            (me.clone(), me)
        };
        for user in users {
            for sub in ["cur", "new", "tmp"] {
                std::fs::create_dir_all(root.join(user).join("Maildir").join(sub)).unwrap();
            }
        }
        let _ = Command::new("chmod")
            .arg("-R")
            .arg("a+rwx")
            .arg(&root)
            .status();
        let imap_port = free_port();
        let smtp_port = free_port();
        let service_users = if is_root() {
            String::new()
        } else {
            format!(
                "default_internal_user = {mail_user}\ndefault_login_user = {mail_user}\n\
                 service anvil {{\n  chroot =\n}}\nservice imap-login {{\n  chroot =\n}}\n"
            )
        };
        let conf = format!(
            "base_dir = {root}/run\nstate_dir = {root}/run\nlog_path = {root}/dovecot.log\n\
             protocols = imap\nlisten = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\n\
             auth_mechanisms = plain login\nmail_location = maildir:{root}/%n/Maildir\n\
             first_valid_uid = 1\n{service_users}\
             passdb {{\n  driver = static\n  args = password={PASSWORD}\n}}\n\
             userdb {{\n  driver = static\n  args = uid={mail_user} gid={mail_group} home={root}/%n\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    port = {imap_port}\n  }}\n  \
             inet_listener imaps {{\n    port = 0\n  }}\n}}\n",
            root = root.display()
        );
        std::fs::write(root.join("dovecot.conf"), conf).unwrap();
        std::fs::write(root.join("route.py"), ROUTER).unwrap();
        // Built first: a server that fails to start stops the one before it.
        let mut server = MailServer {
            imap_port,
            smtp_port,
            root: root.clone(),
            children: Vec::new(),
        };
        server.children.push(
            Command::new(dovecot)
                .arg("-F")
                .arg("-c")
                .arg(root.join("dovecot.conf"))
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(root.join("dovecot.err")).unwrap())
                .spawn()
                .expect("start dovecot"),
        );
        wait_for(
            imap_port,
            "dovecot",
            server.children.last_mut().unwrap(),
            &root.join("dovecot.log"),
        );
        server.children.push(
            Command::new("python3")
                .args(["-m", "aiosmtpd", "-n", "-l"])
                .arg(format!("127.0.0.1:{smtp_port}"))
                .args(["-c", "route.Route"])
                .arg(&root)
                .env("PYTHONPATH", &root)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(root.join("smtpd.log")).unwrap())
                .spawn()
                .expect("start aiosmtpd (python3 -m pip install aiosmtpd; scripts/test.sh does)"),
        );
        wait_for(
            smtp_port,
            "aiosmtpd",
            server.children.last_mut().unwrap(),
            &root.join("smtpd.log"),
        );
        server
    }

    /// The messages delivered to `user` so far, oldest first.
    pub fn inbox(&self, user: &str) -> Vec<Vec<u8>> {
        let dir = self.root.join(user).join("Maildir");
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = ["new", "cur"]
            .into_iter()
            .flat_map(|sub| std::fs::read_dir(dir.join(sub)).into_iter().flatten())
            .filter_map(Result::ok)
            .map(|e| (e.metadata().and_then(|m| m.modified()).unwrap(), e.path()))
            .collect();
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, p)| std::fs::read(p).ok())
            .collect()
    }

    /// Sends a message over SMTP as a mail program would.
    pub async fn send(&self, raw: &str) {
        use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
        let from = header(raw, "From");
        let to = header(raw, "To");
        let envelope = lettre::address::Envelope::new(
            Some(bare(&from).parse().unwrap()),
            vec![bare(&to).parse().unwrap()],
        )
        .unwrap();
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(self.smtp_port)
            .build()
            .send_raw(&envelope, raw.replace('\n', "\r\n").as_bytes())
            .await
            .expect("the SMTP server takes the message");
    }
}

fn header(raw: &str, name: &str) -> String {
    raw.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_default()
        .to_owned()
}

fn bare(address: &str) -> String {
    match (address.find('<'), address.find('>')) {
        (Some(a), Some(b)) => address[a + 1..b].to_owned(),
        _ => address.trim().to_owned(),
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
