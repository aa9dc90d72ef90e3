//! Candidates the book evicted, kept in memory in their stored form (about a third of a
//! candidate's resident size) up to a byte budget, before they go to the store.
//!
//! Why: with more active sources than `max_active` (a botnet's distributed scan), every event
//! of a source that comes back found its candidate evicted; writing each evicted candidate to
//! sled and reading it back on the next event cost about 30 µs a message, 30 times the whole
//! ingest (bench/README.md). Here an eviction is an encode into memory and a return a decode;
//! the store sees an evicted candidate once per flush at most (dirty entries are written by
//! [`ColdCandidates::flush_into`] with the periodic flush), and only the oldest entries past
//! the budget are written at once, with the batch, as every eviction was before.
//!
//! What a crash loses is what it lost before: the stored candidates are those of the last
//! flush, and the replay from the flush's checkpoint folds the events since.

use std::collections::{HashMap, VecDeque};

use picket_sensor::SourceKey;

/// Bookkeeping bytes per entry beyond the encoded candidate (the key in the map and in the
/// order, the map's slot), counted against the budget.
const ENTRY_OVERHEAD: usize = 2 * std::mem::size_of::<SourceKey>() + 64;

struct Cold {
    bytes: Vec<u8>,
    /// Not yet in the store in this form.
    dirty: bool,
    /// Its place in `order` (an older place there is stale).
    seq: u64,
}

/// Encoded evicted candidates by source, oldest evicted first out.
pub struct ColdCandidates {
    budget: usize,
    used: usize,
    map: HashMap<SourceKey, Cold>,
    order: VecDeque<(u64, SourceKey)>,
    next_seq: u64,
}

impl ColdCandidates {
    /// An empty cache of at most `budget` bytes (0: every eviction goes to the store at once).
    pub fn new(budget: usize) -> ColdCandidates {
        ColdCandidates {
            budget,
            used: 0,
            map: HashMap::new(),
            order: VecDeque::new(),
            next_seq: 0,
        }
    }

    /// Number of candidates held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Bytes held (encoded candidates and bookkeeping).
    #[cfg(test)]
    pub fn used(&self) -> usize {
        self.used
    }

    /// Keeps an evicted candidate's stored form (`dirty`: not in the store in this form).
    /// Entries pushed out by the budget come back as (source, bytes) when dirty: they must
    /// be written now.
    pub fn put(
        &mut self,
        key: SourceKey,
        bytes: Vec<u8>,
        dirty: bool,
        spill: &mut Vec<(SourceKey, Vec<u8>)>,
    ) {
        let size = bytes.len() + ENTRY_OVERHEAD;
        if size > self.budget {
            if dirty {
                spill.push((key, bytes));
            }
            return;
        }
        self.take(&key);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.used += size;
        self.map.insert(key, Cold { bytes, dirty, seq });
        self.order.push_back((seq, key));
        while self.used > self.budget {
            let Some((seq, old)) = self.order.pop_front() else {
                break;
            };
            if self.map.get(&old).is_some_and(|c| c.seq == seq)
                && let Some(c) = self.remove(&old)
                && c.dirty
            {
                spill.push((old, c.bytes));
            }
        }
        // Stale places (of entries taken back) would otherwise pile up under a churn that
        // never reaches the budget.
        if self.order.len() > 2 * self.map.len() + 1024 {
            let map = &self.map;
            self.order
                .retain(|(seq, k)| map.get(k).is_some_and(|c| c.seq == *seq));
        }
    }

    /// Takes a source's stored form out (its candidate goes back into the book), with
    /// whether the store lacks it.
    pub fn take(&mut self, key: &SourceKey) -> Option<(Vec<u8>, bool)> {
        self.remove(key).map(|c| (c.bytes, c.dirty))
    }

    /// Drops a source's entry (its stored record was removed).
    pub fn forget(&mut self, key: &SourceKey) {
        self.remove(key);
    }

    /// Every dirty entry, to be written with the flush; they stay, clean.
    pub fn flush_into(&mut self, out: &mut Vec<(SourceKey, Vec<u8>)>) {
        for (key, c) in self.map.iter_mut().filter(|(_, c)| c.dirty) {
            c.dirty = false;
            out.push((*key, c.bytes.clone()));
        }
    }

    fn remove(&mut self, key: &SourceKey) -> Option<Cold> {
        let c = self.map.remove(key)?;
        self.used = self.used.saturating_sub(c.bytes.len() + ENTRY_OVERHEAD);
        Some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u8) -> SourceKey {
        SourceKey::new(std::net::IpAddr::from([198, 51, 100, i]), 32)
    }

    #[test]
    fn the_oldest_dirty_entries_past_the_budget_are_spilled_and_clean_ones_dropped() {
        let mut cold = ColdCandidates::new(3 * (100 + ENTRY_OVERHEAD));
        let mut spill = Vec::new();
        cold.put(key(1), vec![1; 100], true, &mut spill);
        cold.put(key(2), vec![2; 100], false, &mut spill);
        cold.put(key(3), vec![3; 100], true, &mut spill);
        assert!(spill.is_empty());
        cold.put(key(4), vec![4; 100], true, &mut spill);
        assert_eq!(spill, vec![(key(1), vec![1; 100])]);
        spill.clear();
        cold.put(key(5), vec![5; 100], true, &mut spill);
        assert!(spill.is_empty(), "key 2 was clean: dropped, not written");
        assert_eq!(cold.len(), 3);
        assert_eq!(cold.take(&key(3)), Some((vec![3; 100], true)));
        assert_eq!(cold.take(&key(3)), None);
    }

    #[test]
    fn a_flush_writes_each_dirty_entry_once() {
        let mut cold = ColdCandidates::new(1 << 20);
        let mut spill = Vec::new();
        cold.put(key(1), vec![1], true, &mut spill);
        cold.put(key(2), vec![2], false, &mut spill);
        let mut out = Vec::new();
        cold.flush_into(&mut out);
        assert_eq!(out, vec![(key(1), vec![1])]);
        out.clear();
        cold.flush_into(&mut out);
        assert!(out.is_empty());
        assert_eq!(cold.take(&key(1)), Some((vec![1], false)));
    }

    #[test]
    fn taking_entries_back_does_not_grow_the_order_without_bound() {
        let mut cold = ColdCandidates::new(1 << 30);
        let mut spill = Vec::new();
        for round in 0..10_000u32 {
            let k = key((round % 7) as u8);
            cold.put(k, vec![0; 10], true, &mut spill);
            cold.take(&k);
        }
        assert!(cold.order.len() <= 1024 + 1);
        assert_eq!(cold.used(), 0);
    }
}
