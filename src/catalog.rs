//! `warung catalog import FILE`: products (code, name, price, stock) from a JSON or TOML file,
//! for shops moving from another system. Products are created if new; prices updated; items
//! added through the product actors (duplicates refused). Importing the same file twice changes
//! nothing: each product's restock reference is derived from its items.

use std::path::Path;

use anyhow::{bail, Context};
use serde::Deserialize;
use warung_actors::domain::Quantity;
use warung_actors::domain::{ItemSecret, Money, ProductCode, Reference};
use warung_actors::journal::{ProductRow, StockKind};
use warung_actors::product::{
    AddStock, PriceTier, ProductRejection, ProductSnapshot, Restock, Restocked, SetPrice, RESTOCK_UNITS_MAX,
};
use warung_actors::runtime::CallError;

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

use crate::cluster::Actors;
use crate::shares::Shares;
use crate::store::{Store, StoreError};

/// What products exist, and the only way to add one or its stock: created in the store, stocked
/// through its actor. The codes are kept in memory so a chat listing asks the actors, not the
/// database.
#[derive(Clone)]
pub struct Catalog {
    store: Arc<dyn Store>,
    actors: Actors,
    /// A price the import changes goes to the product's shares too.
    shares: Shares,
    codes: Arc<RwLock<BTreeSet<ProductCode>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    pub products: Vec<CatalogProduct>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogProduct {
    pub code: String,
    pub name: String,
    /// Rupiah, as a number or a string ("15000").
    pub price: Money,
    /// Deliverable items (logins, voucher codes), one per unit.
    #[serde(default)]
    pub items: Vec<String>,
    /// For plain counted stock instead of items.
    #[serde(default)]
    pub count: Option<u32>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub repriced: usize,
    pub units_added: u64,
    pub unchanged: usize,
}

pub fn parse(path: &Path) -> anyhow::Result<CatalogFile> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: CatalogFile = match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => toml::from_str(&text).with_context(|| format!("parsing {} as TOML", path.display()))?,
        _ => serde_json::from_str(&text).with_context(|| format!("parsing {} as JSON", path.display()))?,
    };
    Ok(file)
}

impl Catalog {
    /// The catalogue as the store has it.
    pub async fn load(store: Arc<dyn Store>, actors: Actors, shares: Shares) -> Result<Catalog, StoreError> {
        let codes = store.product_codes().await?.into_iter().collect();
        Ok(Catalog { store, actors, shares, codes: Arc::new(RwLock::new(codes)) })
    }

    /// Reads the product codes again (another node of a cluster created some).
    pub async fn reload(&self) -> Result<(), StoreError> {
        let codes = self.store.product_codes().await?.into_iter().collect();
        *self.codes.write().expect("catalog lock") = codes;
        Ok(())
    }

    /// A product as owners and buyers see it: its shares' stock with its own. A share made by
    /// an earlier run with more lanes still counts when none sells from it any more (one lane,
    /// a cluster's node): what it sold is the product's sales. In a cluster each is asked on the
    /// node that owns it (a share is in its product's shard).
    pub async fn snapshot(&self, code: &ProductCode) -> Result<ProductSnapshot, CallError> {
        let whole = self.actors.product_snapshot(code).await?;
        let mut parts = Vec::new();
        for share in self.shares.of(code) {
            parts.push(self.actors.product_snapshot(&share).await?);
        }
        Ok(self.shares.as_one(whole, &parts))
    }

    pub fn contains(&self, code: &ProductCode) -> bool {
        self.codes.read().expect("catalog lock").contains(code)
    }

    /// Every product code, in order.
    pub fn codes(&self) -> Vec<ProductCode> {
        self.codes.read().expect("catalog lock").iter().cloned().collect()
    }

    pub async fn import(&self, file: CatalogFile) -> anyhow::Result<ImportReport> {
        let mut report = ImportReport::default();
        for product in file.products {
            let code = ProductCode::parse(&product.code)?;
            let (kind, stock) = match (product.items.is_empty(), product.count) {
                (false, None) => {
                    let items = product
                        .items
                        .iter()
                        .map(|i| ItemSecret::parse(i))
                        .collect::<Result<Vec<_>, _>>()
                        .with_context(|| format!("items of {code}"))?;
                    (StockKind::Items, Some(Restock::Items(items)))
                }
                (true, Some(count)) => (StockKind::Counted, (count > 0).then_some(Restock::Count(count))),
                (true, None) => (StockKind::Items, None),
                (false, Some(_)) => bail!("{code}: give either items or count, not both"),
            };
            if product.price.is_zero() {
                bail!("{code}: the price must not be zero");
            }
            if let Some(Restock::Items(items)) = &stock {
                if items.len() > RESTOCK_UNITS_MAX {
                    bail!("{code}: at most {RESTOCK_UNITS_MAX} items per import");
                }
            }
            let sup = &self.actors;
            match sup.product_snapshot(&code).await {
                Ok(snapshot) => {
                    if snapshot.kind != kind && stock.is_some() {
                        bail!("{code}: already exists with {:?} stock", snapshot.kind);
                    }
                    if snapshot.price != product.price {
                        let reference = Reference::parse(&format!("import-price:{code}:{}", product.price.amount()))?;
                        let command = SetPrice {
                            tier: PriceTier::Member,
                            reference,
                            price: product.price,
                            actor: "catalog import".into(),
                        };
                        sup.product(&code, command).await?.map_err(|r| anyhow::anyhow!("{code}: {r}"))?;
                        self.shares.sync(&code).await?;
                        report.repriced += 1;
                    }
                }
                Err(CallError::NotFound) => {
                    if self.create(&code, &product.name, product.price, kind).await? {
                        report.created += 1;
                    }
                }
                Err(error) => return Err(error).with_context(|| format!("reading product {code}")),
            }
            let Some(stock) = stock else { continue };
            let reference = Reference::parse(&format!("import:{code}:{:016x}", stock.fingerprint()))?;
            // A repeated restock answers with its first outcome, so count what `received` gained.
            let before = sup.product_snapshot(&code).await?.received;
            if let Err(rejection) = self.restock(&code, reference, stock, "catalog import").await? {
                bail!("{code}: {rejection}");
            }
            match sup.product_snapshot(&code).await?.received - before {
                0 => report.unchanged += 1,
                added => report.units_added += added as u64,
            }
        }
        Ok(report)
    }

    /// Creates an empty product; its stock comes through its actor. `false` when the code exists
    /// (checked and written in one statement, so two creates of one code cannot both succeed).
    pub async fn create(&self, code: &ProductCode, name: &str, price: Money, kind: StockKind) -> anyhow::Result<bool> {
        let now = self.actors.lanes().clock().now();
        let row = ProductRow::first(code.clone(), name.to_string(), price, kind, now);
        // Changes of an actor of this code still in the journal (there are none for a new code) go first.
        self.actors.lanes().of_product(code).flush().await.with_context(|| format!("creating product {code}"))?;
        let created = self.store.create_product(&row).await.with_context(|| format!("creating product {code}"))?;
        self.codes.write().expect("catalog lock").insert(code.clone());
        Ok(created)
    }

    /// Restocks through the product's actor, once per reference. A reference the actor no longer
    /// remembers (it keeps the latest ones) is found in the store: the same content again answers
    /// its first outcome, other content is refused (`ExistsWithDifferentContent`).
    pub async fn restock(
        &self,
        code: &ProductCode,
        reference: Reference,
        stock: Restock,
        actor: &str,
    ) -> Result<Result<Restocked, ProductRejection>, CallError> {
        let stored = self
            .store
            .restocked(code, &reference)
            .await
            .map_err(|e| CallError::StoreUnavailable { reason: e.to_string() })?;
        if let Some((added, fingerprint)) = stored {
            if fingerprint.is_some_and(|stored| stored != stock.fingerprint()) {
                return Ok(Err(ProductRejection::ExistsWithDifferentContent));
            }
            let available = self.actors.product_snapshot(code).await?.available;
            return Ok(Ok(Restocked { added: added as Quantity, available }));
        }
        let command = AddStock { reference, stock, actor: actor.into() };
        let restocked = self.actors.product(code, command).await?;
        if restocked.is_ok() {
            // The stock is the product's whatever comes of this: a share short of it takes it
            // from the product when a buyer finds it so.
            if let Err(error) = self.shares.spread(code).await {
                tracing::warn!(product = %code, %error, "the restock's stock was not spread over the lanes");
            }
        }
        Ok(restocked)
    }
}
