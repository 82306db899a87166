//! `doorstep gateway add|list|remove`: messenger and social-network
//! gateways that post customers' messages to `/hooks/gateways/{id}`.

use clap::Subcommand;

use super::open_store;

#[derive(Subcommand)]
pub enum GatewayCommand {
    /// Add a gateway. Prints the address it posts to and its signing
    /// secret (once).
    Add {
        /// A short name, unique (telegram, whatsapp, vk): replies name it.
        #[arg(long)]
        name: String,
        /// The case channel its messages come on: messenger or social.
        #[arg(long, default_value = "messenger", value_parser = ["messenger", "social"])]
        channel: String,
    },
    /// Every gateway, with when it was last heard from.
    List,
    /// Remove a gateway: its messages are refused from then on.
    Remove { id: String },
}

pub async fn run(database: &str, cmd: GatewayCommand) -> anyhow::Result<()> {
    let store = open_store(database).await?;
    let result = run_with(&store, cmd).await;
    store.close().await;
    result
}

async fn run_with(store: &doorstep_store::Store, cmd: GatewayCommand) -> anyhow::Result<()> {
    match cmd {
        GatewayCommand::Add { name, channel } => {
            use crate::app::helpdesk::channels::{add_gateway, gateway_hook, GatewayRefusal};
            let (g, secret) = add_gateway(store, &name, &channel)
                .await
                .map_err(|e| match e {
                    GatewayRefusal::Store(e) => e.into(),
                    GatewayRefusal::Name(_) | GatewayRefusal::EmailName => {
                        anyhow::anyhow!("--name {e}")
                    }
                    other => anyhow::anyhow!("{other}"),
                })?;
            println!(
                "Gateway {} ({}) added: it posts customers' messages to",
                g.name, g.channel
            );
            println!("  {}", gateway_hook(&g));
            println!("signed as Standard Webhooks says with this secret (shown only this once):");
            println!("{secret}");
            println!(
                "Replies: subscribe the gateway's URL to case.replied (`doorstep webhook add URL --events case.replied`)."
            );
        }
        GatewayCommand::List => {
            let all = store.gateways().await?;
            if all.is_empty() {
                println!("No gateways. Add one with `doorstep gateway add --name telegram`.");
            }
            for g in all {
                let heard = g.last_message_at.map_or_else(
                    || "never heard from".to_owned(),
                    |at| format!("last message {}", doorstep_domain::time::from_millis(at)),
                );
                println!("{}  {}  {}  {heard}", g.id, g.name, g.channel);
            }
        }
        GatewayCommand::Remove { id } => {
            if !store.remove_gateway(&id).await? {
                anyhow::bail!("there is no gateway {id:?} (see `doorstep gateway list`)");
            }
            println!("Gateway {id} removed: its messages are refused from now on.");
        }
    }
    Ok(())
}
