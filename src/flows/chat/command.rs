//! Chat commands, Bahasa Indonesia first with English aliases: case-insensitive, with or without
//! a leading `.` or `/` or trailing `?`/`!`. Parsing is pure; what a command does is decided
//! elsewhere. A choice from an interactive list or button carries a command text as its id, so it
//! parses the same way. Greetings and thanks are answered, not refused; a command word one typo
//! away from a known one (`bel`, `beil`, `sldo`) is read as that one (`words`).

use warung_actors::domain::{Money, OrderId, ProductCode, Quantity, MONEY_MAX_RUPIAH, ORDER_QUANTITY_MAX};

mod words;

pub use words::is_command_word;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payment {
    Saldo,
    Qris,
    /// A manual bank transfer the shop owner confirms.
    Transfer,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// `menu`, `help`, `bantuan`
    Menu,
    /// `halo`, `hai`, `p`, `assalamualaikum`, `selamat pagi`...: answered with the menu.
    Greeting,
    /// `makasih`, `terima kasih`, `thanks`...
    Thanks,
    /// `produk`, `list`
    Products,
    /// `beli <kode> [jumlah] [qris|transfer]`, `buy ...`, `buymidtrans <kode> [jumlah]`
    Buy { product: ProductCode, quantity: Quantity, payment: Payment },
    /// `saldo`, `balance`
    Balance,
    /// `topup <nominal>`
    TopUp { amount: Money },
    /// `riwayat`, `history`
    History,
    /// `status [order id]`, `cek [order id]`: without an id, the open order.
    Status { order: Option<OrderId> },
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
        if let Some(command) = words::courtesy(&lowered) {
            return Ok(command);
        }
        let mut words = lowered.split_whitespace();
        let first = words.next().ok_or(CommandError::Empty)?;
        let typed = first.trim_start_matches(['.', '/']).trim_end_matches(['?', '!', '.']);
        let rest: Vec<&str> = words.collect();
        if lowered.chars().count() > COMMAND_TEXT_LEN_MAX {
            return Err(CommandError::UnknownCommand { word: typed.to_string() });
        }
        let word = words::corrected(typed);
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
            _ => return Err(CommandError::UnknownCommand { word: typed.to_string() }),
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

/// `<kode> [jumlah] [qris|transfer]`: a trailing `qris` pays by QRIS (redundant, and accepted,
/// after `buymidtrans`), a trailing `transfer` by bank transfer.
fn buy(word: &str, rest: &[&str], default: Payment) -> Result<Command, CommandError> {
    let (code, mut rest) =
        rest.split_first().ok_or_else(|| CommandError::ProductCodeMissing { command: word.into() })?;
    let product = ProductCode::parse(code).map_err(|_| CommandError::ProductCodeInvalid { given: code.to_string() })?;
    let mut payment = default;
    if let Some((last, before)) = rest.split_last() {
        let asked = match *last {
            "qris" => Some(Payment::Qris),
            "transfer" | "tf" => Some(Payment::Transfer),
            _ => None,
        };
        if let Some(asked) = asked {
            payment = asked;
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

/// A top-up amount: whole rupiah, at most `TOP_UP_RUPIAH_MAX`.
fn rupiah(given: &str) -> Result<Money, CommandError> {
    let amount = whole_rupiah(given).ok_or_else(|| CommandError::AmountInvalid { given: given.to_string() })?;
    if amount > Money::rupiah(TOP_UP_RUPIAH_MAX) {
        return Err(CommandError::AmountTooLarge { given: given.to_string(), max: Money::rupiah(TOP_UP_RUPIAH_MAX) });
    }
    Ok(amount)
}

/// Whole rupiah as people type them: `50000`, `50.000`, `50,000`, `rp50.000` (any case); `Rp 50.000`
/// is two words and so refused. Separators must group by three. Zero and amounts past
/// `MONEY_MAX_RUPIAH` are not amounts.
pub fn whole_rupiah(given: &str) -> Option<Money> {
    let lowered = given.to_lowercase();
    let digits = lowered.strip_prefix("rp").unwrap_or(&lowered);
    let groups: Vec<&str> = digits.split(['.', ',']).collect();
    let grouped = groups.len() == 1
        || (!groups[0].is_empty() && groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3));
    if !grouped || groups.iter().any(|g| g.is_empty() || !g.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let value: u64 = groups.concat().parse().ok()?;
    if value == 0 || value > MONEY_MAX_RUPIAH as u64 {
        return None;
    }
    Money::try_rupiah(value).ok()
}

fn status(rest: &[&str]) -> Result<Command, CommandError> {
    match rest {
        [] => Ok(Command::Status { order: None }),
        [given] => OrderId::parse(given)
            .map(|order| Command::Status { order: Some(order) })
            .map_err(|_| CommandError::OrderIdInvalid { given: given.to_string() }),
        [_, extra @ ..] => Err(CommandError::TrailingWords { extra: extra.join(" ") }),
    }
}

#[cfg(test)]
mod tests;
