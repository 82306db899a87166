//! `doorstep webhook add|list|remove|log|resend|enable`: webhook
//! subscriptions from the command line, as on Settings → Webhooks.

use clap::Subcommand;

use super::open_store;
use crate::webhooks::SubscribeError;

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Subscribe a URL to events. Prints the signing secret once.
    Add {
        /// Where to POST the events (http or https).
        url: String,
        /// Comma-separated event types (response.created, survey.published,
        /// settings.changed, causes.changed), or * for all.
        #[arg(long)]
        events: String,
        /// Allow loopback, link-local and private addresses (for a receiver
        /// inside the company's network).
        #[arg(long)]
        allow_private: bool,
    },
    /// Every subscription, with its state.
    List,
    /// Remove a subscription and its delivery log.
    Remove { id: String },
    /// A subscription's latest deliveries.
    Log {
        id: String,
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Send one event to a subscription again, ahead of newer ones.
    Resend { id: String, event: i64 },
    /// Turn a subscription back on after it was disabled.
    Enable { id: String },
}

pub async fn run(database: &str, cmd: WebhookCommand) -> anyhow::Result<()> {
    let store = open_store(database).await?;
    let result = run_with(&store, cmd).await;
    store.close().await;
    result
}

async fn run_with(store: &doorstep_store::Store, cmd: WebhookCommand) -> anyhow::Result<()> {
    match cmd {
        WebhookCommand::Add {
            url,
            events,
            allow_private,
        } => {
            let made = crate::webhooks::subscribe(store, &url, &events, allow_private, "cli")
                .await
                .map_err(|e| match e {
                    SubscribeError::Invalid(why) => anyhow::anyhow!(why),
                    SubscribeError::Store(e) => e,
                })?;
            println!(
                "Webhook {} added: {} gets {} from the next event on.",
                made.webhook.id,
                made.webhook.url,
                made.webhook.event_types.join(", ")
            );
            println!("Signing secret (shown only this once; receivers verify webhook-signature with it):");
            println!("{}", made.secret);
        }
        WebhookCommand::List => {
            let hooks = store.webhooks().await?;
            if hooks.is_empty() {
                println!("No webhooks. Add one with `doorstep webhook add URL --events response.created`.");
            }
            for w in hooks {
                let state = if w.enabled {
                    match w.failing_since {
                        Some(since) => format!(
                            "failing since {}",
                            doorstep_domain::time::from_millis(since)
                        ),
                        None => "active".to_owned(),
                    }
                } else {
                    w.disabled_reason.unwrap_or_else(|| "disabled".to_owned())
                };
                println!(
                    "{}\t{}\t{}{}\t{}",
                    w.id,
                    w.url,
                    w.event_types.join(","),
                    if w.allow_private {
                        "\tprivate addresses allowed"
                    } else {
                        ""
                    },
                    state
                );
            }
        }
        WebhookCommand::Remove { id } => {
            anyhow::ensure!(
                store.delete_webhook(&id).await?,
                "there is no webhook {id}; `doorstep webhook list` shows them"
            );
            println!("Webhook {id} removed.");
        }
        WebhookCommand::Log { id, limit } => {
            anyhow::ensure!(
                store.webhook(&id).await?.is_some(),
                "there is no webhook {id}; `doorstep webhook list` shows them"
            );
            for d in store.webhook_deliveries(&id, limit.clamp(1, 1000)).await? {
                println!(
                    "event {}\t{}\t{}\tattempts {}\t{}\t{}\t{}",
                    d.event_id,
                    d.event_name,
                    d.state,
                    d.attempts,
                    d.last_status.map_or("-".to_owned(), |s| s.to_string()),
                    d.last_duration_ms
                        .map_or("-".to_owned(), |ms| format!("{ms} ms")),
                    d.last_error.as_deref().unwrap_or("")
                );
            }
        }
        WebhookCommand::Resend { id, event } => {
            anyhow::ensure!(
                store.resend_webhook_delivery(&id, event).await?,
                "webhook {id} has no delivery of event {event}; `doorstep webhook log {id}` shows them"
            );
            println!("Event {event} will be sent to webhook {id} again.");
        }
        WebhookCommand::Enable { id } => {
            anyhow::ensure!(
                store.set_webhook_enabled(&id, true, None).await?,
                "there is no webhook {id}; `doorstep webhook list` shows them"
            );
            println!("Webhook {id} enabled; deliveries resume.");
        }
    }
    Ok(())
}
