//! `picket verify`: re-check the evidence chain of the whole store.

use std::path::Path;

use picket_store::{Store, StoreConfig, hex};

use crate::error::Error;

/// Runs `picket verify`; `Ok(false)` when the store does not verify.
pub fn run(data: &Path) -> Result<bool, Error> {
    if !data.join("conf").exists() {
        return Err(Error::Usage(format!(
            "no store in {} (give --data DIR, or import or serve first)",
            data.display()
        )));
    }
    let store = Store::open(data, &StoreConfig::default()).map_err(|source| Error::Store {
        dir: data.to_path_buf(),
        source,
    })?;
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
