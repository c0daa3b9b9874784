//! The shop's conversation: what a customer types (`command`), parsed before anything acts on it.

pub mod command;

pub use command::{Command, CommandError, Payment};
