//! What the shop says to its owner on WhatsApp, in Bahasa Indonesia: short, with the numbers
//! that matter and the next command to type.

use rust_decimal::Decimal;
use warung_actors::domain::{CustomerId, Money, OrderId, ProductCode, Quantity};
use warung_actors::product::{PriceTier, ProductRejection, ProductSnapshot};
use warung_actors::runtime::CallError;
use warung_actors::wallet::{WalletBalance, WalletRejection};

use super::command::OwnerCommandError;
use super::report::{rupiah_text, SalesReport};
use crate::checkout::{CheckoutError, PaymentOutcome};
use crate::flows::admin::{PriceError, ProductError};
use crate::flows::chat::reply;
use crate::flows::qris::{TransferConfirmed, TransferError};
use crate::infra::wib;
use crate::store::admin::PriceRequest;
use crate::store::reports::Waiting;
use crate::store::{ChargeRow, StoreError};

/// The reason the audit trail keeps for a change made from the chat.
pub const VIA_WHATSAPP: &str = "lewat WhatsApp";

/// Products `stok` lists in one message.
const STOCK_LISTED_MAX: usize = 40;

pub fn help() -> String {
    "Perintah admin:\n\
     • *laporan* — penjualan hari ini\n\
     • *stok [kode]* — sisa stok\n\
     • *tambahstok <kode> <jumlah>* — tambah stok (produk hitungan)\n\
     • *tambahstok <kode>* lalu satu item per baris — tambah stok item\n\
     • *harga <kode> <nominal> [reseller]* — ubah harga\n\
     • *konfirmasi <id>* — setujui perubahan harga besar\n\
     • *ubahsaldo <nomor> <+/-nominal> <alasan>* — ubah saldo pelanggan\n\
     • *refund <id pesanan> <alasan>* — kembalikan ke saldo\n\
     • *tutup <kode>* / *buka <kode>* — hentikan / buka penjualan\n\
     • *lunas <id pesanan>* — transfer bank sudah masuk"
        .to_string()
}

pub fn not_understood(error: &OwnerCommandError) -> String {
    match error {
        OwnerCommandError::Usage { usage } => format!("Format: *{usage}*"),
        OwnerCommandError::ProductCodeInvalid { given } => format!("Kode produk \"{given}\" tidak valid."),
        OwnerCommandError::AmountInvalid { given } => {
            format!("Nominal \"{given}\" tidak valid. Tulis angka rupiah, misalnya 20000 atau 20.000.")
        }
        OwnerCommandError::CustomerInvalid { given } => {
            format!("\"{given}\" bukan nomor WhatsApp. Tulis seperti 6281234567890.")
        }
        OwnerCommandError::OrderIdInvalid { given } => format!("Id pesanan \"{given}\" tidak valid."),
        OwnerCommandError::ItemInvalid { line, reason } => format!("Baris {line} tidak bisa dipakai: {reason}."),
        OwnerCommandError::TooManyItems { max } => {
            format!("Paling banyak {max} item per pesan; kirim sisanya terpisah.")
        }
    }
}

/// `laporan`: today's sales, what waits, what runs low.
/// Transfers `laporan` names; more are counted.
const TRANSFERS_LISTED_MAX: usize = 20;

pub fn report(
    date: &str,
    sales: &SalesReport,
    waiting: Waiting,
    low: &[ProductSnapshot],
    transfers: &[ChargeRow],
) -> String {
    let today = sales.today();
    let mut text = format!(
        "📊 Laporan {date}\nPesanan lunas: {}\nItem terjual: {}\nPendapatan: {}\n",
        today.orders,
        today.units,
        today.revenue_text()
    );
    if let Some(best) = sales.best_sellers.first() {
        text.push_str(&format!("Terlaris: {} ({} item)\n", best.product, best.sales.units));
    }
    text.push_str(&format!(
        "\nMenunggu pembayaran: {}\nPerlu dicek (review): {}",
        waiting.awaiting_payment, waiting.in_review
    ));
    if !transfers.is_empty() {
        text.push_str("\n\nTransfer menunggu konfirmasi (cocokkan jumlahnya dengan mutasi rekening):");
        for charge in transfers.iter().take(TRANSFERS_LISTED_MAX) {
            let order = charge.order.as_ref().map(|o| o.to_string()).unwrap_or_default();
            text.push_str(&format!("\n• {} — {order} (sampai {})", charge.gross, wib::time_text(charge.expires_at)));
        }
        if transfers.len() > TRANSFERS_LISTED_MAX {
            text.push_str(&format!("\n…dan {} lagi.", transfers.len() - TRANSFERS_LISTED_MAX));
        }
        text.push_str("\nSudah masuk? Balas *lunas <id pesanan>*.");
    }
    if !low.is_empty() {
        text.push_str("\n\nStok menipis:");
        for s in low {
            text.push_str(&format!("\n• {} — sisa {}", s.code, s.available));
        }
    }
    text
}

pub fn stock_list(snapshots: &[ProductSnapshot]) -> String {
    if snapshots.is_empty() {
        return "Belum ada produk.".to_string();
    }
    let mut text = String::from("Stok (tersedia / dipesan / terjual):");
    for s in snapshots.iter().take(STOCK_LISTED_MAX) {
        let off = if s.active { "" } else { " (tidak dijual)" };
        text.push_str(&format!("\n• {}: {} / {} / {}{off}", s.code, s.available, s.reserved, s.sold));
    }
    text
}

pub fn stock_one(s: &ProductSnapshot) -> String {
    let reseller = s.reseller_price.map(|p| format!("\nHarga reseller: {p}")).unwrap_or_default();
    format!(
        "*{}* — {}\nHarga: {}{reseller}\nTersedia: {}\nDipesan: {}\nTerjual: {}\nDijual: {}",
        s.code,
        s.name,
        s.price,
        s.available,
        s.reserved,
        s.sold,
        if s.active { "ya" } else { "tidak" }
    )
}

pub fn restocked(product: &ProductCode, added: Quantity, available: i64) -> String {
    format!("✅ {added} stok ditambahkan ke {product}. Tersedia sekarang: {available}.")
}

pub fn restock_refused(product: &ProductCode, rejection: &ProductRejection) -> String {
    match rejection {
        ProductRejection::DuplicateItem { index } => format!(
            "Item ke-{} sudah ada di stok {product} atau terulang di pesan ini; tidak ada yang ditambahkan.",
            index + 1
        ),
        ProductRejection::RestockKindMismatch { .. } => format!(
            "{product} tidak cocok dengan cara ini: produk hitungan ditambah dengan *tambahstok {product} <jumlah>*, \
             produk item dengan satu item per baris."
        ),
        ProductRejection::ExistsWithDifferentContent => {
            "Pesan ini sudah dipakai untuk stok lain; kirim pesan baru.".to_string()
        }
        other => reply::product_refused(other),
    }
}

pub fn price_unchanged(product: &ProductCode, price: Money) -> String {
    format!("Harga {product} memang sudah {price}.")
}

pub fn price_applied(product: &ProductCode, tier: PriceTier, price: Money) -> String {
    format!("✅ Harga {}{product} sekarang {price}.", tier_words(tier))
}

pub fn price_pending(request: &PriceRequest, confirm_percent: u32) -> String {
    let from = request.from_price.map(|p| p.to_string()).unwrap_or_else(|| "-".into());
    format!(
        "⚠️ Perubahan harga {}{} dari {from} ke {} lebih dari {confirm_percent}%.\n\
         Balas *konfirmasi {}* sebelum {} untuk menerapkannya.",
        tier_words(request.tier),
        request.product,
        request.to_price,
        request.id,
        wib::time_text(request.expires_at)
    )
}

pub fn price_confirmed(request: &PriceRequest) -> String {
    format!("✅ Harga {}{} sekarang {}.", tier_words(request.tier), request.product, request.to_price)
}

fn tier_words(tier: PriceTier) -> &'static str {
    match tier {
        PriceTier::Member => "",
        PriceTier::Reseller => "reseller ",
    }
}

pub fn price_refused(error: &PriceError) -> String {
    match error {
        PriceError::BelowMinimum { minimum } => format!("Harga paling rendah {minimum}. Tidak ada yang diubah."),
        PriceError::RequestNotFound { id } => format!("Tidak ada permintaan harga {id}."),
        PriceError::RequestClosed { .. } => "Permintaan itu sudah selesai.".to_string(),
        PriceError::RequestExpired => "Waktu konfirmasi sudah habis; kirim *harga* lagi.".to_string(),
        PriceError::PriceChangedSinceRequest => "Harganya sudah berubah sejak itu; kirim *harga* lagi.".to_string(),
        PriceError::RequestIdNotAReference(_) => "Id permintaan tidak valid.".to_string(),
        PriceError::Store(error) => store_failed(error),
        PriceError::Call(error) => call_failed(error),
        PriceError::Checkout(error) => checkout_refused(error),
    }
}

pub fn product_refused(error: &ProductError) -> String {
    match error {
        ProductError::Call(error) => call_failed(error),
        ProductError::Checkout(error) => checkout_refused(error),
        ProductError::Price(error) => price_refused(error),
        ProductError::NameMustBeShort { .. }
        | ProductError::NothingToChange
        | ProductError::Exists { .. }
        | ProductError::NotStored(_) => format!("Tidak bisa: {error}."),
    }
}

pub fn on_sale(snapshot: &ProductSnapshot) -> String {
    match snapshot.active {
        true => format!("✅ {} dijual lagi. Tersedia: {}.", snapshot.code, snapshot.available),
        false => format!(
            "✅ {} tidak dijual untuk sementara. Ketik *buka {}* untuk menjual lagi.",
            snapshot.code, snapshot.code
        ),
    }
}

pub fn adjusted(customer: &CustomerId, delta: Decimal, balance: &WalletBalance) -> String {
    let change = match delta.is_sign_negative() {
        true => format!("dikurangi {}", rupiah_text(-delta)),
        false => format!("ditambah {}", rupiah_text(delta)),
    };
    format!("✅ Saldo {customer} {change}. Saldo sekarang: {}.", balance.balance)
}

pub fn refunded(order: &OrderId, balance: &WalletBalance) -> String {
    format!("✅ Pesanan {order} dikembalikan ke saldo pelanggan. Saldo mereka sekarang: {}.", balance.balance)
}

pub fn transfer_confirmed(confirmed: &TransferConfirmed) -> String {
    let again = if confirmed.repeat { " (sudah dikonfirmasi sebelumnya; tidak ada yang diubah)" } else { "" };
    match &confirmed.outcome {
        PaymentOutcome::Delivered { items, .. } => format!(
            "✅ Transfer {} untuk {} dicatat{again}. {} item sudah dikirim ke pelanggan.",
            confirmed.amount,
            confirmed.order,
            items.len()
        ),
        PaymentOutcome::CreditedToWallet { amount, .. } => format!(
            "✅ Transfer {} untuk {} dicatat{again}. Pesanan sudah tidak berlaku, jadi {amount} masuk ke saldo \
             pelanggan.",
            confirmed.amount, confirmed.order
        ),
    }
}

pub fn transfer_refused(error: &TransferError) -> String {
    match error {
        TransferError::OrderNotFound(order) => format!("Pesanan {order} tidak ditemukan."),
        TransferError::NotATransferOrder(order) => format!("Pesanan {order} tidak dibayar dengan transfer bank."),
        TransferError::Charge(_) => "Pembayaran pesanan ini sedang dicek (review); selesaikan di halaman admin.".into(),
        TransferError::Payment(error) => {
            format!("Belum selesai ({error}). Kirim *lunas* lagi: aman, tidak akan tercatat dua kali.")
        }
    }
}

pub fn checkout_refused(error: &CheckoutError) -> String {
    match error {
        CheckoutError::Wallet(WalletRejection::InsufficientBalance { available, .. }) => {
            format!("Saldo pelanggan tidak cukup (saldo {available}); tidak ada yang diubah.")
        }
        CheckoutError::Wallet(WalletRejection::AlreadyRefunded) => "Pesanan itu sudah dikembalikan.".to_string(),
        CheckoutError::Wallet(WalletRejection::ExistsWithDifferentContent) => {
            "Pesan ini sudah dipakai untuk perubahan lain; kirim pesan baru.".to_string()
        }
        other => reply::checkout_failed(other),
    }
}

pub fn call_failed(error: &CallError) -> String {
    reply::unavailable(error)
}

pub fn store_failed(error: &StoreError) -> String {
    tracing::error!(%error, "an owner's command could not read the store");
    "Database sedang tidak bisa dibaca 🙏 Coba lagi sebentar lagi.".to_string()
}
