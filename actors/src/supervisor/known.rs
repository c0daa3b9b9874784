//! The actors a flow found active, kept for its later steps: a saldo purchase reads its product's
//! and its wallet's gauges before it reserves, then reserves, then debits and commits; with the
//! handles it found first, its later calls skip the registry (a hash of the id, a map's lock and
//! a compare of the id's bytes, each on lines a sale of another customer or product has not
//! warmed). A kept handle is only where a call starts: one whose actor has been stopped since is
//! not used (`Handle::if_running`), and one whose actor stops under the send answers "closed";
//! either way the call looks the actor up as it always does.

use super::{Handle, Supervisor};
use crate::domain::{CustomerId, ProductCode};
use crate::journal::Record;
use crate::product::{ProductActor, ProductGauges};
use crate::wallet::{WalletActor, WalletGauges};

pub type ProductHandle<R> = Handle<ProductActor<R>, ProductGauges>;
pub type WalletHandle<R> = Handle<WalletActor<R>, WalletGauges>;

/// A product's and a wallet's handles, where they were active when the flow began.
pub struct Known<R: Record> {
    pub product: Option<ProductHandle<R>>,
    pub wallet: Option<WalletHandle<R>>,
}

impl<R: Record> Known<R> {
    /// Nothing known: every call looks its actor up.
    pub fn nothing() -> Known<R> {
        Known { product: None, wallet: None }
    }

    pub fn product_gauges(&self) -> Option<&ProductGauges> {
        self.product.as_ref().map(|handle| &*handle.gauges)
    }

    pub fn wallet_gauges(&self) -> Option<&WalletGauges> {
        self.wallet.as_ref().map(|handle| &*handle.gauges)
    }
}

impl<R: Record> Supervisor<R> {
    /// The handles of `product`'s and `customer`'s actors, those that are active.
    pub fn known(&self, customer: &CustomerId, product: &ProductCode) -> Known<R> {
        Known { product: self.inner.products.active(product), wallet: self.inner.wallets.active(customer) }
    }
}
