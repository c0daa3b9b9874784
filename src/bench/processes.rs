//! Where a run's CPU went, process by process: every process's CPU time from Linux's /proc, and
//! each thread's of this one (the lab runs the engine in its own process), read when a strategy
//! starts selling and when it stops. Postgres backends are named by their connection's
//! `application_name` (the engine names its journal's and projector's), so a profile of the
//! engine's sale reads as "the projector's backend, the buyers' thread, ..." without `perf`.
//!
//! Time on the CPU is read from each thread's `schedstat` (the scheduler's own count, in
//! nanoseconds), not from `stat`, which gives it in ticks of 10 ms: a sale of 40,000 buyers lasts
//! half a second, so a thread's share came in steps of a quarter of a µs an attempt, as much as
//! the changes the lab is used to compare. (A thread running as it is read is counted up to its
//! last scheduler tick, a few ms.) Where a kernel has no `schedstat`, the ticks are used.

use std::collections::HashMap;
use std::path::Path;

use super::cpu::TICKS_PER_SEC;

/// Processes (or this process's threads) the report lists, at most: the rest are the noise of
/// the machine's other daemons.
pub const PROCESSES_REPORTED_MAX: usize = 8;

/// CPU nanoseconds so far, per process and per thread of this one.
#[derive(Default)]
pub struct ProcessTimes(HashMap<String, (Named, u64)>);

/// Nanoseconds in one of /proc's clock ticks.
const NANOS_PER_TICK: u64 = 1_000_000_000 / TICKS_PER_SEC;

/// What a process is, as far as /proc tells: a Postgres backend is named later, once its
/// connection's `application_name` is known.
#[derive(Clone, Debug, PartialEq)]
pub enum Named {
    ThisProcess { thread: String },
    PostgresBackend { pid: u32, database: String },
    Other(String),
}

impl ProcessTimes {
    /// Reads every process's CPU time; empty where /proc is missing.
    pub fn now() -> ProcessTimes {
        let mut times = ProcessTimes::default();
        let own = std::process::id();
        if let Ok(threads) = std::fs::read_dir("/proc/self/task") {
            for thread in threads.flatten() {
                if let Some((comm, ticks)) = read_stat(&thread.path().join("stat")) {
                    let key = format!("t{}", thread.file_name().to_string_lossy());
                    let nanos = read_schedstat(&thread.path()).unwrap_or(ticks * NANOS_PER_TICK);
                    times.0.insert(key, (Named::ThisProcess { thread: thread_group(&comm) }, nanos));
                }
            }
        }
        let Ok(processes) = std::fs::read_dir("/proc") else { return times };
        for process in processes.flatten() {
            let Ok(pid) = process.file_name().to_string_lossy().parse::<u32>() else { continue };
            if pid == own {
                continue;
            }
            let Some((comm, ticks)) = read_stat(&process.path().join("stat")) else { continue };
            let nanos = process_schedstat(&process.path()).unwrap_or(ticks * NANOS_PER_TICK);
            let title = std::fs::read(process.path().join("cmdline")).unwrap_or_default();
            times.0.insert(pid.to_string(), (name_of(pid, &comm, &String::from_utf8_lossy(&title)), nanos));
        }
        times
    }

    /// CPU microseconds spent since `before`, per name (threads of this process by what they are,
    /// Postgres backends by `backends`' names for their pids), most first.
    pub fn spent_since(&self, before: &ProcessTimes, backends: &HashMap<u32, String>) -> Vec<(String, u64)> {
        let mut spent: HashMap<String, u64> = HashMap::new();
        for (key, (named, nanos)) in &self.0 {
            // By pid alone: a kernel worker's name changes with the work it does.
            let earlier = before.0.get(key).map_or(0, |(_, t)| *t);
            let micros = nanos.saturating_sub(earlier) / 1_000;
            if micros > 0 {
                *spent.entry(label(named, backends)).or_default() += micros;
            }
        }
        let mut spent: Vec<(String, u64)> = spent.into_iter().collect();
        spent.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        spent
    }
}

fn label(named: &Named, backends: &HashMap<u32, String>) -> String {
    match named {
        Named::ThisProcess { thread } => format!("lab and engine: {thread}"),
        Named::PostgresBackend { pid, database } => match backends.get(pid).filter(|a| !a.is_empty()) {
            Some(application) => format!("postgres backend: {application} ({database})"),
            None => format!("postgres backend: {database}"),
        },
        Named::Other(name) => name.clone(),
    }
}

/// A thread's time on the CPU in nanoseconds: the first field of its `schedstat`.
fn read_schedstat(task: &Path) -> Option<u64> {
    parse_schedstat(&std::fs::read_to_string(task.join("schedstat")).ok()?)
}

fn parse_schedstat(schedstat: &str) -> Option<u64> {
    schedstat.split_whitespace().next()?.parse().ok()
}

/// A process's time on the CPU: its live threads' together. (Threads that ended between the
/// two readings are missed, as by the ticks of their own.)
fn process_schedstat(process: &Path) -> Option<u64> {
    let threads = std::fs::read_dir(process.join("task")).ok()?;
    threads.flatten().map(|thread| read_schedstat(&thread.path())).sum()
}

/// The command name and user + system ticks of a /proc stat file.
fn read_stat(path: &std::path::Path) -> Option<(String, u64)> {
    parse_stat(&std::fs::read_to_string(path).ok()?)
}

fn parse_stat(stat: &str) -> Option<(String, u64)> {
    // The command name is in parentheses and may hold spaces or parentheses itself.
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let comm = stat.get(open + 1..close)?.to_string();
    let fields: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    // After the name: state(0) ... utime(11) stime(12).
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((comm, ticks))
}

/// Threads of one pool are counted together: `tokio-runtime-w` and `actix-rt|system:0` alike.
fn thread_group(comm: &str) -> String {
    comm.trim_end_matches(|c: char| c.is_ascii_digit() || c == ':' || c == '-').to_string()
}

/// A Postgres backend's process title reads `postgres: user database host(port) activity`, after
/// the cluster's name where one is set (Debian's `postgres: 15/main: ...`); the server's own
/// processes read `postgres: 15/main: walwriter`.
fn name_of(pid: u32, comm: &str, cmdline: &str) -> Named {
    let title = cmdline.replace('\0', " ");
    if comm.starts_with("kworker") {
        // `kworker/1:0-events_power_efficient`: the part after the dash is the work of the moment.
        return Named::Other("kernel workers".into());
    }
    let Some(rest) = title.trim().strip_prefix("postgres: ") else { return Named::Other(comm.to_string()) };
    let rest = match rest.split_once(": ") {
        Some((cluster, after)) if !cluster.contains(' ') => after,
        _ => rest,
    };
    if let [_user, database, host, ..] = rest.split_whitespace().collect::<Vec<_>>().as_slice() {
        if host.ends_with(')') || *host == "[local]" {
            return Named::PostgresBackend { pid, database: database.to_string() };
        }
    }
    Named::Other(format!("postgres: {rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_gives_the_name_and_the_user_and_system_ticks() {
        let stat = "4242 (actix-rt|system) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0 1";
        assert_eq!(parse_stat(stat), Some(("actix-rt|system".to_string(), 175)));
        let odd = "7 (a) b (c) R 1 2 3 4 5 6 7 8 9 10 3 4 0";
        assert_eq!(parse_stat(odd), Some(("a) b (c".to_string(), 7)));
        assert_eq!(parse_stat("7 (short) R 1 2"), None);
    }

    #[test]
    fn postgres_backends_are_told_from_the_servers_own_processes() {
        let backend = name_of(12, "postgres", "postgres: postgres warung_bench_actor 127.0.0.1(53412) idle\0");
        assert_eq!(backend, Named::PostgresBackend { pid: 12, database: "warung_bench_actor".into() });
        let named = name_of(12, "postgres", "postgres: 15/main: root shop [local] COPY");
        assert_eq!(named, Named::PostgresBackend { pid: 12, database: "shop".into() });
        let server = name_of(13, "postgres", "postgres: 15/main: background writer ");
        assert_eq!(server, Named::Other("postgres: background writer".into()));
        assert_eq!(name_of(14, "redis-server", "redis-server 127.0.0.1:6380"), Named::Other("redis-server".into()));
        assert_eq!(name_of(15, "kworker/1:0-events_power_efficient", ""), Named::Other("kernel workers".into()));
    }

    #[test]
    fn schedstat_gives_the_nanoseconds_on_the_cpu() {
        assert_eq!(parse_schedstat("181435568 10071178 376\n"), Some(181_435_568));
        assert_eq!(parse_schedstat(""), None);
        // A running thread's count moves at the scheduler's ticks: run for a few of them first.
        let began = std::time::Instant::now();
        while began.elapsed() < std::time::Duration::from_millis(30) {
            std::hint::black_box(began.elapsed());
        }
        let own = read_schedstat(Path::new("/proc/thread-self")).expect("this kernel has schedstat");
        let process = process_schedstat(Path::new("/proc/self")).expect("this kernel has schedstat");
        assert!(own > 0 && process >= own, "this thread {own} ns, its process {process} ns");
    }

    #[test]
    fn time_is_counted_since_the_first_reading_and_grouped_by_name() {
        let thread = |t: &str| Named::ThisProcess { thread: t.into() };
        let before = ProcessTimes(HashMap::from([
            ("t1".to_string(), (thread("tokio-runtime-w"), 100_000)),
            ("9".to_string(), (Named::PostgresBackend { pid: 9, database: "shop".into() }, 50_000)),
        ]));
        let after = ProcessTimes(HashMap::from([
            ("t1".to_string(), (thread("tokio-runtime-w"), 130_000)),
            ("t2".to_string(), (thread("tokio-runtime-w"), 20_000)),
            ("9".to_string(), (Named::PostgresBackend { pid: 9, database: "shop".into() }, 110_000)),
        ]));
        let names = HashMap::from([(9, "warung-projector".to_string())]);
        assert_eq!(
            after.spent_since(&before, &names),
            vec![
                ("postgres backend: warung-projector (shop)".to_string(), 60),
                ("lab and engine: tokio-runtime-w".to_string(), 50),
            ]
        );
        assert_eq!(thread_group("actix-rt|system:0"), "actix-rt|system");
    }
}
