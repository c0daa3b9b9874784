//! What the shop says about bank transfers, in Bahasa Indonesia: where to send the exact amount,
//! that transfer is not offered here, and the choice of saldo or transfer when QRIS is down.

use warung_actors::domain::{Money, OrderId, ProductCode, Quantity, UnixMs};

use super::payment_reply::wib_time;
use crate::settings::BankAccount;

/// Where to send the transfer, the exact amount and until when.
pub fn send_transfer(
    order: &OrderId,
    gross: Money,
    unique_code: i64,
    account: &BankAccount,
    expires_at: UnixMs,
) -> String {
    format!(
        "Silakan transfer untuk pesanan {order}:\n\
         Bank: *{}*\nNo. rekening: *{}*\nAtas nama: *{}*\n\
         Jumlah: *{gross}* (tepat, termasuk kode unik Rp{unique_code} yang masuk ke saldo kamu)\n\
         Berlaku sampai {}.\n\n\
         Stok sudah disimpan untukmu. Setelah admin mengecek transfer, item langsung dikirim di sini. \
         Ketik *status* untuk cek pesanan, *batal* untuk membatalkan.",
        account.bank,
        account.number,
        account.name,
        wib_time(expires_at)
    )
}

pub fn transfer_not_offered() -> String {
    "Maaf, toko ini belum menerima transfer bank. Bayar pakai saldo: *beli <kode>*, atau QRIS: \
     *beli <kode> qris*."
        .to_string()
}

pub fn transfer_unavailable() -> String {
    "Maaf, pembayaran transfer sedang tidak bisa dibuat 🙏 Stok sudah dilepas. Coba lagi sebentar lagi, \
     atau bayar pakai saldo: *beli <kode>*."
        .to_string()
}

/// QRIS cannot be reached: the other ways to pay, in one message (transfer only where offered).
pub fn qris_down_offer(product: &ProductCode, quantity: Quantity, transfer: bool) -> String {
    let mut text = format!(
        "Maaf, pembayaran QRIS sedang gangguan 🙏 Tidak ada yang ditagih dan stok sudah dilepas.\n\
         Bayar dengan cara lain:\n• pakai saldo: *beli {product} {quantity}*"
    );
    if transfer {
        text.push_str(&format!("\n• transfer bank: *beli {product} {quantity} transfer*"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offer_names_each_way_to_pay_as_a_command_to_type() {
        let code = ProductCode::parse("viu").unwrap();
        let both = qris_down_offer(&code, 2, true);
        assert!(both.contains("*beli viu 2*") && both.contains("*beli viu 2 transfer*"), "{both}");
        assert!(!qris_down_offer(&code, 1, false).contains("transfer"));
    }
}
