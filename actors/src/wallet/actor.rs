//! The wallet actor: owns one customer's balance, applies one message at a time, and
//! holds each reply until the journal says the change is durable.

use std::sync::{Arc, RwLock};

use actix::{Actor, ActorContext, Context, Handler, Message, MessageResult};
use tokio::time::Instant;

use super::requests::WalletRequest;
use super::state::WalletState;
use super::terms::{WalletBalance, WalletRejection};
use crate::domain::{Clock, Money};
use crate::journal::{ActorKey, Entry, Incarnation, Journal, Origin, Record, Ticket};
use crate::runtime::{ActorStats, Held, Passivate, ReplyWhen, Stop};

/// A command, and records to store in the same transaction as its changes (see `ProductMsg`).
/// Answered with the command's own reply.
#[derive(Clone, Debug)]
pub struct WalletMsg<C, R> {
    pub command: C,
    pub attach: Vec<R>,
    pub reply: ReplyWhen,
    /// The caller's span, entered while the message is handled (see `ProductMsg::span`).
    pub span: tracing::Span,
}

impl<C: WalletRequest, R: Record> Message for WalletMsg<C, R> {
    type Result = Held<Result<C::Reply, WalletRejection>>;
}

/// The balance, answered once every change before it is durable (a balance shown to a customer
/// is a promise).
#[derive(Message, Clone, Debug)]
#[rtype(result = "Held<WalletBalance>")]
pub struct WalletBalanceQuery;

/// What the actor publishes after every change, readable without a message (for refusing a
/// buyer who cannot pay before any stock is held). Advisory: it may include a change not yet
/// stored, and the actor decides.
#[derive(Debug)]
pub struct WalletGauges {
    pub available: RwLock<Money>,
}

impl WalletGauges {
    pub fn new(state: &WalletState) -> WalletGauges {
        WalletGauges { available: RwLock::new(state.balance().available) }
    }

    fn publish(&self, state: &WalletState) {
        *self.available.write().expect("gauge lock") = state.balance().available;
    }
}

pub struct WalletActor<R> {
    state: WalletState,
    incarnation: Incarnation,
    journal: Journal<R>,
    stats: Arc<ActorStats>,
    gauges: Arc<WalletGauges>,
    clock: Clock,
    last_ticket: Option<Ticket>,
}

impl<R: Record> WalletActor<R> {
    pub fn new(
        state: WalletState,
        incarnation: Incarnation,
        journal: Journal<R>,
        stats: Arc<ActorStats>,
        gauges: Arc<WalletGauges>,
        clock: Clock,
    ) -> WalletActor<R> {
        WalletActor { state, incarnation, journal, stats, gauges, clock, last_ticket: None }
    }
}

impl<R: Record> Actor for WalletActor<R> {
    type Context = Context<Self>;
}

impl<C: WalletRequest, R: Record> Handler<WalletMsg<C, R>> for WalletActor<R> {
    type Result = MessageResult<WalletMsg<C, R>>;

    fn handle(&mut self, msg: WalletMsg<C, R>, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.handle_command(msg))
    }
}

impl<R: Record> WalletActor<R> {
    /// The change this actor's next stored events belong to, for a later command's `depends_on`.
    pub(crate) fn origin(&self) -> Origin {
        (ActorKey::Wallet(self.state.customer.clone()), self.incarnation)
    }

    /// Runs one command message: the answer, held until what it reports is stored.
    pub(crate) fn handle_command<C: WalletRequest>(
        &mut self,
        msg: WalletMsg<C, R>,
    ) -> Held<Result<C::Reply, WalletRejection>> {
        let _caller = msg.span.enter();
        tracing::debug!(command = msg.command.kind(), "wallet command");
        let started = Instant::now();
        let now = self.clock.at(started);
        let (result, ticket) = match self.journal.try_slot() {
            Err(error) => (Err(error.into()), None),
            Ok(slot) => match msg.command.apply_to(&mut self.state, now) {
                Ok(transition) if transition.events.is_empty() => {
                    (Ok(Ok(transition.outcome)), self.last_ticket.clone())
                }
                Ok(transition) => {
                    self.gauges.publish(&self.state);
                    let ticket = slot
                        .awaited(msg.reply.into())
                        .submit(Some(self.origin()), Entry::all(transition.events, msg.attach));
                    self.last_ticket = Some(ticket.clone());
                    (Ok(Ok(transition.outcome)), Some(ticket))
                }
                // A rejection can rest on changes not yet stored: it waits too.
                Err(rejection) => (Ok(Err(rejection)), self.last_ticket.clone()),
            },
        };
        self.stats.handled(started.elapsed(), now);
        let ticket = if msg.reply == ReplyWhen::Applied { None } else { ticket };
        Held::until(result, ticket)
    }
}

impl<R: Record> Handler<WalletBalanceQuery> for WalletActor<R> {
    type Result = MessageResult<WalletBalanceQuery>;

    fn handle(&mut self, _: WalletBalanceQuery, _: &mut Context<Self>) -> Self::Result {
        self.stats.handled(std::time::Duration::ZERO, self.clock.now());
        MessageResult(Held::until(Ok(self.state.balance()), self.last_ticket.clone()))
    }
}

impl<R: Record> Handler<Passivate> for WalletActor<R> {
    type Result = bool;

    fn handle(&mut self, _: Passivate, ctx: &mut Context<Self>) -> bool {
        let settled = self.last_ticket.as_ref().is_none_or(|t| t.peek().is_some());
        if self.stats.depth() == 0 && settled {
            self.stats.mark_stopped();
            ctx.stop();
            return true;
        }
        false
    }
}

impl<R: Record> Handler<Stop> for WalletActor<R> {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        self.stats.mark_stopped();
        ctx.stop();
    }
}

#[cfg(any(test, feature = "test-hooks"))]
impl<R: Record> Handler<crate::runtime::CrashForTest> for WalletActor<R> {
    type Result = ();

    fn handle(&mut self, _: crate::runtime::CrashForTest, _: &mut Context<Self>) {
        panic!("wallet {} crashed on request", self.state.customer);
    }
}
