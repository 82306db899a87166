//! `doorstep customer erase PHONE|E-MAIL|#CASE`: a customer's right to be
//! forgotten.

use std::path::PathBuf;

use clap::Subcommand;

use super::open_store;

#[derive(Subcommand)]
pub enum CustomerCommand {
    /// Erase a customer's personal data: name, e-mail and phone become a
    /// pseudonym, free-text answers and what they wrote to support are
    /// blanked, photos and voice messages deleted, open survey links
    /// withdrawn, e-mail threads and chat addresses forgotten. Scores,
    /// orders and what was done stay.
    Erase {
        /// The customer's phone, e-mail address, or a case of theirs as
        /// #1042 (for a customer known only by a messenger chat).
        #[arg(value_name = "PHONE|E-MAIL|#CASE")]
        who: String,
        /// Directory of attachments (as for `serve`).
        #[arg(long, env = "DOORSTEP_DATA_DIR", default_value = "./doorstep-data")]
        data_dir: PathBuf,
        /// Confirm: this cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

pub async fn run(database: &str, cmd: CustomerCommand) -> anyhow::Result<()> {
    let CustomerCommand::Erase { who, data_dir, yes } = cmd;
    if !yes {
        anyhow::bail!(
            "erasing cannot be undone; run again with --yes to erase the personal data of {who}"
        );
    }
    let store = open_store(database).await?;
    let erased = crate::app::survey::attachments::erase_customer(&store, &data_dir, &who).await;
    store.close().await;
    match erased? {
        None if who.trim().starts_with('#') => {
            anyhow::bail!("there is no case {} (or it has no customer)", who.trim())
        }
        None if who.contains('@') => {
            anyhow::bail!("there is no customer and no case with the address {who}")
        }
        None => anyhow::bail!("there is no customer with phone {who}"),
        Some(e) => {
            println!(
                "Erased: the customer is now {}. Orders kept: {}; support cases cleared: {}; free-text answers and messages blanked: {}; photos and voice messages deleted: {}; survey links withdrawn: {}.",
                e.pseudonym,
                e.orders,
                e.cases,
                e.texts,
                e.attachments.len(),
                e.links
            );
            Ok(())
        }
    }
}
