//! A product's shares: products of their own (`ProductCode::share`) that each sell part of a
//! product's stock in one lane of the engine, so a purchase in that lane never leaves it. Hidden
//! from owners and buyers (the catalogue lists no share). Stock moves between a product and its
//! shares by `Lanes::move_stock`; this module makes a share's row and finishes the moves a stop
//! cut short.

use std::sync::Arc;

use warung_actors::domain::{Money, ProductCode, Quantity, Reference};
use warung_actors::journal::ProductRow;
use warung_actors::product::{PriceTier, ProductRejection, SetPrice};
use warung_actors::runtime::CallError;

use crate::records::Lanes;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("the product refused: {0}")]
    Refused(#[from] ProductRejection),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Cheap to clone.
#[derive(Clone)]
pub struct Shares {
    store: Arc<dyn Store>,
    lanes: Lanes,
}

impl Shares {
    pub fn new(store: Arc<dyn Store>, lanes: Lanes) -> Shares {
        Shares { store, lanes }
    }

    /// The share of `home` in `lane`; its row is made from the home as it is now (name, prices,
    /// kind, on sale) if it has none yet, with no stock.
    pub async fn ensure(&self, home: &ProductCode, lane: u16) -> Result<ProductCode, ShareError> {
        let share = home.share(lane);
        match self.lanes.product_snapshot(&share).await {
            Ok(_) => return Ok(share),
            Err(CallError::NotFound) => {}
            Err(error) => return Err(error.into()),
        }
        let of_home = self.lanes.product_snapshot(home).await?;
        let row = ProductRow {
            code: share.clone(),
            name: of_home.name,
            price: of_home.price,
            reseller_price: None,
            kind: of_home.kind,
            active: of_home.active,
            received: 0,
            available: 0,
            reserved: 0,
            sold: 0,
            removed: 0,
            next_item_no: 1,
            updated_at: self.lanes.clock().now(),
        };
        // A second `ensure` of the same share (a race, a retry) changes nothing.
        self.store.create_product(&row).await?;
        if let Some(price) = of_home.reseller_price {
            self.set_reseller_price(&share, price).await?;
        }
        Ok(share)
    }

    async fn set_reseller_price(&self, share: &ProductCode, price: Money) -> Result<(), ShareError> {
        let reference =
            Reference::parse(&format!("share-made:reseller:{}", price.amount())).expect("a short reference");
        let command = SetPrice { reference, tier: PriceTier::Reseller, price, actor: "shares".into() };
        self.lanes.product(share, command).await??;
        Ok(())
    }

    /// Moves up to `quantity` units from `from` to `to` (a product and its share, either way);
    /// what moved.
    pub async fn shift(
        &self,
        from: &ProductCode,
        to: &ProductCode,
        quantity: Quantity,
    ) -> Result<Quantity, ShareError> {
        Ok(self.lanes.move_stock(from, to, quantity).await??)
    }

    /// Finishes every move found out of one product and not in the other (a stop between the
    /// two steps); how many. Runs before the shop takes purchases, as the other recoveries do.
    pub async fn recover(&self) -> Result<usize, ShareError> {
        let mut finished = 0;
        for (from, reference, quantity) in self.store.unfinished_moves().await? {
            let units = u32::try_from(quantity).unwrap_or(u32::MAX);
            match self.lanes.finish_move(&from, reference.clone(), units).await? {
                Ok(_) => finished += 1,
                Err(rejection) => {
                    tracing::error!(product = %from, %reference, %rejection, "could not finish a stock move")
                }
            }
        }
        Ok(finished)
    }
}
