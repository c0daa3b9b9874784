//! Long-lived actors of the application's own (the gateway's outbox sender and QRIS sweep), kept
//! running by the supervisor beside its products and wallets. A service is started from its
//! recipe on the supervisor's home arbiter and started again from the same recipe when it dies
//! (a panic in a handler ends an actix actor), within the same restart budget as every actor;
//! its mailbox is bounded and counted by the same `ActorStats`, so `/ops/actors` lists it with
//! the products and wallets.
//!
//! `Watched` is what the supervisor's watch asks of whatever it keeps running: the services, and
//! the gateway's conversations (which start their own dead actors again when asked).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use actix::{Actor, Addr, ArbiterHandle, Context, Handler, Message};

use super::restarts::{RestartBudget, Restarts};
use crate::domain::{Clock, UnixMs};
use crate::journal::ActorKey;
use crate::runtime::{ActorReport, ActorStats, CallError, KindTotals};

/// How often the supervisor looks for dead services and conversations. A dead service is also
/// started again by the next message sent to it; the watch is for those that act only on their
/// own timers.
pub const WATCH_EVERY_MS: u64 = 1_000;

/// Something whose actors the supervisor keeps running.
pub trait Watched: Send + Sync + 'static {
    /// Starts again whatever died since the last look (unless its budget is spent).
    fn restart_dead(&self, now: UnixMs);
    /// Each running actor's stats.
    fn reports(&self) -> Vec<ActorReport>;
    /// Crashes seen since start.
    fn crashes_total(&self) -> u64;
}

/// Builds a fresh actor, given the stats it must report its handlings to (`ActorStats::handled`
/// for every message counted in; see `Service::send`).
pub type Recipe<A> = Box<dyn Fn(Arc<ActorStats>) -> A + Send + Sync>;

/// A service actor's address that survives its restarts. Cheap to clone.
pub struct Service<A: Actor<Context = Context<A>>> {
    inner: Arc<ServiceInner<A>>,
}

impl<A: Actor<Context = Context<A>>> Clone for Service<A> {
    fn clone(&self) -> Self {
        Service { inner: self.inner.clone() }
    }
}

struct ServiceInner<A: Actor<Context = Context<A>>> {
    key: ActorKey,
    capacity: usize,
    recipe: Recipe<A>,
    home: ArbiterHandle,
    running: Mutex<Option<Running<A>>>,
    restarts: Restarts<ActorKey>,
    totals: Arc<KindTotals>,
    incarnations: AtomicU64,
    clock: Clock,
}

struct Running<A: Actor> {
    addr: Addr<A>,
    stats: Arc<ActorStats>,
}

impl<A: Actor> Clone for Running<A> {
    fn clone(&self) -> Self {
        Running { addr: self.addr.clone(), stats: self.stats.clone() }
    }
}

/// Where and how a service runs.
pub(super) struct Placement {
    pub home: ArbiterHandle,
    pub budget: RestartBudget,
    pub clock: Clock,
}

impl<A: Actor<Context = Context<A>>> Service<A> {
    /// Starts the service's first actor. `capacity`: messages its mailbox holds; past it, a send
    /// is refused with `CallError::Busy`.
    pub(super) fn start(key: ActorKey, capacity: usize, recipe: Recipe<A>, placement: Placement) -> Service<A> {
        let inner = ServiceInner {
            key,
            capacity,
            recipe,
            home: placement.home,
            running: Mutex::new(None),
            restarts: Restarts::new(placement.budget),
            totals: Arc::new(KindTotals::default()),
            incarnations: AtomicU64::new(0),
            clock: placement.clock,
        };
        let service = Service { inner: Arc::new(inner) };
        let now = service.inner.clock.now();
        if let Err(error) = service.running(now) {
            tracing::error!(service = %service.inner.key, %error, "a service could not start");
        }
        service
    }

    /// Queues `message` for the service, starting its actor again first if it died. Refused when
    /// the mailbox is full or the service is quarantined for crashing too often.
    pub fn send<M>(&self, message: M) -> Result<(), CallError>
    where
        A: Handler<M>,
        M: Message + Send + 'static,
        M::Result: Send,
    {
        let running = self.running(self.inner.clock.now())?;
        if !running.stats.try_enqueue() {
            return Err(CallError::Busy);
        }
        // Bounded by the count just taken, so actix's own capacity is not needed.
        running.addr.do_send(message);
        Ok(())
    }

    /// Messages handled by every incarnation of the service.
    pub fn totals(&self) -> &KindTotals {
        &self.inner.totals
    }

    /// The running actor, started (again) if there is none or it died.
    fn running(&self, now: UnixMs) -> Result<Running<A>, CallError> {
        let inner = &self.inner;
        let mut running = inner.running.lock().expect("service lock");
        if let Some(current) = running.take() {
            if current.addr.connected() {
                *running = Some(current.clone());
                return Ok(current);
            }
            current.stats.mark_stopped();
            inner.restarts.crashed(&inner.key, now);
            if let Err(error) = inner.restarts.check(&inner.key, now) {
                tracing::error!(service = %inner.key, %error, "a service's actor keeps dying; it stays stopped for now");
                return Err(error);
            }
            tracing::error!(service = %inner.key, "a service's actor died; starting it again");
        }
        inner.restarts.check(&inner.key, now)?;
        let incarnation = inner.incarnations.fetch_add(1, Ordering::Relaxed) + 1;
        let stats =
            Arc::new(ActorStats::new(inner.key.clone(), incarnation, inner.capacity, now, inner.totals.clone()));
        let (building, given) = (self.inner.clone(), stats.clone());
        let addr = A::start_in_arbiter(&inner.home, move |_| (building.recipe)(given));
        let started = Running { addr, stats };
        *running = Some(started.clone());
        Ok(started)
    }
}

impl<A: Actor<Context = Context<A>>> Watched for Service<A> {
    fn restart_dead(&self, now: UnixMs) {
        if let Err(error) = self.running(now) {
            // Logged when it died past its budget; the watch tries again each time.
            tracing::debug!(service = %self.inner.key, %error, "a service is not running");
        }
    }

    fn reports(&self) -> Vec<ActorReport> {
        let running = self.inner.running.lock().expect("service lock");
        running.iter().map(|running| running.stats.report()).collect()
    }

    fn crashes_total(&self) -> u64 {
        self.inner.restarts.total()
    }
}
