//! The machine's busy CPU time, from Linux's /proc/stat: what a run cost in CPU, whatever process
//! spent it (the engine, its Postgres backends, Redis). Steadier than throughput on a shared host,
//! where a stall waiting for the disk or a neighbour moves throughput but not the work done.

/// The clock ticks /proc/stat and /proc/[pid]/stat count in (`USER_HZ`: 100 on every Linux this runs on).
pub(super) const TICKS_PER_SEC: u64 = 100;

/// Busy CPU time of all cores since boot, in microseconds: user, nice, system, irq and softirq
/// (not idle, iowait or time stolen by the hypervisor). `None` where /proc/stat is missing.
pub fn busy_micros() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    busy_micros_of(stat.lines().next()?)
}

fn busy_micros_of(cpu_line: &str) -> Option<u64> {
    let mut fields = cpu_line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let ticks: Vec<u64> = fields.map(|f| f.parse().ok()).collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal ...
    let busy = [0, 1, 2, 5, 6].iter().map(|&i| ticks.get(i).copied()).sum::<Option<u64>>()?;
    Some(busy * 1_000_000 / TICKS_PER_SEC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_time_counts_user_nice_system_irq_and_softirq_only() {
        let line = "cpu  231914 118 48044 101871 2613 0 6395 572 0 0";
        assert_eq!(busy_micros_of(line), Some((231_914 + 118 + 48_044 + 6_395) * 10_000));
        assert_eq!(busy_micros_of("cpu0 1 2 3 4 5 6 7"), None);
        assert_eq!(busy_micros_of("cpu 1 2"), None);
    }
}
