//! What a state machine's transition gives its actor.

use crate::journal::Event;

/// A transition's result: what to answer and what to persist before answering.
#[derive(Debug)]
pub struct Transition<O> {
    pub outcome: O,
    pub events: Vec<Event>,
}
