//! Wallet activations read together: the wallets waiting for a load permit are read by the next
//! permit's holder in one call of the store (`Loader::load_wallets`, one statement on the SQL
//! stores). A flash sale's buyers are mostly customers whose wallets have passivated, so each sale
//! activates a wallet; one round trip per wallet made such a sale several times slower than one
//! whose wallets were active.
//!
//! Every waiter queues itself, then starts a task that takes a permit and reads whatever is
//! queued by then (its own wallet, or others' if someone already took its own). Each queued
//! wallet has such a task behind it, so none is left waiting. The reads run in those tasks, not
//! in the callers: a caller that gives up does not cancel a read others wait for.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::oneshot;

use super::{LoadError, Supervisor};
use crate::domain::CustomerId;
use crate::journal::Record;
use crate::runtime::CallError;
use crate::wallet::WalletRecord;

/// Wallets read in one call of the store. Past this, the rest wait for the next permit: a
/// statement of this many keys stays short, so the connections it holds come back quickly.
pub const WALLET_LOADS_PER_READ_MAX: usize = 64;

type Answer = oneshot::Sender<Result<WalletRecord, CallError>>;

/// The wallets waiting to be read, oldest first.
#[derive(Default)]
pub(super) struct WalletLoads {
    waiting: Mutex<VecDeque<(CustomerId, Answer)>>,
}

impl WalletLoads {
    fn queue(&self, customer: CustomerId) -> oneshot::Receiver<Result<WalletRecord, CallError>> {
        let (answer, answered) = oneshot::channel();
        self.waiting.lock().expect("wallet loads lock").push_back((customer, answer));
        answered
    }

    fn take(&self) -> Vec<(CustomerId, Answer)> {
        let mut waiting = self.waiting.lock().expect("wallet loads lock");
        let taken = waiting.len().min(WALLET_LOADS_PER_READ_MAX);
        waiting.drain(..taken).collect()
    }
}

impl<R: Record> Supervisor<R> {
    /// A wallet's state from the store, read with whichever other wallets wait at the same time,
    /// among at most `ACTIVATION_LOADS_AT_ONCE_MAX` reads at once.
    pub(super) async fn load_wallet(&self, customer: &CustomerId) -> Result<WalletRecord, CallError> {
        let answered = self.inner.wallet_loads.queue(customer.clone());
        let supervisor = self.clone();
        tokio::spawn(async move { supervisor.read_waiting_wallets().await });
        answered.await.unwrap_or_else(|_| {
            Err(CallError::StoreUnavailable { reason: "the wallet's read stopped before it answered".into() })
        })
    }

    async fn read_waiting_wallets(&self) {
        let inner = &self.inner;
        let _permit = inner.loads.acquire().await.expect("the load permits are never closed");
        let waiting = inner.wallet_loads.take();
        if waiting.is_empty() {
            return;
        }
        let customers: Vec<CustomerId> = waiting.iter().map(|(customer, _)| customer.clone()).collect();
        let records = inner.loader.load_wallets(&customers).await;
        assert_eq!(records.len(), customers.len(), "a wallet read answers for every wallet asked");
        for ((_, answer), record) in waiting.into_iter().zip(records) {
            let record = record.map_err(|LoadError(reason)| CallError::StoreUnavailable { reason });
            // A caller that gave up has dropped its receiver: nothing to tell it.
            let _ = answer.send(record);
        }
    }
}
