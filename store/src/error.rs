//! Store errors: what failed and whether the store itself is at fault.

use std::fmt;
use std::path::PathBuf;

/// A record that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The record ends before its fields do.
    Truncated,
    /// A record written by a newer (or unknown) format version.
    UnknownVersion(u8),
    /// A tag byte with no meaning (field name, value).
    BadTag(&'static str, u8),
    /// A varint longer than 64 bits.
    BadVarint,
    /// A text field pointing outside the raw line.
    BadSlice,
    /// Compressed data that does not decompress.
    Corrupt,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => f.write_str("record is truncated"),
            DecodeError::UnknownVersion(v) => {
                write!(f, "record format version {v} is not known to this build")
            }
            DecodeError::BadTag(what, v) => write!(f, "record has an invalid {what} code {v}"),
            DecodeError::BadVarint => f.write_str("record has an overlong varint"),
            DecodeError::BadSlice => f.write_str("record has a field outside its raw line"),
            DecodeError::Corrupt => f.write_str("block does not decompress"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// An error from the store.
#[derive(Debug)]
pub enum StoreError {
    /// The data directory could not be opened (missing, not writable, locked by another picket).
    Open {
        /// The directory.
        path: PathBuf,
        /// sled's error.
        source: sled::Error,
    },
    /// sled failed during an operation.
    Db(sled::Error),
    /// A stored record is not readable.
    Decode {
        /// The record's key, hex.
        key: String,
        /// Why.
        source: DecodeError,
    },
    /// The store's metadata is not what this build understands.
    Meta(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Open { path, source } => {
                write!(f, "cannot open the store in {}: {source}", path.display())
            }
            StoreError::Db(e) => write!(f, "store error: {e}"),
            StoreError::Decode { key, source } => write!(f, "stored event {key}: {source}"),
            StoreError::Meta(m) => write!(f, "store metadata: {m}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Open { source, .. } | StoreError::Db(source) => Some(source),
            StoreError::Decode { source, .. } => Some(source),
            StoreError::Meta(_) => None,
        }
    }
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Db(e)
    }
}
