//! `picket vacuum`: apply retention now (by age and/or size), oldest batches first; the
//! evidence chain keeps an anchor so `picket verify` still passes afterwards. Through the
//! running server (op `vacuum`) when one answers, else on the store itself.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use picket_store::Retention;

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
    /// Query socket of the running server, if one runs [default: DATA/picket.sock].
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

/// Examples for `picket vacuum --help`.
pub const EXAMPLES: &str = "\
Examples:
  picket vacuum --max-age 180d               keep half a year
  picket vacuum --max-size 20G               keep the newest 20 GB
  picket vacuum --max-age 90d --max-size 5G  whichever removes more";

/// Runs `picket vacuum`.
pub fn run(data: &Path, socket: &Path, args: &VacuumArgs) -> Result<(), Error> {
    if args.max_age.is_none() && args.max_size.is_none() {
        return Err(Error::Usage(
            "vacuum needs --max-age, --max-size or both".to_string(),
        ));
    }
    if let Some(mut conn) = super::maint::server(socket) {
        let mut req = serde_json::Map::new();
        req.insert("op".into(), "vacuum".into());
        if let Some(a) = args.max_age {
            req.insert("max_age".into(), format!("{}s", a.as_secs()).into());
        }
        if let Some(s) = args.max_size {
            req.insert("max_size".into(), s.to_string().into());
        }
        super::maint::send_request(&mut conn, &req)?;
        let v = super::maint::read_reply(conn)?;
        let n = |k: &str| {
            v.get("vacuum")
                .and_then(|r| r.get(k))
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0)
        };
        super::say!(
            "removed {} events in {} batches; {} events remain ({} bytes of records and index)",
            n("removed_events"),
            n("removed_batches"),
            n("events"),
            n("bytes")
        );
        return Ok(());
    }
    if !data.join("conf").exists() {
        return Err(Error::Usage(format!("no store in {}", data.display())));
    }
    let store_err = |source| Error::Store {
        dir: data.to_path_buf(),
        source,
    };
    let store = super::maint::open_store(data, socket)?;
    let now = u64::try_from(picket_parsers::Timestamp::now().as_nanos()).unwrap_or(0);
    let policy = Retention {
        max_age: args.max_age,
        max_bytes: args.max_size,
    };
    let r = store.apply_retention(&policy, now).map_err(store_err)?;
    store.flush().map_err(store_err)?;
    super::say!(
        "removed {} events in {} batches; {} events remain ({} bytes of records and index)",
        r.events,
        r.batches,
        store.counts().total,
        store.live_bytes()
    );
    Ok(())
}
