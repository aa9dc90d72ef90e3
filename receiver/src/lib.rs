//! picket: the syslog receiver and security sensor (listeners, pipeline, query socket, CLI).
//!
//! The parsing lives in `picket-parsers`, the store in `picket-store`, the incident book in
//! `picket-sensor`; this crate wires them to files, sockets and the command line. Its modules
//! are private: what the binary and the integration tests use is re-exported here, so code
//! that nothing uses is reported as dead.

mod cli;
mod clock;
mod config;
mod contact;
mod error;
mod lines;
mod message;
mod query;
mod sense;
mod serve;
mod stats;
mod text;
mod values;

pub use cli::main;
pub use config::FileConfig;
pub use error::Error;
pub use sense::decode_stored as decode_stored_candidate;
pub use sense::offline::{RebuildReport, rebuild};
pub use serve::{Listeners, ServeArgs, ServeConfig, Summary, run, run_until_signal};
