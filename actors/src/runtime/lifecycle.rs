//! The lifecycle messages every actor understands.

use actix::Message;

/// Stop if idle, with nothing in flight. Answers whether it stopped.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct Passivate;

/// Stop now: the actor's memory is no longer trusted (a commit of its changes failed).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Stop;

/// Panics inside the actor, so tests can exercise the supervisor's restart path.
#[cfg(any(test, feature = "test-hooks"))]
#[derive(Message)]
#[rtype(result = "()")]
pub struct CrashForTest;
