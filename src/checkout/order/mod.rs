//! An order's state machine (its row as the store keeps it is `records::OrderRow`), the one place that decides every transition of an order (paid,
//! failed, cancelled, expired, refunded, review). The flows in `checkout` ask it, then do what it
//! says; none of them sets a state by hand.
//!
//! A saldo order goes `pending` -> `paid` or `failed`, and a paid one may be `refunded`. An order
//! for an outside payment goes `awaiting_payment` -> `paid` (its payment committed the stock),
//! `cancelled`, `expired`, or `review` (a payment came that it could not take: late or short; the
//! money went to the wallet). Terminal states never go back to an open one.
//!
//! Payments reach the machine only when they are new: a repeat of a recorded payment is answered
//! from its record (`checkout::payment`) before the order is asked anything.

use warung_actors::domain::{Money, Reference, UnixMs};

use super::ShopRecord;

#[cfg(test)]
mod tests;

pub use crate::records::{OrderRow, OrderState, PaymentMethod};

/// What happens to an order. Checked against the order's method and state, in this order.
#[derive(Clone, Debug, PartialEq)]
pub enum OrderCommand {
    /// A saldo purchase's stock was committed: the sale stands.
    Complete {
        note: &'static str,
    },
    /// A saldo purchase did not complete: its stock is released and any debit refunded.
    Fail,
    /// A new payment (never a repeat: those are answered from the payment's record).
    Pay {
        payment: Reference,
        amount: Money,
    },
    /// The stock a payment was to buy has been committed to the order.
    StockCommitted,
    /// The stock a payment was to buy was gone (the reservation expired or was released).
    StockGone {
        payment: Reference,
        amount: Money,
    },
    Cancel,
    Expire,
    Refund {
        reason: String,
    },
}

/// What the caller must do, or what was done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderOutcome {
    /// The order moved to a new state; store its row.
    Moved { from: OrderState, to: OrderState },
    /// The order is already where the command would take it: a repeat, nothing to store.
    Unchanged,
    /// The payment can buy the order: commit its stock, then answer `StockCommitted` or
    /// `StockGone`. The order has not moved yet.
    CommitStock,
    /// The payment cannot buy the order: it goes whole to the customer's wallet. `to_review`: the
    /// order moved to `review` for a person to look at (store its row with the credit).
    CreditPayment { to_review: bool },
}

/// What a new payment can do for an order (`Order::pay`): the outcomes of `OrderCommand::Pay`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentDecision {
    /// See `OrderOutcome::CommitStock`.
    CommitStock,
    /// See `OrderOutcome::CreditPayment`.
    CreditPayment { to_review: bool },
}

impl From<PaymentDecision> for OrderOutcome {
    fn from(decision: PaymentDecision) -> OrderOutcome {
        match decision {
            PaymentDecision::CommitStock => OrderOutcome::CommitStock,
            PaymentDecision::CreditPayment { to_review } => OrderOutcome::CreditPayment { to_review },
        }
    }
}

/// Why a command does not apply to an order, named after the rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OrderRejection {
    #[error("the order is paid with saldo; it takes no outside payment")]
    PaidWithSaldoTakesNoPayment,
    #[error("the order waits for an outside payment; it has no saldo steps")]
    AwaitsPaymentHasNoSaldoSteps,
    #[error("the order is {state:?}, not open")]
    OnlyAnOpenOrderCanBeCancelled { state: OrderState },
    #[error("the order is {state:?}, not paid")]
    OnlyAPaidOrderCanBeRefunded { state: OrderState },
    #[error("the order is {state:?}: its sale is settled")]
    SettledSaleCannotChange { state: OrderState },
    #[error("the order is {state:?}: no payment is committing its stock")]
    StockAnswerWithoutPayment { state: OrderState },
}

/// An order and its transitions. The row is what the store holds; a transition changes it in
/// memory, and the caller stores it with the actors' changes it goes with.
#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    row: OrderRow,
}

impl Order {
    pub fn new(row: OrderRow) -> Order {
        Order { row }
    }

    pub fn row(&self) -> &OrderRow {
        &self.row
    }

    pub fn state(&self) -> OrderState {
        self.row.state
    }

    /// The row to store after a transition: an update of the existing row.
    pub fn record(&self) -> ShopRecord {
        let mut row = self.row.clone();
        row.creates = false;
        ShopRecord::Order(row)
    }

    /// Applies `command` at `now`. Pure: no I/O; the caller does what the outcome says.
    pub fn apply(&mut self, command: OrderCommand, now: UnixMs) -> Result<OrderOutcome, OrderRejection> {
        let before = self.row.state;
        let outcome = self.decide(command, now)?;
        self.check_invariants(before);
        Ok(outcome)
    }

    /// A new payment (`OrderCommand::Pay`), answered with what it can do: the caller's next step
    /// is one of two, never any other outcome.
    pub fn pay(&mut self, payment: &Reference, amount: Money, now: UnixMs) -> Result<PaymentDecision, OrderRejection> {
        let before = self.row.state;
        let decision = self.decide_payment(payment, amount, now)?;
        self.check_invariants(before);
        Ok(decision)
    }

    fn decide(&mut self, command: OrderCommand, now: UnixMs) -> Result<OrderOutcome, OrderRejection> {
        use OrderState::*;
        let state = self.row.state;
        let saldo = self.row.method == PaymentMethod::Saldo;
        match command {
            OrderCommand::Complete { note } => {
                if !saldo {
                    return Err(OrderRejection::AwaitsPaymentHasNoSaldoSteps);
                }
                match state {
                    Pending => Ok(self.moved(Paid, note, now)),
                    Paid | Refunded => Ok(OrderOutcome::Unchanged),
                    _ => Err(OrderRejection::SettledSaleCannotChange { state }),
                }
            }
            OrderCommand::Fail => {
                if !saldo {
                    return Err(OrderRejection::AwaitsPaymentHasNoSaldoSteps);
                }
                match state {
                    Pending => Ok(self.moved(Failed, "not completed; stock released, money returned", now)),
                    Failed => Ok(OrderOutcome::Unchanged),
                    _ => Err(OrderRejection::SettledSaleCannotChange { state }),
                }
            }
            OrderCommand::Pay { payment, amount } => self.decide_payment(&payment, amount, now).map(OrderOutcome::from),
            OrderCommand::StockCommitted => match state {
                AwaitingPayment => Ok(self.moved(Paid, "", now)),
                _ => Err(OrderRejection::StockAnswerWithoutPayment { state }),
            },
            OrderCommand::StockGone { payment, amount } => match state {
                AwaitingPayment => Ok(self.send_to_review(&payment, amount, now).into()),
                _ => Err(OrderRejection::StockAnswerWithoutPayment { state }),
            },
            OrderCommand::Cancel => match state {
                AwaitingPayment => Ok(self.moved(Cancelled, "cancelled", now)),
                _ => Err(OrderRejection::OnlyAnOpenOrderCanBeCancelled { state }),
            },
            OrderCommand::Expire => match state {
                AwaitingPayment => Ok(self.moved(Expired, "reservation expired", now)),
                _ => Ok(OrderOutcome::Unchanged),
            },
            OrderCommand::Refund { reason } => match state {
                Paid => Ok(self.moved(Refunded, &reason, now)),
                Refunded => Ok(OrderOutcome::Unchanged),
                _ => Err(OrderRejection::OnlyAPaidOrderCanBeRefunded { state }),
            },
        }
    }

    fn moved(&mut self, to: OrderState, note: &str, now: UnixMs) -> OrderOutcome {
        let from = self.row.state;
        // The state the stored row is in: a second move before it is recorded keeps the first.
        self.row.moved_from.get_or_insert(from);
        self.row.state = to;
        self.row.note = note.to_string();
        self.row.updated_at = now.max(self.row.updated_at);
        OrderOutcome::Moved { from, to }
    }

    fn decide_payment(
        &mut self,
        payment: &Reference,
        amount: Money,
        now: UnixMs,
    ) -> Result<PaymentDecision, OrderRejection> {
        use OrderState::*;
        if self.row.method == PaymentMethod::Saldo {
            return Err(OrderRejection::PaidWithSaldoTakesNoPayment);
        }
        Ok(match self.row.state {
            AwaitingPayment if amount >= self.row.total => PaymentDecision::CommitStock,
            AwaitingPayment | Cancelled | Expired => self.send_to_review(payment, amount, now),
            _ => PaymentDecision::CreditPayment { to_review: false },
        })
    }

    fn send_to_review(&mut self, payment: &Reference, amount: Money, now: UnixMs) -> PaymentDecision {
        let note = format!("payment {payment} of {amount} credited to the wallet");
        self.moved(OrderState::Review, &note, now);
        PaymentDecision::CreditPayment { to_review: true }
    }

    /// A broken invariant is a bug: the caller's flow stops here rather than store it.
    fn check_invariants(&self, before: OrderState) {
        use OrderState::*;
        let state = self.row.state;
        match self.row.method {
            PaymentMethod::Saldo => {
                assert!(matches!(state, Pending | Paid | Failed | Refunded), "a saldo order is never {state:?}")
            }
            PaymentMethod::External | PaymentMethod::Transfer => assert!(
                matches!(state, AwaitingPayment | Paid | Cancelled | Expired | Review | Refunded),
                "an order awaiting an outside payment is never {state:?}"
            ),
        }
        assert!(before.is_open() || !state.is_open(), "{before:?} never goes back to the open {state:?}");
        assert!(before.progress() <= state.progress(), "{before:?} never goes back to {state:?}");
        assert!(before != Refunded || state == Refunded, "a refunded order stays refunded");
        assert!(self.row.updated_at >= self.row.created_at, "an order is not updated before it was made");
    }
}
