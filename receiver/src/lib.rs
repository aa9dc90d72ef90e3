//! picket: the syslog receiver and security sensor (listeners, pipeline, query socket, CLI).
//!
//! The parsing lives in `picket-parsers`; this crate wires it to files, sockets and the store.

pub mod cli;
pub mod clock;
pub mod config;
pub mod error;
pub mod lines;
pub mod message;
pub mod query;
pub mod sense;
pub mod serve;
pub mod stats;
pub mod values;
