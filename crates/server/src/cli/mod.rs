//! The command line: `serve`, `import`, `user`, `token`, `courier`, `survey`,
//! `customer`, `report`, `rollups`, `webhook`, `gateway`, `mailbox`.

mod accounts;
mod customers;
mod gateways;
mod import;
mod mailboxes;
mod report;
mod rollups;
mod serve;
mod surveys;
mod webhooks;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use doorstep_store::Store;

#[derive(Parser)]
#[command(
    name = "doorstep",
    version,
    about = "Customer experience and support for delivery services"
)]
struct Cli {
    /// Database URL: sqlite://FILE (created if missing) or postgres://USER@HOST/DB.
    #[arg(
        long,
        env = "DOORSTEP_DATABASE",
        default_value = "sqlite://doorstep.db",
        global = true
    )]
    database: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web console and the API.
    Serve(serve::ServeArgs),
    /// Import a file from the company's systems.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Manage people's accounts.
    #[command(subcommand)]
    User(accounts::UserCommand),
    /// Manage API tokens for integrations and terminals.
    #[command(subcommand)]
    Token(accounts::TokenCommand),
    /// Couriers and their terminals.
    #[command(subcommand)]
    Courier(accounts::CourierCommand),
    /// Mystery shoppers and their terminals.
    #[command(subcommand)]
    Inspector(accounts::InspectorCommand),
    /// Survey links for customers.
    #[command(subcommand)]
    Survey(surveys::SurveyCommand),
    /// Customers' personal data.
    #[command(subcommand)]
    Customer(customers::CustomerCommand),
    /// Survey scores of a period to a CSV, XLSX or JSON file.
    Report(Box<report::ReportArgs>),
    /// The survey rollups behind every score.
    #[command(subcommand)]
    Rollups(rollups::RollupsCommand),
    /// Webhook subscriptions: events sent to other systems.
    #[command(subcommand)]
    Webhook(webhooks::WebhookCommand),
    /// Messenger and social-network gateways that bring customers' messages.
    #[command(subcommand)]
    Gateway(gateways::GatewayCommand),
    /// The e-mail channel: each line's mailbox, read over IMAP.
    #[command(subcommand)]
    Mailbox(mailboxes::MailboxCommand),
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(matches!(cli.command, Command::Serve(_)));
    match cli.command {
        Command::Serve(args) => serve::run(&cli.database, args).await,
        Command::Import(cmd) => import::run(&cli.database, cmd).await,
        Command::User(cmd) => report(accounts::user(&cli.database, cmd).await),
        Command::Token(cmd) => report(accounts::token(&cli.database, cmd).await),
        Command::Courier(cmd) => report(accounts::courier(&cli.database, cmd).await),
        Command::Inspector(cmd) => report(accounts::inspector(&cli.database, cmd).await),
        Command::Survey(cmd) => report(surveys::run(&cli.database, cmd).await),
        Command::Customer(cmd) => report(customers::run(&cli.database, cmd).await),
        Command::Gateway(cmd) => report(gateways::run(&cli.database, cmd).await),
        Command::Mailbox(cmd) => report(mailboxes::run(&cli.database, cmd).await),
        Command::Rollups(cmd) => report(rollups::run(&cli.database, cmd).await),
        Command::Report(args) => report(report::run(&cli.database, *args).await),
        Command::Webhook(cmd) => report(webhooks::run(&cli.database, cmd).await),
    }
}

/// Logs go to stderr; the server logs at info, one-shot commands only warn.
fn init_tracing(server: bool) {
    let default = if server {
        "info,sqlx=warn,tower_http=info"
    } else {
        "warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Opens the database named on the command line, saying which one failed.
async fn open_store(url: &str) -> anyhow::Result<Store> {
    Store::connect(url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", redact(url)))
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Reads a secret from standard input (the first line, without its newline).
fn read_stdin_line(what: &str) -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let value = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(
        !value.is_empty(),
        "no {what} on standard input; pipe it in, e.g. `echo \"$PASSWORD\" | doorstep …`"
    );
    Ok(value)
}
