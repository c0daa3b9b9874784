//! The owner on WhatsApp: every admin command through the same rules as the admin API, audited
//! under the admin's number; a customer who types one gets the ordinary "not recognised".

use warung::checkout::{OrderState, Role};
use warung_actors::domain::Money;

use crate::helpers::*;
use crate::shop::*;
use crate::transfer_flows::{with_transfer, OWNER};

const NOT_RECOGNISED: &str = "perintah tidak dikenali";

#[actix_rt::test]
async fn a_customer_typing_owner_commands_is_told_only_that_the_command_is_not_recognised() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::Accepting, with_transfer).await;
    let product = product_with_items(&shop.engine, "viu", 15_000, 1).await;
    let commands = ["laporan", "stok", "harga viu 1000", "tutup viu", "lunas TRX-00000000aa-1700000000000", "admin"];
    for (at, text) in commands.iter().enumerate() {
        let answer = shop.ask("6281200", text, at + 1).await;
        assert!(answer.contains(NOT_RECOGNISED), "{text}: {answer}");
        assert!(!answer.contains("admin") && !answer.contains("laporan"), "no hint: {answer}");
    }
    let snapshot = shop.engine.lanes.product_snapshot(&product).await.unwrap();
    assert_eq!((snapshot.price, snapshot.active), (Money::rupiah(15_000), true), "nothing changed");
    shop.finish().await;
}

#[actix_rt::test]
async fn laporan_and_stok_show_todays_sales_and_the_stock_left() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::Accepting, with_transfer).await;
    product_with_items(&shop.engine, "viu", 15_000, 5).await;
    fund(&shop.engine, "6281201", 30_000).await;
    shop.ask("6281201", "beli viu 2", 1).await;

    let report = shop.ask(OWNER, "laporan", 1).await;
    for part in ["Pesanan lunas: 1", "Item terjual: 2", "Rp30.000", "Terlaris: viu"] {
        assert!(report.contains(part), "{part} in {report}");
    }
    let stock = shop.ask(OWNER, "stok", 2).await;
    assert!(stock.contains("viu: 3 / 0 / 2"), "{stock}");
    let one = shop.ask(OWNER, "stok viu", 3).await;
    assert!(one.contains("Tersedia: 3") && one.contains("Terjual: 2"), "{one}");
    let help = shop.ask(OWNER, "admin", 4).await;
    assert!(help.contains("tambahstok") && help.contains("lunas"), "{help}");
    let usage = shop.ask(OWNER, "harga viu", 5).await;
    assert!(usage.contains("Format: *harga <kode> <nominal>"), "{usage}");
    shop.finish().await;
}

#[actix_rt::test]
async fn tambahstok_adds_items_line_by_line_or_a_count_and_refuses_a_duplicate() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::Accepting, with_transfer).await;
    let viu = product_with_items(&shop.engine, "viu", 15_000, 1).await;
    let added = shop.ask(OWNER, "tambahstok viu\nAkun-Baru-1:Pass\nAkun-Baru-2:Pass", 1).await;
    assert!(added.contains("2 stok ditambahkan") && added.contains("Tersedia sekarang: 3"), "{added}");
    let duplicate = shop.ask(OWNER, "tambahstok viu\nviu-item-0", 2).await;
    assert!(duplicate.contains("sudah ada di stok"), "{duplicate}");
    let counted_refused = shop.ask(OWNER, "tambahstok viu 5", 3).await;
    assert!(counted_refused.contains("produk item"), "{counted_refused}");
    assert_eq!(shop.engine.lanes.product_snapshot(&viu).await.unwrap().available, 3);

    let pulsa = code("pulsa");
    assert!(shop
        .engine
        .catalog
        .create(&pulsa, "Pulsa 10k", Money::rupiah(11_000), warung_actors::journal::StockKind::Counted)
        .await
        .unwrap());
    let counted = shop.ask(OWNER, "tambahstok pulsa 25", 4).await;
    assert!(counted.contains("25 stok ditambahkan"), "{counted}");
    assert_eq!(shop.engine.lanes.product_snapshot(&pulsa).await.unwrap().available, 25);
    let moves = shop.engine.store.movements_of(&pulsa, 10).await.unwrap();
    assert_eq!(moves[0].actor, format!("admin:{OWNER}"), "audited under the admin's number");
    shop.finish().await;
}

#[actix_rt::test]
async fn harga_keeps_the_minimum_and_asks_to_confirm_a_large_change() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::Accepting, with_transfer).await;
    let viu = product_with_items(&shop.engine, "viu", 15_000, 1).await;
    let low = shop.ask(OWNER, "harga viu 500", 1).await;
    assert!(low.contains("paling rendah Rp1.000"), "{low}");
    let small = shop.ask(OWNER, "harga viu 16.000", 2).await;
    assert!(small.contains("sekarang Rp16.000"), "{small}");
    assert_eq!(shop.engine.lanes.product_snapshot(&viu).await.unwrap().price, Money::rupiah(16_000));

    let large = shop.ask(OWNER, "harga viu 40000", 3).await;
    assert!(large.contains("konfirmasi PR-"), "{large}");
    assert_eq!(shop.engine.lanes.product_snapshot(&viu).await.unwrap().price, Money::rupiah(16_000), "held");
    let request = large.split("*konfirmasi ").nth(1).unwrap().split('*').next().unwrap().to_string();
    let confirmed = shop.ask(OWNER, &format!("konfirmasi {request}"), 4).await;
    assert!(confirmed.contains("sekarang Rp40.000"), "{confirmed}");
    assert_eq!(shop.engine.lanes.product_snapshot(&viu).await.unwrap().price, Money::rupiah(40_000));
    let audit = shop.engine.store.audit_trail(Some("viu"), 10).await.unwrap();
    assert!(audit.iter().any(|row| row.admin == OWNER), "{audit:?}");
    shop.finish().await;
}

#[actix_rt::test]
async fn ubahsaldo_refund_and_tutup_change_money_and_sale_through_the_actors() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::Accepting, with_transfer).await;
    let viu = product_with_items(&shop.engine, "viu", 15_000, 2).await;
    fund(&shop.engine, "6281202", 15_000).await;
    shop.ask("6281202", "beli viu", 1).await;
    let order = shop.engine.store.orders_of(&customer("6281202"), 1).await.unwrap().remove(0);

    let bonus = shop.ask(OWNER, "ubahsaldo 6281202 +5.000 bonus ulang tahun", 1).await;
    assert!(bonus.contains("ditambah Rp5.000") && bonus.contains("Rp5.000."), "{bonus}");
    let too_much = shop.ask(OWNER, "ubahsaldo 6281202 -9000 koreksi", 2).await;
    assert!(too_much.contains("tidak cukup"), "{too_much}");
    let no_reason = shop.ask(OWNER, "ubahsaldo 6281202 -1000", 3).await;
    assert!(no_reason.contains("Format"), "{no_reason}");

    let refunded = shop.ask(OWNER, &format!("refund {} akun tidak bisa login", order.id), 4).await;
    assert!(refunded.contains("dikembalikan") && refunded.contains("Rp20.000"), "{refunded}");
    shop.ask(OWNER, &format!("refund {} lagi", order.id), 5).await;
    let balance = shop.engine.checkout.balance(&customer("6281202")).await.unwrap();
    assert_eq!(balance.balance, Money::rupiah(20_000), "refunded once");
    let row = shop.engine.store.order(&order.id).await.unwrap().unwrap();
    assert_eq!(row.state, OrderState::Refunded);
    let ledger = shop.engine.store.ledger_of(&customer("6281202"), 10).await.unwrap();
    assert!(ledger.iter().filter(|e| e.actor == format!("admin:{OWNER}")).count() >= 2, "{ledger:?}");

    let closed = shop.ask(OWNER, "tutup viu", 6).await;
    assert!(closed.contains("tidak dijual"), "{closed}");
    assert!(!shop.engine.lanes.product_snapshot(&viu).await.unwrap().active);
    let opened = shop.ask(OWNER, "buka viu", 7).await;
    assert!(opened.contains("dijual lagi"), "{opened}");
    assert!(shop.engine.lanes.product_snapshot(&viu).await.unwrap().active);
    shop.finish().await;
}

#[actix_rt::test]
async fn a_customer_given_the_admin_role_runs_the_shop_from_the_chat_too() {
    let shop = spawn_shop(Backend::Sqlite).await;
    product_with_items(&shop.engine, "viu", 15_000, 1).await;
    let before = shop.ask("6281203", "laporan", 1).await;
    assert!(before.contains(NOT_RECOGNISED), "{before}");
    shop.engine.checkout.set_role(&customer("6281203"), Role::Admin, "admin:test").await.unwrap();
    let report = shop.ask("6281203", "laporan", 2).await;
    assert!(report.contains("Laporan"), "{report}");
    let bought = shop.ask("6281203", "saldo", 3).await;
    assert!(bought.contains("Saldo kamu"), "customer commands still work: {bought}");
    shop.finish().await;
}

#[actix_rt::test]
async fn greetings_typos_a_code_alone_and_status_without_an_id_get_useful_answers() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::Accepting, with_transfer).await;
    product_with_items(&shop.engine, "viu", 15_000, 2).await;
    fund(&shop.engine, "6281204", 15_000).await;
    let hello = shop.ask("6281204", "Assalamualaikum kak", 1).await;
    assert!(hello.contains("Selamat datang") && hello.contains("transfer"), "{hello}");
    let thanks = shop.ask("6281204", "makasih", 2).await;
    assert!(thanks.contains("Sama-sama"), "{thanks}");
    let offer = shop.ask("6281204", "viu", 3).await;
    assert!(offer.contains("Mau beli?"), "{offer}");
    let buttons = shop.sent_to("6281204").await.pop().unwrap();
    let ids: Vec<&str> = buttons["interactive"]["action"]["buttons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["reply"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["beli viu", "beli viu qris", "beli viu transfer"]);
    let balance = shop.ask("6281204", "saldo?", 4).await;
    assert!(balance.contains("Saldo kamu: Rp15.000"), "{balance}");
    let none = shop.ask("6281204", "status", 5).await;
    assert!(none.contains("Tidak ada pesanan yang menunggu"), "{none}");
    shop.ask("6281204", "beil viu transfer", 6).await;
    let open = shop.ask("6281204", "status", 7).await;
    assert!(open.contains("menunggu pembayaran"), "the open order: {open}");
    shop.finish().await;
}
