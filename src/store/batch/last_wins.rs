//! `LastWins`: a batch's rows of one table, keyed by identity.

use std::hash::Hash;

// A projection merges tens of thousands of rows by key: foldhash (seeded per process) rather
// than SipHash, which took a sixth of the projector's thread.
use foldhash::HashMap;

/// Rows keyed by identity, the last write of each key winning, in first-seen order.
pub struct LastWins<K, V> {
    index: HashMap<K, usize>,
    pub(super) keys: Vec<K>,
    /// Per row: whether a write of it in this batch created it (so it is new to the store).
    creates: Vec<bool>,
    pub rows: Vec<V>,
}

impl<K: Eq + Hash, V> Default for LastWins<K, V> {
    fn default() -> Self {
        LastWins { index: HashMap::default(), keys: Vec::new(), creates: Vec::new(), rows: Vec::new() }
    }
}

impl<K: Eq + Hash + Copy, V> LastWins<K, V> {
    pub(super) fn put(&mut self, key: K, row: V) {
        self.put_new(key, row, false);
    }

    /// Puts a row, remembering whether this write creates it: a row created and then changed in
    /// one batch is still new to the store.
    pub(super) fn put_new(&mut self, key: K, row: V, creates: bool) {
        match self.index.get(&key) {
            Some(&at) => {
                self.rows[at] = row;
                self.creates[at] |= creates;
            }
            None => {
                self.index.insert(key, self.rows.len());
                self.keys.push(key);
                self.creates.push(creates);
                self.rows.push(row);
            }
        }
    }

    /// The rows new to the store, then the rows it already has.
    pub fn by_creation(&self) -> (Vec<&V>, Vec<&V>) {
        let (mut new, mut known) = (Vec::new(), Vec::new());
        for (row, creates) in self.rows.iter().zip(&self.creates) {
            if *creates {
                new.push(row);
            } else {
                known.push(row);
            }
        }
        (new, known)
    }

    /// How many rows this batch creates.
    pub fn created_count(&self) -> usize {
        self.creates.iter().filter(|c| **c).count()
    }

    /// The rows this batch creates, as of its last change.
    pub(super) fn created_only(self) -> Self {
        self.split_created().0
    }

    /// Splits the rows this batch creates (as of their last change) from the rows the store has.
    pub fn split_created(self) -> (Self, Self) {
        let (mut created, mut known) = (LastWins::default(), LastWins::default());
        for ((key, row), creates) in self.keys.into_iter().zip(self.rows).zip(self.creates) {
            match creates {
                true => created.put_new(key, row, true),
                false => known.put_new(key, row, false),
            }
        }
        (created, known)
    }

    /// Splits off the rows whose key `shared` says another batch also writes.
    pub(super) fn split(self, shared: impl Fn(&K) -> bool) -> (Self, Self) {
        self.partition(|key, _| !shared(key))
    }

    /// The row of `key`, as of its last write.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.index.get(key).map(|&at| &self.rows[at])
    }

    /// The rows `keep` keeps (given each key and row), then the rest, each side in first-seen
    /// order.
    pub(super) fn partition(self, keep: impl Fn(&K, &V) -> bool) -> (Self, Self) {
        let (mut kept, mut rest) = (LastWins::default(), LastWins::default());
        for ((key, row), creates) in self.keys.into_iter().zip(self.rows).zip(self.creates) {
            if keep(&key, &row) {
                kept.put_new(key, row, creates);
            } else {
                rest.put_new(key, row, creates);
            }
        }
        (kept, rest)
    }
}
