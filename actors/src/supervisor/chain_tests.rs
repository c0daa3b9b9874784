//! A debit and its commit handed from the wallet's actor to the product's: answered together,
//! never a commit without its debit, and a step an actor left unread when it stopped sent again
//! rather than lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};

use super::chain::{send_on, Chain, ProductStep, Step};
use super::tests::{record, settings};
use super::*;
use crate::domain::{Clock, Money, OrderId, Reference};
use crate::journal::{Earlier, Entries, SinkError};
use crate::product::{Commit, Committed, PriceTier, ProductMsg, ProductRecord, ProductRejection, Reserve, StoreWhen};
use crate::runtime::ReplyWhen;
use crate::wallet::{Debit, Debited, WalletBalance, WalletRecord, WalletRejection};

const PRICE_RUPIAH: u64 = 15_000;

/// One product of two items at `PRICE_RUPIAH`, every wallet holding `balance`; commits fail while
/// `down` is set.
struct ShopStore {
    product: ProductRecord,
    balance: Money,
    down: AtomicBool,
}

impl ShopStore {
    fn with_balance(rupiah: u64) -> Arc<ShopStore> {
        let product = record(Clock::system().now(), 2, vec![]);
        Arc::new(ShopStore { product, balance: Money::rupiah(rupiah), down: AtomicBool::new(false) })
    }
}

impl Sink<()> for ShopStore {
    fn commit<'a>(&'a self, _: &'a Entries<()>, earlier: Earlier) -> BoxFuture<'a, Result<(), SinkError>> {
        async move {
            crate::journal::after(earlier).await?;
            match self.down.load(Ordering::SeqCst) {
                true => Err(SinkError::Unavailable("the test's store is down".into())),
                false => Ok(()),
            }
        }
        .boxed()
    }
}

impl Loader for ShopStore {
    fn load_product<'a>(&'a self, _: &'a ProductCode) -> BoxFuture<'a, Result<Option<ProductRecord>, LoadError>> {
        futures::future::ready(Ok(Some(self.product.clone()))).boxed()
    }
    fn load_wallet<'a>(&'a self, _: &'a CustomerId) -> BoxFuture<'a, Result<WalletRecord, LoadError>> {
        futures::future::ready(Ok(WalletRecord { balance: self.balance, ledger: vec![] })).boxed()
    }
}

struct Sale {
    supervisor: Supervisor<()>,
    customer: CustomerId,
    code: ProductCode,
    order: OrderId,
}

impl Sale {
    /// A supervisor over `store` with one unit reserved (in memory, as a saldo purchase does).
    async fn reserved(store: Arc<ShopStore>) -> Sale {
        let (supervisor, _notices) = Supervisor::start(store, Clock::system(), settings());
        let code = ProductCode::parse("viu1b").unwrap();
        let order = OrderId::generate();
        let reserve = Reserve {
            order: order.clone(),
            quantity: 1,
            ttl_ms: 60_000,
            store: StoreWhen::Committed,
            tier: PriceTier::Member,
            actor: "test".into(),
        };
        supervisor.product(&code, reserve).await.expect("answered").expect("reserved");
        Sale { supervisor, customer: CustomerId::parse("budi").unwrap(), code, order }
    }

    async fn debit_then_commit(&self) -> Result<Chained<Debited, Committed>, CallError> {
        self.debit_then_commit_knowing(Known::nothing()).await
    }

    async fn debit_then_commit_knowing(&self, known: Known<()>) -> Result<Chained<Debited, Committed>, CallError> {
        let debit = Debit {
            reference: Reference::parse(&format!("debit-{}", self.order)).unwrap(),
            amount: Money::rupiah(PRICE_RUPIAH),
            reason: "purchase".into(),
            actor: "test".into(),
        };
        let commit = Commit { order: self.order.clone(), actor: "test".into() };
        self.supervisor.wallet_then_product(&self.customer, debit, vec![], &self.code, commit, vec![], known).await
    }
}

#[actix_rt::test]
async fn a_debit_and_its_commit_are_answered_together_once_stored() {
    let sale = Sale::reserved(ShopStore::with_balance(20_000)).await;

    let chained = sale.debit_then_commit().await.expect("the debit was applied");

    let Chained::Both(debited, Ok(Ok(committed))) = chained else { panic!("not both done: {chained:?}") };
    assert_eq!(debited.balance.available, Money::rupiah(5_000));
    assert_eq!((committed.quantity, committed.items.len()), (1, 1));
    let after = sale.supervisor.product_snapshot(&sale.code).await.unwrap();
    assert_eq!((after.sold, after.reserved), (1, 0));
    assert_eq!(sale.supervisor.wallet_balance(&sale.customer).await.unwrap().available, Money::rupiah(5_000));
}

#[actix_rt::test]
async fn a_refused_debit_never_sends_its_commit() {
    let sale = Sale::reserved(ShopStore::with_balance(10_000)).await;

    let chained = sale.debit_then_commit().await.expect("the wallet answered");

    assert!(matches!(chained, Chained::WalletRefused(WalletRejection::InsufficientBalance { .. })), "{chained:?}");
    let after = sale.supervisor.product_snapshot(&sale.code).await.unwrap();
    assert_eq!((after.sold, after.reserved), (0, 1), "the reservation waits for the caller to release it");
}

#[actix_rt::test]
async fn a_commit_is_never_answered_as_done_when_the_store_did_not_take_it() {
    let store = ShopStore::with_balance(20_000);
    let sale = Sale::reserved(store.clone()).await;
    store.down.store(true, Ordering::SeqCst);

    let chained = sale.debit_then_commit().await;

    assert!(matches!(chained, Ok(Chained::Both(_, Err(CallError::NotStored { .. })))), "{chained:?}");
}

#[actix_rt::test]
async fn a_wallet_that_stops_with_the_chain_unread_is_sent_it_again() {
    let sale = Sale::reserved(ShopStore::with_balance(20_000)).await;
    sale.supervisor.wallet_balance(&sale.customer).await.expect("the wallet is active");
    sale.supervisor.crash_wallet_for_test(&sale.customer);

    let chained = sale.debit_then_commit().await;

    assert!(matches!(chained, Ok(Chained::Both(_, Ok(Ok(_))))), "bought from the reloaded wallet: {chained:?}");
    assert_eq!(sale.supervisor.restarts(), 1);
}

#[actix_rt::test]
async fn a_commit_a_crashed_product_actor_never_read_is_sent_to_its_reloaded_actor() {
    let sale = Sale::reserved(ShopStore::with_balance(20_000)).await;
    sale.supervisor.crash_product_for_test(&sale.code);

    let chained = sale.debit_then_commit().await;

    // The reservation lived in the crashed actor's memory: the reloaded one does not know it, and
    // says so, so the caller refunds the debit.
    let refused = matches!(chained, Ok(Chained::Both(_, Ok(Err(ProductRejection::ReservationNotFound)))));
    assert!(refused, "{chained:?}");
}

#[actix_rt::test]
async fn a_product_actor_stopped_under_the_chain_is_given_the_commit_back_with_the_debit_applied() {
    let sale = Sale::reserved(ShopStore::with_balance(20_000)).await;
    let registry = &sale.supervisor.inner.products;
    let handle = registry.get(&sale.code, Clock::system(), &|| sale.supervisor.activate_product(&sale.code)).await;
    let handle = handle.expect("active");
    sale.supervisor.stop_actors(|key| matches!(key, crate::journal::ActorKey::Product(_))).await;
    while handle.addr.connected() {
        tokio::task::yield_now().await;
    }

    let (answer, answered) = tokio::sync::oneshot::channel::<Step<Debit, Commit, ()>>();
    let then = ProductMsg {
        command: Commit { order: sale.order.clone(), actor: "test".into() },
        attach: Vec::new(),
        reply: ReplyWhen::Durable,
        depends_on: Vec::new(),
        span: tracing::Span::none(),
    };
    let wallet_reply = Debited { amount: Money::rupiah(PRICE_RUPIAH), balance: WalletBalance::default() };
    send_on(&handle, Chain::new(ProductStep { then, wallet_reply }, answer));

    let step = answered.await.expect("answered, not dropped");
    assert!(matches!(step, Step::ProductUnread(Debited { .. }, _)), "given back, to send again");
    assert_eq!(handle.stats.depth(), 0, "nothing is left counted in a mailbox that is gone");
}

#[actix_rt::test]
async fn a_chain_given_a_stopped_wallets_handle_reaches_the_reloaded_wallet() {
    let sale = Sale::reserved(ShopStore::with_balance(20_000)).await;
    sale.supervisor.wallet_balance(&sale.customer).await.expect("the wallet is active");
    let known = sale.supervisor.known(&sale.customer, &sale.code);
    let stale = known.wallet.clone().expect("the wallet's handle");
    assert!(known.product.is_some(), "the product's handle");
    sale.supervisor.stop_actors(|key| matches!(key, crate::journal::ActorKey::Wallet(_))).await;
    while stale.addr.connected() {
        tokio::task::yield_now().await;
    }

    let chained = sale.debit_then_commit_knowing(known).await;

    assert!(matches!(chained, Ok(Chained::Both(_, Ok(Ok(_))))), "bought from the reloaded wallet: {chained:?}");
    assert_eq!(sale.supervisor.wallet_balance(&sale.customer).await.unwrap().available, Money::rupiah(5_000));
}

#[actix_rt::test]
async fn a_reservation_sent_to_a_stopped_products_handle_reaches_the_reloaded_product() {
    let (supervisor, _notices) = Supervisor::start(ShopStore::with_balance(20_000), Clock::system(), settings());
    let (code, customer) = (ProductCode::parse("viu1b").unwrap(), CustomerId::parse("budi").unwrap());
    supervisor.product_snapshot(&code).await.expect("the product is active");
    let known = supervisor.known(&customer, &code);
    let stale = known.product.clone().expect("the product's handle");
    supervisor.stop_actors(|key| matches!(key, crate::journal::ActorKey::Product(_))).await;
    while stale.addr.connected() {
        tokio::task::yield_now().await;
    }

    let reserve = Reserve {
        order: OrderId::generate(),
        quantity: 1,
        ttl_ms: 60_000,
        store: StoreWhen::Committed,
        tier: PriceTier::Member,
        actor: "test".into(),
    };
    let reserved = supervisor.product_applied_at(&code, known.product, reserve).await;

    assert!(matches!(reserved, Ok(Ok(_))), "reserved on the reloaded product: {reserved:?}");
    assert_eq!(supervisor.counters().activated.load(Ordering::Relaxed), 2, "activated again");
}
