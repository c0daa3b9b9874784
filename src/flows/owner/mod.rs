//! The shop owner on WhatsApp: admin numbers (and customers with the `admin` role) run the shop
//! from the chat. `command`: what they type, parsed. `desk`: each command carried out through the
//! same rules and actors as the admin API, audited under the admin's number. `report`: sales as
//! an owner reads them (also the admin page's overview and the daily summary). `words`: the
//! answers, in Bahasa Indonesia.

pub mod command;
pub mod desk;
pub mod report;
pub mod words;

pub use command::{OwnerCommand, OwnerCommandError};
pub use desk::Desk;
pub use report::{Sales, SalesReport};
