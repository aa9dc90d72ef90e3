//! `picket verify`: re-check the evidence chain and the logbook of the whole store, print
//! their heads (to record elsewhere), check heads recorded earlier (`--expect-head`), or
//! check one evidence bundle alone (`--bundle`, no store needed).

use std::path::{Path, PathBuf};

use clap::Args;
use picket_store::{Store, StoreConfig, format_heads, hex, parse_heads};

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
}

/// Runs `picket verify`; `Ok(false)` when the store (or the bundle) does not verify.
pub fn run(data: &Path, args: &VerifyArgs) -> Result<bool, Error> {
    if let Some(file) = &args.bundle {
        return super::evidence::verify_bundle(file);
    }
    let mut expected = Vec::new();
    for h in &args.expect_head {
        expected.extend(parse_heads(h).map_err(Error::Usage)?);
    }
    if !data.join("conf").exists() {
        return Err(Error::Usage(format!(
            "no store in {} (give --data DIR, or import or serve first)",
            data.display()
        )));
    }
    let store_err = |source| Error::Store {
        dir: data.to_path_buf(),
        source,
    };
    let store = Store::open(data, &StoreConfig::default()).map_err(store_err)?;
    let report = store.verify().map_err(store_err)?;
    let mut ok = true;
    match &report.problem {
        None => println!(
            "all {} events in {} batches verify; chain head {}",
            report.events,
            report.batches,
            hex(&report.head)
        ),
        Some(p) => {
            ok = false;
            println!("verify FAILED: {p}");
            println!(
                "({} events in {} batches verified before it)",
                report.events, report.batches
            );
        }
    }
    let lb = &report.logbook;
    match &lb.problem {
        None => println!(
            "all {} logbook entries verify; logbook head {}",
            lb.entries,
            hex(&lb.head.1)
        ),
        Some(p) => {
            ok = false;
            println!("verify FAILED: {}", crate::text::safe_str(&p.to_string()));
            println!("({} logbook entries verified before it)", lb.entries);
        }
    }
    for h in &expected {
        match store.check_head(h).map_err(store_err)? {
            None => println!("expected head {h} is in the store"),
            Some(why) => {
                ok = false;
                println!("verify FAILED: {why}");
            }
        }
    }
    let heads = store.heads();
    if !heads.is_empty() {
        println!("heads {}", format_heads(&heads));
    }
    Ok(ok)
}

/// Examples for `picket verify --help`.
pub const EXAMPLES: &str = "\
Examples:
  picket --data /var/lib/picket verify
  picket --data /var/lib/picket verify --expect-head \"$(tail -1 /var/log/picket-heads | cut -d' ' -f2)\"
  picket verify --bundle 203.0.113.50.bundle      (no store needed)
Exit status: 0 when everything verifies, 1 when something does not.";
