//! `doorstep user …`, `doorstep token …`, `doorstep courier enroll`.

use clap::Subcommand;
use doorstep_domain::{Role, TokenRole};

use super::{open_store, read_stdin_line};
use crate::app::accounts::{
    check_new_account, issue_enrollment_code, issue_token, ENROLLMENT_HOURS,
};
use crate::security::hash_password;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a person's account; the password is read from standard input.
    Add {
        #[arg(long)]
        login: String,
        /// admin, quality, dispatcher or operator.
        #[arg(long)]
        role: String,
        /// Read the password from standard input (required: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Console language: en or ru.
        #[arg(long, default_value = "en")]
        language: String,
    },
    /// Set a new password (read from standard input) and sign the person out everywhere.
    Password {
        #[arg(long)]
        login: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List accounts.
    List,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a bearer token; it is printed once and stored only as a hash.
    Create {
        #[arg(long)]
        name: String,
        /// integration or terminal.
        #[arg(long)]
        role: String,
        /// The courier a terminal token belongs to.
        #[arg(long)]
        courier: Option<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id or name.
    Revoke { id_or_name: String },
}

#[derive(Subcommand)]
pub enum CourierCommand {
    /// Print a one-time code that enrols a courier's terminal.
    Enroll {
        /// The courier's id in the company's system.
        id: String,
        /// Add the courier with this name if they are not known yet.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum InspectorCommand {
    /// Print a one-time code that enrols a mystery shopper's terminal: it
    /// fills inspection surveys about the courier who delivered.
    Enroll {
        /// The inspector's name, shown with their inspections.
        #[arg(long)]
        name: String,
    },
}

pub async fn inspector(database: &str, cmd: InspectorCommand) -> anyhow::Result<()> {
    let store = open_store(database).await?;
    match cmd {
        InspectorCommand::Enroll { name } => {
            let name = name.trim();
            anyhow::ensure!(
                !name.is_empty() && name.chars().count() <= 100,
                "give the inspector a name of 1 to 100 characters (--name \"Mystery shopper 1\")"
            );
            let code = crate::app::accounts::issue_inspector_code(&store, name).await?;
            println!("{code}");
            eprintln!("Enrolment code for inspector {name:?}: enter it on their device's Doorstep terminal within {ENROLLMENT_HOURS} hours. It works once.");
        }
    }
    Ok(())
}

async fn hash_blocking(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_password(&password)).await?
}

pub async fn user(database: &str, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            login,
            role,
            password_stdin: _,
            language,
        } => {
            let role: Role = role.parse()?;
            let language = crate::i18n::Lang::parse(&language).ok_or_else(|| {
                anyhow::anyhow!("{language:?} is not a console language (expected en or ru)")
            })?;
            let password = read_stdin_line("password")?;
            check_new_account(login.trim(), &password).map_err(anyhow::Error::msg)?;
            let store = open_store(database).await?;
            let hash = hash_blocking(password).await?;
            match store
                .create_user(login.trim(), &hash, role.as_str(), language.code())
                .await
            {
                Ok(user) => println!("added {} ({})", user.login, user.role),
                Err(e) if e.is_unique_violation() => {
                    anyhow::bail!("the login {:?} is taken; choose another", login.trim())
                }
                Err(e) => return Err(e.into()),
            }
        }
        UserCommand::Password {
            login,
            password_stdin: _,
        } => {
            let password = read_stdin_line("password")?;
            check_new_account(login.trim(), &password).map_err(anyhow::Error::msg)?;
            let store = open_store(database).await?;
            let hash = hash_blocking(password).await?;
            anyhow::ensure!(
                store.set_user_password(login.trim(), &hash).await?,
                "there is no account {:?}",
                login.trim()
            );
            println!(
                "password changed for {}; their sessions were closed",
                login.trim()
            );
        }
        UserCommand::List => {
            let store = open_store(database).await?;
            for u in store.users().await? {
                println!(
                    "{}\t{}\t{}",
                    u.login,
                    u.role,
                    if u.disabled_at.is_some() {
                        "disabled"
                    } else {
                        "active"
                    }
                );
            }
        }
    }
    Ok(())
}

pub async fn token(database: &str, cmd: TokenCommand) -> anyhow::Result<()> {
    let store = open_store(database).await?;
    match cmd {
        TokenCommand::Create {
            name,
            role,
            courier,
        } => {
            let role: TokenRole = role.parse()?;
            let name = name.trim();
            anyhow::ensure!(
                !name.is_empty() && name.chars().count() <= 100,
                "give the token a name of 1 to 100 characters"
            );
            if let Some(id) = &courier {
                anyhow::ensure!(
                    role == TokenRole::Terminal,
                    "--courier goes with --role terminal"
                );
                anyhow::ensure!(
                    store.courier(id).await?.is_some(),
                    "there is no courier {id:?}; import their orders first"
                );
            }
            let secret = issue_token(&store, name, role, courier.as_deref()).await?;
            // The secret alone on stdout, so scripts can capture it.
            println!("{secret}");
            eprintln!("{role} token {name:?} created. It is shown only now: store it where it will be used.");
        }
        TokenCommand::List => {
            for t in store.tokens().await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.name,
                    t.role,
                    t.courier_id.unwrap_or_default(),
                    state
                );
            }
        }
        TokenCommand::Revoke { id_or_name } => {
            anyhow::ensure!(
                store.revoke_token(&id_or_name).await?,
                "no active token with id or name {id_or_name:?}"
            );
            println!("revoked {id_or_name}");
        }
    }
    Ok(())
}

pub async fn courier(database: &str, cmd: CourierCommand) -> anyhow::Result<()> {
    let store = open_store(database).await?;
    match cmd {
        CourierCommand::Enroll { id, name } => {
            let id = id.trim();
            anyhow::ensure!(!id.is_empty(), "give the courier's id");
            match (store.courier(id).await?, name) {
                (Some(_) | None, Some(name)) => store.upsert_courier(id, Some(name.trim())).await?,
                (Some(_), None) => {}
                (None, None) => anyhow::bail!(
                    "there is no courier {id:?}; import orders that name them, or add them with --name \"Full Name\""
                ),
            }
            let code = issue_enrollment_code(&store, id).await?;
            println!("{code}");
            eprintln!("Enrolment code for courier {id}: enter it on the courier's device within {ENROLLMENT_HOURS} hours (it is exchanged for a terminal token at POST /api/v1/terminal/enroll). It works once.");
        }
    }
    Ok(())
}
