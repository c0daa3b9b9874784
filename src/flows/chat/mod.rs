//! The shop's conversation: what a customer types (`command`), parsed before anything acts on it,
//! what the shop says back (`reply`), in Bahasa Indonesia, and the two put together with the
//! engine (`conversation`); what it says about QRIS payments (`payment_reply`) and bank transfers
//! (`transfer_reply`).

pub mod command;
pub mod conversation;
pub mod payment_reply;
pub mod reply;
pub mod transfer_reply;

pub use command::{Command, CommandError, Payment};
pub use conversation::{Answer, Conversation, PaymentRequest};
pub use reply::ProductLine;
