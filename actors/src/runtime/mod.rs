//! The vocabulary every actor speaks, on the floor below the product and wallet actors and their
//! supervisor, so the arrows run one way (domain <- journal <- runtime <- product, wallet <-
//! supervisor):
//!
//! - `reply`: what a call can fail with apart from the actor's rules, when an actor answers, and
//!   the rule that holds an answer until its changes are durable.
//! - `transition`: what a state machine's transition answers and writes.
//! - `lifecycle`: the messages every actor understands (passivate, stop).
//! - `admission`: which calls a full mailbox refuses.
//! - `stats`: what ops can see of each actor.
//! - `notice`: what an actor tells the outside world once it is durable.
//! - `memory`: handing what passivated actors held back to the system.

mod admission;
mod lifecycle;
pub mod memory;
mod notice;
mod reply;
mod stats;
mod transition;

pub use admission::Admission;
#[cfg(any(test, feature = "test-hooks"))]
pub use lifecycle::CrashForTest;
pub use lifecycle::{Passivate, Stop};
pub use notice::Notice;
pub use reply::{CallError, Held, Reply, ReplyWhen};
pub use stats::{ActorReport, ActorStats, KindTotals, Lifecycle, LATENCY_BUCKETS};
pub use transition::Transition;
