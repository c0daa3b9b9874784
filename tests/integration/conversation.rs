//! The chat against the real engine: each command answered in Bahasa Indonesia, with what the
//! engine really did.

use warung::flows::chat::{Answer, Conversation, PaymentRequest};
use warung::providers::whatsapp::Content;
use warung_actors::domain::{Money, OrderId};

use crate::helpers::*;

fn text(answer: Answer) -> String {
    match answer {
        Answer::Text(text) | Answer::Choices { text, .. } => text,
        other => panic!("expected a text answer, got {other:?}"),
    }
}

async fn say(conversation: &Conversation, who: &str, message: &str) -> String {
    text(conversation.answer(&customer(who), &Content::Text(message.into()), OrderId::generate()).await)
}

async fn a_customer_browses_buys_with_saldo_and_checks_the_order(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    let chat = spawn_app(&engine).gateway.conversation;
    let product = product_with_items(&engine, "viu1b", 15_000, 2).await;
    fund(&engine, "budi", 20_000).await;

    let menu = say(&chat, "budi", "menu").await;
    assert!(menu.contains("Selamat datang di Warung") && menu.contains("*viu1b* viu1b — Rp15.000 (stok 2)"), "{menu}");

    let bought = say(&chat, "budi", "BELI viu1b").await;
    assert!(bought.contains("Pembayaran berhasil") && bought.contains("viu1b-item-0"), "{bought}");
    assert!(bought.contains("Sisa saldo: Rp5.000"), "{bought}");
    assert_eq!(say(&chat, "budi", "saldo").await, "Saldo kamu: Rp5.000");
    assert!(say(&chat, "budi", "/produk").await.contains("(stok 1)"));

    let order = engine.store.orders_of(&customer("budi"), 1).await.unwrap().remove(0);
    let status = say(&chat, "budi", &format!("status {}", order.id)).await;
    assert!(status.contains("Status: lunas"), "{status}");
    assert_eq!(say(&chat, "ani", &format!("cek {}", order.id)).await, "Pesanan tidak ditemukan.", "not another's");
    let history = say(&chat, "budi", "riwayat").await;
    assert!(history.contains(order.id.as_str()) && history.contains("lunas"), "{history}");

    let poor = say(&chat, "budi", "beli viu1b").await;
    assert!(poor.contains("Saldo tidak cukup: saldo Rp5.000, dibutuhkan Rp15.000"), "{poor}");
    fund(&engine, "ani", 100_000).await;
    assert!(say(&chat, "ani", "beli viu1b").await.contains("viu1b-item-1"));
    assert_eq!(say(&chat, "ani", "beli viu1b").await, "Maaf, stok habis 🙏");
    assert_eq!(engine.lanes.product_snapshot(&product).await.unwrap().sold, 2);
    engine.finish().await;
}

on_both_backends!(a_customer_browses_buys_with_saldo_and_checks_the_order);

#[actix_rt::test]
async fn qris_payments_are_handed_on_and_everything_else_gets_a_helpful_reply() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    let chat = spawn_app(&engine).gateway.conversation;
    let product = product_with_items(&engine, "netflix", 54_500, 1).await;
    let budi = customer("budi");

    let order = OrderId::generate();
    let qris = chat.answer(&budi, &Content::Text("beli netflix 1 qris".into()), order.clone()).await;
    assert_eq!(qris, Answer::Payment(PaymentRequest::Purchase { order, product: product.clone(), quantity: 1 }));
    let payment = OrderId::generate();
    let top_up = chat.answer(&budi, &Content::Text("topup 50.000".into()), payment.clone()).await;
    assert_eq!(top_up, Answer::Payment(PaymentRequest::TopUp { payment, amount: Money::rupiah(50_000) }));
    let choice = Content::Choice { id: "produk".into(), title: "Lihat produk".into() };
    match chat.answer(&budi, &choice, OrderId::generate()).await {
        Answer::Choices { text, choices } => {
            assert!(text.contains("*netflix*"));
            assert_eq!(choices[0].id, "beli netflix", "tapping a product buys it");
        }
        other => panic!("expected a list to choose from, got {other:?}"),
    }

    let image = chat.answer(&budi, &Content::Media { kind: "image".into(), caption: None }, OrderId::generate()).await;
    assert!(text(image).contains("hanya bisa membaca pesan teks"));
    assert!(say(&chat, "budi", "apa kabar").await.contains("Ketik *menu*"));
    assert!(say(&chat, "budi", "beli").await.contains("kode produknya"));
    assert_eq!(say(&chat, "budi", "batal").await, "Tidak ada pesanan yang menunggu pembayaran.");
    assert!(say(&chat, "budi", "beli nothing").await.contains("Produk tidak ditemukan"));
    assert_eq!(say(&chat, "budi", "riwayat").await, "Belum ada pesanan. Ketik *produk* untuk mulai belanja.");

    let pending = engine.checkout.buy_with_external(&budi, &product, 1).await.unwrap();
    assert!(say(&chat, "budi", "/produk").await.contains("(habis)"), "held for the unpaid order");
    let blocked = say(&chat, "budi", "beli netflix").await;
    assert!(blocked.contains("belum dibayar") && blocked.contains("*batal*"), "{blocked}");
    assert_eq!(
        say(&chat, "budi", "BATAL").await,
        format!("Pesanan {} dibatalkan. Stoknya sudah dilepas.", pending.order)
    );
    assert!(say(&chat, "budi", "produk").await.contains("(stok 1)"), "released");
    engine.finish().await;
}
