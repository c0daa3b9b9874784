use proptest::prelude::*;
use warung_actors::domain::{CustomerId, Money, OrderId, ProductCode, Reference};

use super::*;

fn row(method: PaymentMethod, state: OrderState) -> OrderRow {
    OrderRow {
        id: OrderId::parse("TRX-0000000001-1").unwrap(),
        customer: CustomerId::parse("6281").unwrap(),
        product: ProductCode::parse("viu").unwrap(),
        quantity: 1,
        unit_price: Money::rupiah(15_000),
        total: Money::rupiah(15_000),
        method,
        state,
        expires_at: 100,
        note: String::new(),
        created_at: 1,
        updated_at: 1,
        creates: false,
        moved_from: None,
    }
}

fn pay(amount: u64) -> OrderCommand {
    OrderCommand::Pay { payment: Reference::parse("p-1").unwrap(), amount: Money::rupiah(amount) }
}

#[test]
fn a_payment_of_the_total_commits_the_stock_and_then_the_order_is_paid() {
    let mut order = Order::new(row(PaymentMethod::External, OrderState::AwaitingPayment));
    assert_eq!(order.apply(pay(15_123), 5), Ok(OrderOutcome::CommitStock));
    assert_eq!(order.state(), OrderState::AwaitingPayment, "nothing moves before the stock is committed");
    let moved = order.apply(OrderCommand::StockCommitted, 6);
    assert_eq!(moved, Ok(OrderOutcome::Moved { from: OrderState::AwaitingPayment, to: OrderState::Paid }));
    assert_eq!(order.row().updated_at, 6);
}

#[test]
fn a_payment_the_order_cannot_take_goes_to_the_wallet() {
    let short = Order::new(row(PaymentMethod::External, OrderState::AwaitingPayment));
    let mut order = short.clone();
    assert_eq!(order.apply(pay(14_999), 5), Ok(OrderOutcome::CreditPayment { to_review: true }));
    assert_eq!(order.state(), OrderState::Review);
    assert!(order.row().note.contains("p-1"), "{}", order.row().note);

    let mut gone = short.clone();
    let stock_gone =
        OrderCommand::StockGone { payment: Reference::parse("p-1").unwrap(), amount: Money::rupiah(15_000) };
    assert_eq!(gone.apply(stock_gone, 5), Ok(OrderOutcome::CreditPayment { to_review: true }));

    for (state, to_review) in [
        (OrderState::Paid, false),
        (OrderState::Refunded, false),
        (OrderState::Review, false),
        (OrderState::Cancelled, true),
        (OrderState::Expired, true),
    ] {
        let mut order = Order::new(row(PaymentMethod::External, state));
        assert_eq!(order.apply(pay(15_000), 5), Ok(OrderOutcome::CreditPayment { to_review }), "{state:?}");
    }
}

#[test]
fn rejections_are_named_after_their_rule() {
    let mut saldo = Order::new(row(PaymentMethod::Saldo, OrderState::Pending));
    assert_eq!(saldo.apply(pay(15_000), 5), Err(OrderRejection::PaidWithSaldoTakesNoPayment));
    let mut external = Order::new(row(PaymentMethod::External, OrderState::AwaitingPayment));
    assert_eq!(external.apply(OrderCommand::Fail, 5), Err(OrderRejection::AwaitsPaymentHasNoSaldoSteps));
    let mut paid = Order::new(row(PaymentMethod::External, OrderState::Paid));
    assert_eq!(
        paid.apply(OrderCommand::Cancel, 5),
        Err(OrderRejection::OnlyAnOpenOrderCanBeCancelled { state: OrderState::Paid })
    );
    let mut sold = Order::new(row(PaymentMethod::Saldo, OrderState::Paid));
    assert_eq!(
        sold.apply(OrderCommand::Fail, 5),
        Err(OrderRejection::SettledSaleCannotChange { state: OrderState::Paid })
    );
    let mut failed = Order::new(row(PaymentMethod::Saldo, OrderState::Failed));
    assert_eq!(
        failed.apply(OrderCommand::Refund { reason: "x".into() }, 5),
        Err(OrderRejection::OnlyAPaidOrderCanBeRefunded { state: OrderState::Failed })
    );
}

#[test]
fn repeats_change_nothing() {
    let mut refunded = Order::new(row(PaymentMethod::Saldo, OrderState::Refunded));
    assert_eq!(refunded.apply(OrderCommand::Refund { reason: "again".into() }, 5), Ok(OrderOutcome::Unchanged));
    let mut expired = Order::new(row(PaymentMethod::External, OrderState::Expired));
    assert_eq!(expired.apply(OrderCommand::Expire, 5), Ok(OrderOutcome::Unchanged));
    let mut paid = Order::new(row(PaymentMethod::Saldo, OrderState::Paid));
    assert_eq!(paid.apply(OrderCommand::Complete { note: "" }, 5), Ok(OrderOutcome::Unchanged));
    assert_eq!(refunded.row().updated_at, 1);
}

fn command() -> impl Strategy<Value = OrderCommand> {
    let payment = (0u8..3).prop_map(|n| Reference::parse(&format!("p-{n}")).unwrap());
    let amount = (14_000u64..16_000).prop_map(Money::rupiah);
    prop_oneof![
        Just(OrderCommand::Complete { note: "" }),
        Just(OrderCommand::Fail),
        (payment.clone(), amount.clone()).prop_map(|(payment, amount)| OrderCommand::Pay { payment, amount }),
        Just(OrderCommand::StockCommitted),
        (payment, amount).prop_map(|(payment, amount)| OrderCommand::StockGone { payment, amount }),
        Just(OrderCommand::Cancel),
        Just(OrderCommand::Expire),
        Just(OrderCommand::Refund { reason: "r".into() }),
    ]
}

proptest! {
    /// Any sequence of commands, repeats and reorderings included, keeps the invariants (checked
    /// by `apply` itself), never reopens a settled order, and leaves a rejected command without
    /// effect.
    #[test]
    fn random_commands_keep_every_invariant(
        saldo in any::<bool>(),
        commands in proptest::collection::vec(command(), 1..40),
    ) {
        let (method, state) = if saldo {
            (PaymentMethod::Saldo, OrderState::Pending)
        } else {
            (PaymentMethod::External, OrderState::AwaitingPayment)
        };
        let mut order = Order::new(row(method, state));
        let mut settled = false;
        for (at, command) in commands.into_iter().enumerate() {
            let before = order.clone();
            match order.apply(command, 10 + at as i64) {
                Ok(OrderOutcome::Unchanged) | Ok(OrderOutcome::CommitStock) => prop_assert_eq!(&order, &before),
                Ok(OrderOutcome::Moved { from, to }) => {
                    prop_assert_eq!(from, before.state());
                    prop_assert_eq!(to, order.state());
                    prop_assert_ne!(from, to);
                    prop_assert!(to.progress() > from.progress(), "{:?} to {:?} is not further along", from, to);
                }
                Ok(OrderOutcome::CreditPayment { to_review }) => {
                    prop_assert_eq!(to_review, order.state() != before.state());
                }
                Err(_) => prop_assert_eq!(&order, &before),
            }
            prop_assert!(!(settled && order.state().is_open()), "a settled order reopened");
            prop_assert!(order.state().progress() >= before.state().progress());
            settled |= !order.state().is_open();
        }
    }
}
