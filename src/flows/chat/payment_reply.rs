//! What the shop says about QRIS payments, in Bahasa Indonesia: the code to scan, the payment
//! received, the payment that came too late, the code that expired, Midtrans being down.

use warung_actors::domain::{ItemSecret, Money, OrderId, UnixMs};
use warung_actors::wallet::WalletBalance;

/// Western Indonesia Time, the time customers read expiries in: UTC+7, no daylight saving.
const WIB_OFFSET_SECS: i64 = 7 * 3600;

/// `14:05 WIB` for a moment in Unix milliseconds.
pub fn wib_time(at: UnixMs) -> String {
    let secs = at.div_euclid(1000) + WIB_OFFSET_SECS;
    format!("{:02}:{:02} WIB", secs.div_euclid(3600).rem_euclid(24), secs.div_euclid(60).rem_euclid(60))
}

/// The caption under the QR image.
pub fn scan_to_pay(what: &str, gross: Money, unique_code: i64, expires_at: UnixMs) -> String {
    format!(
        "Scan QRIS ini untuk membayar {what}.\nTotal: *{gross}* (termasuk kode unik Rp{unique_code}, \
         masuk ke saldo kamu)\nBerlaku sampai {}.",
        wib_time(expires_at)
    )
}

pub fn pay_exact_amount(for_an_order: bool) -> String {
    if for_an_order {
        "Bayar tepat sesuai total di atas. Ketik *batal* untuk membatalkan pesanan.".to_string()
    } else {
        "Bayar tepat sesuai total di atas; saldo bertambah begitu pembayaran masuk.".to_string()
    }
}

pub fn for_order(order: &OrderId) -> String {
    format!("pesanan {order}")
}

pub fn for_top_up(amount: Money) -> String {
    format!("top up saldo {amount}")
}

/// The QR could not be made as an image; the raw QRIS text still pays in most apps.
pub fn qr_text(qr_string: &str) -> String {
    format!("Kode QRIS (salin ke aplikasi pembayaran): {qr_string}")
}

pub fn qris_unavailable() -> String {
    "Maaf, pembayaran QRIS sedang gangguan 🙏 Tidak ada yang ditagih dan stok sudah dilepas. \
     Coba lagi sebentar lagi, atau bayar pakai saldo: *beli <kode>*."
        .to_string()
}

pub fn qris_busy() -> String {
    "Maaf, antrian pembayaran QRIS sedang penuh 🙏 Coba lagi sebentar lagi, atau bayar pakai saldo: \
     *beli <kode>*."
        .to_string()
}

pub fn above_qris_limit(max: Money) -> String {
    format!("Maaf, satu pembayaran QRIS paling banyak {max}. Kecilkan jumlahnya, atau bayar pakai saldo.")
}

/// A customer asks for a top-up while their last one is still open: one at a time.
pub fn top_up_still_open(gross: Money, expires_at: UnixMs) -> String {
    format!(
        "Kamu masih punya top up {gross} yang belum dibayar (berlaku sampai {}). Bayar yang itu dulu, \
         atau tunggu sampai waktunya habis.",
        wib_time(expires_at)
    )
}

pub fn whole_rupiah_only() -> String {
    "Maaf, QRIS hanya bisa untuk nominal rupiah bulat.".to_string()
}

pub fn order_paid(order: &OrderId, items: &[ItemSecret], surplus: Option<(Money, &WalletBalance)>) -> String {
    let mut text = format!("Pembayaran QRIS diterima ✅\nPesanan {order}\n");
    if items.is_empty() {
        text.push_str("Pesanan kamu sedang diproses.");
    } else {
        text.push_str("Item kamu:");
        for item in items {
            text.push_str(&format!("\n{}", item.expose()));
        }
    }
    if let Some((code, balance)) = surplus {
        text.push_str(&format!("\n\nKode unik {code} masuk ke saldo kamu. Saldo: {}", balance.available));
    }
    text
}

pub fn paid_too_late(order: &OrderId, amount: Money, balance: &WalletBalance) -> String {
    format!(
        "Pembayaran {amount} diterima, tapi pesanan {order} sudah lunas atau tidak berlaku lagi (waktu habis atau \
         dibatalkan). Uangnya masuk ke saldo kamu 🙏 Saldo sekarang: {}",
        balance.available
    )
}

/// A payment the shop owner confirmed (a bank transfer) delivered the order.
pub fn transfer_received(order: &OrderId, items: &[ItemSecret]) -> String {
    let mut text = format!("Pembayaran untuk pesanan {order} sudah dikonfirmasi ✅");
    if !items.is_empty() {
        text.push_str("\nItem kamu:");
        for item in items {
            text.push_str(&format!("\n{}", item.expose()));
        }
    }
    text
}

/// What the customer is told of a payment the shop owner confirmed (a transfer, an admin-recorded
/// payment or top-up).
pub fn confirmed(outcome: &crate::checkout::PaymentOutcome) -> String {
    use crate::checkout::PaymentOutcome;
    match outcome {
        PaymentOutcome::Delivered { order, items, .. } => transfer_received(order, items),
        PaymentOutcome::CreditedToWallet { order: Some(order), amount, balance } => {
            paid_too_late(order, *amount, balance)
        }
        PaymentOutcome::CreditedToWallet { order: None, amount, balance } => top_up_paid(*amount, balance),
    }
}

pub fn top_up_paid(amount: Money, balance: &WalletBalance) -> String {
    format!("Top up {amount} berhasil ✅ Saldo kamu sekarang {}.", balance.available)
}

pub fn order_payment_closed(order: &OrderId, expired: bool) -> String {
    let why = if expired { "Waktu pembayaran habis" } else { "Pembayaran dibatalkan" };
    format!("{why} untuk pesanan {order}. Stoknya sudah dilepas. Ketik *produk* untuk belanja lagi.")
}

pub fn top_up_closed(amount: Money, expired: bool) -> String {
    let why = if expired { "sudah kedaluwarsa" } else { "dibatalkan" };
    format!("QRIS top up {amount} {why}. Ketik *topup <nominal>* untuk mencoba lagi.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_are_told_in_western_indonesia_time() {
        // 2026-11-27 07:05:00 UTC is 14:05 in Jakarta.
        assert_eq!(wib_time(1_795_763_100_000), "14:05 WIB");
        assert_eq!(wib_time(0), "07:00 WIB");
    }

    #[test]
    fn the_caption_names_the_exact_total_and_the_unique_code() {
        let caption = scan_to_pay("pesanan X", Money::rupiah(15_123), 123, 0);
        assert!(caption.contains("*Rp15.123*") && caption.contains("kode unik Rp123"), "{caption}");
    }
}
