use warung_actors::domain::{ItemSecret, OrderId};

use super::*;

fn line(code: &str, price: u64, available: i64) -> ProductLine {
    ProductLine {
        code: ProductCode::parse(code).unwrap(),
        name: format!("{code} 1 bulan"),
        price: Money::rupiah(price),
        available,
    }
}

#[test]
fn the_menu_lists_products_with_rupiah_prices_and_stock() {
    let text = menu("Warung Demo", "", &[line("viu1b", 15_000, 7), line("netflix", 54_500, 0)], false);
    assert!(text.starts_with("Selamat datang di Warung Demo! 👋\n\nProduk:"), "no welcome message: {text}");
    assert!(text.contains("*viu1b* viu1b 1 bulan — Rp15.000 (stok 7)"), "{text}");
    assert!(text.contains("*netflix* netflix 1 bulan — Rp54.500 (habis)"), "{text}");
    assert!(text.contains("beli <kode>"), "{text}");
    assert_eq!(product_list(&[]), "Belum ada produk yang dijual saat ini.");
    let welcomed = menu("Toko Budi", "Promo 12.12!", &[], true);
    assert!(welcomed.starts_with("Selamat datang di Toko Budi! 👋\n\nPromo 12.12!\n\n"), "{welcomed}");
    assert!(welcomed.contains("transfer") && !text.contains("transfer"), "transfer only where the shop takes it");
}

#[test]
fn a_purchase_reply_carries_the_items_and_the_balance_left() {
    let purchase = Purchase {
        order: OrderId::parse("TRX-0a1b2c3d4e-1700000000000").unwrap(),
        product: ProductCode::parse("viu1b").unwrap(),
        quantity: 2,
        total: Money::rupiah(30_000),
        items: vec![ItemSecret::parse("user1:pass1").unwrap(), ItemSecret::parse("user2:pass2").unwrap()],
        balance: WalletBalance { balance: Money::rupiah(70_000), available: Money::rupiah(70_000) },
    };
    let text = purchased(&purchase);
    for part in ["TRX-0a1b2c3d4e-1700000000000", "total Rp30.000", "user1:pass1\nuser2:pass2", "Sisa saldo: Rp70.000"] {
        assert!(text.contains(part), "{part} in {text}");
    }
}

#[test]
fn every_failure_gets_a_plain_sentence() {
    let sold_out = CheckoutError::Product(ProductRejection::ExceedsAvailable { available: 0, requested: 1 });
    assert_eq!(checkout_failed(&sold_out), "Maaf, stok habis 🙏");
    let poor = CheckoutError::InsufficientBalance { available: Money::rupiah(5_000), required: Money::rupiah(15_000) };
    assert!(checkout_failed(&poor).contains("saldo Rp5.000, dibutuhkan Rp15.000"));
    let busy = CheckoutError::Unavailable(CallError::Busy);
    assert!(checkout_failed(&busy).contains("Coba lagi"));
    let open = CheckoutError::OpenOrderExists { order: OrderId::parse("TRX-0a1b2c3d4e-1").unwrap() };
    assert!(checkout_failed(&open).contains("*batal*"));
    let settling = CheckoutError::EarlierPurchaseUnsettled { order: OrderId::parse("TRX-0a1b2c3d4e-1").unwrap() };
    assert!(checkout_failed(&settling).contains("(TRX-0a1b2c3d4e-1) belum selesai diproses"));
    assert!(not_a_command(&CommandError::UnknownCommand { word: "halo".into() }).contains("*menu*"));
    assert_eq!(
        not_a_command(&CommandError::QuantityInvalid { given: "0".into(), max: 100 }),
        "Jumlah harus angka 1 sampai 100."
    );
}

#[test]
fn a_balance_says_how_much_there_is() {
    let plain = WalletBalance { balance: Money::rupiah(50_000), available: Money::rupiah(50_000) };
    assert_eq!(balance(&plain), "Saldo kamu: Rp50.000");
}
