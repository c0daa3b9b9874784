//! warung's actors: the parts of the engine that decide.
//!
//! - `domain`: money, quantities, identifiers, items, the clock.
//! - `product`: the product state machine (price, available units, reservations, sold) and its actor.
//! - `wallet`: the wallet state machine (balance, holds, ledger) and its actor.
//! - `journal`: the rows every change writes, and the group commit that makes them durable before
//!   any actor answers.
//! - `supervisor`: activation, passivation, restart and reload of actors; per-actor stats.

pub mod domain;
pub mod journal;
pub mod product;
pub mod supervisor;
pub mod wallet;
