//! Actors' states as their activation reads them back from the store: the supervisor reads the
//! wallets waiting to activate together, and each must be what a read of it alone gives.

use warung_actors::domain::Money;

use crate::helpers::*;

const PRICE: u64 = 10_000;

on_both_backends!(wallets_read_together_are_each_what_one_read_alone_gives);

async fn wallets_read_together_are_each_what_one_read_alone_gives(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    let product = product_with_items(&engine, "together", PRICE, 4).await;
    fund(&engine, "togethera", 3 * PRICE).await;
    fund(&engine, "togetherb", PRICE).await;
    fund(&engine, "togetherb", PRICE / 2).await;
    fund(&engine, "togetherc", 1_000).await;
    engine.checkout.buy_with_saldo(&customer("togethera"), &product, 2).await.unwrap();
    engine.checkout.buy_with_saldo(&customer("togetherb"), &product, 1).await.unwrap();

    let asked = [customer("togetherb"), customer("nobodyyet"), customer("togethera"), customer("togetherc")];
    let together = engine.store.load_wallets(&asked).await;
    assert_eq!(together.len(), asked.len(), "one answer per wallet asked");
    let together: Vec<_> = together.into_iter().map(|record| record.expect("every wallet reads")).collect();
    for (who, record) in asked.iter().zip(&together) {
        let alone = engine.store.load_wallet(who).await.unwrap();
        assert_eq!(format!("{record:?}"), format!("{alone:?}"), "{who} read together and alone");
    }

    let after = |n: usize| -> Vec<Money> { together[n].ledger.iter().map(|entry| entry.balance_after).collect() };
    assert_eq!(together[0].balance, Money::rupiah(PRICE / 2));
    assert_eq!(after(0), [Money::rupiah(PRICE), Money::rupiah(PRICE * 3 / 2), Money::rupiah(PRICE / 2)]);
    assert_eq!(together[1].balance, Money::ZERO, "a customer never seen has an empty wallet");
    assert!(together[1].ledger.is_empty());
    assert_eq!(together[2].balance, Money::rupiah(PRICE));
    assert_eq!(after(2), [Money::rupiah(3 * PRICE), Money::rupiah(PRICE)], "oldest entry first");
    assert_eq!(after(3), [Money::rupiah(1_000)]);
    engine.finish().await;
}
