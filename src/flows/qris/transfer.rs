//! Bank transfers: a charge that Midtrans never sees. Opening one reserves the stock and tells the
//! customer the account and the exact amount (its unique code from the same pool as QRIS, so the
//! owner can match a transfer by amount alone); the owner's confirmation (`lunas`, or the admin
//! page) is the payment, under an id of its own derived from the order, so a second confirmation
//! is the same payment and moves nothing. A confirmation after the charge expired credits the
//! wallet, as a late QRIS payment does. The sweep expires an unconfirmed transfer with its
//! reservation.

use warung_actors::domain::{Money, OrderId, Reference};

use super::charge::{Charge, ChargeCommand, ChargeOutcome, ChargeRejection};
use super::{PaymentError, Qris};
use crate::checkout::{IncomingPayment, PaymentOutcome, Purpose};
use crate::flows::admin::Admin;
use crate::flows::chat::payment_reply as words;
use crate::flows::chat::transfer_reply;
use crate::providers::whatsapp::{Choice, Outbound};
use crate::store::{ChargeMethod, ChargeMove, ChargeRow, ChargeStatus};

/// What the owner's confirmation came to.
#[derive(Clone, Debug, PartialEq)]
pub struct TransferConfirmed {
    pub order: OrderId,
    /// The exact amount the customer was asked to send, now recorded as paid.
    pub amount: Money,
    pub outcome: PaymentOutcome,
    /// Confirmed before: this confirmation moved nothing.
    pub repeat: bool,
}

/// Why a transfer could not be confirmed, in the order the rules are checked.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("no order {0}")]
    OrderNotFound(OrderId),
    #[error("order {0} is not paid by bank transfer")]
    NotATransferOrder(OrderId),
    #[error(transparent)]
    Charge(#[from] ChargeRejection),
    #[error(transparent)]
    Payment(#[from] PaymentError),
}

/// The payment a confirmation records: one per order, whoever confirms and however often.
pub fn transfer_payment_id(order: &OrderId) -> Reference {
    Reference::parse(&format!("transfer-{order}")).expect("an order id fits a payment id")
}

impl Qris {
    /// A transfer charge stored (or found again): live it, and tell the customer where to send.
    pub(super) async fn transfer_opened(&self, charge: &ChargeRow) -> Vec<Outbound> {
        let (Some(account), Some(order)) = (&self.inner.parts.transfer, &charge.order) else {
            return vec![Outbound::text(transfer_reply::transfer_not_offered())];
        };
        if charge.status == ChargeStatus::Charging {
            self.decide(charge, ChargeCommand::Issued, None).await;
        }
        let text = transfer_reply::send_transfer(order, charge.gross, charge.unique_code, account, charge.expires_at);
        let cancel = Choice { id: "batal".into(), title: "Batalkan pesanan".into(), description: None };
        vec![Outbound::Buttons { body: text, buttons: vec![cancel] }]
    }

    /// The owner says the transfer for `order` arrived: records it as the order's payment (once),
    /// delivers the items or, past its time, credits the wallet, and tells the customer.
    #[tracing::instrument(name = "transfer.confirm", skip_all, fields(%order))]
    pub async fn confirm_transfer(&self, order: &OrderId, admin: &Admin) -> Result<TransferConfirmed, TransferError> {
        let store = &self.inner.parts.store;
        let charge = store.charge(order.as_str()).await.map_err(PaymentError::from)?;
        let charge = match charge {
            Some(charge) if charge.method == ChargeMethod::Transfer => charge,
            Some(_) => return Err(TransferError::NotATransferOrder(order.clone())),
            None => match store.order(order).await.map_err(PaymentError::from)? {
                Some(_) => return Err(TransferError::NotATransferOrder(order.clone())),
                None => return Err(TransferError::OrderNotFound(order.clone())),
            },
        };
        let from = match Charge::new(charge.clone()).apply(ChargeCommand::Paid { amount: charge.gross })? {
            ChargeOutcome::ApplyPayment { from } => Some(from),
            // Paid before: the payment's record answers again, below.
            ChargeOutcome::Unchanged => None,
            other => unreachable!("a transfer is confirmed for its own amount: {other:?}"),
        };
        let incoming = IncomingPayment {
            id: transfer_payment_id(order),
            customer: charge.customer.clone(),
            purpose: Purpose::Order(order.clone()),
            amount: charge.gross,
            actor: admin.actor(),
        };
        let applied = self.inner.parts.checkout.apply_payment(incoming).await.map_err(PaymentError::from)?;
        if let Some(from) = from {
            store
                .move_charge(charge.id.as_str(), from, ChargeMove::to(ChargeStatus::Paid), self.now())
                .await
                .map_err(PaymentError::from)?;
        }
        let text = words::confirmed(&applied.outcome);
        self.tell(&charge, "paid", text).await.map_err(PaymentError::from)?;
        Ok(TransferConfirmed {
            order: order.clone(),
            amount: charge.gross,
            outcome: applied.outcome,
            repeat: applied.repeat,
        })
    }
}
