//! Whether a call may be refused because its actor's mailbox is full.

/// How a command is let into an actor's mailbox when it is at capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// New work (a reservation, a restock, a price): refused at once with "busy" when the mailbox
    /// is at capacity, so a crowd is told to come back rather than queue without end.
    WhenRoom,
    /// Work that finishes what the actor already admitted (a reservation's commit or release):
    /// always let in, waiting for room in the mailbox if it must. Refused, a purchase already
    /// paid for would be undone, and its stock left unsold once the crowd refused meanwhile has
    /// gone. Bounded by the admitted work it finishes.
    Always,
}
