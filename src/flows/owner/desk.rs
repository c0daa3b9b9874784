//! The owner's commands carried out. Every change goes through the rules the admin API applies
//! (`flows::admin`, `checkout`, the transfer flow) and lands in the same audit trail, with the
//! admin's number as the actor (`admin:<number>`). A command's reference comes from its message,
//! so the same message handled twice (after a restart) changes nothing twice.

use std::sync::Arc;

use warung_actors::domain::{Clock, CustomerId, OrderId, ProductCode, Reference};
use warung_actors::product::{ProductSnapshot, Restock};

use super::command::OwnerCommand;
use super::report::SalesReport;
use super::words;
use crate::flows::admin::prices::NewPrice;
use crate::flows::admin::products::ProductEdit;
use crate::flows::admin::{Admin, PriceChange, Products};
use crate::flows::qris::Qris;
use crate::infra::wib;
use crate::shop::Shop;
use crate::store::{ChargeMethod, Store};

/// Open charges `laporan` reads to list the transfers waiting for the owner.
const OPEN_CHARGES_READ_MAX: i64 = 1_000;

/// What the owner's commands read and act through.
#[derive(Clone)]
pub struct Desk {
    /// Products, prices and stock, with their guard rails.
    pub products: Products,
    pub checkout: crate::checkout::Checkout,
    /// Sales and waiting orders, for `laporan`.
    pub store: Arc<dyn Store>,
    /// Bank transfers, for `lunas`.
    pub qris: Qris,
    pub shop: Arc<Shop>,
    pub clock: Clock,
}

impl Desk {
    /// Carries out `command` from the admin number `admin`; `message` is the id its message was
    /// given (the order id a purchase from it would take), the root of every reference it makes.
    pub async fn run(&self, admin: &CustomerId, command: OwnerCommand, message: &OrderId) -> String {
        let admin = Admin(admin.as_str().to_string());
        match command {
            OwnerCommand::Help => words::help(),
            OwnerCommand::Report => self.report().await,
            OwnerCommand::Stock { product: None } => words::stock_list(&self.snapshots().await),
            OwnerCommand::Stock { product: Some(code) } => match self.products.catalog.snapshot(&code).await {
                Ok(snapshot) => words::stock_one(&snapshot),
                Err(error) => words::call_failed(&error),
            },
            OwnerCommand::Restock { product, stock } => self.restock(&product, stock, message, &admin).await,
            OwnerCommand::Price { product, price, tier } => {
                let new = NewPrice { code: &product, tier, price, reason: words::VIA_WHATSAPP };
                match self.products.prices.set(new, &admin).await {
                    Ok(PriceChange::Unchanged { price, .. }) => words::price_unchanged(&product, price),
                    Ok(PriceChange::Applied { tier, price }) => words::price_applied(&product, tier, price),
                    Ok(PriceChange::Pending { request, confirm_percent }) => {
                        words::price_pending(&request, confirm_percent)
                    }
                    Err(error) => words::price_refused(&error),
                }
            }
            OwnerCommand::ConfirmPrice { request } => match self.products.prices.confirm(&request, &admin).await {
                Ok(request) => words::price_confirmed(&request),
                Err(error) => words::price_refused(&error),
            },
            OwnerCommand::Adjust { customer, delta, reason } => {
                let reference = reference("adj", message);
                match self.checkout.adjust(&customer, &reference, delta, &reason, &admin.actor()).await {
                    Ok(balance) => words::adjusted(&customer, delta, &balance),
                    Err(error) => words::checkout_refused(&error),
                }
            }
            OwnerCommand::Refund { order, reason } => {
                match self.checkout.refund(&order, &reason, &admin.actor()).await {
                    Ok(balance) => words::refunded(&order, &balance),
                    Err(error) => words::checkout_refused(&error),
                }
            }
            OwnerCommand::OnSale { product, active } => {
                let edit = ProductEdit { name: None, active: Some(active), reason: words::VIA_WHATSAPP };
                match self.products.edit(&product, edit, &admin).await {
                    Ok(snapshot) => words::on_sale(&snapshot),
                    Err(error) => words::product_refused(&error),
                }
            }
            OwnerCommand::TransferReceived { order } => match self.qris.confirm_transfer(&order, &admin).await {
                Ok(confirmed) => words::transfer_confirmed(&confirmed),
                Err(error) => words::transfer_refused(&error),
            },
        }
    }

    async fn restock(&self, product: &ProductCode, stock: Restock, message: &OrderId, admin: &Admin) -> String {
        let reference = reference("restock", message);
        match self.products.catalog.restock(product, reference, stock, &admin.actor()).await {
            Ok(Ok(restocked)) => words::restocked(product, restocked.added, restocked.available),
            Ok(Err(rejection)) => words::restock_refused(product, &rejection),
            Err(error) => words::call_failed(&error),
        }
    }

    /// Today's sales (WIB), what waits for the owner, and what runs low.
    pub async fn report(&self) -> String {
        let now = self.clock.now();
        let today = wib::day_of(now);
        let sales = match self.store.sales(wib::day_start(today), wib::day_start(today + 1)).await {
            Ok(groups) => SalesReport::of(&groups, today, 1),
            Err(error) => return words::store_failed(&error),
        };
        let waiting = match self.store.waiting().await {
            Ok(waiting) => waiting,
            Err(error) => return words::store_failed(&error),
        };
        let threshold = i64::from(self.shop.values().stock_alert_threshold);
        let low: Vec<ProductSnapshot> =
            self.snapshots().await.into_iter().filter(|s| s.active && s.available <= threshold).collect();
        let transfers: Vec<_> = match self.store.open_charges(OPEN_CHARGES_READ_MAX).await {
            Ok(charges) => charges.into_iter().filter(|c| c.method == ChargeMethod::Transfer).collect(),
            Err(error) => return words::store_failed(&error),
        };
        words::report(&wib::date_text(today), &sales, waiting, &low, &transfers)
    }

    /// Every product as its actor has it, by code.
    pub async fn snapshots(&self) -> Vec<ProductSnapshot> {
        let mut snapshots = Vec::new();
        for code in self.products.catalog.codes() {
            match self.products.catalog.snapshot(&code).await {
                Ok(snapshot) => snapshots.push(snapshot),
                Err(error) => tracing::warn!(product = %code, %error, "product left out of the owner's list"),
            }
        }
        snapshots
    }
}

/// A reference made from the message's id: the same message, the same reference.
fn reference(kind: &str, message: &OrderId) -> Reference {
    Reference::parse(&format!("{kind}-{message}")).expect("a message's id fits a reference")
}
