//! The calls the supervisor makes for its callers: any command to a product or wallet, answered
//! with that command's own reply (see `product::ProductRequest`, `wallet::WalletRequest`), and the
//! read-only queries.

use super::{call, ProductHandle, Supervisor};
use crate::domain::{CustomerId, ProductCode};
use crate::journal::Record;
use crate::product::{ProductMsg, ProductRejection, ProductRequest, ProductSnapshot, ProductSnapshotQuery};
use crate::runtime::{Admission, CallError, Reply, ReplyWhen};
use crate::wallet::{WalletBalance, WalletBalanceQuery, WalletMsg, WalletRejection, WalletRequest};

impl<R: Record> Supervisor<R> {
    pub async fn product<C: ProductRequest>(
        &self,
        code: &ProductCode,
        command: C,
    ) -> Reply<C::Reply, ProductRejection> {
        self.product_with(code, command, Vec::new()).await
    }

    /// A product command whose changes are stored together with `attach`. Answered once durable.
    pub async fn product_with<C: ProductRequest>(
        &self,
        code: &ProductCode,
        command: C,
        attach: Vec<R>,
    ) -> Reply<C::Reply, ProductRejection> {
        let depends_on = Vec::new();
        let msg = ProductMsg { command, attach, reply: ReplyWhen::Durable, depends_on, span: tracing::Span::current() };
        self.call_product(code, None, &msg).await
    }

    /// A product command answered as soon as it is applied, before it is stored: see
    /// `ReplyWhen::Applied` for the one way this is safe.
    pub async fn product_applied<C: ProductRequest>(
        &self,
        code: &ProductCode,
        command: C,
    ) -> Reply<C::Reply, ProductRejection> {
        self.product_applied_at(code, None, command).await
    }

    /// As `product_applied`, to the actor of `known` first when the caller kept its handle.
    pub async fn product_applied_at<C: ProductRequest>(
        &self,
        code: &ProductCode,
        known: Option<ProductHandle<R>>,
        command: C,
    ) -> Reply<C::Reply, ProductRejection> {
        let msg = ProductMsg {
            command,
            attach: Vec::new(),
            reply: ReplyWhen::Applied,
            depends_on: Vec::new(),
            span: tracing::Span::current(),
        };
        self.call_product(code, known, &msg).await
    }

    pub async fn wallet<C: WalletRequest>(
        &self,
        customer: &CustomerId,
        command: C,
    ) -> Reply<C::Reply, WalletRejection> {
        self.wallet_with(customer, command, Vec::new()).await
    }

    /// A wallet command whose changes are stored together with `attach`. Answered once durable.
    pub async fn wallet_with<C: WalletRequest>(
        &self,
        customer: &CustomerId,
        command: C,
        attach: Vec<R>,
    ) -> Reply<C::Reply, WalletRejection> {
        let msg = WalletMsg { command, attach, reply: ReplyWhen::Durable, span: tracing::Span::current() };
        self.call_wallet(customer, &msg).await
    }

    pub(super) async fn call_product<C: ProductRequest>(
        &self,
        code: &ProductCode,
        first: Option<ProductHandle<R>>,
        msg: &ProductMsg<C, R>,
    ) -> Reply<C::Reply, ProductRejection> {
        let (admission, activate) = (msg.command.admission(), || self.activate_product(code));
        let held = call(&self.inner.products, code, first, activate, msg, admission, self.inner.clock).await?;
        held.durable().await
    }

    async fn call_wallet<C: WalletRequest>(
        &self,
        customer: &CustomerId,
        msg: &WalletMsg<C, R>,
    ) -> Reply<C::Reply, WalletRejection> {
        let activate = || self.activate_wallet(customer);
        call(&self.inner.wallets, customer, None, activate, msg, Admission::WhenRoom, self.inner.clock)
            .await?
            .durable()
            .await
    }

    pub async fn product_snapshot(&self, code: &ProductCode) -> Result<ProductSnapshot, CallError> {
        let activate = || self.activate_product(code);
        let query = &ProductSnapshotQuery;
        call(&self.inner.products, code, None, activate, query, Admission::WhenRoom, self.inner.clock).await
    }

    pub async fn wallet_balance(&self, customer: &CustomerId) -> Result<WalletBalance, CallError> {
        let activate = || self.activate_wallet(customer);
        call(&self.inner.wallets, customer, None, activate, &WalletBalanceQuery, Admission::WhenRoom, self.inner.clock)
            .await?
            .durable()
            .await
    }
}
