//! What the shop stores beside the actors' own events, in the same transaction: an order's new
//! state with the stock or money that moved it (`order`), a payment's record with what it did
//! (`payment`), an admin's change with the change itself. The actors carry these without knowing
//! them (they travel as `warung_actors::journal::Entry::Attached`); the checkout makes them, by
//! its order and payment rules; the store writes and reads them (`store::batch`). A floor below
//! both, so neither imports the other for them.

mod order;
mod payment;

pub use order::{OrderRow, OrderState, PaymentMethod};
pub use payment::{ChargePurpose, PaymentApplied, PaymentRow};

use warung_actors::domain::UnixMs;

/// A row of the shop's own, attached to an actor's change or stored alone.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ShopRecord {
    Order(OrderRow),
    Payment(PaymentRow),
    /// An admin's change that is neither stock nor money (a price, a name, on sale or not, a
    /// role), stored with the change itself.
    Audit(AuditRow),
}

/// One admin change, append-only: who, what, on what, from and to, and why.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AuditRow {
    pub admin: String,
    pub action: String,
    pub subject: String,
    pub before: String,
    pub after: String,
    pub reason: String,
    pub at: UnixMs,
}

/// The actors' supervisor as the shop runs it: its journal carries `ShopRecord`s.
pub type Supervisor = warung_actors::supervisor::Supervisor<ShopRecord>;

/// The supervisors of the process's lanes, as one (`warung_actors::supervisor::Lanes`).
pub type Lanes = warung_actors::supervisor::Lanes<ShopRecord>;
