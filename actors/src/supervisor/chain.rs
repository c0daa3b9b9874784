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
//!
//! An actor that stops with a chain message unread (a crash, a reload after a failed commit) gives
//! the message back to the caller (see `Chain`), who sends it again to the reloaded actor, as
//! `call` does: nothing was applied from it, and every command carries its caller's id.

use actix::{Context, Handler, Message};
use tokio::sync::oneshot;

use super::call::{hand_on, post};
use super::{Handle, Known, Supervisor, CALL_ATTEMPTS_MAX};
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

impl<W, P> Chained<W, P> {
    /// The two steps with the wallet's change stored before the product's command is sent: for
    /// a wallet and a product whose changes go through two journals (two lanes, two nodes), as
    /// a journal orders only its own changes. `then` is sent only if the wallet applied its
    /// command.
    pub async fn stored_then<F: std::future::Future<Output = Reply<P, ProductRejection>>>(
        wallet: impl std::future::Future<Output = Reply<W, WalletRejection>>,
        then: impl FnOnce() -> F,
    ) -> Result<Chained<W, P>, CallError> {
        match wallet.await? {
            Err(rejection) => Ok(Chained::WalletRefused(rejection)),
            Ok(reply) => Ok(Chained::Both(reply, then().await)),
        }
    }
}

/// What the last actor of the chain to handle it answers the caller. What is given back is boxed:
/// it is rare, and every answer is as large as the largest variant.
pub(super) enum Step<CW: WalletRequest, CP: ProductRequest, R: Record> {
    WalletFailed(CallError),
    WalletRefused(WalletRejection),
    /// The wallet's actor stopped with the message unread: nothing was applied.
    WalletUnread(Box<WalletStep<CW, CP, R>>),
    /// The wallet's change was applied but the product's actor could not take the command.
    ProductNotReached(CW::Reply, CallError),
    /// The wallet's change was applied; the product's actor stopped with its command unread.
    ProductUnread(CW::Reply, Box<ProductMsg<CP, R>>),
    Product(CW::Reply, Held<Result<CP::Reply, ProductRejection>>),
}

type Answer<CW, CP, R> = oneshot::Sender<Step<CW, CP, R>>;

/// What a chain message carries, and what the caller is given back if it is dropped unread.
pub(super) trait Carried<CW: WalletRequest, CP: ProductRequest, R: Record>: Send + 'static {
    fn unread(self) -> Step<CW, CP, R>;
}

/// A message of the chain. Its handler takes what it carries; if the actor stops with the message
/// unread, dropping it gives that back to the caller (`Carried::unread`), so the chain is never
/// left unanswered while a resend could finish it.
pub(super) struct Chain<T: Carried<CW, CP, R>, CW: WalletRequest, CP: ProductRequest, R: Record> {
    carried: Option<(T, Answer<CW, CP, R>)>,
}

impl<T: Carried<CW, CP, R>, CW: WalletRequest, CP: ProductRequest, R: Record> Chain<T, CW, CP, R> {
    pub(super) fn new(carried: T, answer: Answer<CW, CP, R>) -> Self {
        Chain { carried: Some((carried, answer)) }
    }

    fn take(&mut self) -> (T, Answer<CW, CP, R>) {
        self.carried.take().expect("a chain message is handled once")
    }
}

impl<T: Carried<CW, CP, R>, CW: WalletRequest, CP: ProductRequest, R: Record> Drop for Chain<T, CW, CP, R> {
    fn drop(&mut self) {
        if let Some((carried, answer)) = self.carried.take() {
            let _ = answer.send(carried.unread());
        }
    }
}

impl<T: Carried<CW, CP, R>, CW: WalletRequest, CP: ProductRequest, R: Record> Message for Chain<T, CW, CP, R> {
    type Result = ();
}

/// The wallet's step: its command, and the product command to send on once it is applied.
pub(super) struct WalletStep<CW: WalletRequest, CP: ProductRequest, R: Record> {
    wallet: WalletMsg<CW, R>,
    then: ProductMsg<CP, R>,
    product: Handle<ProductActor<R>, ProductGauges>,
}

impl<CW: WalletRequest, CP: ProductRequest, R: Record> Carried<CW, CP, R> for WalletStep<CW, CP, R> {
    fn unread(self) -> Step<CW, CP, R> {
        Step::WalletUnread(Box::new(self))
    }
}

/// The product's step: its command, and the wallet's answer to carry to the caller with its own.
pub(super) struct ProductStep<CW: WalletRequest, CP: ProductRequest, R: Record> {
    pub(super) then: ProductMsg<CP, R>,
    pub(super) wallet_reply: CW::Reply,
}

impl<CW: WalletRequest, CP: ProductRequest, R: Record> Chain<ProductStep<CW, CP, R>, CW, CP, R> {
    /// How the product's actor admits the command: as it would from a call.
    fn admission(&self) -> Admission {
        let (step, _) = self.carried.as_ref().expect("a chain message is handled once");
        step.then.command.admission()
    }
}

impl<CW: WalletRequest, CP: ProductRequest, R: Record> Carried<CW, CP, R> for ProductStep<CW, CP, R> {
    fn unread(self) -> Step<CW, CP, R> {
        Step::ProductUnread(self.wallet_reply, Box::new(self.then))
    }
}

impl<R: Record> Supervisor<R> {
    /// `command` on `customer`'s wallet and, once it is applied there, `then` on `product`, stored
    /// only if the wallet's change is (`depends_on`). Answered once the product's change is
    /// durable. An error means the wallet's command was not applied, or (`OutcomeUnknown`) that
    /// an actor stopped while handling its step: the caller settles by what the actors know.
    /// `known` holds the handles the caller kept, tried before the registry is asked.
    #[allow(clippy::too_many_arguments)]
    pub async fn wallet_then_product<CW: WalletRequest, CP: ProductRequest>(
        &self,
        customer: &CustomerId,
        command: CW,
        attach: Vec<R>,
        product: &ProductCode,
        then: CP,
        then_attach: Vec<R>,
        known: Known<R>,
    ) -> Result<Chained<CW::Reply, CP::Reply>, CallError> {
        let span = tracing::Span::current();
        let to = match known.product.and_then(Handle::if_running) {
            Some(handle) => handle,
            None => self.inner.products.get(product, self.inner.clock, &|| self.activate_product(product)).await?,
        };
        let mut step = WalletStep {
            wallet: WalletMsg { command, attach, reply: ReplyWhen::Applied, span: span.clone() },
            then: ProductMsg {
                command: then,
                attach: then_attach,
                reply: ReplyWhen::Durable,
                depends_on: Vec::new(),
                span,
            },
            product: to,
        };
        let (activate, mut first) = (|| self.activate_wallet(customer), known.wallet);
        for _ in 0..CALL_ATTEMPTS_MAX {
            let (answer, answered) = oneshot::channel();
            let msg = Chain::new(step, answer);
            let admission = Admission::WhenRoom;
            post(&self.inner.wallets, customer, first.take(), activate, msg, admission, self.inner.clock).await?;
            match answered.await {
                Ok(Step::WalletUnread(unread)) => step = *unread,
                answered => return self.chained(product, answered).await,
            }
        }
        Err(CallError::Stopped)
    }

    /// The chain's result from its last step's answer, once the product's change is durable; a
    /// product command given back unread is sent again to the product's reloaded actor.
    async fn chained<CW: WalletRequest, CP: ProductRequest>(
        &self,
        product: &ProductCode,
        answered: Result<Step<CW, CP, R>, oneshot::error::RecvError>,
    ) -> Result<Chained<CW::Reply, CP::Reply>, CallError> {
        match answered {
            Ok(Step::WalletFailed(error)) => Err(error),
            Ok(Step::WalletRefused(rejection)) => Ok(Chained::WalletRefused(rejection)),
            Ok(Step::WalletUnread(_)) => unreachable!("a wallet step given back is sent again"),
            Ok(Step::ProductNotReached(reply, error)) => Ok(Chained::Both(reply, Err(error))),
            // Boxed, as the registry's activation: a path this rare should not size every chain.
            Ok(Step::ProductUnread(reply, then)) => {
                Ok(Chained::Both(reply, Box::pin(self.call_product(product, None, &then)).await))
            }
            Ok(Step::Product(reply, held)) => Ok(Chained::Both(reply, held.durable().await)),
            // The answer dropped unsent: an actor stopped while handling its step.
            Err(_) => {
                let reason = "an actor stopped before answering".to_string();
                Err(CallError::OutcomeUnknown { reason })
            }
        }
    }
}

impl<CW: WalletRequest, CP: ProductRequest, R: Record> Handler<Chain<WalletStep<CW, CP, R>, CW, CP, R>>
    for WalletActor<R>
{
    type Result = ();

    fn handle(&mut self, mut msg: Chain<WalletStep<CW, CP, R>, CW, CP, R>, _: &mut Context<Self>) {
        let (WalletStep { wallet, mut then, product }, answer) = msg.take();
        let step = match self.handle_command(wallet).applied() {
            Err(error) => Step::WalletFailed(error),
            Ok(Err(rejection)) => Step::WalletRefused(rejection),
            Ok(Ok(wallet_reply)) => {
                then.depends_on.push(self.origin());
                return send_on(&product, Chain::new(ProductStep { then, wallet_reply }, answer));
            }
        };
        let _ = answer.send(step);
    }
}

/// Hands the product's step to its actor. Refused there, it is given back to the caller: to send
/// again when the actor has stopped (`Step::ProductUnread`), else as not reached.
pub(super) fn send_on<CW: WalletRequest, CP: ProductRequest, R: Record>(
    product: &Handle<ProductActor<R>, ProductGauges>,
    msg: Chain<ProductStep<CW, CP, R>, CW, CP, R>,
) {
    let admission = msg.admission();
    match hand_on(product, msg, admission) {
        Ok(()) | Err((_, CallError::Stopped)) => {}
        Err((mut msg, error)) => {
            let (ProductStep { wallet_reply, .. }, answer) = msg.take();
            let _ = answer.send(Step::ProductNotReached(wallet_reply, error));
        }
    }
}

impl<CW: WalletRequest, CP: ProductRequest, R: Record> Handler<Chain<ProductStep<CW, CP, R>, CW, CP, R>>
    for ProductActor<R>
{
    type Result = ();

    fn handle(&mut self, mut msg: Chain<ProductStep<CW, CP, R>, CW, CP, R>, ctx: &mut Context<Self>) {
        let (ProductStep { then, wallet_reply }, answer) = msg.take();
        let held = self.handle_command(then, ctx);
        let _ = answer.send(Step::Product(wallet_reply, held));
    }
}
