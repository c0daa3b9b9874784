use std::process::ExitCode;

use clap::Parser;

#[actix_web::main]
async fn main() -> ExitCode {
    warung::cli::run(warung::cli::Cli::parse()).await
}
