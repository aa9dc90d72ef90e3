//! The source index, kept as sorted runs.
//!
//! sled's cost is per key, so one index key per event (or per source per batch) caps ingest
//! far below what the parsers deliver. Instead, index entries — (address, event key, block
//! key, ordinal) — collect in memory (the *pending run*) and are written, once there are
//! enough of them, as one sorted run: chunks of ~4 KiB keyed by (run id, first address,
//! first event key). A lookup is one short range read per run. The pending run is not
//! persisted on its own: after a crash it is rebuilt from the blocks written after the last
//! run (meta key `index`), so the index never disagrees with the events.

use std::sync::Arc;

use crate::error::DecodeError;
use crate::key::{EVENT_KEY_LEN, EventKey};

/// Bytes of one entry in a chunk.
pub const ENTRY_LEN: usize = 16 + 2 * EVENT_KEY_LEN + 1;
/// Bytes of a chunk key: run id, address, event key.
pub const CHUNK_KEY_LEN: usize = 8 + 16 + EVENT_KEY_LEN;
/// Entries per chunk.
pub const CHUNK_ENTRIES: usize = 100;

/// Where one event of a source is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// The source address (16 bytes, IPv4 mapped).
    pub addr: [u8; 16],
    /// The event's key.
    pub event: EventKey,
    /// The key of the block holding it.
    pub block: EventKey,
    /// Its position in the block.
    pub ordinal: u8,
}

impl Entry {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.addr);
        out.extend_from_slice(&self.event.to_bytes());
        out.extend_from_slice(&self.block.to_bytes());
        out.push(self.ordinal);
    }

    fn read(b: &[u8]) -> Result<Entry, DecodeError> {
        let get = |r: std::ops::Range<usize>| b.get(r).ok_or(DecodeError::Truncated);
        let mut addr = [0u8; 16];
        addr.copy_from_slice(get(0..16)?);
        Ok(Entry {
            addr,
            event: EventKey::from_bytes(get(16..28)?).ok_or(DecodeError::Truncated)?,
            block: EventKey::from_bytes(get(28..40)?).ok_or(DecodeError::Truncated)?,
            ordinal: *get(40..41)?.first().ok_or(DecodeError::Truncated)?,
        })
    }
}

/// The key of the chunk of run `run` starting at (`addr`, `event`).
pub fn chunk_key(run: u64, addr: &[u8; 16], event: EventKey) -> [u8; CHUNK_KEY_LEN] {
    let mut k = [0u8; CHUNK_KEY_LEN];
    let (r, rest) = k.split_at_mut(8);
    let (a, e) = rest.split_at_mut(16);
    r.copy_from_slice(&run.to_be_bytes());
    a.copy_from_slice(addr);
    e.copy_from_slice(&event.to_bytes());
    k
}

/// The run id of a chunk key.
pub fn run_of(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.get(..8)?.try_into().ok()?))
}

/// Sorts entries in run order: address, then event key.
pub fn sort(entries: &mut [Entry]) {
    // Integer keys compare far faster than the derived byte-array order (same result).
    entries.sort_unstable_by_key(|e| (u128::from_be_bytes(e.addr), e.event));
}

/// Cuts sorted entries into (chunk key, chunk value) pairs for run `run`.
pub fn chunks(run: u64, sorted: &[Entry]) -> Vec<([u8; CHUNK_KEY_LEN], Vec<u8>)> {
    sorted
        .chunks(CHUNK_ENTRIES)
        .filter_map(|c| {
            let first = c.first()?;
            let mut v = Vec::with_capacity(c.len() * ENTRY_LEN);
            for e in c {
                e.write(&mut v);
            }
            Some((chunk_key(run, &first.addr, first.event), v))
        })
        .collect()
}

/// Entries per shared piece of the pending run.
const PIECE: usize = 4096;

/// The pending run: entries in arrival order (never sorted in place), in pieces of
/// [`PIECE`] entries shared with scans. A clone copies only the piece pointers, so a scan
/// takes a snapshot in a few hundred nanoseconds under the store's small lock and filters it
/// with no lock held; the writer then adds to the last piece in place, or copies that one
/// piece (at most 4096 entries) if a scan still holds it.
#[derive(Clone, Debug, Default)]
pub struct Pending {
    pieces: Vec<Arc<Vec<Entry>>>,
    len: usize,
}

impl Pending {
    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends entries at the end.
    pub fn extend(&mut self, mut new: &[Entry]) {
        while !new.is_empty() {
            if self.pieces.last().is_none_or(|p| p.len() >= PIECE) {
                self.pieces.push(Arc::new(Vec::with_capacity(PIECE)));
            }
            let Some(last) = self.pieces.last_mut() else {
                return;
            };
            let piece = Arc::make_mut(last);
            let take = PIECE.saturating_sub(piece.len()).min(new.len()).max(1);
            let (now, later) = new.split_at(take.min(new.len()));
            piece.extend_from_slice(now);
            self.len += now.len();
            new = later;
        }
    }

    /// All entries, in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.pieces.iter().flat_map(|p| p.iter())
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        self.pieces.clear();
        self.len = 0;
    }

    /// Keeps the entries `keep` accepts (retention; rebuilds the pieces).
    pub fn retain(&mut self, keep: impl Fn(&Entry) -> bool) {
        let kept: Vec<Entry> = self.iter().filter(|e| keep(e)).copied().collect();
        self.clear();
        self.extend(&kept);
    }
}

/// Decodes a chunk value.
pub fn decode_chunk(value: &[u8]) -> Result<Vec<Entry>, DecodeError> {
    if !value.len().is_multiple_of(ENTRY_LEN) {
        return Err(DecodeError::Truncated);
    }
    value.chunks_exact(ENTRY_LEN).map(Entry::read).collect()
}

/// A written run: its id and the last event key it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// Run id (chunk key prefix).
    pub id: u64,
    /// The last event key it covers.
    pub last: EventKey,
}

/// Encodes the run list (meta key `index`).
pub fn runs_to_bytes(runs: &[Run]) -> Vec<u8> {
    let mut v = Vec::with_capacity(runs.len() * 20);
    for r in runs {
        v.extend_from_slice(&r.id.to_be_bytes());
        v.extend_from_slice(&r.last.to_bytes());
    }
    v
}

/// Decodes the run list.
pub fn runs_from_bytes(b: &[u8]) -> Option<Vec<Run>> {
    if !b.len().is_multiple_of(20) {
        return None;
    }
    b.chunks_exact(20)
        .map(|c| {
            Some(Run {
                id: u64::from_be_bytes(c.get(..8)?.try_into().ok()?),
                last: EventKey::from_bytes(c.get(8..)?)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_sort_and_round_trip() {
        let k = |t| EventKey { time_ns: t, seq: 0 };
        let mut entries: Vec<Entry> = (0..250u64)
            .map(|i| Entry {
                addr: [(i % 7) as u8; 16],
                event: k(1000 - i),
                block: k(1),
                ordinal: (i % 64) as u8,
            })
            .collect();
        sort(&mut entries);
        let cs = chunks(3, &entries);
        assert_eq!(cs.len(), 3);
        let mut back = Vec::new();
        for (key, v) in &cs {
            assert_eq!(run_of(key), Some(3));
            back.extend(decode_chunk(v).unwrap());
        }
        assert_eq!(back, entries);
        assert!(back.windows(2).all(|w| w[0] <= w[1]));
        assert!(decode_chunk(&[0; 7]).is_err());
        let runs = [Run { id: 1, last: k(5) }, Run { id: 2, last: k(9) }];
        assert_eq!(runs_from_bytes(&runs_to_bytes(&runs)).unwrap(), runs);
    }

    #[test]
    fn pending_pieces_keep_arrival_order_and_snapshots() {
        let k = |t| EventKey { time_ns: t, seq: 0 };
        let e = |i: u64| Entry {
            addr: [(i % 5) as u8; 16],
            event: k(i),
            block: k(i),
            ordinal: 0,
        };
        let all: Vec<Entry> = (0..10_000).map(e).collect();
        let mut p = Pending::default();
        p.extend(&all[..3000]);
        let snap = p.clone();
        p.extend(&all[3000..]);
        assert_eq!(p.len(), 10_000);
        assert_eq!(p.iter().copied().collect::<Vec<_>>(), all);
        // The snapshot did not see what came after it.
        assert_eq!(
            snap.iter().copied().collect::<Vec<_>>(),
            all[..3000].to_vec()
        );
        p.retain(|x| x.event.time_ns % 2 == 0);
        assert_eq!(p.len(), 5000);
        p.clear();
        assert!(p.is_empty());
    }
}
