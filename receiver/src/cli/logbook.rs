//! `picket logbook [IP]`: the hash-chained record of every action on incidents, from the
//! running server (op `logbook`, docs/protocol.md) or, with `--offline`, from the store in
//! `--data`. One line per entry on a terminal (escaped), JSON lines when piped or with
//! `--json`.

use std::io::{IsTerminal, Write};
use std::path::Path;

use clap::Args;
use serde_json::{Map, Value};

use super::client::text;
use super::incidents::{Origin, Reply, fetch, report_error};
use crate::error::Error;

/// Examples for `picket logbook --help`.
pub const EXAMPLES: &str = "\
Examples:
  picket logbook                          every entry, oldest first
  picket logbook 203.0.113.50             one incident's (also the entries of its prefix)
  picket --data /var/lib/picket logbook --offline --json
Exit status: 0 when printed, 1 when the server refused.";

/// Options of `picket logbook`.
#[derive(Debug, Args)]
pub struct LogbookArgs {
    /// Only the entries about this incident (its address, or the prefix it is grouped under).
    #[arg(value_name = "IP")]
    pub source: Option<String>,
    /// Where the entries come from.
    #[command(flatten)]
    pub origin: Origin,
}

/// Runs `picket logbook`.
pub fn run(data: &Path, args: &LogbookArgs) -> Result<bool, Error> {
    let mut req = Map::new();
    req.insert("op".into(), "logbook".into());
    if let Some(s) = &args.source {
        req.insert("source".into(), s.clone().into());
    }
    let (items, end) = match fetch(data, &args.origin, &req)? {
        Reply::Lines(items, end) => (items, end),
        Reply::Error(code, message) => {
            report_error(&code, &message);
            return Ok(false);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let r = if args.origin.json || !std::io::stdout().is_terminal() {
        items
            .iter()
            .chain(std::iter::once(&end))
            .try_for_each(|v| writeln!(out, "{v}"))
    } else {
        items
            .iter()
            .try_for_each(|v| writeln!(out, "{}", line(v.get("entry").unwrap_or(&Value::Null))))
            .and_then(|()| {
                let head = end.get("head").map_or_else(|| "none".to_string(), text);
                let count = end.get("count").map_or_else(String::new, text);
                writeln!(out, "{count} entries; head {head}")
            })
    };
    match r.and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(true),
        Err(e) => Err(Error::Stdout(e)),
    }
}

/// One entry for a terminal: `#SEQ AT WHO ACTION INCIDENT: DETAIL`, every field escaped.
fn line(e: &Value) -> String {
    let f = |k: &str| e.get(k).map_or_else(String::new, text);
    format!(
        "#{} {} {} {} {}: {}",
        f("seq"),
        f("at"),
        f("who"),
        f("action"),
        f("incident"),
        f("detail")
    )
}
