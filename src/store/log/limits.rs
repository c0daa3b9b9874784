//! How far the tables may fall behind the log, and when the projector writes them.
//!
//! Two bounds (`database.projection_lag_*`): past either, the journal waits before it appends, so
//! the lag never grows without end. Past half of either it brakes: each append waits a little,
//! more the nearer the bound, so a load the projector cannot follow slows to what it can follow
//! instead of running into the bound and stopping until the tables have caught up with the
//! clock (seconds). Under them, the projector waits while batches keep arriving
//! (`database.projection_defer_ms`): on two cores, the work of writing the tables competes with
//! the work of answering buyers, so in a burst the answering goes first and the tables follow
//! once it pauses. It never waits while a read is waiting for the tables, nor past the deferral
//! time (at most half the age bound) or half the events' bound: on either bound, where the brake
//! begins, so a burst is never braked for a projector still waiting. Once it has begun it goes on
//! until the appends pause, so under a load that never pauses it projects as it goes, the
//! deferral only delaying its start.

use std::time::Duration;

use tokio::time::Instant;

/// Events acknowledged and not yet in the tables, at most, by default
/// (`database.projection_lag_events_max`); past it the journal waits before it appends (so
/// actors, once its queue is full, answer "busy"), rather than let the lag grow.
pub const PROJECTION_LAG_EVENTS_MAX: u64 = 1_000_000;

/// The oldest acknowledged batch not yet in the tables, at most this old, by default
/// (`database.projection_lag_ms_max`); past it the journal waits as above.
pub const PROJECTION_LAG_MS_MAX: u64 = 4_000;

/// How long the projector may leave the tables behind while batches keep arriving, by default
/// (`database.projection_defer_ms`; 0 projects every batch as soon as it is acknowledged).
pub const PROJECTION_DEFER_MS: u64 = 1_000;

/// A pause in the appends this long, with none under way, ends the projector's deferral: the
/// burst is over (or was a single customer's purchase), and the cores are free for the tables.
pub const PROJECTION_QUIET_MS: u64 = 10;

/// The largest age bound the settings take (10 minutes): a lag is seconds, and the deadlines
/// computed from it stay far from overflowing.
pub const PROJECTION_LAG_MS_MAX_ALLOWED: u64 = 600_000;

/// The longest an append waits for the projector before the bound (`ProjectionLimits::pressure`):
/// at 64 purchases in flight and a commit a millisecond, 1 ms halves the rate, so the brake
/// reaches what the projector can follow well before its end.
pub const PROJECTION_BRAKE_MS_MAX: u64 = 10;

/// What the lag asks of the journal before its next append (`ProjectionLimits::pressure`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pressure {
    /// Under half of both bounds: append.
    None,
    /// Past half of a bound: wait this long, then append.
    Brake(Duration),
    /// Past a bound: wait until the lag is back under it.
    Full,
}

/// The bounds of the lag and the projector's deferral (see the module's comment).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProjectionLimits {
    pub lag_events_max: u64,
    pub lag_ms_max: u64,
    pub defer_ms: u64,
}

impl Default for ProjectionLimits {
    fn default() -> Self {
        ProjectionLimits {
            lag_events_max: PROJECTION_LAG_EVENTS_MAX,
            lag_ms_max: PROJECTION_LAG_MS_MAX,
            defer_ms: PROJECTION_DEFER_MS,
        }
    }
}

/// What the projector does with the batches not yet taken (`ProjectionLimits::due`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// There are none: wait for one.
    Nothing,
    /// Take them now.
    Now,
    /// Look again after this long (or when woken sooner).
    In(Duration),
}

/// What the projector knows when it decides, with `ProjectionLimits::due`.
#[derive(Clone, Copy, Debug)]
pub struct Backlog {
    /// When the oldest batch not yet taken was acknowledged (None: there is none).
    pub oldest: Option<Instant>,
    /// When the newest batch was acknowledged.
    pub newest: Option<Instant>,
    /// Events acknowledged and not yet in the tables.
    pub events: u64,
    /// Reads waiting for the tables to show what was acknowledged.
    pub readers: usize,
    /// Whether the projector has begun on this run of appends (it took batches, and the appends
    /// have not paused since): it goes on, never deferring a load that does not pause twice.
    pub catching_up: bool,
    /// Whether an append is under way (a slow commit is not a pause).
    pub appending: bool,
}

impl ProjectionLimits {
    /// The problems with these limits, one sentence each, naming the settings.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.lag_events_max == 0 {
            problems.push("database.projection_lag_events_max must be positive".to_string());
        }
        if self.lag_ms_max == 0 {
            problems.push("database.projection_lag_ms_max must be positive".to_string());
        }
        if self.lag_ms_max > PROJECTION_LAG_MS_MAX_ALLOWED {
            problems.push(format!(
                "database.projection_lag_ms_max ({}) must be at most {PROJECTION_LAG_MS_MAX_ALLOWED}",
                self.lag_ms_max
            ));
        }
        if self.defer_ms > self.lag_ms_max / 2 {
            problems.push(format!(
                "database.projection_defer_ms ({}) must be at most half of database.projection_lag_ms_max ({}): \
                 past half the journal brakes, and would brake for a projector that is still waiting",
                self.defer_ms, self.lag_ms_max
            ));
        }
        problems
    }

    /// How hard the journal must hold back, from the lag's nearer bound.
    pub fn pressure(&self, events: u64, ms: u64) -> Pressure {
        if events > self.lag_events_max || ms > self.lag_ms_max {
            return Pressure::Full;
        }
        let share = |lag: u64, max: u64| lag as f64 / max as f64;
        let nearest = share(events, self.lag_events_max).max(share(ms, self.lag_ms_max));
        if nearest <= 0.5 {
            return Pressure::None;
        }
        // From nothing at half the bound to PROJECTION_BRAKE_MS_MAX at the bound, in whole
        // microseconds (a wait, not money).
        let micros = (nearest - 0.5) * 2.0 * (PROJECTION_BRAKE_MS_MAX * 1_000) as f64;
        Pressure::Brake(Duration::from_micros(micros.ceil() as u64))
    }

    /// Half the events' bound, where the journal begins to brake: a backlog this large is
    /// projected at once. It was a quarter: a burst of 40,000 sales (320,000 events, about half a
    /// second) then had its last fifth answered beside the projection, 15% slower, for about 8 MB
    /// less held at the peak (docs/benchmarks.md, 2026-12-05, eighteenth part).
    fn defer_events_max(&self) -> u64 {
        self.lag_events_max / 2
    }

    /// Whether the projector takes the backlog now, in the order the module's comment gives.
    pub fn due(&self, backlog: &Backlog, now: Instant) -> Due {
        let Some(oldest) = backlog.oldest else {
            return Due::Nothing;
        };
        if self.defer_ms == 0 || backlog.catching_up || backlog.readers > 0 || backlog.events >= self.defer_events_max()
        {
            return Due::Now;
        }
        let deferred_until = oldest + Duration::from_millis(self.defer_ms);
        let quiet = Duration::from_millis(PROJECTION_QUIET_MS);
        let quiet_at = match backlog.appending {
            // Not before the append has ended, and a pause after it: looked at again then.
            true => now + quiet,
            false => backlog.newest.unwrap_or(oldest) + quiet,
        };
        let next = deferred_until.min(quiet_at);
        match next.checked_duration_since(now) {
            Some(wait) if !wait.is_zero() => Due::In(wait),
            _ => Due::Now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn backlog(start: Instant, oldest_ms: u64, newest_ms: u64, events: u64, readers: usize) -> Backlog {
        Backlog {
            oldest: Some(start + ms(oldest_ms)),
            newest: Some(start + ms(newest_ms)),
            events,
            readers,
            catching_up: false,
            appending: false,
        }
    }

    #[test]
    fn while_batches_keep_arriving_the_projector_waits_for_the_pause_or_the_deferral_time() {
        let limits = ProjectionLimits::default();
        let start = Instant::now();
        let arriving = backlog(start, 0, 500, 1_000, 0);
        assert_eq!(limits.due(&arriving, start + ms(505)), Due::In(ms(5)), "until a 10 ms pause");
        let still_arriving = backlog(start, 0, 995, 1_000, 0);
        assert_eq!(limits.due(&still_arriving, start + ms(998)), Due::In(ms(2)), "never past the deferral time");
        assert_eq!(limits.due(&still_arriving, start + ms(1_000)), Due::Now);
        assert_eq!(limits.due(&arriving, start + ms(510)), Due::Now, "the appends paused");
        let committing = Backlog { appending: true, ..arriving };
        assert_eq!(limits.due(&committing, start + ms(600)), Due::In(ms(10)), "a slow commit is not a pause");
        let begun = Backlog { catching_up: true, ..arriving };
        assert_eq!(limits.due(&begun, start + ms(505)), Due::Now, "once begun, it goes on until it has caught up");
    }

    #[test]
    fn a_waiting_read_or_half_the_events_bound_ends_the_deferral() {
        let limits = ProjectionLimits::default();
        let start = Instant::now();
        assert_eq!(limits.due(&backlog(start, 0, 1, 10, 1), start + ms(1)), Due::Now, "a read waits");
        let half = PROJECTION_LAG_EVENTS_MAX / 2;
        assert_eq!(limits.due(&backlog(start, 0, 1, half, 0), start + ms(1)), Due::Now, "half the bound");
        assert!(matches!(limits.due(&backlog(start, 0, 1, half - 1, 0), start + ms(1)), Due::In(_)));
    }

    #[test]
    fn the_journal_never_brakes_for_a_projector_that_is_still_deferring() {
        let limits = ProjectionLimits::default();
        let start = Instant::now();
        for events in [1, limits.lag_events_max / 4, limits.lag_events_max / 2, limits.lag_events_max] {
            let braked = limits.pressure(events, 0) != Pressure::None;
            let deferring = matches!(limits.due(&backlog(start, 0, 1, events, 0), start + ms(1)), Due::In(_));
            assert!(!(braked && deferring), "{events} events: braked while the projector still waits");
        }
        let age = limits.lag_ms_max / 2 + 1;
        let braked = limits.pressure(1, age) != Pressure::None;
        let deferring = matches!(limits.due(&backlog(start, 0, age, 1, 0), start + ms(age)), Due::In(_));
        assert!(braked && !deferring, "past half the age bound the projector has begun");
    }

    #[test]
    fn no_deferral_projects_at_once_and_no_backlog_waits_for_one() {
        let limits = ProjectionLimits { defer_ms: 0, ..ProjectionLimits::default() };
        let start = Instant::now();
        assert_eq!(limits.due(&backlog(start, 0, 0, 1, 0), start), Due::Now);
        let empty = Backlog { oldest: None, newest: None, events: 0, readers: 3, catching_up: true, appending: true };
        assert_eq!(limits.due(&empty, start), Due::Nothing);
    }

    #[test]
    fn the_journal_brakes_harder_the_nearer_the_lag_to_a_bound_and_stops_past_it() {
        let limits = ProjectionLimits::default();
        let (events, ms) = (limits.lag_events_max, limits.lag_ms_max);
        assert_eq!(limits.pressure(events / 2, ms / 2), Pressure::None, "half of each bound: no brake");
        assert_eq!(limits.pressure(0, ms * 3 / 4), Pressure::Brake(Duration::from_millis(PROJECTION_BRAKE_MS_MAX / 2)));
        assert_eq!(limits.pressure(events, 0), Pressure::Brake(Duration::from_millis(PROJECTION_BRAKE_MS_MAX)));
        assert_eq!(limits.pressure(events + 1, 0), Pressure::Full);
        assert_eq!(limits.pressure(0, ms + 1), Pressure::Full);
    }

    #[test]
    fn a_deferral_past_half_the_age_bound_or_an_endless_bound_is_refused_by_name() {
        let limits = ProjectionLimits { defer_ms: PROJECTION_LAG_MS_MAX / 2 + 1, ..ProjectionLimits::default() };
        let problems = limits.problems();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("database.projection_defer_ms"), "{problems:?}");
        let endless = ProjectionLimits { lag_ms_max: u64::MAX, ..ProjectionLimits::default() };
        assert!(endless.problems()[0].contains("database.projection_lag_ms_max"), "{:?}", endless.problems());
        assert!(ProjectionLimits::default().problems().is_empty());
    }
}
