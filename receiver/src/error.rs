//! Errors the command line reports: what failed, on which path, and why.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// An error with the operation and path it concerns.
#[derive(Debug)]
pub enum Error {
    /// An I/O operation on a named file failed.
    File {
        /// What we were doing (`open`, `read`).
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Reading standard input failed.
    Stdin(io::Error),
    /// Writing standard output failed (other than a closed pipe).
    Stdout(io::Error),
    /// A command-line value was not usable.
    Usage(String),
    /// A config file key whose value picket cannot use (the file and line are added where
    /// the file is known: `FileConfig::locate_error`).
    ConfigKey {
        /// The key, with its section: `time_zone`, `udp.allow`, `sensor.noise.ports`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// The store in a data directory failed.
    Store {
        /// The data directory.
        dir: PathBuf,
        /// The store's error.
        source: picket_store::StoreError,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::File { op, path, source } => {
                write!(f, "cannot {op} {}: {source}", path.display())
            }
            Error::Stdin(e) => write!(f, "cannot read standard input: {e}"),
            Error::Stdout(e) => write!(f, "cannot write standard output: {e}"),
            Error::Usage(m) => f.write_str(m),
            Error::ConfigKey { key, message } => write!(f, "config key {key}: {message}"),
            Error::Store {
                source: source @ picket_store::StoreError::Open { .. },
                ..
            } => write!(f, "{source}"),
            Error::Store { dir, source } => write!(f, "{source} (store in {})", dir.display()),
        }
    }
}

impl Error {
    /// The error for config key `key` (`section.name`) and what is wrong with its value.
    pub fn config_key(key: impl Into<String>, message: impl fmt::Display) -> Error {
        Error::ConfigKey {
            key: key.into(),
            message: message.to_string(),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::File { source, .. } | Error::Stdin(source) | Error::Stdout(source) => {
                Some(source)
            }
            Error::Usage(_) | Error::ConfigKey { .. } => None,
            Error::Store { source, .. } => Some(source),
        }
    }
}
