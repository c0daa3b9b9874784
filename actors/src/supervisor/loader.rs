//! What the supervisor needs of a store: load an actor's state when it activates, and commit
//! its journal's batches.

use futures::future::BoxFuture;

use crate::domain::{CustomerId, ProductCode};
use crate::journal::Sink;
use crate::product::ProductRecord;
use crate::wallet::WalletRecord;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LoadError(pub String);

/// The store, as the supervisor sees it when it activates an actor.
pub trait Loader: Send + Sync + 'static {
    fn load_product<'a>(&'a self, code: &'a ProductCode) -> BoxFuture<'a, Result<Option<ProductRecord>, LoadError>>;
    /// A customer never seen before has an empty wallet.
    fn load_wallet<'a>(&'a self, customer: &'a CustomerId) -> BoxFuture<'a, Result<WalletRecord, LoadError>>;
    /// Several wallets, one answer per customer in the order asked (at most
    /// `WALLET_LOADS_PER_READ_MAX`). A store that can read them together (one statement) should:
    /// the supervisor reads the wallets waiting for activation this way. By default, one by one.
    fn load_wallets<'a>(&'a self, customers: &'a [CustomerId]) -> BoxFuture<'a, Vec<Result<WalletRecord, LoadError>>> {
        Box::pin(async move {
            let mut records = Vec::with_capacity(customers.len());
            for customer in customers {
                records.push(self.load_wallet(customer).await);
            }
            records
        })
    }
}

/// What the engine needs of a store: commit batches (whose records are `R`s), load actors.
pub trait Persistence<R>: Sink<R> + Loader {}
impl<R, T: Sink<R> + Loader> Persistence<R> for T {}
