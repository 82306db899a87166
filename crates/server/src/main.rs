//! `doorstep`: the one binary.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    doorstep::cli::run().await
}
