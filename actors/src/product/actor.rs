//! The product actor: owns one product's state, applies one message at a time, holds each reply
//! until the journal says the change is durable, and releases expired reservations by itself.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use actix::{Actor, ActorContext, AsyncContext, Context, Handler, Message, MessageResult, SpawnHandle};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::commands::{ExpireDue, Expired};
use super::requests::ProductRequest;
use super::state::{ProductSnapshot, ProductState};
use super::terms::{PriceTier, ProductRejection};
use crate::domain::{Clock, Money, UnixMs};
use crate::journal::{ActorKey, Awaited, Entry, Incarnation, Journal, Origin, Record, Ticket};
use crate::runtime::{ActorStats, Held, Notice, Passivate, Reply, ReplyWhen, Stop};

/// When the journal is full at expiry time, the sweep tries again after this long.
const EXPIRY_RETRY_MS: u64 = 100;

/// Figures the actor publishes after every change, readable without a message (for listings and
/// for refusing buyers of a sold-out product before they queue). Advisory: the actor decides.
#[derive(Debug)]
pub struct ProductGauges {
    pub available: AtomicI64,
    pub reserved: AtomicI64,
    /// The member and the reseller price, under one lock: every message publishes them.
    prices: RwLock<(Money, Option<Money>)>,
}

impl ProductGauges {
    fn publish(&self, state: &ProductState) {
        self.available.store(state.available(), Ordering::Relaxed);
        self.reserved.store(state.reserved(), Ordering::Relaxed);
        *self.prices.write().expect("gauge lock") = (state.price, state.reseller_price);
    }

    /// What a buyer of `tier` pays now.
    pub fn price_for(&self, tier: PriceTier) -> Money {
        let (member, reseller) = *self.prices.read().expect("gauge lock");
        tier.price(member, reseller)
    }

    pub fn new(state: &ProductState) -> ProductGauges {
        let gauges = ProductGauges {
            available: AtomicI64::new(0),
            reserved: AtomicI64::new(0),
            prices: RwLock::new((state.price, state.reseller_price)),
        };
        gauges.publish(state);
        gauges
    }
}

/// A command, and records the caller wants stored in the same transaction as its changes (an
/// order's new state with the stock that justifies it). The records are dropped if the command
/// changes nothing (a rejection, or a repeat whose first run stored them). Answered with the
/// command's own reply.
#[derive(Clone, Debug)]
pub struct ProductMsg<C, R> {
    pub command: C,
    pub attach: Vec<R>,
    pub reply: ReplyWhen,
    /// Changes of other actors this one must not be stored without (see `Origin`).
    pub depends_on: Vec<Origin>,
    /// The caller's span (an HTTP request's, with its request id): what the actor logs while
    /// handling this message is logged inside it.
    pub span: tracing::Span,
}

impl<C: ProductRequest, R: Record> Message for ProductMsg<C, R> {
    type Result = Held<Result<C::Reply, ProductRejection>>;
}

#[derive(Message, Clone, Debug)]
#[rtype(result = "ProductSnapshot")]
pub struct ProductSnapshotQuery;

pub struct ProductActor<R> {
    state: ProductState,
    incarnation: Incarnation,
    journal: Journal<R>,
    stats: Arc<ActorStats>,
    gauges: Arc<ProductGauges>,
    clock: Clock,
    notices: mpsc::UnboundedSender<Notice>,
    last_ticket: Option<Ticket>,
    timer: Option<(UnixMs, SpawnHandle)>,
}

impl<R: Record> ProductActor<R> {
    pub fn new(
        state: ProductState,
        incarnation: Incarnation,
        journal: Journal<R>,
        stats: Arc<ActorStats>,
        gauges: Arc<ProductGauges>,
        clock: Clock,
        notices: mpsc::UnboundedSender<Notice>,
    ) -> ProductActor<R> {
        ProductActor { state, incarnation, journal, stats, gauges, clock, notices, last_ticket: None, timer: None }
    }

    fn key(&self) -> ActorKey {
        ActorKey::Product(self.state.code.clone())
    }

    /// Applies a command; returns the answer and the ticket that must resolve before it is given.
    fn decide<C: ProductRequest>(
        &mut self,
        command: C,
        attach: Vec<R>,
        depends_on: Vec<Origin>,
        awaited: Awaited,
        now: UnixMs,
    ) -> (Reply<C::Reply, ProductRejection>, Option<Ticket>) {
        let slot = match self.journal.try_slot() {
            Ok(slot) => slot.awaited(awaited),
            Err(error) => return (Err(error.into()), None),
        };
        match command.apply_to(&mut self.state, now) {
            Ok(transition) if transition.events.is_empty() => (Ok(Ok(transition.outcome)), self.last_ticket.clone()),
            Ok(transition) => {
                let origin = (ActorKey::Product(self.state.code.clone()), self.incarnation);
                let ticket = slot.submit_after(Some(origin), depends_on, Entry::all(transition.events, attach));
                self.last_ticket = Some(ticket.clone());
                self.gauges.publish(&self.state);
                (Ok(Ok(transition.outcome)), Some(ticket))
            }
            // A rejection can rest on changes not yet stored ("already committed"): it waits too.
            Err(rejection) => (Ok(Err(rejection)), self.last_ticket.clone()),
        }
    }

    /// Runs one command message: the answer, held until what it reports is stored.
    pub(crate) fn handle_command<C: ProductRequest>(
        &mut self,
        msg: ProductMsg<C, R>,
        ctx: &mut Context<Self>,
    ) -> Held<Result<C::Reply, ProductRejection>> {
        let _caller = msg.span.enter();
        tracing::debug!(product = %self.state.code, command = msg.command.kind(), "product command");
        let started = Instant::now();
        let now = self.clock.at(started);
        let (result, ticket) = self.decide(msg.command, msg.attach, msg.depends_on, msg.reply.into(), now);
        let ticket = if msg.reply == ReplyWhen::Applied { None } else { ticket };
        self.arm_expiry(ctx);
        self.stats.handled(started.elapsed(), now);
        Held::until(result, ticket)
    }

    fn arm_expiry(&mut self, ctx: &mut Context<Self>) {
        let Some(next) = self.state.next_expiry() else { return };
        if let Some((armed, handle)) = self.timer {
            if armed <= next {
                return;
            }
            ctx.cancel_future(handle);
        }
        let handle = ctx.run_later(self.clock.until(next), |actor, ctx| {
            actor.timer = None;
            actor.expire_due(ctx);
        });
        self.timer = Some((next, handle));
    }

    fn expire_due(&mut self, ctx: &mut Context<Self>) {
        // The notices wait for the expiry to be stored.
        let (result, ticket) = self.decide(ExpireDue, Vec::new(), Vec::new(), Awaited::Yes, self.clock.now());
        match result {
            Ok(Ok(Expired { orders })) if !orders.is_empty() => {
                let product = self.state.code.clone();
                let notices = self.notices.clone();
                let ticket = ticket.expect("an expiry writes events");
                actix::spawn(async move {
                    if ticket.await.is_ok() {
                        for order in orders {
                            let _ = notices.send(Notice::ReservationExpired { product: product.clone(), order });
                        }
                    }
                });
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(product = %self.state.code, %error, "expiry sweep postponed");
                let handle = ctx.run_later(std::time::Duration::from_millis(EXPIRY_RETRY_MS), |actor, ctx| {
                    actor.timer = None;
                    actor.expire_due(ctx);
                });
                self.timer = Some((self.clock.now() + EXPIRY_RETRY_MS as i64, handle));
                return;
            }
        }
        self.arm_expiry(ctx);
    }
}

impl<R: Record> Actor for ProductActor<R> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.gauges.publish(&self.state);
        // Reservations restored from the store keep their expiry: due ones go at once.
        self.arm_expiry(ctx);
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        tracing::debug!(actor = %self.key(), "product actor stopped");
    }
}

impl<C: ProductRequest, R: Record> Handler<ProductMsg<C, R>> for ProductActor<R> {
    type Result = MessageResult<ProductMsg<C, R>>;

    fn handle(&mut self, msg: ProductMsg<C, R>, ctx: &mut Context<Self>) -> Self::Result {
        MessageResult(self.handle_command(msg, ctx))
    }
}

impl<R: Record> Handler<ProductSnapshotQuery> for ProductActor<R> {
    type Result = MessageResult<ProductSnapshotQuery>;

    fn handle(&mut self, _: ProductSnapshotQuery, _: &mut Context<Self>) -> Self::Result {
        self.stats.handled(std::time::Duration::ZERO, self.clock.now());
        MessageResult(self.state.snapshot())
    }
}

impl<R: Record> Handler<Passivate> for ProductActor<R> {
    type Result = bool;

    fn handle(&mut self, _: Passivate, ctx: &mut Context<Self>) -> bool {
        let settled = self.last_ticket.as_ref().is_none_or(|t| t.peek().is_some());
        // A product with open reservations stays: its timer must release them on time.
        if self.state.open_reservations() == 0 && self.stats.depth() == 0 && settled {
            self.stats.mark_stopped();
            ctx.stop();
            return true;
        }
        false
    }
}

impl<R: Record> Handler<Stop> for ProductActor<R> {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        self.stats.mark_stopped();
        ctx.stop();
    }
}

#[cfg(any(test, feature = "test-hooks"))]
impl<R: Record> Handler<crate::runtime::CrashForTest> for ProductActor<R> {
    type Result = ();

    fn handle(&mut self, _: crate::runtime::CrashForTest, _: &mut Context<Self>) {
        panic!("product {} crashed on request", self.state.code);
    }
}
