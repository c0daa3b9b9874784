//! Two steps of a flow on two actors without the caller between them: a wallet command and, once
//! it is applied, a product command that depends on it (a purchase's debit, then its commit).
//!
//! The caller sends one message to the wallet's actor; the wallet applies its command and hands
//! the product command straight to the product's actor, which answers the caller. Neither actor
//! waits for the other: each handles its message and passes it on. Against two calls in a row,
//! this saves the caller a wake-up, an answer channel and a registry lookup per purchase.
//!
//! The order the journal needs is kept: the wallet submits its change before it sends the product
//! command, and the product command names the wallet's change in `depends_on`, so the product's
//! change is stored only if the wallet's was.

use actix::{Context, Handler, Message};
use tokio::sync::oneshot;

use super::call::{hand_on, post};
use super::{Handle, Supervisor};
use crate::domain::{CustomerId, ProductCode};
use crate::journal::Record;
use crate::product::{ProductActor, ProductGauges, ProductMsg, ProductRejection, ProductRequest};
use crate::runtime::{Admission, CallError, Held, Reply, ReplyWhen};
use crate::wallet::{WalletActor, WalletMsg, WalletRejection, WalletRequest};

/// How a chain of a wallet command and a product command ended, when the wallet's step did not
/// fail (that is the call's error: nothing was applied).
#[derive(Debug)]
pub enum Chained<W, P> {
    /// The wallet refused: the product command was never sent.
    WalletRefused(WalletRejection),
    /// The wallet applied its command (answered `W`); the product's answer, once durable. An
    /// error there leaves the wallet's change applied: the caller settles it.
    Both(W, Reply<P, ProductRejection>),
}

/// What the last actor of the chain to handle it answers the caller.
pub(super) enum Step<W, P> {
    WalletFailed(CallError),
    WalletRefused(WalletRejection),
    /// The wallet's change was applied but the product's actor could not take the command.
    ProductNotReached(W, CallError),
    Product(W, Held<Result<P, ProductRejection>>),
}

pub(super) type Answer<W, P> = oneshot::Sender<Step<W, P>>;

/// The wallet's message: its command, and the product command to send on once it is applied.
struct WalletThenProduct<CW: WalletRequest, CP: ProductRequest, R: Record> {
    wallet: WalletMsg<CW, R>,
    then: ProductMsg<CP, R>,
    product: Handle<ProductActor<R>, ProductGauges>,
    answer: Answer<CW::Reply, CP::Reply>,
}

impl<CW: WalletRequest, CP: ProductRequest, R: Record> Message for WalletThenProduct<CW, CP, R> {
    type Result = ();
}

/// The product's message: its command, and the wallet's answer to carry to the caller with its own.
pub(super) struct ProductAnswering<CP: ProductRequest, R: Record, W> {
    pub(super) then: ProductMsg<CP, R>,
    pub(super) wallet_reply: W,
    pub(super) answer: Answer<W, CP::Reply>,
}

impl<CP: ProductRequest, R: Record, W: Send + 'static> Message for ProductAnswering<CP, R, W> {
    type Result = ();
}

impl<R: Record> Supervisor<R> {
    /// `command` on `customer`'s wallet and, once it is applied there, `then` on `product`, stored
    /// only if the wallet's change is (`depends_on`). Answered once the product's change is
    /// durable. An error means the wallet's command was not applied, or (`OutcomeUnknown`) that
    /// an actor stopped before answering: the caller settles by what the actors know.
    pub async fn wallet_then_product<CW: WalletRequest, CP: ProductRequest>(
        &self,
        customer: &CustomerId,
        command: CW,
        attach: Vec<R>,
        product: &ProductCode,
        then: CP,
        then_attach: Vec<R>,
    ) -> Result<Chained<CW::Reply, CP::Reply>, CallError> {
        let span = tracing::Span::current();
        let to = self.inner.products.get(product, self.inner.clock, &|| self.activate_product(product)).await?;
        let (answer, answered) = oneshot::channel();
        let msg = WalletThenProduct {
            wallet: WalletMsg { command, attach, reply: ReplyWhen::Applied, span: span.clone() },
            then: ProductMsg {
                command: then,
                attach: then_attach,
                reply: ReplyWhen::Durable,
                depends_on: Vec::new(),
                span,
            },
            product: to,
            answer,
        };
        let activate = || self.activate_wallet(customer);
        post(&self.inner.wallets, customer, activate, msg, Admission::WhenRoom, self.inner.clock).await?;
        match answered.await {
            Ok(Step::WalletFailed(error)) => Err(error),
            Ok(Step::WalletRefused(rejection)) => Ok(Chained::WalletRefused(rejection)),
            Ok(Step::ProductNotReached(reply, error)) => Ok(Chained::Both(reply, Err(error))),
            Ok(Step::Product(reply, held)) => Ok(Chained::Both(reply, held.durable().await)),
            // A message dropped unhandled: its actor stopped, after the wallet's step or before.
            Err(_) => {
                let reason = "an actor stopped before answering".to_string();
                Err(CallError::OutcomeUnknown { reason })
            }
        }
    }
}

impl<CW: WalletRequest, CP: ProductRequest, R: Record> Handler<WalletThenProduct<CW, CP, R>> for WalletActor<R> {
    type Result = ();

    fn handle(&mut self, msg: WalletThenProduct<CW, CP, R>, _: &mut Context<Self>) {
        let WalletThenProduct { wallet, mut then, product, answer } = msg;
        let step = match self.handle_command(wallet).applied() {
            Err(error) => Step::WalletFailed(error),
            Ok(Err(rejection)) => Step::WalletRefused(rejection),
            Ok(Ok(wallet_reply)) => {
                then.depends_on.push(self.origin());
                return send_on(&product, ProductAnswering { then, wallet_reply, answer });
            }
        };
        let _ = answer.send(step);
    }
}

/// Hands the product command to its actor, or answers the caller that it could not.
pub(super) fn send_on<CP: ProductRequest, R: Record, W: Send + 'static>(
    product: &Handle<ProductActor<R>, ProductGauges>,
    msg: ProductAnswering<CP, R, W>,
) {
    let admission = msg.then.command.admission();
    if let Err((msg, error)) = hand_on(product, msg, admission) {
        let _ = msg.answer.send(Step::ProductNotReached(msg.wallet_reply, error));
    }
}

impl<CP: ProductRequest, R: Record, W: Send + 'static> Handler<ProductAnswering<CP, R, W>> for ProductActor<R> {
    type Result = ();

    fn handle(&mut self, msg: ProductAnswering<CP, R, W>, ctx: &mut Context<Self>) {
        let held = self.handle_command(msg.then, ctx);
        let _ = msg.answer.send(Step::Product(msg.wallet_reply, held));
    }
}
