//! `doorstep customer erase PHONE`: a customer's right to be forgotten.

use std::path::PathBuf;

use clap::Subcommand;

use super::open_store;

#[derive(Subcommand)]
pub enum CustomerCommand {
    /// Erase a customer's personal data: name, e-mail and phone become a
    /// pseudonym, free-text answers are blanked, photos and voice messages
    /// deleted, open survey links withdrawn. Scores and orders stay.
    Erase {
        phone: String,
        /// Directory of attachments (as for `serve`).
        #[arg(long, env = "DOORSTEP_DATA_DIR", default_value = "./doorstep-data")]
        data_dir: PathBuf,
        /// Confirm: this cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

pub async fn run(database: &str, cmd: CustomerCommand) -> anyhow::Result<()> {
    let CustomerCommand::Erase {
        phone,
        data_dir,
        yes,
    } = cmd;
    if !yes {
        anyhow::bail!(
            "erasing cannot be undone; run again with --yes to erase the personal data of {phone}"
        );
    }
    let store = open_store(database).await?;
    let erased = crate::app::survey::attachments::erase_customer(&store, &data_dir, &phone).await;
    store.close().await;
    match erased? {
        None => anyhow::bail!("there is no customer with phone {phone}"),
        Some(e) => {
            println!(
                "Erased: the customer is now {}. Orders kept: {}; free-text answers blanked: {}; photos and voice messages deleted: {}; survey links withdrawn: {}.",
                e.pseudonym,
                e.orders,
                e.texts,
                e.attachments.len(),
                e.links
            );
            Ok(())
        }
    }
}
