//! Who should own each shard: rendezvous (highest random weight) hashing over the live, stable
//! nodes. Every node computes the same answer from the same list, with no coordinator; when a
//! node joins or leaves, only the shards it wins or held move (about 1/n of them).

use sha2::{Digest, Sha256};

use super::shard::Shard;

/// The node of `nodes` that should own `shard`; None when there is no node.
pub fn owner_of(shard: Shard, nodes: &[String]) -> Option<&str> {
    nodes.iter().max_by_key(|node| (weight(shard, node), node.as_str())).map(String::as_str)
}

/// The shards `me` should own among `nodes`.
pub fn shards_of(me: &str, nodes: &[String]) -> Vec<Shard> {
    Shard::all().filter(|&shard| owner_of(shard, nodes) == Some(me)).collect()
}

fn weight(shard: Shard, node: &str) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update([shard.number()]);
    hasher.update(node.as_bytes());
    let digest = hasher.finalize();
    u64::from_be_bytes(digest[..8].try_into().expect("eight bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn every_shard_has_exactly_one_owner_and_they_share_fairly() {
        let three = nodes(&["a", "b", "c"]);
        let counts: Vec<usize> = three.iter().map(|n| shards_of(n, &three).len()).collect();
        assert_eq!(counts.iter().sum::<usize>(), 256);
        assert!(counts.iter().all(|&c| (55..=115).contains(&c)), "{counts:?}");
    }

    #[test]
    fn a_leaving_node_moves_only_its_own_shards() {
        let three = nodes(&["a", "b", "c"]);
        let two = nodes(&["a", "b"]);
        for shard in Shard::all() {
            let before = owner_of(shard, &three).unwrap();
            if before != "c" {
                assert_eq!(owner_of(shard, &two), Some(before));
            }
        }
        assert_eq!(owner_of(Shard::from_number(0), &[]), None);
    }
}
