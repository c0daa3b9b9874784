//! The process's own families, read from `/proc/self` at each scrape (Linux): resident memory,
//! CPU time, open files and their limit, start time; and `warung_build_info`.

use super::Exposition;
use crate::engine::Engine;

/// The commit this binary was built from (`build.rs`), or `unknown` outside a git checkout.
const BUILD_COMMIT: &str = env!("WARUNG_BUILD_COMMIT");

pub(super) fn families(out: &mut Exposition, engine: &Engine) {
    out.family("warung_build_info", "gauge", "Always 1; the labels say which build is running.");
    out.sample(
        "warung_build_info",
        &[("version", env!("CARGO_PKG_VERSION")), ("commit", BUILD_COMMIT), ("store", engine.store.backend())],
        1,
    );
    let Some(process) = read_proc() else { return };
    for (name, kind, help, value) in [
        ("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", process.resident_bytes as f64),
        ("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", process.virtual_bytes as f64),
        ("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.", process.cpu_seconds),
        ("process_open_fds", "gauge", "Open file descriptors.", process.open_fds as f64),
        ("process_max_fds", "gauge", "The limit on open file descriptors.", process.max_fds as f64),
        (
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since the Unix epoch, in seconds.",
            process.start_unix,
        ),
        ("process_threads", "gauge", "Threads in the process.", process.threads as f64),
    ] {
        out.family(name, kind, help);
        out.sample(name, &[], value);
    }
}

struct Process {
    resident_bytes: u64,
    virtual_bytes: u64,
    cpu_seconds: f64,
    open_fds: usize,
    max_fds: u64,
    start_unix: f64,
    threads: u64,
}

fn read_proc() -> Option<Process> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok().flatten().unwrap_or(100) as f64;
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE).ok().flatten().unwrap_or(4096) as u64;
    let boot_unix = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime ").and_then(|v| v.trim().parse::<u64>().ok()))?;
    let max_fds = std::fs::read_to_string("/proc/self/limits")
        .ok()?
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3).and_then(|v| v.parse().ok()))
        .unwrap_or(0);
    Some(Process {
        // stat(5): 14 utime, 15 stime, 20 num_threads, 22 starttime, 23 vsize, 24 rss (pages).
        cpu_seconds: (field(14)? + field(15)?) as f64 / ticks,
        threads: field(20)?,
        start_unix: boot_unix as f64 + field(22)? as f64 / ticks,
        virtual_bytes: field(23)?,
        resident_bytes: field(24)? * page,
        open_fds: std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0),
        max_fds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_reads_as_itself() {
        let process = read_proc().expect("Linux /proc");
        assert!(process.resident_bytes > 1_000_000, "{}", process.resident_bytes);
        assert!(process.open_fds >= 3 && process.max_fds >= process.open_fds as u64);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        assert!(process.start_unix <= now + 1.0 && process.start_unix > now - 86_400.0 * 365.0);
        assert!(process.threads >= 1 && process.cpu_seconds >= 0.0);
    }
}
