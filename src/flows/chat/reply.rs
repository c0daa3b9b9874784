//! What the shop says back, in Bahasa Indonesia. Every way a command can fail has its own plain
//! sentence (exhaustive matches: a new rule must be given words here), never a stack trace.
//! Amounts are Rupiah as customers write them (`Rp15.000`).

use warung_actors::domain::{ItemSecret, Money, OrderId, ProductCode, ORDER_QUANTITY_MAX};
use warung_actors::product::ProductRejection;
use warung_actors::runtime::CallError;
use warung_actors::wallet::{WalletBalance, WalletRejection};

use super::command::CommandError;
use crate::checkout::{CheckoutError, OrderRow, OrderState, Purchase};
use crate::providers::whatsapp::Choice;

/// A product as the list shows it: from the actors' gauges, not a database query per message.
#[derive(Clone, Debug, PartialEq)]
pub struct ProductLine {
    pub code: ProductCode,
    pub name: String,
    pub price: Money,
    pub available: i64,
}

/// The menu: what the shop sells and how to buy (by transfer too, where the shop takes it). The
/// answer to a greeting as well.
pub fn menu(shop: &str, welcome: &str, products: &[ProductLine], transfer: bool) -> String {
    let mut text = format!("Selamat datang di {shop}! 👋\n\n");
    if !welcome.is_empty() {
        text.push_str(welcome);
        text.push_str("\n\n");
    }
    text.push_str(&product_list(products));
    text.push_str(
        "\n\nCara belanja:\n\
         • *beli <kode> [jumlah]* — bayar dengan saldo\n\
         • *beli <kode> [jumlah] qris* — bayar dengan QRIS",
    );
    if transfer {
        text.push_str("\n• *beli <kode> [jumlah] transfer* — bayar dengan transfer bank");
    }
    text.push_str(
        "\n• *saldo* — cek saldo, *topup <nominal>* — isi saldo\n\
         • *riwayat* — pesanan terakhir, *status [id pesanan]* — cek pesanan\n\
         • *batal* — batalkan pesanan yang belum dibayar",
    );
    text
}

pub fn thanks(shop: &str) -> String {
    format!("Sama-sama, terima kasih sudah belanja di {shop}! 🙏 Ketik *menu* kapan saja untuk belanja lagi.")
}

/// A product code typed alone.
pub fn offer(line: &ProductLine) -> String {
    format!(
        "*{}* — {}\nHarga {}, stok {}.\nMau beli? Pilih cara bayar di bawah, atau ketik *beli {} <jumlah>*.",
        line.code, line.name, line.price, line.available, line.code
    )
}

pub fn offer_sold_out(line: &ProductLine) -> String {
    format!("*{}* — {} sedang habis 🙏 Ketik *produk* untuk melihat yang tersedia.", line.code, line.name)
}

/// One button per way to pay for one unit (a WhatsApp message holds three).
pub fn offer_buttons(line: &ProductLine, transfer: bool) -> Vec<Choice> {
    let button = |id: String, title: &str| Choice { id, title: title.to_string(), description: None };
    let mut buttons = vec![
        button(format!("beli {}", line.code), "Bayar saldo"),
        button(format!("beli {} qris", line.code), "Bayar QRIS"),
    ];
    if transfer {
        buttons.push(button(format!("beli {} transfer", line.code), "Transfer bank"));
    }
    buttons
}

/// `status` with no id, and no order waiting.
pub fn no_open_order() -> String {
    "Tidak ada pesanan yang menunggu pembayaran. Ketik *riwayat* untuk melihat pesanan terakhir.".to_string()
}

pub fn product_list(products: &[ProductLine]) -> String {
    if products.is_empty() {
        return "Belum ada produk yang dijual saat ini.".to_string();
    }
    let mut text = String::from("Produk:");
    for line in products {
        let stock = if line.available > 0 { format!("stok {}", line.available) } else { "habis".to_string() };
        text.push_str(&format!("\n• *{}* {} — {} ({stock})", line.code, line.name, line.price));
    }
    text
}

pub fn purchased(purchase: &Purchase) -> String {
    let mut text = format!(
        "Pembayaran berhasil ✅\nPesanan {}\n{} × {}, total {}\n",
        purchase.order, purchase.product, purchase.quantity, purchase.total
    );
    if purchase.items.is_empty() {
        text.push_str("Pesanan kamu sedang diproses.");
    } else {
        text.push_str("Item kamu:");
        for item in &purchase.items {
            text.push_str(&format!("\n{}", item.expose()));
        }
    }
    text.push_str(&format!("\n\nSisa saldo: {}", purchase.balance.available));
    text
}

pub fn balance(balance: &WalletBalance) -> String {
    format!("Saldo kamu: {}", balance.balance)
}

/// An order's state, as the customer reads it.
pub fn order_state(state: OrderState) -> &'static str {
    match state {
        OrderState::Pending => "sedang diproses",
        OrderState::AwaitingPayment => "menunggu pembayaran",
        OrderState::Paid => "lunas",
        OrderState::Failed => "gagal, tidak ada yang dipotong",
        OrderState::Cancelled => "dibatalkan",
        OrderState::Expired => "kedaluwarsa",
        OrderState::Review => "sedang dicek admin",
        OrderState::Refunded => "dikembalikan ke saldo",
    }
}

pub fn order(order: &OrderRow) -> String {
    format!(
        "Pesanan {}
{} × {}, total {}
Status: {}",
        order.id,
        order.product.home(),
        order.quantity,
        order.total,
        order_state(order.state)
    )
}

/// An order and, once paid, its items: the answer to a purchase message handled again.
pub fn order_with_items(row: &OrderRow, items: &[ItemSecret]) -> String {
    let mut text = order(row);
    if !items.is_empty() {
        text.push_str("\nItem kamu:");
        for item in items {
            text.push_str(&format!("\n{}", item.expose()));
        }
    }
    text
}

/// A product as a row to tap in a list: tapping it sends `beli <kode>`.
pub fn product_choice(line: &ProductLine) -> Choice {
    Choice {
        id: format!("beli {}", line.code),
        title: line.name.clone(),
        description: Some(format!("{} · stok {}", line.price, line.available)),
    }
}

pub fn history(orders: &[OrderRow]) -> String {
    if orders.is_empty() {
        return "Belum ada pesanan. Ketik *produk* untuk mulai belanja.".to_string();
    }
    let mut text = String::from("Pesanan terakhir:");
    for o in orders {
        text.push_str(&format!(
            "
• {} — {} × {}, {} ({})",
            o.id,
            o.product.home(),
            o.quantity,
            o.total,
            order_state(o.state)
        ));
    }
    text
}

/// Over the per-minute purchase limit.
pub fn slow_down(retry_after_secs: u64) -> String {
    format!("Terlalu banyak pembelian dalam semenit 🙏 Coba lagi dalam {retry_after_secs} detik.")
}

pub fn order_not_found() -> String {
    "Pesanan tidak ditemukan.".to_string()
}

pub fn cancelled(order: &OrderId) -> String {
    format!("Pesanan {order} dibatalkan. Stoknya sudah dilepas.")
}

pub fn nothing_to_cancel() -> String {
    "Tidak ada pesanan yang menunggu pembayaran.".to_string()
}

/// A message we cannot read as text (an image, a sticker, a location, ...).
pub fn text_only() -> String {
    "Maaf, kami hanya bisa membaca pesan teks. Ketik *menu* untuk melihat cara belanja.".to_string()
}

pub fn not_a_command(error: &CommandError) -> String {
    match error {
        CommandError::Empty | CommandError::UnknownCommand { .. } => {
            "Maaf, perintah tidak dikenali. Ketik *menu* untuk melihat produk dan cara belanja.".to_string()
        }
        CommandError::ProductCodeMissing { .. } => {
            "Tulis kode produknya, misalnya *beli viu1b*. Ketik *produk* untuk melihat kode.".to_string()
        }
        CommandError::ProductCodeInvalid { given } => {
            format!("Kode produk \"{given}\" tidak valid. Ketik *produk* untuk melihat kode.")
        }
        CommandError::QuantityInvalid { max, .. } => format!("Jumlah harus angka 1 sampai {max}."),
        CommandError::AmountMissing => "Tulis nominalnya, misalnya *topup 50000*.".to_string(),
        CommandError::AmountInvalid { given } => {
            format!("Nominal \"{given}\" tidak valid. Tulis angka rupiah, misalnya *topup 50000*.")
        }
        CommandError::AmountTooLarge { max, .. } => format!("Top up paling banyak {max} sekali bayar."),
        CommandError::OrderIdInvalid { given } => format!("Id pesanan \"{given}\" tidak valid."),
        CommandError::TrailingWords { .. } => {
            "Maaf, perintahnya kurang tepat. Ketik *menu* untuk melihat cara belanja.".to_string()
        }
    }
}

pub fn checkout_failed(error: &CheckoutError) -> String {
    match error {
        CheckoutError::ProductNotFound => product_not_found(),
        CheckoutError::Product(rule) => product_refused(rule),
        CheckoutError::InsufficientBalance { available, required } => format!(
            "Saldo tidak cukup: saldo {available}, dibutuhkan {required}. \
             Isi saldo dengan *topup <nominal>*, atau bayar dengan QRIS: *beli <kode> qris*."
        ),
        CheckoutError::Wallet(rule) => wallet_refused(rule),
        CheckoutError::EarlierPurchaseUnsettled { order } => format!(
            "Pembelian sebelumnya ({order}) belum selesai diproses, jadi saldomu masih tertahan. \
             Saldo itu aman dan kembali otomatis bila pembelian itu gagal. Coba lagi sebentar lagi ya."
        ),
        CheckoutError::OpenOrderExists { order } => format!(
            "Kamu masih punya pesanan yang belum dibayar: {order}. Bayar dulu, atau ketik *batal* untuk membatalkannya."
        ),
        CheckoutError::OrderNotFound => "Pesanan tidak ditemukan.".to_string(),
        CheckoutError::OrderNotOpen { .. } => "Pesanan itu sudah tidak bisa diubah.".to_string(),
        CheckoutError::OrderNotPaid { .. } => "Pesanan itu belum dibayar.".to_string(),
        CheckoutError::NotAnExternalOrder => "Pesanan itu dibayar dengan saldo.".to_string(),
        CheckoutError::TransferTakesOnlyItsConfirmation => {
            "Pesanan itu dibayar dengan transfer bank; konfirmasi dengan *lunas <id pesanan>*.".to_string()
        }
        CheckoutError::OrderConflict { .. } => "Pesanan itu sudah tidak bisa diubah.".to_string(),
        CheckoutError::PaymentMismatch { .. } => {
            "Pembayaran itu sudah tercatat untuk hal lain, jadi tidak dipakai lagi. Hubungi admin bila ini keliru."
                .to_string()
        }
        CheckoutError::PaymentIdTooLong { .. } | CheckoutError::ReferenceReserved { .. } => try_again(),
        CheckoutError::Unavailable(error) => unavailable(error),
    }
}

pub fn product_refused(rule: &ProductRejection) -> String {
    match rule {
        ProductRejection::ExceedsAvailable { available, .. } if *available <= 0 => "Maaf, stok habis 🙏".to_string(),
        ProductRejection::ExceedsAvailable { available, .. } => format!("Maaf, stok tinggal {available}."),
        ProductRejection::QuantityMustNotBeZero | ProductRejection::QuantityExceedsOrderLimit { .. } => {
            format!("Jumlah harus angka 1 sampai {ORDER_QUANTITY_MAX}.")
        }
        ProductRejection::ProductInactive => "Maaf, produk ini sedang tidak dijual.".to_string(),
        ProductRejection::TotalExceedsMoneyLimit => "Jumlahnya terlalu besar untuk satu pesanan.".to_string(),
        ProductRejection::ReservationExpired | ProductRejection::ReservationReleased { .. } => {
            "Waktu pesanan habis dan stoknya sudah dilepas. Silakan pesan lagi.".to_string()
        }
        ProductRejection::TimeToLiveMustBePositive
        | ProductRejection::ExistsWithDifferentQuantity { .. }
        | ProductRejection::ReservationNotFound
        | ProductRejection::AlreadyCommitted
        | ProductRejection::RestockMustNotBeEmpty
        | ProductRejection::RestockKindMismatch { .. }
        | ProductRejection::DuplicateItem { .. }
        | ProductRejection::ExistsWithDifferentContent
        | ProductRejection::PriceMustNotBeZero
        | ProductRejection::NameMustBeShort { .. }
        | ProductRejection::MoveMustNotBeEmpty
        | ProductRejection::MoveBetweenUnrelatedProducts
        | ProductRejection::MoveKindMismatch { .. } => try_again(),
    }
}

fn wallet_refused(rule: &WalletRejection) -> String {
    match rule {
        WalletRejection::InsufficientBalance { available, requested } => {
            format!("Saldo tidak cukup: saldo {available}, dibutuhkan {requested}. Isi saldo dengan *topup <nominal>*.")
        }
        WalletRejection::BalanceLimitExceeded => "Saldo sudah mencapai batas maksimum.".to_string(),
        WalletRejection::AmountMustNotBeZero
        | WalletRejection::ReasonRequired
        | WalletRejection::ExistsWithDifferentContent
        | WalletRejection::OriginalNotFound
        | WalletRejection::AlreadyRefunded => try_again(),
    }
}

pub fn unavailable(error: &CallError) -> String {
    match error {
        CallError::Busy => "Toko sedang ramai sekali 🙏 Coba lagi sebentar lagi.".to_string(),
        CallError::NotFound => product_not_found(),
        CallError::NotStored { .. }
        | CallError::StoreUnavailable { .. }
        | CallError::Quarantined { .. }
        | CallError::Stopped
        | CallError::NotOwner
        | CallError::Corrupt { .. } => try_again(),
        CallError::OutcomeUnknown { .. } => {
            "Jawabannya terputus, jadi belum pasti berhasil atau tidak 🙏 Ketik *status* untuk melihat pesananmu sebelum mencoba lagi.".to_string()
        }
    }
}

fn product_not_found() -> String {
    "Produk tidak ditemukan. Ketik *produk* untuk melihat kode yang tersedia.".to_string()
}

/// Nothing was taken: the engine never answers "try again" for a change it kept.
/// The answer to a message whose handling failed unexpectedly (a bug, logged): nothing was done.
pub fn something_went_wrong() -> String {
    "Maaf, pesan ini tidak bisa kami proses 🙏 Tidak ada yang ditagih. Coba lagi, atau ketik *menu*.".to_string()
}

fn try_again() -> String {
    "Maaf, terjadi kendala dan tidak ada yang diproses. Silakan coba lagi.".to_string()
}

#[cfg(test)]
mod tests;
