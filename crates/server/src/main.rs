//! `doorstep`: the one binary. Parses the command line and hands over to the
//! command's module.

mod cli;
mod demo;
mod http;
mod i18n;
mod import;
mod security;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    cli::run().await
}
