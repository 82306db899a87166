//! `doorstep survey link ORDER`: a one-time survey link to send a customer.

use clap::Subcommand;

use super::open_store;
use crate::app::survey::links::{issue, public_base, DEFAULT_DAYS};

#[derive(Subcommand)]
pub enum SurveyCommand {
    /// Print a one-time link to an order's survey (for SMS or e-mail).
    /// The host comes from DOORSTEP_PUBLIC_URL (default http://127.0.0.1:8080).
    Link {
        order_number: String,
        /// The survey; left out, the one whose targeting fits the order.
        #[arg(long)]
        survey: Option<String>,
        /// Days the link stays valid (1 to 90).
        #[arg(long, default_value_t = DEFAULT_DAYS)]
        days: u32,
    },
}

pub async fn run(database: &str, cmd: SurveyCommand) -> anyhow::Result<()> {
    let SurveyCommand::Link {
        order_number,
        survey,
        days,
    } = cmd;
    let store = open_store(database).await?;
    let issued = issue(&store, order_number.trim(), survey.as_deref(), days).await?;
    println!("{}/s/{}", public_base(None), issued.token);
    eprintln!(
        "Link to survey {:?} for order {}, valid until {}; it can be answered once.",
        issued.survey_id,
        order_number.trim(),
        doorstep_domain::time::from_millis(issued.expires_at)
    );
    store.close().await;
    Ok(())
}
