use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;

fn money() -> impl Strategy<Value = Money> {
    (0i64..1_000_000_000_000, 0u32..=2).prop_map(|(m, s)| Money::new(Decimal::new(m, s)).unwrap())
}

fn signed_amount() -> impl Strategy<Value = Decimal> {
    (-1_000_000_000_000i64..1_000_000_000_000, 0u32..=2).prop_map(|(m, s)| Decimal::new(m, s))
}

fn code() -> impl Strategy<Value = ProductCode> {
    "[a-z][a-z0-9]{0,10}".prop_map(|c| ProductCode::parse(&c).unwrap())
}

fn customer() -> impl Strategy<Value = CustomerId> {
    "62[0-9]{8,12}".prop_map(|c| CustomerId::parse(&c).unwrap())
}

fn order() -> impl Strategy<Value = OrderId> {
    ("[0-9a-f]{10}", 1_600_000_000_000u64..1_900_000_000_000)
        .prop_map(|(hex, ms)| OrderId::parse(&format!("TRX-{hex}-{ms}")).unwrap())
}

fn reference() -> impl Strategy<Value = Reference> {
    "[a-z][a-z0-9:-]{0,30}".prop_map(|r| Reference::parse(&r).unwrap())
}

fn text() -> impl Strategy<Value = String> {
    ".{0,24}"
}

fn stock_state() -> impl Strategy<Value = StockState> {
    prop_oneof![
        Just(StockState::Supplier),
        Just(StockState::Available),
        Just(StockState::Reserved),
        Just(StockState::Sold),
        Just(StockState::Removed)
    ]
}

fn order_state() -> impl Strategy<Value = OrderState> {
    prop_oneof![
        Just(OrderState::Pending),
        Just(OrderState::AwaitingPayment),
        Just(OrderState::Paid),
        Just(OrderState::Failed),
        Just(OrderState::Cancelled),
        Just(OrderState::Expired),
        Just(OrderState::Review),
        Just(OrderState::Refunded)
    ]
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (code(), text(), money(), proptest::option::of(money()), any::<bool>(), any::<bool>(), any::<[i64; 7]>())
            .prop_map(|(code, name, price, reseller_price, counted, active, n)| Event::Product(ProductRow {
                code,
                name,
                price,
                reseller_price,
                kind: if counted { StockKind::Counted } else { StockKind::Items },
                active,
                received: n[0],
                available: n[1],
                reserved: n[2],
                sold: n[3],
                removed: n[4],
                next_item_no: n[5],
                updated_at: n[6],
            })),
        (code(), proptest::collection::vec((any::<i64>(), "[A-Za-z0-9:@.-]{1,40}"), 0..5), any::<i64>()).prop_map(
            |(product, items, at)| Event::ItemsAdded {
                product,
                items: items.into_iter().map(|(no, s)| (no, ItemSecret::parse(&s).unwrap())).collect(),
                at,
            }
        ),
        (
            code(),
            proptest::collection::vec(any::<i64>(), 0..5),
            stock_state(),
            proptest::option::of(order()),
            any::<i64>()
        )
            .prop_map(|(product, items, to, order, at)| Event::ItemsMoved { product, items, to, order, at }),
        (
            code(),
            0u16..16,
            proptest::collection::vec(any::<i64>(), 0..5),
            "move:[a-z0-9~]{1,20}:[0-9]{1,6}",
            any::<i64>()
        )
            .prop_map(|(home, lane, items, by, at)| Event::ItemsMovedOut {
                product: home.share(lane),
                items,
                by: Reference::parse(&by).unwrap(),
                at,
            }),
        (
            order(),
            code(),
            any::<u32>(),
            money(),
            proptest::collection::vec(any::<i64>(), 0..4),
            any::<i64>(),
            0u8..3,
            text(),
            any::<bool>()
        )
            .prop_map(|(order, product, quantity, unit_price, items, at, status, release_reason, creates)| {
                let status = [ReservationStatus::Reserved, ReservationStatus::Committed, ReservationStatus::Released]
                    [status as usize];
                Event::Reservation(ReservationRow {
                    order,
                    product,
                    quantity,
                    unit_price,
                    items,
                    expires_at: at,
                    status,
                    release_reason,
                    updated_at: at.wrapping_add(1),
                    creates,
                })
            }),
        (
            code(),
            any::<i64>(),
            stock_state(),
            stock_state(),
            text(),
            text(),
            text(),
            any::<i64>(),
            proptest::option::of(any::<u64>())
        )
            .prop_map(|(product, quantity, from, to, reason, reference, actor, at, content_hash)| {
                Event::Movement(MovementRow {
                    product,
                    quantity,
                    from,
                    to,
                    reason: reason.into(),
                    reference: reference.into(),
                    actor: actor.into(),
                    at,
                    content_hash,
                })
            }),
        (customer(), money(), any::<i64>()).prop_map(|(customer, balance, updated_at)| Event::Wallet(WalletRow {
            customer,
            balance,
            updated_at
        })),
        (customer(), reference(), 0u8..4, signed_amount(), money(), text(), text(), any::<i64>()).prop_map(
            |(customer, reference, kind, amount, balance_after, reason, actor, at)| {
                let kind = [LedgerKind::TopUp, LedgerKind::Purchase, LedgerKind::Refund, LedgerKind::Adjustment]
                    [kind as usize];
                Event::Ledger(LedgerRow {
                    customer,
                    reference,
                    kind,
                    amount,
                    balance_after,
                    reason,
                    actor: actor.into(),
                    at,
                })
            }
        ),
    ]
}

fn record() -> impl Strategy<Value = ShopRecord> {
    prop_oneof![
        (
            order(),
            customer(),
            code(),
            any::<u32>(),
            money(),
            money(),
            0u8..3,
            order_state(),
            any::<[i64; 3]>(),
            text(),
            any::<bool>(),
            proptest::option::of(order_state())
        )
            .prop_map(
                |(id, customer, product, quantity, unit_price, total, method, state, t, note, creates, moved_from)| {
                    let method =
                        [PaymentMethod::Saldo, PaymentMethod::External, PaymentMethod::Transfer][method as usize];
                    ShopRecord::Order(OrderRow {
                        id,
                        customer,
                        product,
                        quantity,
                        unit_price,
                        total,
                        method,
                        state,
                        expires_at: t[0],
                        note,
                        created_at: t[1],
                        updated_at: t[2],
                        creates,
                        moved_from,
                    })
                }
            ),
        (
            reference(),
            customer(),
            proptest::option::of(order()),
            any::<bool>(),
            money(),
            any::<bool>(),
            money(),
            any::<i64>()
        )
            .prop_map(|(id, customer, order, top_up, amount, credited, surplus, at)| {
                ShopRecord::Payment(PaymentRow {
                    id,
                    customer,
                    order,
                    purpose: if top_up { ChargePurpose::TopUp } else { ChargePurpose::Order },
                    amount,
                    applied: if credited { PaymentApplied::Credited } else { PaymentApplied::Delivered },
                    surplus,
                    at,
                })
            }),
        (proptest::collection::vec(text(), 6), any::<i64>()).prop_map(|(t, at)| ShopRecord::Audit(AuditRow {
            admin: t[0].clone(),
            action: t[1].clone(),
            subject: t[2].clone(),
            before: t[3].clone(),
            after: t[4].clone(),
            reason: t[5].clone(),
            at,
        })),
    ]
}

fn entry() -> impl Strategy<Value = Entry<ShopRecord>> {
    prop_oneof![event().prop_map(Entry::Event), record().prop_map(Entry::Attached)]
}

proptest! {
    #[test]
    fn every_batch_reads_back_exactly_as_written(entries in proptest::collection::vec(entry(), 0..40)) {
        let bytes = encode(&entries);
        prop_assert_eq!(decode(&bytes).unwrap(), entries);
    }

    #[test]
    fn a_cut_record_is_refused(entries in proptest::collection::vec(entry(), 1..10), cut in any::<prop::sample::Index>()) {
        let bytes = encode(&entries);
        let cut = cut.index(bytes.len());
        prop_assert!(decode(&bytes[..cut]).is_err());
    }
}

#[test]
fn another_format_version_is_refused_not_guessed() {
    let mut bytes = encode(&[]);
    bytes[0] = LOG_RECORD_VERSION + 1;
    assert_eq!(decode(&bytes), Err(WireError::UnknownVersion(LOG_RECORD_VERSION + 1)));
}

#[test]
fn bytes_after_the_last_entry_are_refused() {
    let mut bytes = encode(&[]);
    bytes.push(0);
    assert_eq!(decode(&bytes), Err(WireError::TrailingBytes(1)));
}

#[test]
fn a_sale_is_about_a_hundred_bytes_a_row() {
    let at = 1_790_000_000_000;
    let order = OrderId::parse("TRX-0123456789-1790000000000").unwrap();
    let customer = CustomerId::parse("6281234567890").unwrap();
    let product = ProductCode::parse("viu").unwrap();
    let wallet = Event::Wallet(WalletRow { customer: customer.clone(), balance: Money::rupiah(5_000), updated_at: at });
    let moved = Event::ItemsMoved { product, items: vec![41], to: StockState::Sold, order: Some(order), at };
    let bytes = encode(&[Entry::Event(wallet), Entry::Event(moved)]);
    assert!(bytes.len() < 2 * 100, "{} bytes", bytes.len());
}
