//! A chain that begins on the product's actor: a first product command (a purchase's
//! reservation) whose answer the caller's `next` turns into the rest of the chain, a wallet
//! command and a product command after it (the debit and the commit, see `chain`).
//!
//! The product applies the first command, runs `next` in the same turn, and hands the rest to the
//! wallet's actor; the caller is woken once, when the product's second change is applied, and
//! once more when it is durable. `next` runs on the product's actor, so it must be quick and must
//! not block: it only builds commands and records from the first answer.

use std::sync::Arc;

use actix::prelude::SendError;
use actix::{AsyncContext, Context, Handler, Message};
use tokio::sync::oneshot;

use super::call::{admit, post};
use super::chain::{finish, stopped_unanswered, Answer, Chained, Step, WalletThenProduct};
use super::{Handle, Supervisor};
use crate::domain::{CustomerId, ProductCode};
use crate::journal::Record;
use crate::product::{ProductActor, ProductMsg, ProductRejection, ProductRequest};
use crate::runtime::{Admission, CallError, ReplyWhen};
use crate::wallet::{WalletActor, WalletGauges, WalletMsg, WalletRequest};

/// The rest of a chain, as the caller's `next` makes it from the first command's answer.
pub struct Then<CW, CP, R> {
    pub wallet: CW,
    /// Records stored with the wallet's change.
    pub attach: Vec<R>,
    pub then: CP,
    /// Records stored with the product's second change.
    pub then_attach: Vec<R>,
}

/// Makes the rest of a chain from the first command's answer (`F`), or says why not (`E`).
pub type Next<F, CW, CP, R, E> = Box<dyn FnOnce(&F) -> Result<Then<CW, CP, R>, E> + Send>;

/// How a chain that begins on the product ended, when its first command was applied or refused
/// (an error of the call means it was not applied, or that the outcome is unknown).
#[derive(Debug)]
pub enum Begun<F, E, W, P> {
    /// The product refused the first command: nothing else was sent.
    Refused(ProductRejection),
    /// The first command was applied (answered `F`); `next` made nothing of it.
    NotContinued(F, E),
    /// The first command was applied; the wallet's was not (its actor was busy or had stopped,
    /// or its journal was full).
    WalletNotApplied(F, CallError),
    /// The first command was applied; the rest went as `Chained` says.
    Went(F, Chained<W, P>),
}

/// What the chain's actors answer the caller, before the last change is durable.
enum Stage<F, E, W, P> {
    FirstFailed(CallError),
    Refused(ProductRejection),
    NotContinued(F, E),
    WalletNotApplied(F, CallError),
    Went(F, Step<W, P>),
}

/// The caller's channel, carrying the first command's answer along to the chain's last actor.
struct WithFirst<F, E, W, P> {
    first: F,
    to: ToCaller<F, E, W, P>,
}

impl<F: Send + 'static, E: Send + 'static, W: Send + 'static, P: Send + 'static> Answer<W, P>
    for WithFirst<F, E, W, P>
{
    fn give(self, step: Step<W, P>) {
        let stage = match step {
            Step::WalletFailed(error) => Stage::WalletNotApplied(self.first, error),
            step => Stage::Went(self.first, step),
        };
        let _ = self.to.send(stage);
    }
}

/// The caller's end of the chain's answer.
type ToCaller<F, E, W, P> = oneshot::Sender<Stage<F, E, W, P>>;

/// The rest of the chain as the product's actor hands it to the wallet's.
type Rest<CW, CP, R, F, E> =
    WalletThenProduct<CW, CP, R, WithFirst<F, E, <CW as WalletRequest>::Reply, <CP as ProductRequest>::Reply>>;

/// The product's first message: its command, what makes the rest, and the wallet to send it to.
struct ProductFirst<C1: ProductRequest, CW: WalletRequest, CP: ProductRequest, R: Record, E> {
    first: ProductMsg<C1, R>,
    next: Next<C1::Reply, CW, CP, R, E>,
    wallet: Handle<WalletActor<R>, WalletGauges>,
    answer: ToCaller<C1::Reply, E, CW::Reply, CP::Reply>,
}

impl<C1: ProductRequest, CW: WalletRequest, CP: ProductRequest, R: Record, E: Send + 'static> Message
    for ProductFirst<C1, CW, CP, R, E>
{
    type Result = ();
}

impl<R: Record> Supervisor<R> {
    /// `first` on `product`, answered as soon as it is applied; then what `next` makes of its
    /// answer: a command on `customer`'s wallet and, once that is applied, a product command
    /// stored only if the wallet's change is (see `wallet_then_product`). Answered once the
    /// product's second change is durable. An error means the first command was not applied, or
    /// (`OutcomeUnknown`) that an actor stopped before answering: the caller settles by what the
    /// actors know.
    pub async fn product_then_wallet_then_product<C1, CW, CP, E>(
        &self,
        product: &ProductCode,
        first: C1,
        customer: &CustomerId,
        next: Next<C1::Reply, CW, CP, R, E>,
    ) -> Result<Begun<C1::Reply, E, CW::Reply, CP::Reply>, CallError>
    where
        C1: ProductRequest,
        CW: WalletRequest,
        CP: ProductRequest,
        E: Send + 'static,
    {
        let span = tracing::Span::current();
        let wallet = self.inner.wallets.get(customer, self.inner.clock, &|| self.activate_wallet(customer)).await?;
        let (answer, answered) = oneshot::channel();
        let admission = first.admission();
        let first =
            ProductMsg { command: first, attach: Vec::new(), reply: ReplyWhen::Applied, depends_on: Vec::new(), span };
        let msg = ProductFirst { first, next, wallet, answer };
        let activate = || self.activate_product(product);
        post(&self.inner.products, product, activate, msg, admission, self.inner.clock).await?;
        match answered.await.map_err(|_| stopped_unanswered())? {
            Stage::FirstFailed(error) => Err(error),
            Stage::Refused(rejection) => Ok(Begun::Refused(rejection)),
            Stage::NotContinued(reply, error) => Ok(Begun::NotContinued(reply, error)),
            Stage::WalletNotApplied(reply, error) => Ok(Begun::WalletNotApplied(reply, error)),
            Stage::Went(reply, step) => match finish(step).await {
                Ok(chained) => Ok(Begun::Went(reply, chained)),
                Err(error) => Ok(Begun::WalletNotApplied(reply, error)),
            },
        }
    }
}

impl<C1, CW, CP, R, E> Handler<ProductFirst<C1, CW, CP, R, E>> for ProductActor<R>
where
    C1: ProductRequest,
    CW: WalletRequest,
    CP: ProductRequest,
    R: Record,
    E: Send + 'static,
{
    type Result = ();

    fn handle(&mut self, msg: ProductFirst<C1, CW, CP, R, E>, ctx: &mut Context<Self>) {
        let ProductFirst { first, next, wallet, answer } = msg;
        let span = first.span.clone();
        let stage = match self.handle_command(first, ctx).applied() {
            Err(error) => Stage::FirstFailed(error),
            Ok(Err(rejection)) => Stage::Refused(rejection),
            Ok(Ok(reply)) => match next(&reply) {
                Err(error) => Stage::NotContinued(reply, error),
                Ok(Then { wallet: command, attach, then, then_attach }) => {
                    let msg = WalletThenProduct {
                        wallet: WalletMsg { command, attach, reply: ReplyWhen::Applied, span: span.clone() },
                        then: ProductMsg {
                            command: then,
                            attach: then_attach,
                            reply: ReplyWhen::Durable,
                            depends_on: Vec::new(),
                            span,
                        },
                        // The wallet hands the second command back to this actor.
                        product: Handle { addr: Arc::new(ctx.address()), stats: self.stats(), gauges: self.gauges() },
                        answer: WithFirst { first: reply, to: answer },
                    };
                    return send_to_wallet(&wallet, msg);
                }
            },
        };
        let _ = answer.send(stage);
    }
}

/// Hands the rest of the chain to the wallet's actor, or answers the caller that it could not.
fn send_to_wallet<CW, CP, R, F, E>(wallet: &Handle<WalletActor<R>, WalletGauges>, msg: Rest<CW, CP, R, F, E>)
where
    CW: WalletRequest,
    CP: ProductRequest,
    R: Record,
    F: Send + 'static,
    E: Send + 'static,
{
    if !admit(&wallet.stats, Admission::WhenRoom) {
        let WithFirst { first, to } = msg.answer;
        let _ = to.send(Stage::WalletNotApplied(first, CallError::Busy));
        return;
    }
    match wallet.addr.try_send(msg) {
        Ok(()) => {}
        Err(SendError::Full(msg)) => wallet.addr.do_send(msg),
        Err(SendError::Closed(msg)) => {
            wallet.stats.dequeue_unhandled();
            let WithFirst { first, to } = msg.answer;
            let _ = to.send(Stage::WalletNotApplied(first, CallError::Stopped));
        }
    }
}
