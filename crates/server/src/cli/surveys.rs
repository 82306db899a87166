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
    /// Print the key the company's server signs embedded-survey tokens
    /// with (keep it on that server only).
    EmbedKey,
    /// Print a signed token for an order's embedded survey, as the
    /// company's server would make it (to try the embedding by hand).
    EmbedToken {
        order_number: String,
        #[arg(long)]
        survey: Option<String>,
        /// Days the token stays valid (1 to 90).
        #[arg(long, default_value_t = 1)]
        days: u32,
    },
}

pub async fn run(database: &str, cmd: SurveyCommand) -> anyhow::Result<()> {
    use crate::app::survey::embed;
    let (order_number, survey, days) = match cmd {
        SurveyCommand::Link {
            order_number,
            survey,
            days,
        } => (order_number, survey, days),
        SurveyCommand::EmbedKey => {
            let store = open_store(database).await?;
            let key = embed::key(&store).await;
            store.close().await;
            println!("{}", key?);
            return Ok(());
        }
        SurveyCommand::EmbedToken {
            order_number,
            survey,
            days,
        } => {
            if !(1..=super::super::app::survey::links::MAX_DAYS).contains(&days) {
                anyhow::bail!(
                    "--days {days}: a token is valid for 1 to {} days",
                    super::super::app::survey::links::MAX_DAYS
                );
            }
            let store = open_store(database).await?;
            let key = embed::key(&store).await;
            store.close().await;
            let claims = embed::Claims {
                order_number: order_number.trim().to_owned(),
                exp: jiff::Timestamp::now().as_second() + i64::from(days) * 86_400,
                survey,
            };
            let token = embed::sign(&key?, &claims);
            println!("{}/embed?token={token}", public_base(None));
            return Ok(());
        }
    };
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
