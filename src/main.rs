use std::process::ExitCode;

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

/// Transparent huge pages off for this process. In a burst the heap grows (the log's batches wait
/// in memory for the projector) and mimalloc gives freed pages back to the system after a delay,
/// so the engine keeps faulting in fresh pages; with huge pages each fault zeroed 2 MiB, much of
/// it never used, and the kernel's page clearing took about a quarter of the engine thread's CPU
/// in an all-sales flash sale (docs/benchmarks.md, issue 19, sixteenth part). Without them a
/// sale cost about a sixth less CPU, and the memory left after passivation was smaller.
fn refuse_transparent_huge_pages() {
    if let Err(error) = rustix::thread::disable_transparent_huge_pages(true) {
        eprintln!("could not turn transparent huge pages off ({error}); continuing with them");
    }
}

fn main() -> ExitCode {
    refuse_transparent_huge_pages();
    warung_actors::runtime::memory::release_memory_with(release_thread_memory);
    warung::cli::main()
}
