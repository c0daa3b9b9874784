//! What a stop or a change of lanes left with the shares, put right: moves cut short finished,
//! and the stock of a share no lane sells from given back to its product.

use std::time::Duration;

use warung_actors::domain::{ProductCode, Quantity, Reference};

use super::{ShareError, Shares};
use crate::cluster::Scope;

/// How long a move whose move in failed (the store away, a call timed out) is tried again while
/// the process runs; past it, the next start or acquisition finishes it.
const MOVE_FINISH_RETRY_FOR: Duration = Duration::from_secs(600);

/// The first wait before such a move is tried again, doubled after each failure up to
/// `MOVE_FINISH_WAIT_MAX`.
const MOVE_FINISH_WAIT_FIRST: Duration = Duration::from_millis(200);
const MOVE_FINISH_WAIT_MAX: Duration = Duration::from_secs(10);

impl Shares {
    /// Finishes every move found out of one product and not in the other (a stop between the
    /// two steps), then brings back to its product what a share that no longer sells holds (the
    /// process runs fewer lanes than when it was made, or none of them sells from shares); how
    /// many moves it made. Runs before the shop takes purchases, as the other recoveries do.
    pub async fn recover(&self) -> Result<usize, ShareError> {
        self.recover_in(&Scope::Everything).await
    }

    /// As `recover`, for the products in `scope` only: a cluster's node, for the shards it has
    /// just acquired (a share is in its product's shard, so its product's actor is here too).
    /// A node sells from no share, so every share there gives its stock back. A move, or an idle
    /// share's give-back, that fails is logged and left for the next start or acquisition; the
    /// others go on. A share that cannot be given its product's terms is an error: it would sell
    /// on old ones.
    pub async fn recover_in(&self, scope: &Scope) -> Result<usize, ShareError> {
        let moves = self.finish_moves(scope).await? + self.return_idle(scope).await;
        let homes: Vec<ProductCode> =
            self.inner.made.iter().map(|made| made.key().clone()).filter(|home| scope.has_product(home)).collect();
        for home in homes {
            self.sync(&home).await?;
        }
        Ok(moves)
    }

    /// Whether no lane sells from `seller`: a share, when purchases sell from no share (one
    /// lane, a cluster's node) or its lane is past the lanes this process runs.
    pub fn is_idle(&self, seller: &ProductCode) -> bool {
        let lanes = self.inner.lanes.count();
        seller.share_of().is_some_and(|(_, lane)| !self.inner.enabled || usize::from(lane) >= lanes)
    }

    /// Gives back to its product what each idle share in `scope` holds: after a start's moves,
    /// and after the orders' recovery, which may release a reservation a share held. How many
    /// moves it made; a share that fails is logged and skipped.
    pub async fn return_idle(&self, scope: &Scope) -> usize {
        let idle: Vec<ProductCode> = self
            .inner
            .made
            .iter()
            .flat_map(|made| made.value().clone())
            .filter(|share| scope.has_product(share) && self.is_idle(share))
            .collect();
        let mut moves = 0;
        for share in idle {
            match self.return_if_idle(&share).await {
                Ok(true) => moves += 1,
                Ok(false) => {}
                Err(error) => tracing::error!(%share, %error, "could not give a share's stock back to its product"),
            }
        }
        moves
    }

    /// Gives back to its product what `seller` has available, if it is an idle share (a
    /// reservation it held expired or was released, and no lane sells from it); whether it moved
    /// any.
    pub async fn return_if_idle(&self, seller: &ProductCode) -> Result<bool, ShareError> {
        if !self.is_idle(seller) {
            return Ok(false);
        }
        let available = self.inner.lanes.product_snapshot(seller).await?.available;
        if available <= 0 {
            return Ok(false);
        }
        let units = Quantity::try_from(available).unwrap_or(Quantity::MAX);
        Ok(self.shift(seller, &seller.home(), units).await? > 0)
    }

    /// Finishes, in the background, a move whose call failed: its units may be out of `from`
    /// and in no seller, where no buyer reaches them. Both commands are sent again under the
    /// move's reference (each answers its first outcome where it was applied) until the move
    /// lands, is refused, or `MOVE_FINISH_RETRY_FOR` has passed.
    pub(super) fn finish_later(&self, from: ProductCode, reference: Reference, quantity: Quantity) {
        let lanes = self.inner.lanes.clone();
        tokio::task::spawn_local(async move {
            let deadline = tokio::time::Instant::now() + MOVE_FINISH_RETRY_FOR;
            let mut wait = MOVE_FINISH_WAIT_FIRST;
            loop {
                tokio::time::sleep(wait).await;
                match lanes.finish_move(&from, reference.clone(), quantity).await {
                    Ok(Ok(moved)) => {
                        tracing::warn!(product = %from, %reference, moved, "finished a stock move whose call had failed");
                        return;
                    }
                    Ok(Err(rejection)) => {
                        tracing::error!(product = %from, %reference, %rejection, "a stock move was refused as it was finished; the audit reports it");
                        return;
                    }
                    Err(error) if tokio::time::Instant::now() >= deadline => {
                        tracing::error!(product = %from, %reference, %error, "could not finish a stock move; the next start does");
                        return;
                    }
                    Err(_) => wait = (wait * 2).min(MOVE_FINISH_WAIT_MAX),
                }
            }
        });
    }

    async fn finish_moves(&self, scope: &Scope) -> Result<usize, ShareError> {
        let mut finished = 0;
        let moves = self.inner.store.unfinished_moves().await?;
        for (from, reference, quantity) in moves.into_iter().filter(|(from, _, _)| scope.has_product(from)) {
            let units = u32::try_from(quantity).unwrap_or(u32::MAX);
            match self.inner.lanes.finish_move(&from, reference.clone(), units).await {
                Ok(Ok(_)) => finished += 1,
                Ok(Err(rejection)) => {
                    tracing::error!(product = %from, %reference, %rejection, "could not finish a stock move")
                }
                Err(error) => tracing::error!(product = %from, %reference, %error, "could not finish a stock move"),
            }
        }
        Ok(finished)
    }
}
