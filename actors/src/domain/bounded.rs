//! A map that remembers at most a fixed number of entries, forgetting the oldest first.
//! Used for idempotency windows: an actor remembers the outcomes of its latest commands.
//!
//! The entries live in a ring, oldest first, each beside its key's hash; the index is a table of
//! their sequence numbers, four bytes an entry. A product settles an order on every sale and then
//! forgets its oldest: with the entries in a hash map (a product's 10,000 settled orders are most
//! of a megabyte), each settlement missed the cache twice, once to insert and once to forget, and
//! hashed and compared the forgotten id's text again. Here the ring is touched only at its two
//! ends, the index fits in cache, and the oldest is found by its stored hash and its sequence.

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;

use super::FastHasher;

#[derive(Clone, Debug)]
struct Entry<K, V> {
    hash: u64,
    key: K,
    value: V,
}

#[derive(Clone, Debug)]
pub struct BoundedMap<K, V> {
    capacity: usize,
    hasher: FastHasher,
    /// Oldest first: `entries[i]` has the sequence number `first + i` (wrapping).
    entries: VecDeque<Entry<K, V>>,
    first: u32,
    /// The sequence numbers of `entries`, hashed by their keys.
    index: HashTable<u32>,
}

/// Where the entry numbered `sequence` is in the ring that starts at `first`.
fn position(first: u32, sequence: u32) -> usize {
    sequence.wrapping_sub(first) as usize
}

impl<K: Eq + Hash, V> BoundedMap<K, V> {
    pub fn new(capacity: usize) -> BoundedMap<K, V> {
        BoundedMap::numbered_from(capacity, 0)
    }

    /// Numbers the first entry `first`: tests start near the end of the numbers to wrap them.
    fn numbered_from(capacity: usize, first: u32) -> BoundedMap<K, V> {
        assert!(capacity > 0, "a bounded map remembers at least one entry");
        assert!(capacity < u32::MAX as usize, "sequence numbers are four bytes");
        BoundedMap { capacity, hasher: FastHasher::default(), entries: VecDeque::new(), first, index: HashTable::new() }
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.find(key).map(|at| &self.entries[at].value)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.find(key).map(|at| &mut self.entries[at].value)
    }

    /// Inserts or replaces (a replaced entry keeps its age); at capacity the oldest is forgotten.
    pub fn insert(&mut self, key: K, value: V) {
        let hash = self.hasher.hash_one(&key);
        if let Some(at) = self.find_hashed(hash, &key) {
            self.entries[at].value = value;
            return;
        }
        if self.entries.len() == self.capacity {
            self.forget_oldest();
        }
        let sequence = self.first.wrapping_add(self.entries.len() as u32);
        self.entries.push_back(Entry { hash, key, value });
        let (entries, first) = (&self.entries, self.first);
        self.index.insert_unique(hash, sequence, |&s| entries[position(first, s)].hash);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|entry| &entry.value)
    }

    fn find(&self, key: &K) -> Option<usize> {
        if self.entries.is_empty() {
            return None;
        }
        self.find_hashed(self.hasher.hash_one(key), key)
    }

    fn find_hashed(&self, hash: u64, key: &K) -> Option<usize> {
        let (entries, first) = (&self.entries, self.first);
        let sequence = self.index.find(hash, |&s| entries[position(first, s)].key == *key)?;
        Some(position(first, *sequence))
    }

    fn forget_oldest(&mut self) {
        let Some(oldest) = self.entries.pop_front() else { return };
        let first = self.first;
        let Ok(indexed) = self.index.find_entry(oldest.hash, |&s| s == first) else {
            unreachable!("every remembered entry is indexed");
        };
        indexed.remove();
        self.first = first.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn forgets_the_oldest_at_capacity() {
        let mut map = BoundedMap::new(2);
        map.insert(1, "a");
        map.insert(2, "b");
        map.insert(1, "a2");
        map.insert(3, "c");
        assert_eq!(map.get(&1), None);
        assert_eq!(map.get(&2), Some(&"b"));
        assert_eq!(map.get(&3), Some(&"c"));
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn a_replaced_entry_keeps_its_value_and_its_age() {
        let mut map = BoundedMap::new(2);
        map.insert("first", 1);
        map.insert("second", 2);
        *map.get_mut(&"first").unwrap() += 10;
        map.insert("second", 20);
        map.insert("third", 3);
        assert_eq!(map.get(&"first"), None);
        assert_eq!(map.get(&"second"), Some(&20));
        assert_eq!(map.get(&"third"), Some(&3));
    }

    #[test]
    fn sequence_numbers_wrap_past_the_last() {
        let mut map = BoundedMap::numbered_from(3, u32::MAX - 1);
        for key in 0..10 {
            map.insert(key, key * 100);
        }
        assert_eq!(map.values().copied().collect::<Vec<_>>(), vec![700, 800, 900]);
        assert!((0..7).all(|key| map.get(&key).is_none()));
        assert!((7..10).all(|key| map.get(&key) == Some(&(key * 100))));
    }

    proptest! {
        /// Against a plain list of the same entries, oldest first: the same answers, the same
        /// entries kept, whatever the order of inserts, repeats and reads.
        #[test]
        fn answers_as_a_list_of_the_latest_entries_would(
            capacity in 1usize..6,
            first in prop_oneof![Just(0u32), Just(u32::MAX - 3), any::<u32>()],
            steps in proptest::collection::vec((0u8..12, any::<u16>(), any::<bool>()), 0..200),
        ) {
            let mut map = BoundedMap::numbered_from(capacity, first);
            let mut list: VecDeque<(u8, u16)> = VecDeque::new();
            for (key, value, read) in steps {
                if read {
                    let expected = list.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
                    prop_assert_eq!(map.get(&key), expected);
                    continue;
                }
                map.insert(key, value);
                match list.iter_mut().find(|(k, _)| *k == key) {
                    Some(entry) => entry.1 = value,
                    None => {
                        if list.len() == capacity {
                            list.pop_front();
                        }
                        list.push_back((key, value));
                    }
                }
                prop_assert_eq!(map.len(), list.len());
                prop_assert_eq!(map.values().copied().collect::<Vec<_>>(), list.iter().map(|(_, v)| *v).collect::<Vec<_>>());
            }
        }
    }
}
