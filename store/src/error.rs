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
    /// A logbook action that cannot be stored as given (an empty incident, a bad kind).
    Logbook(String),
    /// An earlier I/O error closed the store; [`crate::Store::recover`] reopens it.
    NeedsRecovery,
}

impl StoreError {
    /// The I/O error underneath, if sled reported one.
    fn io(&self) -> Option<&std::io::Error> {
        match self {
            StoreError::Open {
                source: sled::Error::Io(e),
                ..
            }
            | StoreError::Db(sled::Error::Io(e)) => Some(e),
            _ => None,
        }
    }

    /// True for an I/O error from sled during an operation (the handle is then retired).
    pub(crate) fn is_sled_io(&self) -> bool {
        matches!(self, StoreError::Db(sled::Error::Io(_)))
    }

    /// The disk (or the user's quota) is full: ENOSPC or EDQUOT.
    pub fn is_disk_full(&self) -> bool {
        use std::io::ErrorKind;
        self.io().is_some_and(|e| {
            matches!(e.kind(), ErrorKind::StorageFull | ErrorKind::QuotaExceeded)
                // sled copies I/O errors without their OS code, but keeps it in the text.
                || [28, 122].iter().any(|c| e.raw_os_error() == Some(*c))
        })
    }

    /// Worth retrying after a back-off: a full disk or quota, a transient I/O error
    /// (interrupted, would block, timed out, busy), or [`StoreError::NeedsRecovery`]. The
    /// caller calls [`crate::Store::recover`] until it succeeds, then appends again (see
    /// there for how to know whether the batch in flight landed).
    pub fn is_retryable(&self) -> bool {
        use std::io::ErrorKind;
        if matches!(self, StoreError::NeedsRecovery) || self.is_disk_full() {
            return true;
        }
        self.io().is_some_and(|e| {
            matches!(
                e.kind(),
                ErrorKind::Interrupted
                    | ErrorKind::WouldBlock
                    | ErrorKind::TimedOut
                    | ErrorKind::ResourceBusy
            ) && !e.to_string().contains("could not acquire lock")
        })
    }

    /// Not worth retrying: corruption, an unreadable record or metadata, a format this build
    /// does not know, a sled bug, or an I/O error that waiting will not cure (permission
    /// denied, read-only file system, EIO). The server should exit non-zero.
    pub fn is_fatal(&self) -> bool {
        !self.is_retryable()
    }
}

/// sled's error in words for a person: corruption without sled's empty backtrace, and where.
pub(crate) fn sled_words(e: &sled::Error) -> String {
    match e {
        sled::Error::Corruption { at, .. } => match at {
            Some(sled::DiskPtr::Inline(off)) => {
                format!("sled found corrupted data at byte {off} of its file db")
            }
            Some(sled::DiskPtr::Blob(off, blob)) => {
                format!("sled found corrupted data in blob {blob} (byte {off} of db)")
            }
            None => "sled found corrupted data in its files".to_string(),
        },
        other => other.to_string(),
    }
}

/// What to do about a damaged store, for the messages that report one.
pub(crate) const DAMAGED_ADVICE: &str = "Keep a copy of the directory as it is now (it is evidence), \
    then restore it from a backup, or move it aside and load the original log files into a \
    new one with `picket import`";

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Open {
                path,
                source: source @ sled::Error::Corruption { .. },
            } => write!(
                f,
                "cannot open the store in {}: its files are damaged ({}). {DAMAGED_ADVICE}",
                path.display(),
                sled_words(source)
            ),
            StoreError::Open { path, source } => {
                write!(f, "cannot open the store in {}: {source}", path.display())
            }
            StoreError::Db(e @ sled::Error::Corruption { .. }) => write!(
                f,
                "the store's files are damaged ({}). {DAMAGED_ADVICE}",
                sled_words(e)
            ),
            StoreError::Db(e) => write!(f, "store error: {e}"),
            StoreError::Decode { key, source } => write!(f, "stored event {key}: {source}"),
            StoreError::Meta(m) => write!(f, "store metadata: {m}"),
            StoreError::Logbook(m) => write!(f, "logbook: {m}"),
            StoreError::NeedsRecovery => f.write_str(
                "the store is closed after an I/O error and must be reopened (Store::recover)",
            ),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Open { source, .. } | StoreError::Db(source) => Some(source),
            StoreError::Decode { source, .. } => Some(source),
            StoreError::Meta(_) | StoreError::Logbook(_) | StoreError::NeedsRecovery => None,
        }
    }
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Db(e)
    }
}
