//! `picket vacuum`: apply retention now (by age and/or size), oldest batches first; the
//! evidence chain keeps an anchor so `picket verify` still passes afterwards.

use std::path::Path;
use std::time::Duration;

use clap::Args;
use picket_store::{Retention, Store, StoreConfig};

use crate::error::Error;

/// Options of `picket vacuum`.
#[derive(Debug, Args)]
pub struct VacuumArgs {
    /// Remove events received longer ago than this (`90d`, `12h`, `30m`, `3600s`).
    #[arg(long, value_name = "AGE", value_parser = crate::values::parse_duration)]
    pub max_age: Option<Duration>,
    /// Remove the oldest events while stored events take more than this (`10G`, `500M`, `64K`,
    /// bytes without a suffix). Counts record and index bytes, not sled's own overhead.
    #[arg(long, value_name = "SIZE", value_parser = crate::values::parse_size)]
    pub max_size: Option<u64>,
}

/// Runs `picket vacuum`.
pub fn run(data: &Path, args: &VacuumArgs) -> Result<(), Error> {
    if args.max_age.is_none() && args.max_size.is_none() {
        return Err(Error::Usage(
            "vacuum needs --max-age, --max-size or both".to_string(),
        ));
    }
    if !data.join("conf").exists() {
        return Err(Error::Usage(format!("no store in {}", data.display())));
    }
    let store_err = |source| Error::Store {
        dir: data.to_path_buf(),
        source,
    };
    let store = Store::open(data, &StoreConfig::default()).map_err(store_err)?;
    let now = u64::try_from(picket_parsers::Timestamp::now().as_nanos()).unwrap_or(0);
    let policy = Retention {
        max_age: args.max_age,
        max_bytes: args.max_size,
    };
    let r = store.apply_retention(&policy, now).map_err(store_err)?;
    store.flush().map_err(store_err)?;
    println!(
        "removed {} events in {} batches; {} events remain ({} bytes of records and index)",
        r.events,
        r.batches,
        store.counts().total,
        store.live_bytes()
    );
    Ok(())
}
