//! Blocks: up to [`BLOCK_RECORDS`] consecutive events stored under one sled key (the first
//! event's key). sled's cost is per key, so grouping records makes writes ~20 times faster and
//! the store far smaller than one key per event, while a block stays small enough that
//! fetching one for a single event is cheap.
//!
//! Layout (version 1): `u8 version | u8 count | u32 LE offset per entry | entries`, each
//! entry being the 12-byte event key followed by the record; an entry ends where the next
//! begins (the last at the end of the block). What sled stores is that layout packed:
//! `u8 codec | payload`, codec 1 being LZ4 with the size prepended. Log lines compress about
//! threefold, which keeps the store under the raw size of the lines and halves sled's work.

use crate::error::DecodeError;
use crate::key::{EVENT_KEY_LEN, EventKey};

/// Block format version.
const BLOCK_VERSION: u8 = 1;
/// Most records in one block.
pub const BLOCK_RECORDS: usize = 64;
/// A block is closed once its records pass this many bytes.
pub const BLOCK_BYTES: usize = 16 * 1024;

/// Codec byte: the payload is the layout itself.
const CODEC_NONE: u8 = 0;
/// Codec byte: LZ4 block with a little-endian u32 size in front.
const CODEC_LZ4: u8 = 1;
/// An unpacked block is never larger than this (guards against a forged size).
const MAX_UNPACKED: usize = 4 * BLOCK_BYTES + 64 * 1024 * BLOCK_RECORDS;

/// Packs a block layout for storage.
pub fn pack(layout: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(layout.len() / 2 + 16);
    out.push(CODEC_LZ4);
    out.extend_from_slice(&lz4_flex::block::compress_prepend_size(layout));
    out
}

/// Unpacks a stored block into its layout.
pub fn unpack(stored: &[u8]) -> Result<Vec<u8>, DecodeError> {
    match stored.first() {
        Some(&CODEC_NONE) => Ok(stored.get(1..).unwrap_or_default().to_vec()),
        Some(&CODEC_LZ4) => {
            let payload = stored.get(1..).unwrap_or_default();
            let size = payload
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_le_bytes)
                .ok_or(DecodeError::Truncated)? as usize;
            if size > MAX_UNPACKED {
                return Err(DecodeError::BadSlice);
            }
            lz4_flex::block::decompress_size_prepended(payload).map_err(|_| DecodeError::Corrupt)
        }
        Some(&c) => Err(DecodeError::BadTag("block codec", c)),
        None => Err(DecodeError::Truncated),
    }
}

/// Encodes entries (key, record) into one block layout.
pub fn encode(entries: &[(EventKey, &[u8])]) -> Vec<u8> {
    let head = 2 + 4 * entries.len();
    let body: usize = entries.iter().map(|(_, r)| EVENT_KEY_LEN + r.len()).sum();
    let mut out = Vec::with_capacity(head + body);
    out.push(BLOCK_VERSION);
    out.push(entries.len().min(255) as u8);
    let mut off = 0u32;
    for (_, r) in entries {
        out.extend_from_slice(&off.to_le_bytes());
        off += (EVENT_KEY_LEN + r.len()) as u32;
    }
    for (k, r) in entries {
        out.extend_from_slice(&k.to_bytes());
        out.extend_from_slice(r);
    }
    out
}

/// A decoded view of a block.
#[derive(Clone, Copy, Debug)]
pub struct BlockView<'a> {
    block: &'a [u8],
    count: usize,
    head: usize,
}

impl<'a> BlockView<'a> {
    /// Checks the header of a block.
    pub fn new(block: &'a [u8]) -> Result<BlockView<'a>, DecodeError> {
        match block.first() {
            Some(&BLOCK_VERSION) => {}
            Some(&v) => return Err(DecodeError::UnknownVersion(v)),
            None => return Err(DecodeError::Truncated),
        }
        let count = usize::from(*block.get(1).ok_or(DecodeError::Truncated)?);
        let head = 2 + 4 * count;
        if block.len() < head {
            return Err(DecodeError::Truncated);
        }
        Ok(BlockView { block, count, head })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.count
    }

    fn offset(&self, i: usize) -> Option<usize> {
        let b = self.block.get(2 + 4 * i..6 + 4 * i)?;
        Some(self.head + u32::from_le_bytes(b.try_into().ok()?) as usize)
    }

    /// Where entry `i` lies in the block.
    fn bounds(&self, i: usize) -> Result<(usize, usize), DecodeError> {
        if i >= self.count {
            return Err(DecodeError::Truncated);
        }
        let start = self.offset(i).ok_or(DecodeError::Truncated)?;
        let end = if i + 1 < self.count {
            self.offset(i + 1).ok_or(DecodeError::Truncated)?
        } else {
            self.block.len()
        };
        if start + EVENT_KEY_LEN > end || end > self.block.len() {
            return Err(DecodeError::BadSlice);
        }
        Ok((start, end))
    }

    /// Entry `i`: its key and record.
    pub fn get(&self, i: usize) -> Result<(EventKey, &'a [u8]), DecodeError> {
        let (start, end) = self.bounds(i)?;
        let key = self
            .block
            .get(start..start + EVENT_KEY_LEN)
            .and_then(EventKey::from_bytes)
            .ok_or(DecodeError::Truncated)?;
        let rec = self
            .block
            .get(start + EVENT_KEY_LEN..end)
            .ok_or(DecodeError::BadSlice)?;
        Ok((key, rec))
    }

    /// The byte range of record `i` within the block (to hand a record out without copying).
    pub fn record_range(&self, i: usize) -> Result<std::ops::Range<usize>, DecodeError> {
        let (start, end) = self.bounds(i)?;
        Ok(start + EVENT_KEY_LEN..end)
    }

    /// The first entry whose key is greater than (or, with `inclusive`, equal to) `key`.
    #[cfg(test)]
    pub fn position_after(&self, key: EventKey, inclusive: bool) -> Result<usize, DecodeError> {
        for i in 0..self.count {
            let (k, _) = self.get(i)?;
            if k > key || (inclusive && k == key) {
                return Ok(i);
            }
        }
        Ok(self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_ranges() {
        let k = |n| EventKey { time_ns: n, seq: 0 };
        let entries = [(k(1), &b"one"[..]), (k(2), b""), (k(5), b"three")];
        let block = encode(&entries);
        let v = BlockView::new(&block).unwrap();
        assert_eq!(v.len(), 3);
        for (i, (key, rec)) in entries.iter().enumerate() {
            assert_eq!(v.get(i).unwrap(), (*key, *rec));
            assert_eq!(&block[v.record_range(i).unwrap()], *rec);
        }
        assert_eq!(v.position_after(k(2), false).unwrap(), 2);
        assert_eq!(v.position_after(k(2), true).unwrap(), 1);
        assert_eq!(v.position_after(k(9), true).unwrap(), 3);
        assert!(v.get(3).is_err());
    }

    #[test]
    fn packing_round_trips_and_rejects_damage() {
        let rec = b"<38>Nov  8 15:26:31 linux in.telnetd[812]: refused connect from 198.51.100.7"
            .repeat(3);
        let entries: Vec<_> = (0..40)
            .map(|n| (EventKey { time_ns: n, seq: 0 }, &rec[..]))
            .collect();
        let layout = encode(&entries);
        let packed = pack(&layout);
        assert!(
            packed.len() * 3 < layout.len(),
            "{} vs {}",
            packed.len(),
            layout.len()
        );
        assert_eq!(unpack(&packed).unwrap(), layout);
        for cut in 0..packed.len() {
            let _ = unpack(&packed[..cut]);
        }
        let mut forged = packed.clone();
        forged[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(unpack(&forged).is_err());
        assert!(unpack(&[7]).is_err());
    }

    #[test]
    fn damaged_blocks_are_errors() {
        let block = encode(&[(EventKey { time_ns: 1, seq: 0 }, &b"abc"[..])]);
        for cut in 0..block.len() {
            if let Ok(v) = BlockView::new(&block[..cut]) {
                for i in 0..v.len() {
                    let _ = v.get(i);
                }
            }
        }
        let mut bad = block.clone();
        bad[2] = 0xff;
        let v = BlockView::new(&bad).unwrap();
        assert!(v.get(0).is_err());
    }
}
