//! A debit and its commit handed from the wallet's actor to the product's: answered together,
//! never a commit without its debit, and an actor that stopped under the chain reported to the
//! caller (who settles) rather than lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};

use super::chain::{send_on, ProductAnswering, Step};
use super::tests::{record, settings};
use super::*;
use crate::domain::{Clock, Money, OrderId, Reference};
use crate::journal::{Earlier, Entries, SinkError};
use crate::product::{
    Commit, Committed, PriceTier, ProductMsg, ProductRecord, ProductRejection, Reserve, Reserved, StoreWhen,
};
use crate::runtime::ReplyWhen;
use crate::wallet::{Debit, Debited, WalletRecord, WalletRejection};

const PRICE_RUPIAH: u64 = 15_000;

/// One product of a few items at `PRICE_RUPIAH`, every wallet holding `balance`; commits fail while
/// `down` is set.
struct ShopStore {
    product: ProductRecord,
    balance: Money,
    down: AtomicBool,
}

impl ShopStore {
    fn with_balance(rupiah: u64) -> Arc<ShopStore> {
        ShopStore::new(2, rupiah)
    }

    fn new(items: usize, rupiah: u64) -> Arc<ShopStore> {
        let product = record(Clock::system().now(), items, vec![]);
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
    /// A supervisor over `store`, nothing reserved yet.
    fn start(store: Arc<ShopStore>) -> Sale {
        let (supervisor, _notices) = Supervisor::start(store, Clock::system(), settings());
        let code = ProductCode::parse("viu1b").unwrap();
        Sale { supervisor, customer: CustomerId::parse("budi").unwrap(), code, order: OrderId::generate() }
    }

    /// A supervisor over `store` with one unit reserved (in memory, as a saldo purchase does).
    async fn reserved(store: Arc<ShopStore>) -> Sale {
        let sale = Sale::start(store);
        sale.supervisor.product(&sale.code, sale.reserve()).await.expect("answered").expect("reserved");
        sale
    }

    fn reserve(&self) -> Reserve {
        Reserve {
            order: self.order.clone(),
            quantity: 1,
            ttl_ms: 60_000,
            store: StoreWhen::Committed,
            tier: PriceTier::Member,
            actor: "test".into(),
        }
    }

    fn debit(&self, amount: Money) -> Debit {
        let reference = Reference::parse(&format!("debit-{}", self.order)).unwrap();
        Debit { reference, amount, reason: "purchase".into(), actor: "test".into() }
    }

    fn commit(&self) -> Commit {
        Commit { order: self.order.clone(), actor: "test".into() }
    }

    async fn debit_then_commit(&self) -> Result<Chained<Debited, Committed>, CallError> {
        let debit = self.debit(Money::rupiah(PRICE_RUPIAH));
        self.supervisor.wallet_then_product(&self.customer, debit, vec![], &self.code, self.commit(), vec![]).await
    }

    /// The whole purchase, actor to actor; `next` makes the debit of the reservation's total.
    async fn reserve_debit_commit(
        &self,
        next_says: Result<(), &'static str>,
    ) -> Result<Begun<Reserved, &'static str, Debited, Committed>, CallError> {
        let (debit, commit) = (self.debit(Money::ZERO), self.commit());
        let next = Box::new(move |reserved: &Reserved| {
            next_says?;
            let debit = Debit { amount: reserved.total, ..debit };
            Ok(Then { wallet: debit, attach: vec![], then: commit, then_attach: vec![] })
        });
        self.supervisor.product_then_wallet_then_product(&self.code, self.reserve(), &self.customer, next).await
    }

    async fn sold_and_reserved(&self) -> (i64, i64) {
        let after = self.supervisor.product_snapshot(&self.code).await.unwrap();
        (after.sold, after.reserved)
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
async fn a_product_actor_stopped_under_the_chain_is_reported_with_the_debit_applied() {
    let sale = Sale::reserved(ShopStore::with_balance(20_000)).await;
    let registry = &sale.supervisor.inner.products;
    let handle = registry.get(&sale.code, Clock::system(), &|| sale.supervisor.activate_product(&sale.code)).await;
    let handle = handle.expect("active");
    sale.supervisor.stop_actors(|key| matches!(key, crate::journal::ActorKey::Product(_))).await;
    while handle.addr.connected() {
        tokio::task::yield_now().await;
    }

    let (answer, answered) = tokio::sync::oneshot::channel();
    let then = ProductMsg {
        command: Commit { order: sale.order.clone(), actor: "test".into() },
        attach: Vec::new(),
        reply: ReplyWhen::Durable,
        depends_on: Vec::new(),
        span: tracing::Span::none(),
    };
    send_on(&handle, ProductAnswering { then, wallet_reply: "debited", answer });

    let step = answered.await.expect("answered, not dropped");
    assert!(matches!(step, Step::ProductNotReached("debited", CallError::Stopped)), "the caller settles the debit");
    assert_eq!(handle.stats.depth(), 0, "nothing is left counted in a mailbox that is gone");
}

#[actix_rt::test]
async fn a_reservation_its_debit_and_its_commit_go_actor_to_actor() {
    let sale = Sale::start(ShopStore::with_balance(20_000));

    let begun = sale.reserve_debit_commit(Ok(())).await.expect("reserved");

    let Begun::Went(reserved, Chained::Both(debited, Ok(Ok(committed)))) = begun else { panic!("{begun:?}") };
    assert_eq!(reserved.total, Money::rupiah(PRICE_RUPIAH));
    assert_eq!(debited.balance.available, Money::rupiah(5_000));
    assert_eq!(committed.items.len(), 1);
    assert_eq!(sale.sold_and_reserved().await, (1, 0));
}

#[actix_rt::test]
async fn a_refused_reservation_sends_nothing_on() {
    let sale = Sale::start(ShopStore::new(0, 20_000));

    let begun = sale.reserve_debit_commit(Ok(())).await.expect("answered");

    assert!(matches!(begun, Begun::Refused(ProductRejection::ExceedsAvailable { .. })), "{begun:?}");
    assert_eq!(sale.supervisor.wallet_balance(&sale.customer).await.unwrap().available, Money::rupiah(20_000));
}

#[actix_rt::test]
async fn a_reservation_next_makes_nothing_of_is_left_to_the_caller() {
    let sale = Sale::start(ShopStore::with_balance(20_000));

    let begun = sale.reserve_debit_commit(Err("the order could not be made")).await.expect("reserved");

    assert!(matches!(begun, Begun::NotContinued(_, "the order could not be made")), "{begun:?}");
    assert_eq!(sale.sold_and_reserved().await, (0, 1), "held until the caller releases it");
    assert_eq!(sale.supervisor.wallet_balance(&sale.customer).await.unwrap().available, Money::rupiah(20_000));
}

#[actix_rt::test]
async fn a_debit_refused_after_its_reservation_sends_no_commit() {
    let sale = Sale::start(ShopStore::with_balance(10_000));

    let begun = sale.reserve_debit_commit(Ok(())).await.expect("reserved");

    assert!(matches!(begun, Begun::Went(_, Chained::WalletRefused(_))), "{begun:?}");
    assert_eq!(sale.sold_and_reserved().await, (0, 1));
}
