use super::*;

fn code(s: &str) -> ProductCode {
    ProductCode::parse(s).unwrap()
}

fn buy(product: &str, quantity: Quantity, payment: Payment) -> Command {
    Command::Buy { product: code(product), quantity, payment }
}

#[test]
fn words_are_read_in_either_language_any_case_with_or_without_a_prefix() {
    for text in ["menu", "HELP", ".bantuan", "/Menu", "  menu  "] {
        assert_eq!(Command::parse(text), Ok(Command::Menu), "{text}");
    }
    for (text, command) in [
        ("produk", Command::Products),
        ("/list", Command::Products),
        ("saldo", Command::Balance),
        ("Balance", Command::Balance),
        ("riwayat", Command::History),
        (".history", Command::History),
        ("batal", Command::Cancel),
        ("CANCEL", Command::Cancel),
    ] {
        assert_eq!(Command::parse(text), Ok(command), "{text}");
    }
}

#[test]
fn buying_takes_a_code_an_optional_quantity_and_an_optional_qris() {
    assert_eq!(Command::parse("beli viu1b"), Ok(buy("viu1b", 1, Payment::Saldo)));
    assert_eq!(Command::parse("BELI VIU1B 2"), Ok(buy("viu1b", 2, Payment::Saldo)));
    assert_eq!(Command::parse("/buy viu1b 3 qris"), Ok(buy("viu1b", 3, Payment::Qris)));
    assert_eq!(Command::parse("beli viu1b qris"), Ok(buy("viu1b", 1, Payment::Qris)));
    assert_eq!(Command::parse("buymidtrans netflix 2"), Ok(buy("netflix", 2, Payment::Qris)));
}

#[test]
fn a_bad_purchase_says_which_rule_it_broke() {
    assert_eq!(Command::parse("beli"), Err(CommandError::ProductCodeMissing { command: "beli".into() }));
    assert_eq!(Command::parse("beli viu!"), Err(CommandError::ProductCodeInvalid { given: "viu!".into() }));
    for bad in ["0", "-1", "dua", "101", "1.5"] {
        assert_eq!(
            Command::parse(&format!("beli viu1b {bad}")),
            Err(CommandError::QuantityInvalid { given: bad.into(), max: ORDER_QUANTITY_MAX }),
            "{bad}"
        );
    }
    assert_eq!(Command::parse("beli viu1b 2 3"), Err(CommandError::TrailingWords { extra: "3".into() }));
    assert_eq!(Command::parse("buymidtrans viu1b 1 qris"), Ok(buy("viu1b", 1, Payment::Qris)), "redundant, accepted");
}

#[test]
fn top_up_amounts_are_whole_rupiah_as_people_write_them() {
    for (text, amount) in
        [("topup 50000", 50_000), ("topup 50.000", 50_000), ("topup 1,250,000", 1_250_000), ("topup Rp15.000", 15_000)]
    {
        assert_eq!(Command::parse(text), Ok(Command::TopUp { amount: Money::rupiah(amount) }), "{text}");
    }
    assert_eq!(Command::parse("topup"), Err(CommandError::AmountMissing));
    for big in ["1.000.000.000.000", "10.000.001"] {
        assert!(
            matches!(Command::parse(&format!("topup {big}")), Err(CommandError::AmountTooLarge { .. })),
            "a top-up is bounded where it is read: {big}"
        );
    }
    assert!(Command::parse("topup 10.000.000").is_ok());
    for bad in ["0", "50.00", "5.0000", ".500", "lima", "15.000,50", "-5000", "99999999999999"] {
        assert_eq!(
            Command::parse(&format!("topup {bad}")),
            Err(CommandError::AmountInvalid { given: bad.to_lowercase() }),
            "{bad}"
        );
    }
}

#[test]
fn status_takes_an_order_id_in_any_case() {
    let order = OrderId::parse("TRX-0a1b2c3d4e-1700000000000").unwrap();
    assert_eq!(
        Command::parse("status TRX-0a1b2c3d4e-1700000000000"),
        Ok(Command::Status { order: Some(order.clone()) })
    );
    assert_eq!(Command::parse("cek trx-0A1B2C3D4E-1700000000000"), Ok(Command::Status { order: Some(order) }));
    assert_eq!(Command::parse("status"), Ok(Command::Status { order: None }));
    assert!(matches!(Command::parse("status 12345"), Err(CommandError::OrderIdInvalid { .. })));
}

#[test]
fn anything_else_is_not_a_command_and_says_why() {
    assert_eq!(Command::parse("   "), Err(CommandError::Empty));
    assert_eq!(Command::parse("apa kabar"), Err(CommandError::UnknownCommand { word: "apa".into() }));
    assert_eq!(Command::parse("saldo saya"), Err(CommandError::TrailingWords { extra: "saya".into() }));
    let long = format!("beli {}", "x".repeat(300));
    assert!(matches!(Command::parse(&long), Err(CommandError::UnknownCommand { .. })));
}

#[test]
fn greetings_thanks_and_typos_are_understood() {
    for text in ["halo", "Hai kak", "p", "Assalamualaikum", "selamat pagi"] {
        assert_eq!(Command::parse(text), Ok(Command::Greeting), "{text}");
    }
    assert_eq!(Command::parse("makasih kak"), Ok(Command::Thanks));
    assert_eq!(Command::parse("bel viu1b"), Ok(buy("viu1b", 1, Payment::Saldo)));
    assert_eq!(Command::parse("beil viu1b 2"), Ok(buy("viu1b", 2, Payment::Saldo)));
    assert_eq!(Command::parse("saldo?"), Ok(Command::Balance));
    assert_eq!(Command::parse("Menu!"), Ok(Command::Menu));
    assert_eq!(Command::parse("xyzzy"), Err(CommandError::UnknownCommand { word: "xyzzy".into() }));
}

#[test]
fn a_trailing_transfer_pays_by_bank_transfer() {
    assert_eq!(Command::parse("beli viu1b transfer"), Ok(buy("viu1b", 1, Payment::Transfer)));
    assert_eq!(Command::parse("beli viu1b 2 TF"), Ok(buy("viu1b", 2, Payment::Transfer)));
}
