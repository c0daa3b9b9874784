//! This process's resident memory, from Linux's /proc/self/status: what the engine's actors cost
//! while a sale holds them and once they have passivated.

/// Resident memory now and at its highest since the process started, in KiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resident {
    pub now_kib: u64,
    pub peak_kib: u64,
}

/// `None` where /proc/self/status is missing (not Linux).
pub fn resident() -> Option<Resident> {
    resident_of(&std::fs::read_to_string("/proc/self/status").ok()?)
}

fn resident_of(status: &str) -> Option<Resident> {
    let field = |name: &str| {
        let line = status.lines().find(|line| line.starts_with(name))?;
        line[name.len()..].trim().strip_suffix("kB")?.trim().parse::<u64>().ok()
    };
    Some(Resident { now_kib: field("VmRSS:")?, peak_kib: field("VmHWM:")? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_memory_is_read_from_the_status_lines() {
        let status = "Name:\twarung\nVmPeak:\t 9000 kB\nVmHWM:\t    5120 kB\nVmRSS:\t    4096 kB\nThreads:\t4\n";
        assert_eq!(resident_of(status), Some(Resident { now_kib: 4096, peak_kib: 5120 }));
        assert_eq!(resident_of("Name:\twarung\n"), None);
    }

    #[test]
    fn this_process_has_resident_memory() {
        let here = resident().expect("Linux");
        assert!(here.now_kib > 0 && here.peak_kib >= here.now_kib);
    }
}
