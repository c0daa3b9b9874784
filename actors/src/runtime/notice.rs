//! What an actor tells the outside world.

use crate::domain::{OrderId, ProductCode};

/// Something an actor reports to the outside world after it is durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    ReservationExpired { product: ProductCode, order: OrderId },
}
