//! `picket mark IP STATE [--note TEXT]`: sets a candidate's state through the running server
//! (op `mark`); the server appends who (the OS user on this end of the socket), when and the
//! note to the candidate's history. `blocked` starts a block with an expiry.

use std::io::{IsTerminal, Write};
use std::path::Path;

use clap::Args;
use serde_json::{Map, Value};

use super::client::text;
use super::incidents::{Origin, Reply, fetch, report_error, state_names};
use crate::error::Error;

/// Examples for `picket mark --help`.
pub const EXAMPLES: &str = "\
Examples:
  picket mark 203.0.113.50 reported --note 'abuse@example.net, ticket 4711'
  picket mark 203.0.113.50 blocked --note 'came back after two notices'
  picket mark 198.51.100.0/24 closed
Exit status: 0 when marked, 1 when there is no such candidate or the server refused.";

/// Options of `picket mark`.
#[derive(Debug, Args)]
pub struct MarkArgs {
    /// The candidate: its address, or the prefix it is grouped under.
    #[arg(value_name = "IP")]
    pub source: String,
    /// The state to set.
    #[arg(value_name = "STATE", value_parser = state_names())]
    pub state: String,
    /// Why (kept in the candidate's history).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Where the server is.
    #[command(flatten)]
    pub socket: super::client::SocketArgs,
}

/// Runs `picket mark`; `Ok(false)` when the server answered an error (`not_found`: no
/// candidate for that source).
pub fn run(data: &Path, args: &MarkArgs) -> Result<bool, Error> {
    let origin = Origin {
        socket: args.socket.socket.clone(),
        offline: false,
        json: args.socket.json,
    };
    let mut req = Map::new();
    req.insert("op".into(), "mark".into());
    req.insert("source".into(), args.source.clone().into());
    req.insert("state".into(), args.state.clone().into());
    if let Some(n) = &args.note {
        req.insert("note".into(), n.clone().into());
    }
    let (items, end) = match fetch(data, &origin, &req)? {
        Reply::Lines(items, end) => (items, end),
        Reply::Error(code, message) if code == "not_found" => {
            report_error(
                &code,
                &format!("{message}: nothing marked (see `picket incidents` for the candidates)"),
            );
            return Ok(false);
        }
        Reply::Error(code, message) => {
            report_error(&code, &message);
            return Ok(false);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let r = if args.socket.json || !std::io::stdout().is_terminal() {
        items
            .iter()
            .chain(std::iter::once(&end))
            .try_for_each(|v| writeln!(out, "{v}"))
    } else {
        let m = items.first().map(|v| &v["marked"]).unwrap_or(&Value::Null);
        let until = block_until(data, &origin, &m["source"]);
        writeln!(
            out,
            "{}: {} (by {}){}",
            text(&m["source"]),
            text(&m["state"]),
            text(&m["who"]),
            until.map(|u| format!(", until {u}")).unwrap_or_default()
        )
    };
    match r.and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(true),
        Err(e) => Err(Error::Stdout(e)),
    }
}

/// The expiry of the candidate's block, when it has one (for the line a terminal gets).
fn block_until(data: &Path, origin: &Origin, source: &Value) -> Option<String> {
    let mut req = Map::new();
    req.insert("op".into(), "incident".into());
    req.insert("source".into(), source.clone());
    match fetch(data, origin, &req).ok()? {
        Reply::Lines(items, _) => {
            let u = items.first()?.get("incident")?.get("block_until")?;
            (!u.is_null()).then(|| text(u))
        }
        Reply::Error(..) => None,
    }
}
