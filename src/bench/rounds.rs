//! Several rounds of one sale (`--rounds`): every strategy in turn, round after round, so a drift
//! of the host falls on each of them alike; then, per strategy, each round's rate and the median.
//! On this project's machine kind the same build's rate moves by a sixth from run to run, more
//! than most changes a developer wants to measure.

use super::report::RunReport;

/// Rounds at most: each runs every strategy once, its whole sale.
pub const BENCH_ROUNDS_MAX: u32 = 20;

/// The median of `values`: the middle one, or the mean of the middle two; `None` when empty.
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// One strategy over the rounds.
struct Over<'r> {
    strategy: &'static str,
    /// Its report in each round, `None` where it did not run.
    runs: Vec<Option<&'r RunReport>>,
}

/// A round's report if the strategy ran in it (it was there, and it could run).
fn ran<'r>(run: &Option<&'r RunReport>) -> Option<&'r RunReport> {
    run.filter(|r| r.error.is_none())
}

impl Over<'_> {
    fn ran(&self) -> impl Iterator<Item = &RunReport> {
        self.runs.iter().filter_map(ran)
    }
}

fn by_strategy(rounds: &[Vec<RunReport>]) -> Vec<Over<'_>> {
    let mut names: Vec<&'static str> = Vec::new();
    for report in rounds.iter().flatten() {
        if !names.contains(&report.strategy) {
            names.push(report.strategy);
        }
    }
    names
        .into_iter()
        .map(|strategy| Over {
            strategy,
            runs: rounds.iter().map(|round| round.iter().find(|r| r.strategy == strategy)).collect(),
        })
        .collect()
}

/// The table printed after the rounds: per strategy, each round's rate, the medians, and in how
/// many rounds it was correct.
pub fn summary(rounds: &[Vec<RunReport>]) -> String {
    let mut out = format!(
        "median of {} rounds (each runs every strategy in turn):\n{:<15} {:>12} {:>9} {:>9} {:>8}  {}\n",
        rounds.len(),
        "strategy",
        "median-per-s",
        "p50-ms",
        "p99-ms",
        "correct",
        "per-s, each round"
    );
    for over in by_strategy(rounds) {
        let each: Vec<String> = over
            .runs
            .iter()
            .map(|run| ran(run).map_or("-".to_string(), |r| format!("{:.0}", r.throughput_per_s)))
            .collect();
        let figure =
            |values: Vec<f64>, decimals: usize| median(values).map_or("-".to_string(), |m| format!("{m:.decimals$}"));
        let correct = over.ran().filter(|r| r.correct).count();
        out.push_str(&format!(
            "{:<15} {:>12} {:>9} {:>9} {:>8}  {}\n",
            over.strategy,
            figure(over.ran().map(|r| r.throughput_per_s).collect(), 0),
            figure(over.ran().map(|r| r.latency_ms.p50).collect(), 2),
            figure(over.ran().map(|r| r.latency_ms.p99).collect(), 2),
            format!("{correct} of {}", rounds.len()),
            each.join(" / ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::Latencies;

    fn run(strategy: &'static str, per_s: f64, p99: f64) -> RunReport {
        RunReport {
            strategy,
            correct: true,
            throughput_per_s: per_s,
            latency_ms: Latencies { p50: p99 / 2.0, p99, ..Latencies::default() },
            ..RunReport::default()
        }
    }

    #[test]
    fn the_median_is_the_middle_value_or_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(Vec::new()), None);
    }

    #[test]
    fn each_strategy_shows_every_round_its_median_and_the_rounds_it_was_correct_in() {
        let failed = RunReport { error: Some("no Redis".into()), ..run("redis-lua-fsync", 0.0, 0.0) };
        let wrong = RunReport { correct: false, ..run("actor", 70_000.0, 1.5) };
        let rounds = vec![
            vec![run("actor", 60_000.0, 2.0), run("redis-lua-fsync", 80_000.0, 1.0)],
            vec![wrong, failed],
            vec![run("actor", 65_000.0, 3.0), run("redis-lua-fsync", 84_000.0, 1.2)],
        ];
        let table = summary(&rounds);
        assert!(table.starts_with("median of 3 rounds"), "{table}");
        let line = |name: &str| table.lines().find(|l| l.starts_with(name)).unwrap().to_string();
        let actor = line("actor ");
        assert!(actor.contains(" 65000 ") && actor.contains(" 2.00 "), "the middle of three: {actor}");
        assert!(actor.contains("2 of 3") && actor.ends_with("60000 / 70000 / 65000"), "{actor}");
        let redis = line("redis-lua-fsync");
        assert!(redis.contains(" 82000 ") && redis.contains("2 of 3"), "a round it did not run: {redis}");
        assert!(redis.ends_with("80000 / - / 84000"), "{redis}");
    }
}
