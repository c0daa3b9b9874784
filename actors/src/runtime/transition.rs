//! What a state machine's transition gives its actor.

use crate::journal::Event;

/// A transition's result: what to answer and what to persist before answering.
#[derive(Debug)]
pub struct Transition<O> {
    pub outcome: O,
    pub events: Vec<Event>,
}

impl<O> Transition<O> {
    /// The same transition, its answer told another way (a command's own reply as the enum of
    /// every outcome).
    pub fn map<P>(self, f: impl FnOnce(O) -> P) -> Transition<P> {
        Transition { outcome: f(self.outcome), events: self.events }
    }
}
