//! A model of the shop's money around orders, driven by the real decisions (`same_payment` and
//! the order machine) through random interleavings of settlements, repeats, admin payments, late
//! payments, expiry, cancel and refund.

use std::collections::HashMap;

use proptest::prelude::*;
use warung_actors::domain::{CustomerId, Money, OrderId, ProductCode, Reference};

use crate::checkout::{OrderRow, OrderState, PaymentApplied, PaymentMethod, PaymentRow};

use super::{record_of, same_payment, IncomingPayment, Purpose};
use crate::checkout::order::{Order, OrderCommand, OrderOutcome};

const TOTAL: u64 = 15_000;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Stock {
    Reserved,
    Committed,
    Released,
}

#[derive(Clone, Debug)]
enum Step {
    /// A payment arrives (new, or a repeat of an id seen before) for an order or a top-up.
    Pay {
        id: u8,
        order: Option<u8>,
        amount: u64,
        customer: u8,
    },
    Expire(u8),
    Cancel(u8),
    Refund(u8),
}

struct Shop {
    orders: Vec<(Order, Stock)>,
    payments: HashMap<Reference, PaymentRow>,
    /// Per customer, money credited to the wallet by payments and refunds.
    wallets: HashMap<CustomerId, Money>,
    /// Per order, how many times its stock was committed to a payment.
    deliveries: HashMap<OrderId, u32>,
    /// Every rupiah paid in by a payment applied for the first time.
    paid_in: Money,
    refunded: Money,
}

fn customer(n: u8) -> CustomerId {
    CustomerId::parse(&format!("62810{n}")).unwrap()
}

impl Shop {
    fn new(orders: u8) -> Shop {
        let orders = (0..orders)
            .map(|n| {
                let row = OrderRow {
                    id: OrderId::parse(&format!("TRX-000000000{n}-1")).unwrap(),
                    customer: customer(n % 2),
                    product: ProductCode::parse("viu").unwrap(),
                    quantity: 1,
                    unit_price: Money::rupiah(TOTAL),
                    total: Money::rupiah(TOTAL),
                    method: PaymentMethod::External,
                    state: OrderState::AwaitingPayment,
                    expires_at: 100,
                    note: String::new(),
                    created_at: 1,
                    updated_at: 1,
                    creates: false,
                    moved_from: None,
                };
                (Order::new(row), Stock::Reserved)
            })
            .collect();
        Shop {
            orders,
            payments: HashMap::new(),
            wallets: HashMap::new(),
            deliveries: HashMap::new(),
            paid_in: Money::ZERO,
            refunded: Money::ZERO,
        }
    }

    fn credit(&mut self, who: &CustomerId, amount: Money) {
        let wallet = self.wallets.entry(who.clone()).or_insert(Money::ZERO);
        *wallet = wallet.checked_add(amount).unwrap();
    }

    fn record(&mut self, incoming: &IncomingPayment, applied: PaymentApplied, surplus: Money) {
        let row = record_of(incoming, applied, surplus, 0);
        assert!(self.payments.insert(incoming.id.clone(), row).is_none(), "a payment recorded twice");
        self.paid_in = self.paid_in.checked_add(incoming.amount).unwrap();
    }

    /// What `Checkout::apply_payment` does, step for step.
    fn pay(&mut self, incoming: IncomingPayment) {
        if let Some(recorded) = self.payments.get(&incoming.id) {
            let _ = same_payment(recorded, &incoming);
            return; // a repeat or a mismatch: nothing moves
        }
        let Purpose::Order(id) = &incoming.purpose else {
            self.credit(&incoming.customer, incoming.amount);
            self.record(&incoming, PaymentApplied::Credited, Money::ZERO);
            return;
        };
        let index = self.orders.iter().position(|(o, _)| o.row().id == *id).unwrap();
        if self.orders[index].0.row().customer != incoming.customer {
            return; // another customer's order: refused
        }
        let pay = OrderCommand::Pay { payment: incoming.id.clone(), amount: incoming.amount };
        let (order, stock) = &mut self.orders[index];
        let credit = match order.apply(pay, 2).unwrap() {
            OrderOutcome::CommitStock if *stock == Stock::Reserved => {
                *stock = Stock::Committed;
                order.apply(OrderCommand::StockCommitted, 2).unwrap();
                *self.deliveries.entry(id.clone()).or_default() += 1;
                let surplus = incoming.amount.checked_sub(order.row().total).unwrap();
                let who = incoming.customer.clone();
                self.credit(&who, surplus);
                self.record(&incoming, PaymentApplied::Delivered, surplus);
                return;
            }
            OrderOutcome::CommitStock => {
                let gone = OrderCommand::StockGone { payment: incoming.id.clone(), amount: incoming.amount };
                order.apply(gone, 2).unwrap()
            }
            other => other,
        };
        assert!(matches!(credit, OrderOutcome::CreditPayment { .. }), "{credit:?}");
        self.credit(&incoming.customer, incoming.amount);
        self.record(&incoming, PaymentApplied::Credited, Money::ZERO);
    }

    fn step(&mut self, step: Step) {
        match step {
            Step::Pay { id, order, amount, customer: who } => {
                let purpose = match order {
                    Some(n) => Purpose::Order(self.orders[n as usize % self.orders.len()].0.row().id.clone()),
                    None => Purpose::TopUp,
                };
                let incoming = IncomingPayment {
                    id: Reference::parse(&format!("pay-{id}")).unwrap(),
                    customer: customer(who),
                    purpose,
                    amount: Money::rupiah(amount),
                    actor: "test".into(),
                };
                self.pay(incoming);
            }
            Step::Expire(n) | Step::Cancel(n) => {
                let cancel = matches!(step, Step::Cancel(_));
                let len = self.orders.len();
                let (order, stock) = &mut self.orders[n as usize % len];
                if *stock == Stock::Reserved {
                    let command = if cancel { OrderCommand::Cancel } else { OrderCommand::Expire };
                    if order.apply(command, 3).is_ok() {
                        *stock = Stock::Released;
                    }
                }
            }
            Step::Refund(n) => {
                let len = self.orders.len();
                let (order, _) = &mut self.orders[n as usize % len];
                if let Ok(OrderOutcome::Moved { .. }) = order.apply(OrderCommand::Refund { reason: "r".into() }, 4) {
                    let (who, total) = (order.row().customer.clone(), order.row().total);
                    self.credit(&who, total);
                    self.refunded = self.refunded.checked_add(total).unwrap();
                }
            }
        }
    }
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..6, proptest::option::weighted(0.8, 0u8..3), prop_oneof![Just(TOTAL), Just(TOTAL + 123), Just(TOTAL - 1)], 0u8..2)
            .prop_map(|(id, order, amount, customer)| Step::Pay { id, order, amount, customer }),
        1 => (0u8..3).prop_map(Step::Expire),
        1 => (0u8..3).prop_map(Step::Cancel),
        1 => (0u8..3).prop_map(Step::Refund),
    ]
}

proptest! {
    #[test]
    fn each_payment_is_applied_once_money_is_conserved_and_each_order_delivered_at_most_once(
        steps in proptest::collection::vec(step(), 1..60),
    ) {
        let mut shop = Shop::new(3);
        for step in steps {
            shop.step(step);
        }
        // Each order's stock went to at most one payment, and only a paid (or refunded) order's.
        for (order, stock) in &shop.orders {
            let delivered = shop.deliveries.get(&order.row().id).copied().unwrap_or(0);
            prop_assert!(delivered <= 1);
            prop_assert_eq!(delivered == 1, *stock == Stock::Committed);
            prop_assert_eq!(delivered == 1, matches!(order.state(), OrderState::Paid | OrderState::Refunded));
            let delivering = shop.payments.values()
                .filter(|p| p.applied == PaymentApplied::Delivered && p.order.as_ref() == Some(&order.row().id))
                .count();
            prop_assert_eq!(delivering as u32, delivered, "one delivering payment per delivered order");
        }
        // Every rupiah paid in is in a wallet, or bought a delivered order; refunds add their total.
        let in_wallets = shop.wallets.values().fold(Money::ZERO, |sum, m| sum.checked_add(*m).unwrap());
        let sold: u64 = shop.deliveries.values().map(|n| u64::from(*n) * TOTAL).sum();
        prop_assert_eq!(
            in_wallets.checked_add(Money::rupiah(sold)).unwrap(),
            shop.paid_in.checked_add(shop.refunded).unwrap()
        );
    }
}
