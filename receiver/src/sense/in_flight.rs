//! The candidate writes of the batch the store thread is writing while the writer folds the
//! next one: what [`Sensor`](super::Sensor) must read instead of the store for a candidate it
//! brings back, because the store does not have them yet.
//!
//! Why: the writer prepares batch N+1 (parse, fold) while the store thread appends and
//! flushes batch N (serve/committer.rs). A candidate evicted and spilled with batch N, or
//! written by N's flush slice, and seen again in N+1 would otherwise be read from the store
//! as it was before N (or as absent) and start anew, losing its history.

use std::collections::HashMap;
use std::sync::Arc;

use picket_store::IncidentWrites;

/// The writes of the batch in flight, indexed by candidate key.
#[derive(Default)]
pub struct InFlight {
    writes: Option<Arc<IncidentWrites>>,
    /// Key → index into `writes.put` (the last put of the key), or `None` for a removal
    /// (the store applies removals after the puts).
    index: HashMap<Vec<u8>, Option<usize>>,
}

impl InFlight {
    /// Takes `writes` as the batch in flight.
    pub fn set(&mut self, writes: Arc<IncidentWrites>) {
        self.index.clear();
        for (i, (key, _)) in writes.put.iter().enumerate() {
            self.index.insert(key.clone(), Some(i));
        }
        for key in &writes.remove {
            self.index.insert(key.clone(), None);
        }
        self.writes = (!self.index.is_empty()).then_some(writes);
    }

    /// The batch in flight is stored: the store has what it wrote.
    pub fn clear(&mut self) {
        self.writes = None;
        self.index.clear();
    }

    /// What the batch in flight does to `key`: `Some(Some(bytes))` puts them, `Some(None)`
    /// removes the candidate, `None` leaves it to the store.
    pub fn get(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        let writes = self.writes.as_ref()?;
        match self.index.get(key)? {
            Some(i) => Some(writes.put.get(*i).map(|(_, v)| v.as_slice())),
            None => Some(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_put_wins_and_a_removal_beats_a_put() {
        let mut w = IncidentWrites::default();
        w.put.push((b"a".to_vec(), b"1".to_vec()));
        w.put.push((b"b".to_vec(), b"2".to_vec()));
        w.put.push((b"a".to_vec(), b"3".to_vec()));
        w.remove.push(b"b".to_vec());
        let mut f = InFlight::default();
        f.set(Arc::new(w));
        assert_eq!(f.get(b"a"), Some(Some(&b"3"[..])));
        assert_eq!(f.get(b"b"), Some(None));
        assert_eq!(f.get(b"c"), None);
        f.clear();
        assert_eq!(f.get(b"a"), None);
    }
}
