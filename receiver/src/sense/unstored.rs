//! Candidate writes the store does not have yet, indexed by candidate key: what
//! [`Sensor`](super::Sensor) reads instead of the store for a candidate it brings back.
//!
//! Why: a candidate evicted and written with a batch (or removed by it) and seen again
//! before that batch is stored would otherwise be read from the store as it was before (or
//! as absent) and start anew, losing its history. That happens within one batch (the batch's
//! own writes, still being filled) and across two: the writer folds batch N+1 while the
//! store thread writes batch N (serve/committer.rs). One index serves both: it is kept as
//! the batch's writes are filled and handed over with them.

use std::collections::HashMap;

use picket_store::IncidentWrites;

/// Keys of one [`IncidentWrites`]' puts and removals, for the candidates that are nowhere
/// else (evicted and spilled, or removed).
#[derive(Default)]
pub struct UnstoredIndex {
    /// Key → index into `put` (the last put of the key), or `None` for a removal (the
    /// store applies removals after the puts, so a removal wins).
    index: HashMap<Vec<u8>, Option<usize>>,
}

impl UnstoredIndex {
    /// `writes.put[at]` puts `key`.
    pub fn put(&mut self, key: &[u8], at: usize, writes: &IncidentWrites) {
        let removed =
            matches!(self.index.get(key), Some(None)) || writes.remove.iter().any(|k| k == key);
        if !removed {
            self.index.insert(key.to_vec(), Some(at));
        }
    }

    /// `writes` removes `key`.
    pub fn remove(&mut self, key: &[u8]) {
        self.index.insert(key.to_vec(), None);
    }

    /// What `writes` (the writes this index was kept for) does to `key`: `Some(Some(bytes))`
    /// puts them, `Some(None)` removes the candidate, `None` leaves it to the store. An
    /// index left from writes already stored names puts that are no longer there, or are
    /// another key's: those leave it to the store too.
    pub fn get<'w>(&self, key: &[u8], writes: &'w IncidentWrites) -> Option<Option<&'w [u8]>> {
        match self.index.get(key)? {
            Some(i) => writes
                .put
                .get(*i)
                .filter(|(k, _)| k.as_slice() == key)
                .map(|(_, v)| Some(v.as_slice())),
            None => Some(None),
        }
    }

    /// The writes are stored: the store has what they put.
    pub fn clear(&mut self) {
        self.index.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_put_wins_and_a_removal_beats_a_put() {
        let mut w = IncidentWrites::default();
        let mut f = UnstoredIndex::default();
        for (k, v) in [(b"a", b"1"), (b"b", b"2"), (b"a", b"3")] {
            f.put(k, w.put.len(), &w);
            w.put.push((k.to_vec(), v.to_vec()));
        }
        f.remove(b"b");
        w.remove.push(b"b".to_vec());
        // A put after the removal of its key in the same writes: still removed.
        f.put(b"b", w.put.len(), &w);
        w.put.push((b"b".to_vec(), b"4".to_vec()));
        assert_eq!(f.get(b"a", &w), Some(Some(&b"3"[..])));
        assert_eq!(f.get(b"b", &w), Some(None));
        assert_eq!(f.get(b"c", &w), None);
        // Indexes into writes that are gone leave the key to the store.
        assert_eq!(f.get(b"a", &IncidentWrites::default()), None);
        f.clear();
        assert_eq!(f.get(b"a", &w), None);
    }
}
