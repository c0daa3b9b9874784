//! Products as the shop owner changes them: created with a name and a price the shop accepts,
//! renamed, taken off sale and back. Each change goes through the product's actor with its audit
//! row stored in the same commit; stock comes through the catalogue (`Catalog::restock`).

use warung_actors::domain::{Clock, Money, ProductCode};
use warung_actors::journal::StockKind;
use warung_actors::product::{ProductCommand, ProductSnapshot, PRODUCT_NAME_CHARS_MAX};
use warung_actors::runtime::CallError;

use super::{Admin, PriceError, Prices};
use crate::catalog::Catalog;
use crate::checkout::{AuditRow, CheckoutError, ShopRecord};
use crate::cluster::Actors;
use crate::shares::Shares;

/// What the product rules read and act through.
#[derive(Clone)]
pub struct Products {
    /// The product and wallet actors, here or on the nodes that own them.
    pub actors: Actors,
    /// A change of name or sale goes to the product's shares too.
    pub shares: Shares,
    pub catalog: Catalog,
    /// A new product's price obeys the same minimum as a price change.
    pub prices: Prices,
    pub clock: Clock,
}

/// A new product as it is asked for.
pub struct NewProduct<'a> {
    pub code: &'a ProductCode,
    pub name: &'a str,
    pub price: Money,
    pub kind: StockKind,
}

/// A change of a product's name or sale state, with the reason the audit keeps.
pub struct ProductEdit<'a> {
    pub name: Option<&'a str>,
    pub active: Option<bool>,
    pub reason: &'a str,
}

/// Why a product was not created or changed, in the order the rules are checked.
#[derive(Debug, thiserror::Error)]
pub enum ProductError {
    #[error("a product needs a name of 1 to {limit} characters")]
    NameMustBeShort { limit: usize },
    #[error("give a name, active, or both")]
    NothingToChange,
    #[error("{code} exists")]
    Exists { code: ProductCode },
    #[error(transparent)]
    Price(#[from] PriceError),
    #[error("{0}")]
    NotStored(String),
    #[error(transparent)]
    Call(#[from] CallError),
    #[error(transparent)]
    Checkout(#[from] CheckoutError),
}

impl Products {
    pub async fn create(&self, new: NewProduct<'_>) -> Result<(), ProductError> {
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > PRODUCT_NAME_CHARS_MAX {
            return Err(ProductError::NameMustBeShort { limit: PRODUCT_NAME_CHARS_MAX });
        }
        self.prices.check_minimum(new.price)?;
        match self.actors.product_snapshot(new.code).await {
            Ok(_) => return Err(ProductError::Exists { code: new.code.clone() }),
            Err(CallError::NotFound) => {}
            Err(error) => return Err(error.into()),
        }
        let created = self
            .catalog
            .create(new.code, name, new.price, new.kind)
            .await
            .map_err(|e| ProductError::NotStored(e.to_string()))?;
        if !created {
            return Err(ProductError::Exists { code: new.code.clone() });
        }
        Ok(())
    }

    /// Renames and/or takes the product off sale (or back on); answers the product as it is now.
    pub async fn edit(
        &self,
        code: &ProductCode,
        edit: ProductEdit<'_>,
        admin: &Admin,
    ) -> Result<ProductSnapshot, ProductError> {
        if edit.name.is_none() && edit.active.is_none() {
            return Err(ProductError::NothingToChange);
        }
        let before = self.actors.product_snapshot(code).await?;
        let now = self.clock.now();
        let audit = |action: &str, before: String, after: String| {
            ShopRecord::Audit(AuditRow {
                admin: admin.0.clone(),
                action: action.into(),
                subject: code.to_string(),
                before,
                after,
                reason: edit.reason.trim().to_string(),
                at: now,
            })
        };
        if let Some(name) = edit.name {
            let command = ProductCommand::Rename { name: name.to_string(), actor: admin.actor() };
            let attach = vec![audit("rename", before.name.clone(), name.trim().to_string())];
            self.actors.product_with(code, command, attach).await?.map_err(CheckoutError::Product)?;
            self.shares.sync(code).await.map_err(CheckoutError::from)?;
        }
        if let Some(active) = edit.active {
            let command = ProductCommand::SetActive { active, actor: admin.actor() };
            let attach = vec![audit("set_active", before.active.to_string(), active.to_string())];
            self.actors.product_with(code, command, attach).await?.map_err(CheckoutError::Product)?;
            self.shares.sync(code).await.map_err(CheckoutError::from)?;
        }
        Ok(self.catalog.snapshot(code).await?)
    }
}
