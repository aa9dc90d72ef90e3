//! `picket verify`: re-check the evidence chain of the whole store: through the running
//! server (op `verify`, over the store as of the request while ingest goes on) when one
//! answers, else on the store itself.

use std::path::{Path, PathBuf};

use clap::Args;
use picket_store::hex;
use serde_json::Value;

use crate::error::Error;

/// Examples for `picket verify --help`.
pub const EXAMPLES: &str = "\
Examples:
  picket verify                              while serve runs (its socket) or not
  picket --data /var/lib/picket verify
Exit status: 0 when every batch verifies, 1 when one does not (the first is named).";

/// Options of `picket verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Query socket of the running server, if one runs [default: DATA/picket.sock].
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

/// Runs `picket verify`; `Ok(false)` when the store does not verify.
pub fn run(data: &Path, socket: &Path) -> Result<bool, Error> {
    if let Some(mut conn) = super::maint::server(socket) {
        let mut req = serde_json::Map::new();
        req.insert("op".into(), "verify".into());
        super::maint::send_request(&mut conn, &req)?;
        let v = super::maint::read_reply(conn)?;
        let v = v.get("verify").unwrap_or(&Value::Null);
        let n = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
        if v.get("ok") == Some(&Value::Bool(true)) {
            println!(
                "all {} events in {} batches verify; chain head {}",
                n("events"),
                n("batches"),
                super::client::text(&v["head"])
            );
            return Ok(true);
        }
        println!("verify FAILED: {}", super::client::text(&v["problem"]));
        println!(
            "({} events in {} batches verified before it)",
            n("events"),
            n("batches")
        );
        return Ok(false);
    }
    if !data.join("conf").exists() {
        return Err(Error::Usage(format!(
            "no store in {} (give --data DIR, or import or serve first)",
            data.display()
        )));
    }
    let store = super::maint::open_store(data, socket)?;
    let report = store.verify().map_err(|source| Error::Store {
        dir: data.to_path_buf(),
        source,
    })?;
    match report.problem {
        None => {
            println!(
                "all {} events in {} batches verify; chain head {}",
                report.events,
                report.batches,
                hex(&report.head)
            );
            Ok(true)
        }
        Some(p) => {
            println!("verify FAILED: {p}");
            println!(
                "({} events in {} batches verified before it)",
                report.events, report.batches
            );
            Ok(false)
        }
    }
}
