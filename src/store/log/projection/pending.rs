//! The batches between the log and the tables, as the projection holds them.

use std::collections::VecDeque;
use std::time::Duration;

use foldhash::HashMap;
use tokio::time::Instant;
use warung_actors::journal::{ActorKey, Entries};

use crate::records::ShopRecord;
use crate::store::log::limits::{Backlog, PROJECTION_QUIET_MS};

/// A batch whose log record has committed.
pub struct Committed {
    /// Its place in this process's order: 1, 2, 3...
    pub seq: u64,
    /// Its record's position in the log table.
    pub position: i64,
    /// Moved out to the projector when it takes the batch (`events` keeps the count).
    pub entries: Entries<ShopRecord>,
    pub events: usize,
    /// The actors whose events it holds, each once.
    pub actors: Vec<ActorKey>,
    pub at: Instant,
}

#[derive(Default)]
pub(super) struct Pending {
    pub(super) batches: VecDeque<Committed>,
    pub(super) appended_seq: u64,
    /// The last batch handed to the projector.
    pub(super) taken_seq: u64,
    /// Events in `batches`.
    pub(super) events: u64,
    /// Per actor with events in `batches`: the `seq` of the last batch holding one.
    pub(super) last_batch_of: HashMap<ActorKey, u64>,
    /// The projector has begun on this run of appends (`Backlog`): set when it takes batches,
    /// cleared by an append that begins after a pause.
    pub(super) catching_up: bool,
    /// Appends under way (`room` to the end of the append): while there is one, the journal is
    /// not idle, however long its commit takes.
    pub(super) appending: usize,
    /// When the last append under way ended (None while one is).
    pub(super) idle_since: Option<Instant>,
}

impl Pending {
    /// The batches not yet taken, oldest first, up to `events_max` events (at least one batch, if
    /// there is any).
    pub(super) fn take(&mut self, events_max: usize) -> Vec<(u64, i64, Entries<ShopRecord>)> {
        let from = self.taken_seq;
        let mut taken = Vec::new();
        let mut events = 0;
        for batch in self.batches.iter_mut().filter(|b| b.seq > from) {
            if !taken.is_empty() && events + batch.events > events_max {
                break;
            }
            events += batch.events;
            taken.push((batch.seq, batch.position, std::mem::take(&mut batch.entries)));
        }
        if let Some(last) = taken.last() {
            self.taken_seq = last.0;
        }
        self.catching_up = true;
        taken
    }

    /// Whether no append has been under way for `PROJECTION_QUIET_MS`.
    pub(super) fn appends_paused(&self) -> bool {
        let quiet = Duration::from_millis(PROJECTION_QUIET_MS);
        self.appending == 0 && self.idle_since.is_some_and(|idle| idle.elapsed() >= quiet)
    }

    /// What the projector decides on (`ProjectionLimits::due`).
    pub(super) fn backlog(&self, readers: usize) -> Backlog {
        Backlog {
            oldest: self.batches.iter().find(|b| b.seq > self.taken_seq).map(|b| b.at),
            newest: self.batches.back().map(|b| b.at),
            events: self.events,
            readers,
            catching_up: self.catching_up,
            appending: self.appending > 0,
        }
    }
}
