//! `picket verify`: re-check the evidence chain and the logbook of the whole store, print
//! their heads (to record elsewhere), check heads recorded earlier (`--expect-head`), or
//! check one evidence bundle alone (`--bundle`, no store needed). While `picket serve` runs
//! it asks the server (op `verify`, over the store as of the request while ingest goes on);
//! otherwise it reads the store itself. Both print the same lines.

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::Value;

use crate::error::Error;

/// Options of `picket verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A head recorded earlier (as `verify` or serve's head file print it:
    /// `events:N:HEX`, `logbook:N:HEX`, or both joined by a comma); the store must still
    /// hold it. May be given more than once.
    #[arg(long, value_name = "HEAD")]
    pub expect_head: Vec<String>,
    /// Check this evidence bundle (from `picket evidence`) alone, without the store.
    #[arg(long, value_name = "FILE", conflicts_with = "expect_head")]
    pub bundle: Option<PathBuf>,
    /// Query socket of the running server, if one runs [default: DATA/picket.sock].
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

/// Runs `picket verify`; `Ok(false)` when the store (or the bundle) does not verify.
pub fn run(data: &Path, socket: &Path, args: &VerifyArgs) -> Result<bool, Error> {
    if let Some(file) = &args.bundle {
        return super::evidence::verify_bundle(file);
    }
    if let Some(mut conn) = super::maint::server(socket) {
        let mut req = serde_json::Map::new();
        req.insert("op".into(), "verify".into());
        if !args.expect_head.is_empty() {
            req.insert("expect_head".into(), args.expect_head.clone().into());
        }
        super::maint::send_request(&mut conn, &req)?;
        let v = super::maint::read_reply(conn)?;
        let v = v.get("verify").unwrap_or(&Value::Null);
        for l in v
            .get("lines")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            super::say!("{}", super::client::text(l));
        }
        return Ok(v.get("ok") == Some(&Value::Bool(true)));
    }
    if !data.join("conf").exists() {
        return Err(Error::Usage(format!(
            "no store in {} (give --data DIR, or import or serve first)",
            data.display()
        )));
    }
    let store = super::maint::open_store(data, socket)?;
    let report = crate::query::verify::report(&store, &args.expect_head)
        .map_err(Error::Usage)?
        .map_err(|source| Error::Store {
            dir: data.to_path_buf(),
            source,
        })?;
    for l in &report.lines {
        super::say!("{l}");
    }
    Ok(report.ok)
}

/// Examples for `picket verify --help`.
pub const EXAMPLES: &str = "\
Examples:
  picket verify                                   while serve runs (its socket) or not
  picket --data /var/lib/picket verify --expect-head \"$(tail -1 /var/log/picket-heads | cut -d' ' -f2)\"
  picket verify --bundle 203.0.113.50.bundle      (no store needed)
Exit status: 0 when everything verifies, 1 when something does not.";
