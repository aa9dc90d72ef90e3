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
    #[arg(long, value_name = "AGE", value_parser = parse_duration)]
    pub max_age: Option<Duration>,
    /// Remove the oldest events while stored events take more than this (`10G`, `500M`, `64K`,
    /// bytes without a suffix). Counts record and index bytes, not sled's own overhead.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_size: Option<u64>,
}

/// Reads `90d`, `12h`, `30m`, `45s` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration (try 90d, 12h, 30m or 3600s)");
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(secs).map(Duration::from_secs).ok_or_else(bad)
}

/// Reads `10G`, `500M`, `64K` (powers of 1024) or plain bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let bad = || format!("{s:?} is not a size (try 10G, 500M, 64K or a number of bytes)");
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| bad())?;
    let mult: u64 = match unit.to_ascii_uppercase().trim_end_matches(['B', 'I']) {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return Err(bad()),
    };
    n.checked_mul(mult).ok_or_else(bad)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert_eq!(parse_duration("3600"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("5 years").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(parse_size("10G"), Ok(10 << 30));
        assert_eq!(parse_size("500MiB"), Ok(500 << 20));
        assert_eq!(parse_size("123"), Ok(123));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999T").is_err());
    }
}
