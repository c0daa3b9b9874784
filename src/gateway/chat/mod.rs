//! The shop's conversation: what a customer types (`command`), parsed before anything acts on it,
//! and what the shop says back (`reply`), in Bahasa Indonesia.

pub mod command;
pub mod reply;

pub use command::{Command, CommandError, Payment};
pub use reply::ProductLine;
