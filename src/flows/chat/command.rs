//! Chat commands, Bahasa Indonesia first with English aliases: case-insensitive, with or without
//! a leading `.` or `/`. Parsing is pure; what a command does is decided elsewhere. A choice from
//! an interactive list or button carries a command text as its id, so it parses the same way.

use warung_actors::domain::{Money, OrderId, ProductCode, Quantity, MONEY_MAX_RUPIAH, ORDER_QUANTITY_MAX};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payment {
    Saldo,
    Qris,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// `menu`, `help`, `bantuan`
    Menu,
    /// `produk`, `list`
    Products,
    /// `beli <kode> [jumlah] [qris]`, `buy ...`, `buymidtrans <kode> [jumlah]`
    Buy { product: ProductCode, quantity: Quantity, payment: Payment },
    /// `saldo`, `balance`
    Balance,
    /// `topup <nominal>`
    TopUp { amount: Money },
    /// `riwayat`, `history`
    History,
    /// `status <order id>`, `cek <order id>`
    Status { order: OrderId },
    /// `batal`, `cancel`: the open unpaid order
    Cancel,
}

/// Why a message is not a command, checked in this order; each gets its own short reply.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("empty message")]
    Empty,
    #[error("unknown command {word:?}")]
    UnknownCommand { word: String },
    #[error("{command} needs a product code")]
    ProductCodeMissing { command: String },
    #[error("{given:?} is not a product code")]
    ProductCodeInvalid { given: String },
    #[error("the quantity must be a whole number from 1 to {max}")]
    QuantityInvalid { given: String, max: Quantity },
    #[error("topup needs an amount in rupiah")]
    AmountMissing,
    #[error("{given:?} is not an amount in rupiah")]
    AmountInvalid { given: String },
    #[error("a top-up is at most {max}")]
    AmountTooLarge { given: String, max: Money },
    #[error("status needs an order id")]
    OrderIdMissing,
    #[error("{given:?} is not an order id")]
    OrderIdInvalid { given: String },
    #[error("unexpected {extra:?} after the command")]
    TrailingWords { extra: String },
}

/// Longest message read as a command; a longer one is not a command.
const COMMAND_TEXT_LEN_MAX: usize = 200;

/// The largest top-up one message asks for: a top-up is one QRIS payment, and Bank Indonesia
/// caps a QRIS payment at Rp10.000.000 (`flows::qris::QRIS_CHARGE_RUPIAH_MAX`).
pub const TOP_UP_RUPIAH_MAX: u64 = 10_000_000;

impl Command {
    pub fn parse(text: &str) -> Result<Command, CommandError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(CommandError::Empty);
        }
        let lowered = text.chars().take(COMMAND_TEXT_LEN_MAX + 1).collect::<String>().to_lowercase();
        let mut words = lowered.split_whitespace();
        let first = words.next().ok_or(CommandError::Empty)?;
        let word = first.trim_start_matches(['.', '/']);
        let rest: Vec<&str> = words.collect();
        if lowered.chars().count() > COMMAND_TEXT_LEN_MAX {
            return Err(CommandError::UnknownCommand { word: word.to_string() });
        }
        let command = match word {
            "menu" | "help" | "bantuan" => no_more(Command::Menu, &rest)?,
            "produk" | "list" => no_more(Command::Products, &rest)?,
            "beli" | "buy" => buy(word, &rest, Payment::Saldo)?,
            "buymidtrans" => buy(word, &rest, Payment::Qris)?,
            "saldo" | "balance" => no_more(Command::Balance, &rest)?,
            "topup" => top_up(&rest)?,
            "riwayat" | "history" => no_more(Command::History, &rest)?,
            "status" | "cek" => status(&rest)?,
            "batal" | "cancel" => no_more(Command::Cancel, &rest)?,
            other => return Err(CommandError::UnknownCommand { word: other.to_string() }),
        };
        Ok(command)
    }
}

fn no_more(command: Command, rest: &[&str]) -> Result<Command, CommandError> {
    match rest.is_empty() {
        true => Ok(command),
        false => Err(CommandError::TrailingWords { extra: rest.join(" ") }),
    }
}

/// `<kode> [jumlah] [qris]`: a trailing `qris` pays by QRIS (redundant, and accepted, after
/// `buymidtrans`).
fn buy(word: &str, rest: &[&str], default: Payment) -> Result<Command, CommandError> {
    let (code, mut rest) =
        rest.split_first().ok_or_else(|| CommandError::ProductCodeMissing { command: word.into() })?;
    let product = ProductCode::parse(code).map_err(|_| CommandError::ProductCodeInvalid { given: code.to_string() })?;
    let mut payment = default;
    if let Some((last, before)) = rest.split_last() {
        if *last == "qris" {
            payment = Payment::Qris;
            rest = before;
        }
    }
    let quantity = match rest {
        [] => 1,
        [n] => n
            .parse::<Quantity>()
            .ok()
            .filter(|q| (1..=ORDER_QUANTITY_MAX).contains(q))
            .ok_or_else(|| CommandError::QuantityInvalid { given: n.to_string(), max: ORDER_QUANTITY_MAX })?,
        [_, extra @ ..] => return Err(CommandError::TrailingWords { extra: extra.join(" ") }),
    };
    Ok(Command::Buy { product, quantity, payment })
}

fn top_up(rest: &[&str]) -> Result<Command, CommandError> {
    match rest {
        [] => Err(CommandError::AmountMissing),
        [amount] => Ok(Command::TopUp { amount: rupiah(amount)? }),
        [_, extra @ ..] => Err(CommandError::TrailingWords { extra: extra.join(" ") }),
    }
}

/// Whole rupiah as people type them: `50000`, `50.000`, `50,000`, `rp50.000`, `Rp 50.000` is two
/// words and so refused. Separators must group by three.
fn rupiah(given: &str) -> Result<Money, CommandError> {
    let invalid = || CommandError::AmountInvalid { given: given.to_string() };
    let digits = given.strip_prefix("rp").unwrap_or(given);
    let groups: Vec<&str> = digits.split(['.', ',']).collect();
    let grouped = groups.len() == 1
        || (!groups[0].is_empty() && groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3));
    if !grouped || groups.iter().any(|g| g.is_empty() || !g.bytes().all(|b| b.is_ascii_digit())) {
        return Err(invalid());
    }
    let value: u64 = groups.concat().parse().map_err(|_| invalid())?;
    if value == 0 || value > MONEY_MAX_RUPIAH as u64 {
        return Err(invalid());
    }
    if value > TOP_UP_RUPIAH_MAX {
        let max = Money::try_rupiah(TOP_UP_RUPIAH_MAX).map_err(|_| invalid())?;
        return Err(CommandError::AmountTooLarge { given: given.to_string(), max });
    }
    Money::try_rupiah(value).map_err(|_| invalid())
}

fn status(rest: &[&str]) -> Result<Command, CommandError> {
    match rest {
        [] => Err(CommandError::OrderIdMissing),
        [given] => OrderId::parse(given)
            .map(|order| Command::Status { order })
            .map_err(|_| CommandError::OrderIdInvalid { given: given.to_string() }),
        [_, extra @ ..] => Err(CommandError::TrailingWords { extra: extra.join(" ") }),
    }
}

#[cfg(test)]
mod tests;
