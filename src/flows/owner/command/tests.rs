use super::*;

fn code(s: &str) -> ProductCode {
    ProductCode::parse(s).unwrap()
}

fn parse(text: &str) -> Result<OwnerCommand, OwnerCommandError> {
    OwnerCommand::parse(text).expect("an owner command")
}

#[test]
fn words_that_are_not_owner_commands_are_left_to_the_customer_commands() {
    for text in ["beli viu", "saldo", "halo", "", "menu"] {
        assert_eq!(OwnerCommand::parse(text), None, "{text}");
    }
}

#[test]
fn report_stock_and_sale_switches_read_a_code() {
    assert_eq!(parse("laporan"), Ok(OwnerCommand::Report));
    assert_eq!(parse("/stok"), Ok(OwnerCommand::Stock { product: None }));
    assert_eq!(parse("STOK Viu"), Ok(OwnerCommand::Stock { product: Some(code("viu")) }));
    assert_eq!(parse("tutup viu"), Ok(OwnerCommand::OnSale { product: code("viu"), active: false }));
    assert_eq!(parse("buka viu"), Ok(OwnerCommand::OnSale { product: code("viu"), active: true }));
    assert!(matches!(parse("tutup"), Err(OwnerCommandError::Usage { .. })));
}

#[test]
fn restock_takes_a_count_or_one_item_per_line_as_typed() {
    assert_eq!(
        parse("tambahstok pulsa 25"),
        Ok(OwnerCommand::Restock { product: code("pulsa"), stock: Restock::Count(25) })
    );
    let items = parse("tambahstok viu\nAkun-A:Pass1\n\n  Akun-B:Pass2  \n").unwrap();
    let OwnerCommand::Restock { product, stock: Restock::Items(items) } = items else { panic!("items") };
    assert_eq!(product, code("viu"));
    let items: Vec<&str> = items.iter().map(|i| i.expose()).collect();
    assert_eq!(items, ["Akun-A:Pass1", "Akun-B:Pass2"], "case and order kept, blank lines skipped");
    assert!(matches!(parse("tambahstok viu"), Err(OwnerCommandError::Usage { .. })), "neither count nor items");
    assert!(matches!(parse("tambahstok viu 0"), Err(OwnerCommandError::Usage { .. })));
    let many =
        format!("tambahstok viu\n{}", (0..=CHAT_RESTOCK_ITEMS_MAX).map(|i| format!("i{i}\n")).collect::<String>());
    assert_eq!(parse(&many), Err(OwnerCommandError::TooManyItems { max: CHAT_RESTOCK_ITEMS_MAX }));
}

#[test]
fn price_reads_rupiah_as_owners_type_it_with_an_optional_tier() {
    let price = |p| Money::rupiah(p);
    assert_eq!(
        parse("harga viu 20.000"),
        Ok(OwnerCommand::Price { product: code("viu"), price: price(20_000), tier: PriceTier::Member })
    );
    assert_eq!(
        parse("harga viu Rp18000 reseller"),
        Ok(OwnerCommand::Price { product: code("viu"), price: price(18_000), tier: PriceTier::Reseller })
    );
    assert_eq!(parse("harga viu dua"), Err(OwnerCommandError::AmountInvalid { given: "dua".into() }));
    assert!(matches!(parse("harga viu"), Err(OwnerCommandError::Usage { .. })));
}

#[test]
fn adjustments_need_a_number_a_signed_amount_and_a_reason() {
    let parsed = parse("ubahsaldo 6281234567890 -5.000 salah transfer").unwrap();
    assert_eq!(
        parsed,
        OwnerCommand::Adjust {
            customer: CustomerId::parse("6281234567890").unwrap(),
            delta: Decimal::from(-5_000),
            reason: "salah transfer".into(),
        }
    );
    assert!(matches!(parse("ubahsaldo 6281234567890 +5000"), Err(OwnerCommandError::Usage { .. })), "no reason");
    assert!(matches!(parse("ubahsaldo budi +5000 bonus"), Err(OwnerCommandError::CustomerInvalid { .. })));
    assert!(matches!(parse("ubahsaldo 6281234567890 lima bonus"), Err(OwnerCommandError::AmountInvalid { .. })));
}

#[test]
fn refund_and_paid_take_an_order_id() {
    let order = OrderId::generate();
    assert_eq!(
        parse(&format!("refund {order} akun tidak bisa login")),
        Ok(OwnerCommand::Refund { order: order.clone(), reason: "akun tidak bisa login".into() })
    );
    assert!(matches!(parse(&format!("refund {order}")), Err(OwnerCommandError::Usage { .. })), "no reason");
    assert_eq!(parse(&format!("lunas {order}")), Ok(OwnerCommand::TransferReceived { order }));
    assert!(matches!(parse("lunas"), Err(OwnerCommandError::Usage { .. })));
}
