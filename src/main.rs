use std::process::ExitCode;

use clap::Parser;

/// glibc malloc took about 18% of the CPU in the durable purchase benchmark; mimalloc is built for
/// many small, short-lived allocations across threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> ExitCode {
    warung::cli::run(warung::cli::Cli::parse()).await
}
