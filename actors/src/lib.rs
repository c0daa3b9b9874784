//! warung's actors: the parts of the engine that decide.
//!
//! - `domain`: money, quantities, identifiers, items, the clock.
//! - `journal`: the rows every change writes, the records of the caller's own it carries beside
//!   them without knowing what they are, and the group commit that makes them durable before any
//!   actor answers.
//! - `runtime`: what every actor speaks: replies and call errors, when an answer is given, the
//!   lifecycle messages, per-actor stats, notices.
//! - `product`: the product's commands, each with its own reply, its state machine (price,
//!   available units, reservations, sold) and its actor.
//! - `wallet`: the wallet's commands, each with its own reply, its state machine (balance,
//!   ledger) and its actor.
//! - `supervisor`: activation, passivation, restart and reload of actors.
//!
//! Each module uses only those listed before it.

pub mod domain;
pub mod journal;
pub mod product;
pub mod runtime;
pub mod supervisor;
pub mod wallet;
