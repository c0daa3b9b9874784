//! A map that remembers at most a fixed number of entries, forgetting the oldest first.
//! Used for idempotency windows: an actor remembers the outcomes of its latest commands.

use std::collections::VecDeque;
use std::hash::Hash;

use super::FastMap;

#[derive(Clone, Debug)]
pub struct BoundedMap<K, V> {
    capacity: usize,
    entries: FastMap<K, V>,
    order: VecDeque<K>,
}

impl<K: Clone + Eq + Hash, V> BoundedMap<K, V> {
    pub fn new(capacity: usize) -> BoundedMap<K, V> {
        assert!(capacity > 0);
        BoundedMap { capacity, entries: FastMap::default(), order: VecDeque::new() }
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.entries.get_mut(key)
    }

    /// Inserts or replaces; at capacity the oldest key is forgotten.
    pub fn insert(&mut self, key: K, value: V) {
        if self.entries.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
            while self.order.len() > self.capacity {
                if let Some(oldest) = self.order.pop_front() {
                    self.entries.remove(&oldest);
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.values()
    }
}

#[cfg(test)]
mod tests {
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
}
