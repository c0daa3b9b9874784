use std::process::ExitCode;

use clap::Parser;

/// glibc malloc took about 18% of the CPU in the durable purchase benchmark; mimalloc is built for
/// many small, short-lived allocations across threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc keeps the pages a thread freed for that thread; a forced collection returns them to
/// the system. Run by the supervisor on its threads once many actors have passivated.
fn release_thread_memory() {
    // SAFETY: mi_collect only walks the calling thread's heap and the shared arenas; it takes no
    // pointers and may be called from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

#[actix_web::main]
async fn main() -> ExitCode {
    warung_actors::runtime::memory::release_memory_with(release_thread_memory);
    warung::cli::run(warung::cli::Cli::parse()).await
}
