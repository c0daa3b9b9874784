//! Identifiers. Each is parsed once at the edge; inside the engine a value of these types is valid.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde::{Deserialize, Serialize};

/// Longest product code: codes are typed by customers in chat (`beli viu1b`).
pub const PRODUCT_CODE_LEN_MAX: usize = 32;
/// What separates a share's code from its product's code and lane (`kopi~2`): a character no
/// owner's code may hold, so no product an owner creates is ever taken for a share.
pub const SHARE_SEPARATOR: char = '~';
/// Longest customer id. WhatsApp user ids are phone numbers today and usernames from 2026.
pub const CUSTOMER_ID_LEN_MAX: usize = 64;
/// Longest caller-chosen reference (payment id, ledger reference).
pub const REFERENCE_LEN_MAX: usize = 128;

/// Unicode `White_Space` (what `char::is_whitespace` and `str::trim` mean), as the inside of a
/// regex class that JSON Schema's ECMA 262, Python's `re` and Rust's `regex` all read alike.
macro_rules! white_space {
    () => {
        r"\t\n\u000B\u000C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
    };
}

/// What `str::trim` takes off around a code or an order id.
macro_rules! trimmed_space {
    () => {
        concat!("[", white_space!(), "]*")
    };
}

/// A visible character (`visible`): neither white space nor a control character (`Cc`).
macro_rules! visible_char {
    () => {
        concat!("[^", white_space!(), r"\u0000-\u001F\u007F-\u009F", "]")
    };
}

/// Exactly what `ProductCode::parse` accepts, as the API's documents state it: 1 to
/// `PRODUCT_CODE_LEN_MAX` letters, digits, `-` or `_`, any case, with space around. A test holds
/// the parser and the pattern together.
pub const PRODUCT_CODE_PATTERN: &str = concat!("^", trimmed_space!(), "[A-Za-z0-9_-]{1,32}", trimmed_space!(), "$");

/// What `CustomerId::parse` accepts, but for its limit in bytes: `CUSTOMER_ID_LEN_MAX` characters
/// of more than one byte each are too long.
pub const CUSTOMER_ID_PATTERN: &str = concat!("^", visible_char!(), "{1,64}$");

/// What `Reference::parse` accepts, but for its limit in bytes (`REFERENCE_LEN_MAX`).
pub const REFERENCE_PATTERN: &str = concat!("^", visible_char!(), "{1,128}$");

/// Exactly what `OrderId::parse` accepts: `TRX-<10 hex>-<up to 16 digits>`, the prefix and hex
/// in any case, with space around.
pub const ORDER_ID_PATTERN: &str =
    concat!("^", trimmed_space!(), "[Tt][Rr][Xx]-[0-9A-Fa-f]{10}-[0-9]{1,16}", trimmed_space!(), "$");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("a product code is 1 to {PRODUCT_CODE_LEN_MAX} letters, digits, '-' or '_': {0:?}")]
    BadProductCode(String),
    #[error("a customer id is 1 to {CUSTOMER_ID_LEN_MAX} visible characters: {0:?}")]
    BadCustomerId(String),
    #[error("an order id looks like TRX-<10 hex>-<unix ms>: {0:?}")]
    BadOrderId(String),
    #[error("a reference is 1 to {REFERENCE_LEN_MAX} visible characters: {0:?}")]
    BadReference(String),
}

/// An id is shared, not copied: a sale hands its order, customer and product ids to several
/// actors, rows and records, and a clone of an `Arc<str>` is a count, where a `String`'s was an
/// allocation and a copy.
macro_rules! string_id {
    ($name:ident) => {
        string_id!($name, parse);
    };
    ($name:ident, $stored:ident) => {
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Arc<str>);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's text, shared with it (a count, not a copy).
            pub fn shared(&self) -> Arc<str> {
                self.0.clone()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.as_ref().to_owned()
            }
        }

        /// What serde reads (a node's message, a stored value): an id the engine made may take
        /// forms an outside caller's may not.
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                $name::$stored(&value)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                $name::parse(value)
            }
        }
    };
}

string_id!(ProductCode, parse_stored);
string_id!(CustomerId);
string_id!(OrderId);
string_id!(Reference);

/// Ids made in the engine (an order id, a purchase's references) are formatted on the stack and
/// shared in one allocation, where `format!` and then `Arc::from` made two.
pub(super) fn shared(args: fmt::Arguments<'_>) -> Arc<str> {
    let mut made = StackText { bytes: [0; STACK_TEXT_LEN_MAX], len: 0 };
    match fmt::write(&mut made, args) {
        Ok(()) => Arc::from(made.as_str()),
        // Longer than the buffer: on the heap, as any string.
        Err(_) => Arc::from(fmt::format(args)),
    }
}

/// Bytes an id formatted on the stack may take; a longer one is formatted on the heap.
pub(super) const STACK_TEXT_LEN_MAX: usize = 96;

struct StackText {
    bytes: [u8; STACK_TEXT_LEN_MAX],
    len: usize,
}

impl StackText {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("only whole strs are written")
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let end = self.len + text.len();
        let room = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        room.copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }
}

fn visible(value: &str, len_max: usize) -> bool {
    !value.is_empty() && value.len() <= len_max && value.chars().all(|c| !c.is_control() && !c.is_whitespace())
}

impl ProductCode {
    /// Codes are case-insensitive in chat, so they are kept lower case.
    pub fn parse(value: &str) -> Result<ProductCode, IdError> {
        let code = value.trim().to_ascii_lowercase();
        let valid = !code.is_empty()
            && code.len() <= PRODUCT_CODE_LEN_MAX
            && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if valid {
            Ok(ProductCode(code.into()))
        } else {
            Err(IdError::BadProductCode(value.to_string()))
        }
    }
}

impl ProductCode {
    /// A code as the engine stores it: an owner's code (`parse`) or the code of one of its
    /// shares (`share`).
    pub fn parse_stored(value: &str) -> Result<ProductCode, IdError> {
        let Some((home, lane)) = value.split_once(SHARE_SEPARATOR) else { return ProductCode::parse(value) };
        let bad = || IdError::BadProductCode(value.to_string());
        let lane: u16 = lane.parse().ok().filter(|n: &u16| n.to_string() == lane).ok_or_else(bad)?;
        // Exactly as `share` writes it: no space, lower case.
        let home = ProductCode::parse(home).ok().filter(|code| code.as_str() == home).ok_or_else(bad)?;
        Ok(home.share(lane))
    }

    /// The code of this product's share in `lane`: a product of its own, hidden from owners and
    /// buyers, that sells part of this product's stock in that lane.
    pub fn share(&self, lane: u16) -> ProductCode {
        debug_assert!(self.share_of().is_none(), "a share has no shares of its own");
        ProductCode(shared(format_args!("{}{SHARE_SEPARATOR}{lane}", self.0)))
    }

    /// The product and lane whose share this is; `None` for an owner's product.
    pub fn share_of(&self) -> Option<(ProductCode, u16)> {
        let (home, lane) = self.0.split_once(SHARE_SEPARATOR)?;
        Some((ProductCode(home.into()), lane.parse().ok()?))
    }

    /// The owner's product this code sells: the product whose share this is, or itself.
    pub fn home(&self) -> ProductCode {
        match self.0.split_once(SHARE_SEPARATOR) {
            Some((home, _)) => ProductCode(home.into()),
            None => self.clone(),
        }
    }

    /// Whether this is a share's code (never an owner's).
    pub fn is_share(&self) -> bool {
        self.0.contains(SHARE_SEPARATOR)
    }
}

impl CustomerId {
    /// Any visible string: a WhatsApp id is not assumed to be a phone number.
    pub fn parse(value: &str) -> Result<CustomerId, IdError> {
        if visible(value, CUSTOMER_ID_LEN_MAX) {
            Ok(CustomerId(value.into()))
        } else {
            Err(IdError::BadCustomerId(value.to_string()))
        }
    }

    /// For logs: the last four characters only, so phone numbers never appear whole.
    pub fn masked(&self) -> Masked<'_> {
        masked(&self.0)
    }
}

/// A customer's id (or any destination holding one) as logs and reports show it: the last four
/// characters.
pub fn masked(id: &str) -> Masked<'_> {
    Masked(id)
}

/// An id shown masked. Formatted where it is shown, so a span or log line that is filtered out
/// costs no allocation.
#[derive(Clone, Copy)]
pub struct Masked<'a>(&'a str);

impl fmt::Display for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail_start = self.0.char_indices().rev().nth(3).map_or(0, |(at, _)| at);
        write!(f, "***{}", &self.0[tail_start..])
    }
}

impl fmt::Debug for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CustomerId({})", self.masked())
    }
}

impl Reference {
    pub fn parse(value: &str) -> Result<Reference, IdError> {
        if visible(value, REFERENCE_LEN_MAX) {
            Ok(Reference(value.into()))
        } else {
            Err(IdError::BadReference(value.to_string()))
        }
    }
}

impl OrderId {
    /// A new random, unguessable order id: `TRX-<40 random bits as hex>-<unix ms>`.
    pub fn generate() -> OrderId {
        let random: u64 = rand::rng().random::<u64>() & 0xff_ffff_ffff;
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        OrderId(shared(format_args!("TRX-{random:010x}-{now_ms}")))
    }

    pub fn parse(value: &str) -> Result<OrderId, IdError> {
        let bad = || IdError::BadOrderId(value.to_string());
        let trimmed = value.trim();
        let rest = match trimmed.get(..4) {
            Some(prefix) if prefix.eq_ignore_ascii_case("TRX-") => &trimmed[4..],
            _ => return Err(bad()),
        };
        let (hex, millis) = rest.split_once('-').ok_or_else(bad)?;
        let hex_ok = hex.len() == 10 && hex.chars().all(|c| c.is_ascii_hexdigit());
        let millis_ok = !millis.is_empty() && millis.len() <= 16 && millis.chars().all(|c| c.is_ascii_digit());
        if hex_ok && millis_ok {
            Ok(OrderId(format!("TRX-{}-{millis}", hex.to_ascii_lowercase()).into()))
        } else {
            Err(bad())
        }
    }

    /// The reference under which a purchase debits a wallet.
    pub fn debit_reference(&self) -> Reference {
        Reference(shared(format_args!("order:{}", self.0)))
    }

    /// The reference under which a purchase's money goes back to the wallet.
    pub fn refund_reference(&self) -> Reference {
        Reference(shared(format_args!("refund:{}", self.0)))
    }
}

macro_rules! plain_debug {
    ($($name:ident),*) => {$(
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    )*};
}
plain_debug!(ProductCode, OrderId, Reference);

#[cfg(test)]
mod tests;
