//! Lanes: several supervisors in one process, each with its own actors, its own journal and its
//! own thread (an actix arbiter), so that two cores run the engine's work and not one. A
//! customer's wallet is in the lane its id hashes to, and a product in the lane its code hashes
//! to, as a cluster gives shards to nodes; every store they write is the same.
//!
//! A journal orders only its own changes (`depends_on` names a change of the same journal). So a
//! purchase whose wallet and product are in two lanes crosses as a cluster's nodes do: the debit
//! is stored first, and only then is the commit sent to the product's lane
//! (`Lanes::wallet_then_product`). Its rows are then written in an order the store's one
//! projection keeps: a row two lanes write (the order's, pending then paid) is written the
//! second time only after the first write was acknowledged.
//!
//! What the process shows of its actors (the ops page, the metrics, a flush at shutdown) is over
//! every lane. The services (`Supervisor::keep_running`) run on the first lane, the home: the
//! thread the engine was started on.

use std::future::Future;
use std::sync::Arc;

use actix::{Arbiter, ArbiterHandle};
use tokio::sync::{mpsc, oneshot};

use super::{
    Chained, Known, Ownership, Persistence, ProductHandle, RestartBudget, Supervisor, SupervisorCounters,
    SupervisorSettings,
};
use crate::domain::{Clock, CustomerId, ProductCode};
use crate::journal::{ActorKey, JournalStats, Record};
use crate::product::{ProductGauges, ProductRejection, ProductRequest, ProductSnapshot};
use crate::runtime::{ActorReport, CallError, Notice, Reply};
use crate::wallet::{WalletBalance, WalletGauges, WalletRejection, WalletRequest};

/// Lanes one process may run. More than its cores only adds crossings; past this, a setting is
/// refused at start.
pub const LANES_MAX: usize = 16;

/// Cheap to clone; every clone drives the same lanes.
pub struct Lanes<R: Record> {
    lanes: Arc<[Supervisor<R>]>,
    /// Each lane's thread, in the same order.
    threads: Arc<[ArbiterHandle]>,
}

impl<R: Record> Clone for Lanes<R> {
    fn clone(&self) -> Self {
        Lanes { lanes: self.lanes.clone(), threads: self.threads.clone() }
    }
}

impl<R: Record> Lanes<R> {
    /// Starts `count` supervisors on `store`: the first on the calling arbiter (the home), each
    /// other on an arbiter of its own. Their notices come out of one channel. Must run inside an
    /// actix System.
    pub async fn start(
        store: Arc<dyn Persistence<R>>,
        clock: Clock,
        settings: SupervisorSettings,
        count: usize,
    ) -> (Lanes<R>, mpsc::UnboundedReceiver<Notice>) {
        assert!((1..=LANES_MAX).contains(&count), "between 1 and {LANES_MAX} lanes, not {count}");
        // One limit on the loads of every lane: they share the store's pool.
        let loads = Arc::new(tokio::sync::Semaphore::new(super::ACTIVATION_LOADS_AT_ONCE_MAX));
        let (home, home_notices) = Supervisor::start_sharing(store.clone(), clock, settings.clone(), loads.clone());
        let (mut lanes, mut threads, mut notices) = (vec![home], vec![Arbiter::current()], vec![home_notices]);
        for _ in 1..count {
            let (started, answer) = oneshot::channel();
            let (store, settings, loads) = (store.clone(), settings.clone(), loads.clone());
            let thread = Arbiter::new();
            let spawned = thread.spawn_fn(move || {
                let _ = started.send(Supervisor::start_sharing(store, clock, settings, loads));
            });
            assert!(spawned, "a new arbiter takes work");
            let (supervisor, lane_notices) = answer.await.expect("a lane's supervisor starts");
            lanes.push(supervisor);
            threads.push(thread.handle());
            notices.push(lane_notices);
        }
        (Lanes { lanes: lanes.into(), threads: threads.into() }, merged(notices))
    }

    /// One supervisor as the only lane, on the calling arbiter.
    pub fn one(supervisor: Supervisor<R>) -> Lanes<R> {
        Lanes { lanes: Arc::new([supervisor]), threads: Arc::new([Arbiter::current()]) }
    }

    pub fn count(&self) -> usize {
        self.lanes.len()
    }

    /// The first lane: where the services run, on the thread the engine was started on.
    pub fn home(&self) -> &Supervisor<R> {
        &self.lanes[0]
    }

    pub fn all(&self) -> &[Supervisor<R>] {
        &self.lanes
    }

    /// The lane `product`'s actor runs in.
    pub fn of_product(&self, product: &ProductCode) -> &Supervisor<R> {
        &self.lanes[self.lane_of_product(product)]
    }

    /// A product's lane is the one its code hashes to; a share's, the lane it was made for (one
    /// made when the process ran more lanes goes to the lane that number falls in now).
    pub fn lane_of_product(&self, product: &ProductCode) -> usize {
        match product.share_of() {
            Some((_, lane)) => usize::from(lane) % self.lanes.len(),
            None => self.lane_of(product.as_str()),
        }
    }

    /// The lane `customer`'s wallet runs in, and their flows should.
    pub fn of_customer(&self, customer: &CustomerId) -> &Supervisor<R> {
        &self.lanes[self.lane_of(customer.as_str())]
    }

    /// The index of `customer`'s lane (see `of_customer`).
    pub fn lane_of_customer(&self, customer: &CustomerId) -> usize {
        self.lane_of(customer.as_str())
    }

    /// One lane needs no hash (it would be a few percent of a sale's CPU).
    fn lane_of(&self, id: &str) -> usize {
        match self.lanes.len() {
            1 => 0,
            count => (fnv1a(id.as_bytes()) % count as u64) as usize,
        }
    }

    fn same_lane(&self, customer: &CustomerId, product: &ProductCode) -> bool {
        self.lanes.len() == 1 || self.lane_of(customer.as_str()) == self.lane_of_product(product)
    }

    /// Runs `work` on the thread of `customer`'s lane, where their wallet's actor runs: a flow
    /// whose actors are all in that lane then never leaves its thread until it answers. With
    /// one lane, `work` runs where it is awaited. An error means the lane's thread has stopped
    /// (the process is stopping): before `work` began (`Stopped`) or before it finished
    /// (`OutcomeUnknown`).
    pub async fn on_customer_lane<T: Send + 'static>(
        &self,
        customer: &CustomerId,
        work: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, CallError> {
        if self.lanes.len() == 1 {
            return Ok(work.await);
        }
        let (done, answer) = oneshot::channel();
        let spawned = self.threads[self.lane_of(customer.as_str())].spawn(async move {
            let _ = done.send(work.await);
        });
        match spawned {
            true => answer.await.map_err(|_| CallError::OutcomeUnknown { reason: "the lane's thread stopped".into() }),
            false => Err(CallError::Stopped),
        }
    }

    pub fn clock(&self) -> Clock {
        self.home().clock()
    }

    pub async fn product<C: ProductRequest>(
        &self,
        code: &ProductCode,
        command: C,
    ) -> Reply<C::Reply, ProductRejection> {
        self.of_product(code).product(code, command).await
    }

    /// See `Supervisor::product_with`.
    pub async fn product_with<C: ProductRequest>(
        &self,
        code: &ProductCode,
        command: C,
        attach: Vec<R>,
    ) -> Reply<C::Reply, ProductRejection> {
        self.of_product(code).product_with(code, command, attach).await
    }

    /// See `Supervisor::product_applied_at`.
    pub async fn product_applied_at<C: ProductRequest>(
        &self,
        code: &ProductCode,
        known: Option<ProductHandle<R>>,
        command: C,
    ) -> Reply<C::Reply, ProductRejection> {
        self.of_product(code).product_applied_at(code, known, command).await
    }

    pub async fn wallet<C: WalletRequest>(
        &self,
        customer: &CustomerId,
        command: C,
    ) -> Reply<C::Reply, WalletRejection> {
        self.of_customer(customer).wallet(customer, command).await
    }

    /// See `Supervisor::wallet_with`.
    pub async fn wallet_with<C: WalletRequest>(
        &self,
        customer: &CustomerId,
        command: C,
        attach: Vec<R>,
    ) -> Reply<C::Reply, WalletRejection> {
        self.of_customer(customer).wallet_with(customer, command, attach).await
    }

    /// See `Supervisor::wallet_then_product`. With the wallet and the product in two lanes, the
    /// wallet's change is stored before the product's command is sent: the product's journal
    /// cannot see whether the wallet's journal stored it.
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
        if self.same_lane(customer, product) {
            let lane = self.of_customer(customer);
            return lane.wallet_then_product(customer, command, attach, product, then, then_attach, known).await;
        }
        // Boxed: a future is as large as its largest path, and the chain's is the common one.
        let debited = self.wallet_with(customer, command, attach);
        Box::pin(Chained::stored_then(debited, || self.product_with(product, then, then_attach))).await
    }

    pub async fn product_snapshot(&self, code: &ProductCode) -> Result<ProductSnapshot, CallError> {
        self.of_product(code).product_snapshot(code).await
    }

    pub async fn wallet_balance(&self, customer: &CustomerId) -> Result<WalletBalance, CallError> {
        self.of_customer(customer).wallet_balance(customer).await
    }

    /// See `Supervisor::ensure_product`.
    pub async fn ensure_product(&self, code: &ProductCode) -> Result<(), CallError> {
        self.of_product(code).ensure_product(code).await
    }

    /// The handles of `product`'s and `customer`'s actors that are active, each in its lane.
    pub fn known(&self, customer: &CustomerId, product: &ProductCode) -> Known<R> {
        if self.same_lane(customer, product) {
            return self.of_customer(customer).known(customer, product);
        }
        Known {
            product: self.of_product(product).known(customer, product).product,
            wallet: self.of_customer(customer).known(customer, product).wallet,
        }
    }

    pub fn wallet_gauges(&self, customer: &CustomerId) -> Option<Arc<WalletGauges>> {
        self.of_customer(customer).wallet_gauges(customer)
    }

    pub fn product_gauges(&self, product: &ProductCode) -> Option<Arc<ProductGauges>> {
        self.of_product(product).product_gauges(product)
    }

    /// Waits until everything every lane was given so far is stored; the first error, if any.
    pub async fn flush(&self) -> Result<(), CallError> {
        let flushed = futures::future::join_all(self.lanes.iter().map(Supervisor::flush)).await;
        flushed.into_iter().collect()
    }

    /// Every lane's running actors, deepest mailbox first.
    pub fn actors(&self) -> Vec<ActorReport> {
        let mut reports: Vec<ActorReport> = self.lanes.iter().flat_map(Supervisor::actors).collect();
        reports.sort_by(|a, b| b.mailbox_depth.cmp(&a.mailbox_depth).then(b.messages_handled.cmp(&a.messages_handled)));
        reports
    }

    /// See `Supervisor::stop_actors`; over every lane.
    pub async fn stop_actors(&self, which: impl Fn(&ActorKey) -> bool) -> usize {
        let mut stopped = 0;
        for lane in self.lanes.iter() {
            stopped += lane.stop_actors(&which).await;
        }
        stopped
    }

    /// See `Supervisor::activate_only`; for every lane.
    pub fn activate_only(&self, owns: Ownership) {
        for lane in self.lanes.iter() {
            lane.activate_only(owns.clone());
        }
    }

    /// Stops the threads of every lane but the home (whose thread is the caller's, stopped with
    /// its System), with their actors and sweeps: for an engine that is stopping, once its lanes
    /// are flushed. A call to one of their actors after this answers that the actor stopped.
    pub fn stop_threads(&self) {
        for thread in &self.threads[1..] {
            thread.stop();
        }
    }

    /// See `Supervisor::stop_watching`; for every lane.
    pub fn stop_watching(&self) {
        self.lanes.iter().for_each(Supervisor::stop_watching);
    }

    pub fn restarts(&self) -> u64 {
        self.lanes.iter().map(Supervisor::restarts).sum()
    }

    pub fn restart_budget(&self) -> RestartBudget {
        self.home().restart_budget()
    }

    pub fn active_products(&self) -> usize {
        self.lanes.iter().map(Supervisor::active_products).sum()
    }

    pub fn active_wallets(&self) -> usize {
        self.lanes.iter().map(Supervisor::active_wallets).sum()
    }

    /// The lanes' counters, summed as they are now.
    pub fn counters(&self) -> SupervisorCounters {
        let sum = SupervisorCounters::default();
        self.lanes.iter().for_each(|lane| sum.add(lane.counters()));
        sum
    }

    /// The lanes' journals' figures, summed as they are now (see `JournalStats::add`).
    pub fn journal_stats(&self) -> JournalStats {
        let sum = JournalStats::default();
        self.lanes.iter().for_each(|lane| sum.add(lane.journal().stats()));
        sum
    }

    /// Submissions waiting in every lane's journal.
    pub fn journal_queued(&self) -> usize {
        self.lanes.iter().map(|lane| lane.journal().queued()).sum()
    }

    /// See `Supervisor::crash_product_for_test`.
    #[cfg(any(test, feature = "test-hooks"))]
    pub fn crash_product_for_test(&self, code: &ProductCode) {
        self.of_product(code).crash_product_for_test(code)
    }

    /// See `Supervisor::crash_wallet_for_test`.
    #[cfg(any(test, feature = "test-hooks"))]
    pub fn crash_wallet_for_test(&self, customer: &CustomerId) {
        self.of_customer(customer).crash_wallet_for_test(customer)
    }
}

/// One receiver for the notices of every lane.
fn merged(lanes: Vec<mpsc::UnboundedReceiver<Notice>>) -> mpsc::UnboundedReceiver<Notice> {
    let mut lanes = lanes;
    if lanes.len() == 1 {
        return lanes.pop().expect("one lane");
    }
    let (sender, merged) = mpsc::unbounded_channel();
    for mut lane in lanes {
        let sender = sender.clone();
        actix::spawn(async move {
            while let Some(notice) = lane.recv().await {
                if sender.send(notice).is_err() {
                    break;
                }
            }
        });
    }
    merged
}

/// FNV-1a, 64 bits: the same lane for an id on every run and every build (a std hasher's
/// output may change between Rust releases), and a few nanoseconds for an id's bytes.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::fnv1a;

    #[test]
    fn the_lane_hash_is_fnv1a() {
        // The reference values of the 64-bit FNV-1a.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
