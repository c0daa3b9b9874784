//! The shop owner's chat commands, read only from admin numbers (a customer who types one gets
//! the ordinary "not recognised"). The first line is the command; `tambahstok` takes the items
//! on the lines after it, exactly as typed (item secrets keep their case). Parsing is pure.

use rust_decimal::Decimal;
use warung_actors::domain::{parse_plain_delta, CustomerId, ItemSecret, Money, OrderId, ProductCode, Quantity};
use warung_actors::product::{PriceTier, Restock};

use crate::flows::chat::command::whole_rupiah;

/// Items one `tambahstok` message may bring: a WhatsApp text holds 4,096 characters.
pub const CHAT_RESTOCK_ITEMS_MAX: usize = 200;

/// Units one counted `tambahstok` may add.
pub const CHAT_RESTOCK_COUNT_MAX: Quantity = 100_000;

#[derive(Clone, Debug, PartialEq)]
pub enum OwnerCommand {
    /// `admin`, `menuadmin`: the owner's commands.
    Help,
    /// `laporan`: today's sales (WIB), what waits, what runs low.
    Report,
    /// `stok [kode]`
    Stock { product: Option<ProductCode> },
    /// `tambahstok <kode> <jumlah>` (counted), or `tambahstok <kode>` and one item per line.
    Restock { product: ProductCode, stock: Restock },
    /// `harga <kode> <nominal> [reseller]`
    Price { product: ProductCode, price: Money, tier: PriceTier },
    /// `konfirmasi <id permintaan>`: confirms a large price change.
    ConfirmPrice { request: String },
    /// `ubahsaldo <nomor> <+/-nominal> <alasan>`
    Adjust { customer: CustomerId, delta: Decimal, reason: String },
    /// `refund <id pesanan> <alasan>`
    Refund { order: OrderId, reason: String },
    /// `tutup <kode>` / `buka <kode>`: off sale, back on sale.
    OnSale { product: ProductCode, active: bool },
    /// `lunas <id pesanan>`: the bank transfer for the order arrived.
    TransferReceived { order: OrderId },
}

/// Why an owner command could not be read; each answer shows the command's form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OwnerCommandError {
    #[error("{usage}")]
    Usage { usage: &'static str },
    #[error("{given:?} is not a product code")]
    ProductCodeInvalid { given: String },
    #[error("{given:?} is not an amount in rupiah")]
    AmountInvalid { given: String },
    #[error("{given:?} is not a WhatsApp number")]
    CustomerInvalid { given: String },
    #[error("{given:?} is not an order id")]
    OrderIdInvalid { given: String },
    #[error("line {line}: {reason}")]
    ItemInvalid { line: usize, reason: String },
    #[error("at most {max} items in one message")]
    TooManyItems { max: usize },
}

const USAGE_STOCK: &str = "stok [kode]";
const USAGE_RESTOCK: &str = "tambahstok <kode> <jumlah>, atau tambahstok <kode> lalu satu item per baris";
const USAGE_PRICE: &str = "harga <kode> <nominal> [reseller]";
const USAGE_CONFIRM: &str = "konfirmasi <id permintaan>";
const USAGE_ADJUST: &str = "ubahsaldo <nomor> <+nominal|-nominal> <alasan>";
const USAGE_REFUND: &str = "refund <id pesanan> <alasan>";
const USAGE_SALE: &str = "tutup <kode> / buka <kode>";
const USAGE_PAID: &str = "lunas <id pesanan>";

impl OwnerCommand {
    /// `None` when the first word is not an owner command (the text is then read as a customer's).
    pub fn parse(text: &str) -> Option<Result<OwnerCommand, OwnerCommandError>> {
        let mut lines = text.trim().lines();
        let first = lines.next()?;
        let words: Vec<&str> = first.split_whitespace().collect();
        let (word, rest) = words.split_first()?;
        let word = word.trim_start_matches(['.', '/']).to_lowercase();
        let rest = rest.to_vec();
        let parsed = match word.as_str() {
            "admin" | "menuadmin" => Ok(OwnerCommand::Help),
            "laporan" | "report" => Ok(OwnerCommand::Report),
            "stok" | "stock" => stock(&rest),
            "tambahstok" | "restock" => restock(&rest, lines.collect()),
            "harga" | "price" => price(&rest),
            "konfirmasi" | "confirm" => match rest[..] {
                [request] => Ok(OwnerCommand::ConfirmPrice { request: request.to_string() }),
                _ => Err(OwnerCommandError::Usage { usage: USAGE_CONFIRM }),
            },
            "ubahsaldo" | "adjust" => adjust(&rest),
            "refund" => refund(&rest),
            "tutup" | "buka" => match rest[..] {
                [code] => product(code).map(|product| OwnerCommand::OnSale { product, active: word == "buka" }),
                _ => Err(OwnerCommandError::Usage { usage: USAGE_SALE }),
            },
            "lunas" | "paid" => match rest[..] {
                [order] => order_id(order).map(|order| OwnerCommand::TransferReceived { order }),
                _ => Err(OwnerCommandError::Usage { usage: USAGE_PAID }),
            },
            _ => return None,
        };
        Some(parsed)
    }
}

fn product(given: &str) -> Result<ProductCode, OwnerCommandError> {
    ProductCode::parse(&given.to_lowercase()).map_err(|_| OwnerCommandError::ProductCodeInvalid { given: given.into() })
}

fn order_id(given: &str) -> Result<OrderId, OwnerCommandError> {
    OrderId::parse(given).map_err(|_| OwnerCommandError::OrderIdInvalid { given: given.into() })
}

fn stock(rest: &[&str]) -> Result<OwnerCommand, OwnerCommandError> {
    match rest {
        [] => Ok(OwnerCommand::Stock { product: None }),
        [code] => Ok(OwnerCommand::Stock { product: Some(product(code)?) }),
        _ => Err(OwnerCommandError::Usage { usage: USAGE_STOCK }),
    }
}

fn restock(rest: &[&str], item_lines: Vec<&str>) -> Result<OwnerCommand, OwnerCommandError> {
    let items: Vec<(usize, &str)> =
        item_lines.iter().enumerate().map(|(at, l)| (at + 2, l.trim())).filter(|(_, l)| !l.is_empty()).collect();
    let stock = match (rest, items.is_empty()) {
        ([_, count], true) => Restock::Count(
            count
                .parse::<Quantity>()
                .ok()
                .filter(|n| (1..=CHAT_RESTOCK_COUNT_MAX).contains(n))
                .ok_or(OwnerCommandError::Usage { usage: USAGE_RESTOCK })?,
        ),
        ([_], false) => {
            if items.len() > CHAT_RESTOCK_ITEMS_MAX {
                return Err(OwnerCommandError::TooManyItems { max: CHAT_RESTOCK_ITEMS_MAX });
            }
            let parsed = items
                .iter()
                .map(|(line, item)| {
                    ItemSecret::parse(item)
                        .map_err(|e| OwnerCommandError::ItemInvalid { line: *line, reason: e.to_string() })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Restock::Items(parsed)
        }
        _ => return Err(OwnerCommandError::Usage { usage: USAGE_RESTOCK }),
    };
    Ok(OwnerCommand::Restock { product: product(rest[0])?, stock })
}

fn price(rest: &[&str]) -> Result<OwnerCommand, OwnerCommandError> {
    let (code, amount, tier) = match rest {
        [code, amount] => (code, amount, PriceTier::Member),
        [code, amount, tier] if tier.eq_ignore_ascii_case("reseller") => (code, amount, PriceTier::Reseller),
        _ => return Err(OwnerCommandError::Usage { usage: USAGE_PRICE }),
    };
    let price = rupiah(amount)?;
    Ok(OwnerCommand::Price { product: product(code)?, price, tier })
}

fn adjust(rest: &[&str]) -> Result<OwnerCommand, OwnerCommandError> {
    let [number, delta, reason @ ..] = rest else { return Err(OwnerCommandError::Usage { usage: USAGE_ADJUST }) };
    if reason.is_empty() {
        return Err(OwnerCommandError::Usage { usage: USAGE_ADJUST });
    }
    // A customer is whoever the shop knows by this WhatsApp id: digits, as the chat keys them.
    let digits = number.trim_start_matches('+');
    let customer = Some(digits)
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| CustomerId::parse(d).ok())
        .ok_or_else(|| OwnerCommandError::CustomerInvalid { given: number.to_string() })?;
    let (sign, digits) = match delta.chars().next() {
        Some('-') => ("-", &delta[1..]),
        Some('+') => ("", &delta[1..]),
        _ => ("", *delta),
    };
    let amount = rupiah(digits).map_err(|_| OwnerCommandError::AmountInvalid { given: delta.to_string() })?;
    let delta = parse_plain_delta(&format!("{sign}{}", amount.amount()))
        .map_err(|_| OwnerCommandError::AmountInvalid { given: delta.to_string() })?;
    Ok(OwnerCommand::Adjust { customer, delta, reason: reason.join(" ") })
}

fn refund(rest: &[&str]) -> Result<OwnerCommand, OwnerCommandError> {
    match rest {
        [order, reason @ ..] if !reason.is_empty() => {
            Ok(OwnerCommand::Refund { order: order_id(order)?, reason: reason.join(" ") })
        }
        _ => Err(OwnerCommandError::Usage { usage: USAGE_REFUND }),
    }
}

/// Whole rupiah as owners type them: `20000`, `20.000`, `rp20.000`.
fn rupiah(given: &str) -> Result<Money, OwnerCommandError> {
    whole_rupiah(given).ok_or_else(|| OwnerCommandError::AmountInvalid { given: given.to_string() })
}

#[cfg(test)]
mod tests;
