//! Sales folded into their orders' rows. A reservation first stored by its commit (a saldo
//! purchase's: held in memory until then), whose order's row the batch also writes (the paid
//! order goes with the commit), gets no row of its own: the order's row has its product,
//! quantity, price and expiry already, and takes the item numbers the sale took
//! (`orders.sold_items`). That spares each such sale a row and two index entries; a product's
//! activation reads its settled sales from its orders (`store::activation`).
//!
//! Every other reservation is written as before: an open one, one released, one stored when it
//! opened (a payment's, later updated to committed), and one whose order's row is not in the
//! batch. Whether a sale folds depends on its commit's own write, never on which batches a
//! projection merged, so a replay of the log writes the tables the projector wrote.

use warung_actors::domain::ItemNo;
use warung_actors::journal::ReservationStatus;

use super::{item_list, Batch};

impl<'a> Batch<'a> {
    /// Takes the sales this batch creates and commits out of its reservations and gives their
    /// items to their orders' rows (`sold`). Any row of the order in the batch will do: the one
    /// flow whose commit creates its reservation's row (saldo) attaches the paid order to that
    /// commit, so the order's row is in every batch its commit is in, however batches merge. A
    /// flow that committed so without attaching its order would fold or not as batches merge,
    /// and a replay could write other tables than the projector did.
    pub(super) fn fold_sales(&mut self) {
        let orders = &self.orders;
        let (kept, folded) = std::mem::take(&mut self.reservations).partition(|order, row| {
            let folds = row.creates
                && row.status == ReservationStatus::Committed
                && orders.get(order).is_some_and(|o| o.product == row.product);
            !folds
        });
        self.reservations = kept;
        self.sold = folded.rows.iter().map(|row| (row.order.as_str(), row.items.as_slice())).collect();
    }

    /// The item numbers, as stored, of the sale whose reservation this batch folded into the
    /// order's row; `None` for every other order (its row's stored items are kept).
    pub fn sold_items(&self, order: &str) -> Option<String> {
        self.sold.get(order).map(|items: &&[ItemNo]| item_list(items))
    }
}

#[cfg(test)]
mod tests {
    use warung_actors::domain::{CustomerId, Money, OrderId, ProductCode};
    use warung_actors::journal::{Entry, Event, ReservationRow};
    use warung_actors::product::Reserved;

    use crate::records::{OrderRow, OrderState, PaymentMethod, ShopRecord};

    use super::*;

    fn reservation(order: &str, status: ReservationStatus, creates: bool) -> Entry<ShopRecord> {
        Entry::Event(Event::Reservation(ReservationRow {
            order: OrderId::parse(order).unwrap(),
            product: ProductCode::parse("kopi").unwrap(),
            quantity: 2,
            unit_price: Money::rupiah(5_000),
            items: vec![4, 9],
            expires_at: 60_000,
            status,
            release_reason: String::new(),
            updated_at: 1,
            creates,
        }))
    }

    fn order(id: &str, product: &str) -> Entry<ShopRecord> {
        let order = OrderId::parse(id).unwrap();
        let reserved = Reserved {
            order,
            quantity: 2,
            unit_price: Money::rupiah(5_000),
            total: Money::rupiah(10_000),
            expires_at: 60_000,
        };
        let customer = CustomerId::parse("6281100").unwrap();
        let product = ProductCode::parse(product).unwrap();
        let row = OrderRow::of_reservation(&customer, &product, &reserved, PaymentMethod::Saldo, OrderState::Paid, 1);
        Entry::Attached(ShopRecord::Order(row))
    }

    #[test]
    fn a_sale_made_in_the_batch_goes_with_its_order_row_and_writes_no_reservation() {
        let entries =
            [order("TRX-0000000001-1", "kopi"), reservation("TRX-0000000001-1", ReservationStatus::Committed, true)];
        let batch = Batch::of(&entries);
        assert!(batch.reservations.rows.is_empty(), "no reservation row");
        assert_eq!(batch.sold_items("TRX-0000000001-1").as_deref(), Some("4,9"));
        assert_eq!(batch.orders.rows.len(), 1);
    }

    #[test]
    fn a_reservation_is_written_unless_first_stored_by_its_commit_beside_its_order() {
        let entries = [
            // Stored when it opened, by an earlier batch or this one: its row says committed.
            reservation("TRX-0000000002-1", ReservationStatus::Committed, false),
            order("TRX-0000000002-1", "kopi"),
            reservation("TRX-0000000007-1", ReservationStatus::Reserved, true),
            order("TRX-0000000007-1", "kopi"),
            reservation("TRX-0000000007-1", ReservationStatus::Committed, false),
            // Open.
            reservation("TRX-0000000003-1", ReservationStatus::Reserved, true),
            order("TRX-0000000003-1", "kopi"),
            // Its order's row is not in the batch.
            reservation("TRX-0000000004-1", ReservationStatus::Committed, true),
            // Released.
            reservation("TRX-0000000005-1", ReservationStatus::Released, true),
            order("TRX-0000000005-1", "kopi"),
            // An order of another product (never made so; not folded all the same).
            reservation("TRX-0000000006-1", ReservationStatus::Committed, true),
            order("TRX-0000000006-1", "teh"),
        ];
        let batch = Batch::of(&entries);
        let kept: Vec<&str> = batch.reservations.rows.iter().map(|r| r.order.as_str()).collect();
        let all = [
            "TRX-0000000002-1",
            "TRX-0000000007-1",
            "TRX-0000000003-1",
            "TRX-0000000004-1",
            "TRX-0000000005-1",
            "TRX-0000000006-1",
        ];
        assert_eq!(kept, all);
        assert!(all.iter().all(|o| batch.sold_items(o).is_none()));
    }
}
