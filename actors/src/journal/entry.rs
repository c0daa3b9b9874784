//! What the journal carries: the events an actor made, and records its caller stores with them.

use std::fmt::Debug;

use super::Event;

/// A record the journal carries without knowing what it is: a row of the application's own (an
/// order's new state, a payment, an admin's audit line) stored in the same transaction as the
/// actor's events it goes with. Only the sink that writes a batch looks inside.
pub trait Record: Clone + Debug + Send + Sync + 'static {}

impl<T: Clone + Debug + Send + Sync + 'static> Record for T {}

/// One row of a journal batch.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry<R> {
    /// A change an actor made.
    Event(Event),
    /// A record stored with the change it goes with.
    Attached(R),
}

impl<R> Entry<R> {
    /// A transition's events, then the records attached to them.
    pub fn all(events: Vec<Event>, attached: Vec<R>) -> Vec<Entry<R>> {
        let mut entries = Vec::with_capacity(events.len() + attached.len());
        entries.extend(events.into_iter().map(Entry::Event));
        entries.extend(attached.into_iter().map(Entry::Attached));
        entries
    }
}
