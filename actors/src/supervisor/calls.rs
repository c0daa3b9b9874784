//! The calls the supervisor makes for its callers: any command to a product or wallet, answered
//! with that command's own reply (see `product::ProductRequest`, `wallet::WalletRequest`), and the
//! read-only queries.

use super::{call, Supervisor};
use crate::domain::{CustomerId, ProductCode};
use crate::journal::{ActorKey, Incarnation, Origin, Record};
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

    /// A product command whose changes are stored together with `attach`.
    pub async fn product_with<C: ProductRequest>(
        &self,
        code: &ProductCode,
        command: C,
        attach: Vec<R>,
    ) -> Reply<C::Reply, ProductRejection> {
        self.product_after(code, command, attach, Vec::new()).await
    }

    /// A product command whose changes are stored together with `attach`, and only if the
    /// changes of `depends_on` were stored (see `Origin`). Answered once durable.
    pub async fn product_after<C: ProductRequest>(
        &self,
        code: &ProductCode,
        command: C,
        attach: Vec<R>,
        depends_on: Vec<Origin>,
    ) -> Reply<C::Reply, ProductRejection> {
        let msg = ProductMsg { command, attach, reply: ReplyWhen::Durable, depends_on, span: tracing::Span::current() };
        Ok(self.call_product(code, &msg).await?.0)
    }

    /// A product command answered as soon as it is applied, before it is stored: see
    /// `ReplyWhen::Applied` for the one way this is safe.
    pub async fn product_applied<C: ProductRequest>(
        &self,
        code: &ProductCode,
        command: C,
    ) -> Reply<C::Reply, ProductRejection> {
        let msg = ProductMsg {
            command,
            attach: Vec::new(),
            reply: ReplyWhen::Applied,
            depends_on: Vec::new(),
            span: tracing::Span::current(),
        };
        Ok(self.call_product(code, &msg).await?.0)
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
        self.call_wallet(customer, &msg).await?.0
    }

    /// A wallet command answered as soon as it is applied, with the incarnation that applied it:
    /// a later change that needs this one must name it in `product_after`'s `depends_on`.
    pub async fn wallet_applied<C: WalletRequest>(
        &self,
        customer: &CustomerId,
        command: C,
        attach: Vec<R>,
    ) -> Result<(Result<C::Reply, WalletRejection>, Origin), CallError> {
        let msg = WalletMsg { command, attach, reply: ReplyWhen::Applied, span: tracing::Span::current() };
        let (reply, incarnation) = self.call_wallet(customer, &msg).await?;
        Ok((reply?, (ActorKey::Wallet(customer.clone()), incarnation)))
    }

    async fn call_product<C: ProductRequest>(
        &self,
        code: &ProductCode,
        msg: &ProductMsg<C, R>,
    ) -> Result<(Result<C::Reply, ProductRejection>, Incarnation), CallError> {
        let admission = msg.command.admission();
        let (held, incarnation) =
            call(&self.inner.products, code, || self.activate_product(code), msg, admission, self.inner.clock).await?;
        Ok((held.durable().await?, incarnation))
    }

    async fn call_wallet<C: WalletRequest>(
        &self,
        customer: &CustomerId,
        msg: &WalletMsg<C, R>,
    ) -> Result<(Reply<C::Reply, WalletRejection>, Incarnation), CallError> {
        let activate = || self.activate_wallet(customer);
        let (held, incarnation) =
            call(&self.inner.wallets, customer, activate, msg, Admission::WhenRoom, self.inner.clock).await?;
        Ok((held.durable().await, incarnation))
    }

    pub async fn product_snapshot(&self, code: &ProductCode) -> Result<ProductSnapshot, CallError> {
        let activate = || self.activate_product(code);
        Ok(call(&self.inner.products, code, activate, &ProductSnapshotQuery, Admission::WhenRoom, self.inner.clock)
            .await?
            .0)
    }

    pub async fn wallet_balance(&self, customer: &CustomerId) -> Result<WalletBalance, CallError> {
        let activate = || self.activate_wallet(customer);
        call(&self.inner.wallets, customer, activate, &WalletBalanceQuery, Admission::WhenRoom, self.inner.clock)
            .await?
            .0
            .durable()
            .await
    }
}
