//! Every product and every customer belongs to one of `SHARDS_COUNT` shards; each shard has one
//! owner node at a time. A customer's wallet, conversation, open-order claim and pending orders
//! are all on the customer's shard; a product is on its own.
//!
//! The shard is the first byte of SHA-256 over `p:<code>` or `c:<customer id>`: stable across
//! builds and machines, spread evenly, and computed by Postgres as well (`warung_shard`, which
//! fills the `shard` column of the rows a node reads per shard), so neither side can drift from
//! the other. Changing it would move every key: the golden values below pin it.

use sha2::{Digest, Sha256};
use warung_actors::domain::{CustomerId, ProductCode};

/// Shards in a cluster, fixed for the life of a database (one byte of the hash picks one).
pub const SHARDS_COUNT: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Shard(u8);

impl Shard {
    /// A share is in its product's shard: one node owns a product and every share of it.
    pub fn of_product(code: &ProductCode) -> Shard {
        match code.share_of() {
            Some((home, _)) => Shard::of("p", home.as_str()),
            None => Shard::of("p", code.as_str()),
        }
    }

    pub fn of_customer(customer: &CustomerId) -> Shard {
        Shard::of("c", customer.as_str())
    }

    fn of(tag: &str, id: &str) -> Shard {
        let mut hasher = Sha256::new();
        hasher.update(tag.as_bytes());
        hasher.update(b":");
        hasher.update(id.as_bytes());
        Shard(hasher.finalize()[0])
    }

    pub fn all() -> impl Iterator<Item = Shard> {
        (0..=u8::MAX).map(Shard)
    }

    pub fn number(self) -> u8 {
        self.0
    }

    pub fn from_number(n: u8) -> Shard {
        Shard(n)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_pinned() {
        // The same values as Postgres's warung_shard('p', 'netflix-1m') and warung_shard('c', '6281234567890').
        assert_eq!(Shard::of_product(&ProductCode::parse("netflix-1m").unwrap()).number(), 224);
        assert_eq!(Shard::of_product(&ProductCode::parse("netflix-1m").unwrap().share(3)).number(), 224);
        assert_eq!(Shard::of_customer(&CustomerId::parse("6281234567890").unwrap()).number(), 239);
    }

    #[test]
    fn shards_spread_evenly() {
        let mut counts = [0u32; SHARDS_COUNT];
        for i in 0..25_600 {
            counts[Shard::of_customer(&CustomerId::parse(&format!("62812{i:08}")).unwrap()).number() as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (50..=160).contains(&c)), "{counts:?}");
    }
}
