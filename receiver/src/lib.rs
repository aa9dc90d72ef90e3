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
mod reports;
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

/// The decoders of outside bytes that live in this crate, for the cargo-fuzz targets in
/// fuzz/ only (not an API: it may change with any commit).
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::query::protocol::{MAX_REQUEST, ReplyError, Request, parse as parse_request};

    /// Parses a config file's text and checks it as `picket serve` does at start (the file,
    /// no flags) and `[report]` as `picket report` does; the error is what picket prints.
    pub fn check_config(text: &str) -> Result<(), crate::Error> {
        use clap::Parser;

        /// `picket serve` with no flags (clap fills in every flag's default).
        #[derive(Parser)]
        struct Serve {
            #[command(flatten)]
            args: crate::ServeArgs,
        }

        let path = std::path::Path::new("picket.toml");
        let mut file = crate::FileConfig::from_text(path, text.to_string())?;
        let args = Serve::try_parse_from(["serve"])
            .map_err(|e| crate::Error::Usage(e.to_string()))?
            .args;
        let data = file.data_dir(None);
        crate::ServeConfig::build(data, &file, &args).map_err(|e| file.locate_error(e))?;
        // The notice template is another file, read by path: a fuzzed path could name
        // /dev/zero or a FIFO, so the embedded template stands in for it.
        if let Some(report) = file.report.as_mut() {
            report.template = None;
        }
        file.report_config().map_err(|e| file.locate_error(e))?;
        Ok(())
    }
}
