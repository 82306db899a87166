//! `doorstep serve`: migrations, the first admin, optional demo data, then
//! the HTTP server until Ctrl-C or SIGTERM.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use doorstep_store::Store;

use super::{open_store, redact};
use crate::app::App;
use crate::security::{hash_password, random_password};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "DOORSTEP_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Directory for attachments (photos, voice) and other files.
    #[arg(long, env = "DOORSTEP_DATA_DIR", default_value = "./doorstep-data")]
    data_dir: PathBuf,
    /// Days a photo or voice message is kept; older ones are deleted (checked hourly).
    #[arg(long, env = "DOORSTEP_ATTACHMENT_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    attachment_days: u32,
    /// Days events are kept for clients of the event stream and webhooks
    /// to catch up with; older ones are deleted (checked hourly).
    #[arg(long, env = "DOORSTEP_EVENT_DAYS", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=365))]
    event_days: u32,
    /// Fill an empty database with realistic demo data.
    #[arg(long)]
    demo: bool,
    /// Seed for the demo data: the same seed gives the same data.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Seconds requests in flight may take to finish after SIGTERM or
    /// Ctrl-C; then the process stops without them.
    #[arg(long, env = "DOORSTEP_SHUTDOWN_GRACE", default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=3600))]
    shutdown_grace: u64,
}

pub async fn run(database: &str, args: ServeArgs) -> ExitCode {
    match serve(database, args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Creates the first administrator when there is no account at all.
/// Returns the password when one was made (to print it once).
async fn first_admin(store: &Store) -> anyhow::Result<Option<String>> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let password = std::env::var("DOORSTEP_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(random_password);
    let to_hash = password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&to_hash)).await??;
    // Another process starting at the same moment may have made it.
    Ok(store.create_first_admin(&hash).await?.map(|_| password))
}

async fn serve(database: &str, args: ServeArgs) -> anyhow::Result<()> {
    let store = open_store(database).await?;
    std::fs::create_dir_all(&args.data_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the data directory {}: {e}",
            args.data_dir.display()
        )
    })?;
    let admin_password = first_admin(&store).await?;
    let mut logins: Vec<(String, String)> = Vec::new();
    if let Some(password) = &admin_password {
        logins.push(("admin".to_owned(), password.clone()));
    }
    if args.demo {
        if store.count_orders().await? == 0 {
            eprintln!("Filling the database with demo data (seed {})…", args.seed);
            // The accounts first: the demo's dispatcher and operator find
            // their own incidents and cases.
            if admin_password.is_some() {
                logins.extend(crate::demo::add_demo_accounts(&store).await?);
            }
            let summary = crate::demo::load(&store, args.seed, &args.data_dir).await?;
            eprintln!("{summary}");
        } else {
            eprintln!("The database already holds orders: demo data was not added.");
        }
    }
    if let Some(why) = store.rollups_stale().await? {
        eprintln!("Counting the scores again from the stored answers ({why})…");
        let tz = store.deployment().await?.tz();
        let n = store.rebuild_rollups(&tz, |_| {}).await?;
        eprintln!("Scores counted again from {n} answers.");
    }
    // The call figures' slots, for a target set before they were kept.
    crate::app::calls::keep_slots_current_soon(&store);
    if store.deliveries_need_rebuild().await? {
        // A database from before the delivery rollup: fill it once.
        let tz = store.deployment().await?.tz();
        let n = store.rebuild_deliveries(&tz).await?;
        eprintln!("Delivery figures computed from {n} delivered orders (a one-time upgrade step).");
    }
    if store.refusal_days_need_rebuild().await? {
        // A database from before the refusal rates' rollup: fill it once.
        let tz = store.deployment().await?.tz();
        let n = store.rebuild_refusal_days(&tz).await?;
        eprintln!("Refusal rates computed from {n} refused orders (a one-time upgrade step).");
    }
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {}: {e}; choose another address with --listen or DOORSTEP_LISTEN",
                args.listen
            )
        })?;
    let address = listener.local_addr()?;
    let app = App::new(store.clone(), args.data_dir.clone()).await?;
    crate::app::survey::metrics::spawn_pending_folder(
        store.clone(),
        std::time::Duration::from_secs(1),
    );
    // Rollup builds, scheduled reports, retention, event pruning, webhooks:
    // each run by one process at a time.
    crate::jobs::spawn(
        &app,
        crate::jobs::Settings {
            data_dir: args.data_dir.clone(),
            attachment_days: args.attachment_days,
            event_days: args.event_days,
        },
    )
    .await?;
    // Written, not println!: a closed stdout must not stop the server.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "Doorstep is running at http://{address}/ (database: {}, {})",
        store.backend().name(),
        redact(database)
    );
    if logins.is_empty() {
        let _ = writeln!(
            out,
            "Sign in with an existing account (add one with `doorstep user add`)."
        );
    } else {
        let _ = writeln!(out, "Sign in with (passwords are shown only this once):");
        for (login, password) in &logins {
            let _ = writeln!(out, "  login {login:<12} password {password}");
        }
    }
    let _ = out.flush();
    drop(out);
    tracing::info!(%address, "listening");
    crate::http::serve(
        listener,
        app,
        std::time::Duration::from_secs(args.shutdown_grace),
    )
    .await?;
    // A connection stuck in a request abandoned above would hold the close
    // up for ever: its work is rolled back with the process.
    if tokio::time::timeout(std::time::Duration::from_secs(2), store.close())
        .await
        .is_err()
    {
        tracing::warn!("connections still busy: closed with the process");
    }
    tracing::info!("stopped");
    Ok(())
}
