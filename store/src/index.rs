//! The `by_source` index: one entry per source address per batch, keyed by the 16-byte
//! address and the batch's first event key, holding (event key, block key, ordinal) for each
//! of that source's events in the batch, in key order.

use crate::error::DecodeError;
use crate::key::{EVENT_KEY_LEN, EventKey};

/// Bytes per event in an index value.
pub const ENTRY_LEN: usize = 2 * EVENT_KEY_LEN + 1;
/// Length of an index key.
pub const KEY_LEN: usize = 16 + EVENT_KEY_LEN;

/// The index key of a source in the batch starting at `first`.
pub fn key(src: &[u8; 16], first: EventKey) -> [u8; KEY_LEN] {
    let mut k = [0u8; KEY_LEN];
    k[..16].copy_from_slice(src);
    k[16..].copy_from_slice(&first.to_bytes());
    k
}

/// Appends one event's place to an index value.
pub fn push(value: &mut Vec<u8>, event: EventKey, block: EventKey, ordinal: u8) {
    value.extend_from_slice(&event.to_bytes());
    value.extend_from_slice(&block.to_bytes());
    value.push(ordinal);
}

/// One event's place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    /// The event's key.
    pub event: EventKey,
    /// The key of the block holding it.
    pub block: EventKey,
    /// Its position in the block.
    pub ordinal: u8,
}

/// Reads place `i` of an index value.
pub fn place(value: &[u8], i: usize) -> Result<Place, DecodeError> {
    let e = value
        .get(i * ENTRY_LEN..(i + 1) * ENTRY_LEN)
        .ok_or(DecodeError::Truncated)?;
    Ok(Place {
        event: EventKey::from_bytes(&e[..EVENT_KEY_LEN]).ok_or(DecodeError::Truncated)?,
        block: EventKey::from_bytes(&e[EVENT_KEY_LEN..2 * EVENT_KEY_LEN])
            .ok_or(DecodeError::Truncated)?,
        ordinal: e[2 * EVENT_KEY_LEN],
    })
}

/// Number of places in an index value.
pub fn len(value: &[u8]) -> usize {
    value.len() / ENTRY_LEN
}
