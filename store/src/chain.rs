//! The evidence chain: one entry per write batch with its key range, event count and a
//! BLAKE3 hash over its records, chained to the previous batch's hash. Retention leaves an
//! anchor (the last removed batch's number and hash) so the chain still verifies afterwards.
//!
//! Two entry versions: version 1 (stores of format 1) hashes the batch's block layouts in
//! order ([`BatchHasher`]); version 2 (written since store format 2) commits to the root of a
//! Merkle tree over the batch's events ([`crate::merkle`]), so that one event can be proven
//! part of its batch without the rest ([`v2_hash`]). Both verify; new batches get version 2.

use crate::key::{EVENT_KEY_LEN, EventKey};

/// Chain entry format version of stores of format 1.
const ENTRY_V1: u8 = 1;
/// Chain entry format version with a Merkle root (written now).
const ENTRY_V2: u8 = 2;
/// Encoded length of a version 1 entry.
const ENTRY_LEN: usize = 1 + 2 * EVENT_KEY_LEN + 4 + 8 + 32 + 32;
/// Encoded length of a version 2 entry (the root after `prev`).
pub const ENTRY_V2_LEN: usize = ENTRY_LEN + 32;

/// A 32-byte BLAKE3 digest.
pub type Hash = [u8; 32];

/// One batch's entry in the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainEntry {
    /// The batch's first event key.
    pub first: EventKey,
    /// The batch's last event key.
    pub last: EventKey,
    /// Events in the batch.
    pub count: u32,
    /// Bytes the batch's records and index entries take (for size-based retention).
    pub bytes: u64,
    /// The previous batch's hash (or the anchor's).
    pub prev: Hash,
    /// The Merkle root over the batch's events (version 2 entries; `None` in version 1).
    pub root: Option<Hash>,
    /// This batch's hash.
    pub hash: Hash,
}

impl ChainEntry {
    /// Encodes the entry.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(ENTRY_V2_LEN);
        v.push(if self.root.is_some() {
            ENTRY_V2
        } else {
            ENTRY_V1
        });
        v.extend_from_slice(&self.first.to_bytes());
        v.extend_from_slice(&self.last.to_bytes());
        v.extend_from_slice(&self.count.to_le_bytes());
        v.extend_from_slice(&self.bytes.to_le_bytes());
        v.extend_from_slice(&self.prev);
        if let Some(r) = &self.root {
            v.extend_from_slice(r);
        }
        v.extend_from_slice(&self.hash);
        v
    }

    /// Decodes an entry; `None` if it is not one this build wrote.
    pub fn from_bytes(b: &[u8]) -> Option<ChainEntry> {
        let v2 = match (b.first(), b.len()) {
            (Some(&ENTRY_V1), ENTRY_LEN) => false,
            (Some(&ENTRY_V2), ENTRY_V2_LEN) => true,
            _ => return None,
        };
        let key = |at: usize| EventKey::from_bytes(b.get(at..at + EVENT_KEY_LEN)?);
        let hash_at = if v2 { 101 } else { 69 };
        Some(ChainEntry {
            first: key(1)?,
            last: key(13)?,
            count: u32::from_le_bytes(b.get(25..29)?.try_into().ok()?),
            bytes: u64::from_le_bytes(b.get(29..37)?.try_into().ok()?),
            prev: b.get(37..69)?.try_into().ok()?,
            root: if v2 {
                Some(b.get(69..101)?.try_into().ok()?)
            } else {
                None
            },
            hash: b.get(hash_at..hash_at + 32)?.try_into().ok()?,
        })
    }

    /// The hash a version 2 entry of batch `number` must have (None for version 1, whose
    /// hash needs the batch's blocks).
    pub fn expected_v2_hash(&self, number: u64) -> Option<Hash> {
        self.root
            .map(|r| v2_hash(number, &self.prev, &self.first, &self.last, self.count, &r))
    }
}

/// The hash of a version 2 batch: BLAKE3 of `"picket-chain-v3" || number (u64 BE) || prev ||
/// first key || last key || count (u32 LE) || Merkle root`.
pub fn v2_hash(
    number: u64,
    prev: &Hash,
    first: &EventKey,
    last: &EventKey,
    count: u32,
    root: &Hash,
) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(b"picket-chain-v3");
    h.update(&number.to_be_bytes());
    h.update(prev);
    h.update(&first.to_bytes());
    h.update(&last.to_bytes());
    h.update(&count.to_le_bytes());
    h.update(root);
    *h.finalize().as_bytes()
}

/// Hashes a batch: its number, the previous hash, then each of its block layouts (which hold
/// every event key and record) in key order. Hashing whole blocks rather than single records
/// lets BLAKE3 run at full speed.
pub struct BatchHasher(blake3::Hasher);

impl BatchHasher {
    /// Starts the hash of batch `number` following `prev`.
    pub fn new(number: u64, prev: &Hash) -> BatchHasher {
        let mut h = blake3::Hasher::new();
        h.update(b"picket-chain-v2");
        h.update(&number.to_be_bytes());
        h.update(prev);
        BatchHasher(h)
    }

    /// Adds one block layout (unpacked).
    pub fn add(&mut self, layout: &[u8]) {
        self.0.update(&(layout.len() as u64).to_le_bytes());
        self.0.update(layout);
    }

    /// The batch hash.
    pub fn finish(&self) -> Hash {
        *self.0.finalize().as_bytes()
    }
}

/// Batch numbers as chain-tree keys.
pub fn batch_key(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

/// Reads a chain-tree key.
pub fn batch_number(k: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(k.try_into().ok()?))
}

/// The anchor retention leaves: the last removed batch's number and hash.
pub fn anchor_to_bytes(number: u64, hash: &Hash) -> Vec<u8> {
    let mut v = number.to_be_bytes().to_vec();
    v.extend_from_slice(hash);
    v
}

/// Reads an anchor.
pub fn anchor_from_bytes(b: &[u8]) -> Option<(u64, Hash)> {
    let n = u64::from_be_bytes(b.get(..8)?.try_into().ok()?);
    let h = b.get(8..40)?.try_into().ok()?;
    Some((n, h))
}

/// Lower-case hex of a digest.
pub fn hex(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}
