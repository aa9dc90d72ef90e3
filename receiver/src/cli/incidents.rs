//! `picket incidents`: the incident candidates, from the running server's query socket (ops
//! `incidents` and `incident`, docs/protocol.md) or, with `--offline`, from the store in
//! `--data` read directly while serve is stopped. A table on a terminal, JSON lines (as the op
//! sends them) when piped or with `--json`. Text from the network is escaped: the op sends
//! safe text already, and the table escapes once more whatever it prints.

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use picket_sensor::{Class, State};
use picket_store::{Store, StoreConfig};
use serde_json::{Map, Value, json};

use super::client::text;
use crate::error::Error;
use crate::query::incidents as ops;
use crate::query::protocol::{self, Request};

/// Examples for `picket incidents --help`.
pub const EXAMPLES: &str = "\
Examples:
  picket incidents                            the 50 highest scores, as a table
  picket incidents --state new --min-score 50 not yet handled, worth a look
  picket incidents --class port-scan --since 24h --sort last-seen
  picket incidents --src 203.0.113.0/24 --json | jq .source
  picket incidents --show 203.0.113.50        one candidate: history and evidence lines
  picket --data /var/lib/picket incidents --offline   (serve stopped: read the store)";

/// Where the candidates come from: the running server, or the store itself.
#[derive(Debug, Args, Clone, Default)]
pub struct Origin {
    /// Query socket of the running server [default: DATA/picket.sock].
    #[arg(long, value_name = "PATH", conflicts_with = "offline")]
    pub socket: Option<PathBuf>,
    /// Read the store in --data directly instead of asking the server. Only while `picket
    /// serve` is stopped: a running server holds the store's lock.
    #[arg(long)]
    pub offline: bool,
    /// Print JSON lines even on a terminal.
    #[arg(long)]
    pub json: bool,
}

/// Options of `picket incidents`.
#[derive(Debug, Args)]
pub struct IncidentsArgs {
    /// Only candidates in this state.
    #[arg(long, value_name = "STATE", value_parser = state_names())]
    pub state: Option<String>,
    /// Only candidates of this class.
    #[arg(long, value_name = "CLASS", value_parser = class_names())]
    pub class: Option<String>,
    /// Only candidates scoring at least this.
    #[arg(long, value_name = "N")]
    pub min_score: Option<u32>,
    /// Only sources inside this address or CIDR block.
    #[arg(long, value_name = "IP|CIDR")]
    pub src: Option<String>,
    /// Last seen at or after: RFC 3339 or an age (`2h`, `7d`).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// First seen before: RFC 3339 or an age.
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Order: highest score first, or latest activity first.
    #[arg(long, value_name = "ORDER", default_value = "score",
          value_parser = ["score", "last-seen"])]
    pub sort: String,
    /// At most this many candidates.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: usize,
    /// Resume after this cursor (printed at the end of the previous page).
    #[arg(long, value_name = "C")]
    pub cursor: Option<String>,
    /// Show one candidate (an address, or the prefix it is grouped under) with its history
    /// and evidence lines, instead of the list.
    #[arg(long, value_name = "IP", conflicts_with_all = ["state", "class", "min_score", "src", "since", "until", "cursor"])]
    pub show: Option<String>,
    /// `target`: the view by destination instead (hosts and ports hit by many distinct
    /// sources: a distributed scan, a flood), from the running server.
    #[arg(long, value_name = "VIEW", value_parser = ["source", "target"], default_value = "source")]
    pub by: String,
    /// With `--by target`: the least number of distinct sources.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub min_sources: u64,
    /// Recompute every candidate from the stored events (serve must be stopped), with the
    /// `[sensor]` settings of --config. States set by hand (reported, blocked, ...) are
    /// recomputed too, so it refuses when there are any, unless --force.
    #[arg(long, conflicts_with_all = ["show", "by"])]
    pub rebuild: bool,
    /// With --rebuild: go on even though states set by hand will be lost.
    #[arg(long, requires = "rebuild")]
    pub force: bool,
    /// Where the candidates come from.
    #[command(flatten)]
    pub origin: Origin,
}

/// The state names, for clap.
pub fn state_names() -> clap::builder::PossibleValuesParser {
    State::ALL.map(State::as_str).into()
}

/// The names of the classes a published candidate can have, for clap.
pub fn class_names() -> clap::builder::PossibleValuesParser {
    let names: Vec<&'static str> = Class::ALL
        .iter()
        .filter(|c| **c != Class::Noise)
        .map(|c| c.as_str())
        .collect();
    names.into()
}

/// The answer to one request: its lines (the end line apart), or the error it got.
pub enum Reply {
    /// The reply lines before the end line, and the end line.
    Lines(Vec<Value>, Value),
    /// An error reply: its code and message.
    Error(String, String),
}

/// Sends `req` to the server (or answers it from the store with `--offline`) and reads the
/// whole reply.
pub fn fetch(data: &Path, origin: &Origin, req: &Map<String, Value>) -> Result<Reply, Error> {
    if origin.offline {
        return offline(data, req);
    }
    let path = super::client::socket_path(
        data,
        &super::client::SocketArgs {
            socket: origin.socket.clone(),
            json: origin.json,
        },
    );
    let mut conn = super::client::connect(&path)?;
    let mut line = serde_json::to_vec(req).unwrap_or_default();
    line.push(b'\n');
    conn.write_all(&line).map_err(|e| Error::File {
        op: "write to",
        path: path.clone(),
        source: e,
    })?;
    let mut items = Vec::new();
    for l in BufReader::new(conn).lines() {
        let l = l.map_err(|e| Error::File {
            op: "read from",
            path: path.clone(),
            source: e,
        })?;
        let v: Value = serde_json::from_str(&l)
            .map_err(|e| Error::Usage(format!("the server sent a line that is not JSON ({e})")))?;
        if let Some(e) = v.get("error") {
            return Ok(Reply::Error(text(&e["code"]), text(&e["message"])));
        }
        if v.get("end").is_some() {
            return Ok(Reply::Lines(items, v));
        }
        items.push(v);
    }
    Err(Error::Usage(format!(
        "the server at {} closed the connection before the end of its reply",
        path.display()
    )))
}

/// Opens the store in `data` for reading while serve is stopped, with a clear message when a
/// running server holds it.
pub fn open_store(data: &Path) -> Result<Store, Error> {
    if !data.join("conf").exists() {
        return Err(Error::Usage(format!(
            "no store in {} (give --data DIR, or import or serve first)",
            data.display()
        )));
    }
    Store::open(data, &StoreConfig::default()).map_err(|source| {
        let msg = source.to_string();
        if msg.contains("lock") || msg.contains("Resource temporarily unavailable") {
            Error::Usage(format!(
                "the store in {} is locked: `picket serve` is running on it. Ask the server \
                 instead (leave out --offline, give --socket if it is elsewhere), or stop it \
                 first. ({msg})",
                data.display()
            ))
        } else {
            Error::Store {
                dir: data.to_path_buf(),
                source,
            }
        }
    })
}

/// Answers an `incidents`, `incident` or `logbook` request from the store, with the lines the server
/// would send (the same parsing, filters and JSON).
fn offline(data: &Path, req: &Map<String, Value>) -> Result<Reply, Error> {
    let line = serde_json::to_vec(req).unwrap_or_default();
    let request = match protocol::parse(&line, crate::clock::now_ns()) {
        Ok(r) => r,
        Err(e) => return Ok(Reply::Error(e.code.into(), e.message)),
    };
    let store = open_store(data)?;
    Ok(match request {
        Request::Incidents(f) => match ops::list(&store, &f) {
            Ok((list, cursor)) => {
                let items: Vec<Value> = list.iter().map(|c| ops::to_json(c, false)).collect();
                let end = match cursor {
                    Some(c) => json!({"end": true, "count": items.len(), "cursor": c}),
                    None => json!({"end": true, "count": items.len()}),
                };
                Reply::Lines(items, end)
            }
            Err(e) => Reply::Error(e.code.into(), e.message),
        },
        Request::Incident(source) => match ops::one(&store, &source) {
            Ok(Some(c)) => Reply::Lines(
                vec![json!({"incident": ops::to_json(&c, true)})],
                json!({"end": true, "count": 1}),
            ),
            Ok(None) => Reply::Error(
                "not_found".into(),
                format!(
                    "no candidate for {}",
                    crate::text::safe_text(source.as_bytes())
                ),
            ),
            Err(e) => Reply::Error(e.code.into(), e.message),
        },
        Request::Logbook(source) => match crate::query::logbook::reply(&store, source.as_deref()) {
            Ok((items, end)) => Reply::Lines(items, end),
            Err(e) => Reply::Error(e.code.into(), e.message),
        },
        _ => Reply::Error(
            "not_available".into(),
            "only incidents, incident and logbook can be answered offline".into(),
        ),
    })
}

/// The `incidents` request for these options.
fn list_request(a: &IncidentsArgs) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("op".into(), "incidents".into());
    for (k, v) in [
        ("state", &a.state),
        ("class", &a.class),
        ("source", &a.src),
        ("since", &a.since),
        ("until", &a.until),
        ("cursor", &a.cursor),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), v.clone().into());
        }
    }
    if let Some(n) = a.min_score {
        m.insert("min_score".into(), n.into());
    }
    let sort = if a.sort == "last-seen" {
        "last_seen"
    } else {
        "score"
    };
    m.insert("sort".into(), sort.into());
    m.insert("limit".into(), a.limit.into());
    m
}

/// Prints a server error; the exit status is then 1.
pub fn report_error(code: &str, message: &str) {
    eprintln!("picket: {message} ({code})");
}

/// A time from a reply, shortened for the table: `2026-01-08 03:01:35`.
fn short_time(v: &Value) -> String {
    let t = text(v);
    t.get(..19).unwrap_or(&t).replacen('T', " ", 1)
}

/// The state, with `/stale` when the latest activity is older than the report horizon.
fn state(v: &Value) -> String {
    let s = text(&v["state"]);
    if v["stale"] == true {
        format!("{s}/stale")
    } else {
        s
    }
}

/// Writes lines, treating a closed pipe (`| head`) as done.
fn finish(r: std::io::Result<()>) -> Result<bool, Error> {
    match r {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(true),
        Err(e) => Err(Error::Stdout(e)),
    }
}

fn print_json(out: &mut impl Write, items: &[Value], end: &Value) -> std::io::Result<()> {
    for v in items.iter().chain(std::iter::once(end)) {
        writeln!(out, "{v}")?;
    }
    out.flush()
}

fn print_table(out: &mut impl Write, items: &[Value], end: &Value) -> std::io::Result<()> {
    let width = items
        .iter()
        .map(|v| text(&v["source"]).len())
        .max()
        .unwrap_or(0)
        .max("address".len());
    writeln!(
        out,
        "{:<width$} {:<17} {:>5} {:<14} {:>7} {:>5} {:>5} {:<19} {:<19} top signature",
        "address", "class", "score", "state", "events", "ports", "hosts", "first seen", "last seen"
    )?;
    for v in items {
        writeln!(
            out,
            "{:<width$} {:<17} {:>5} {:<14} {:>7} {:>5} {:>5} {:<19} {:<19} {}",
            text(&v["source"]),
            text(&v["class"]),
            text(&v["score"]),
            state(v),
            text(&v["events"]),
            text(&v["ports"]),
            text(&v["hosts"]),
            short_time(&v["first_seen"]),
            short_time(&v["last_seen"]),
            text(&v["top_signature"])
                .chars()
                .take(60)
                .collect::<String>(),
        )?;
    }
    match end.get("cursor") {
        Some(c) => writeln!(
            out,
            "({} candidates; more with --cursor '{}')",
            text(&end["count"]),
            text(c)
        )?,
        None => writeln!(out, "({} candidates)", text(&end["count"]))?,
    }
    out.flush()
}

fn list_of(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// Formats one line of a section of `--show`.
type Row = fn(&Value) -> String;

fn print_one(out: &mut impl Write, c: &Value) -> std::io::Result<()> {
    let join = |v: &Value| list_of(v).iter().map(text).collect::<Vec<_>>().join(", ");
    writeln!(
        out,
        "{}  {}  score {}  state {}",
        text(&c["source"]),
        text(&c["class"]),
        text(&c["score"]),
        text(&c["state"])
    )?;
    if c["stale"] == true {
        writeln!(
            out,
            "stale: its latest activity is older than the report horizon"
        )?;
    }
    if !c["block_until"].is_null() {
        writeln!(out, "blocked until {}", text(&c["block_until"]))?;
    }
    writeln!(
        out,
        "events {}, ports {}, hosts {}; first seen {}, last seen {}",
        text(&c["events"]),
        text(&c["ports"]),
        text(&c["hosts"]),
        text(&c["first_seen"]),
        text(&c["last_seen"])
    )?;
    writeln!(
        out,
        "datasets: {}; reported by: {}; notices {}, blocks {}",
        join(&c["datasets"]),
        join(&c["reporters"]),
        text(&c["notices"]),
        text(&c["blocks"])
    )?;
    let sections: [(&str, &str, Row); 4] = [
        ("signatures", "signatures", |s| {
            format!("{:>7}  {}", text(&s["count"]), text(&s["name"]))
        }),
        ("actions", "actions", |a| {
            let name = if a["action"].is_null() {
                "(none)".to_string()
            } else {
                text(&a["action"])
            };
            format!("{:>7}  {name}", text(&a["count"]))
        }),
        ("history", "history", |h| {
            let note = text(&h["note"]);
            format!(
                "{}  {} -> {}  by {}{}",
                text(&h["at"]),
                text(&h["from"]),
                text(&h["to"]),
                text(&h["who"]),
                if note.is_empty() {
                    String::new()
                } else {
                    format!(": {note}")
                }
            )
        }),
        ("evidence", "evidence lines", |e| {
            format!("{}  {}", text(&e["at"]), text(&e["line"]))
        }),
    ];
    for (key, title, row) in sections {
        let items = list_of(&c[key]);
        if items.is_empty() {
            continue;
        }
        writeln!(out, "{title}:")?;
        for i in items {
            writeln!(out, "  {}", row(i))?;
        }
    }
    out.flush()
}

/// Runs `picket incidents`; `Ok(false)` when the server (or the store) answered an error.
pub fn run(
    data: &Path,
    args: &IncidentsArgs,
    sensor: Option<picket_sensor::SensorConfig>,
) -> Result<bool, Error> {
    if args.rebuild {
        return rebuild(data, args, sensor);
    }
    if args.by == "target" {
        return targets(data, args);
    }
    let req = match &args.show {
        Some(source) => {
            let mut m = Map::new();
            m.insert("op".into(), "incident".into());
            m.insert("source".into(), source.clone().into());
            m
        }
        None => list_request(args),
    };
    let (items, end) = match fetch(data, &args.origin, &req)? {
        Reply::Lines(items, end) => (items, end),
        Reply::Error(code, message) => {
            report_error(&code, &message);
            return Ok(false);
        }
    };
    let table = !args.origin.json && std::io::stdout().is_terminal();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if !table {
        return finish(print_json(&mut out, &items, &end));
    }
    if args.show.is_some() {
        let r = items
            .iter()
            .try_for_each(|v| print_one(&mut out, &v["incident"]));
        return finish(r);
    }
    finish(print_table(&mut out, &items, &end))
}

/// `picket incidents --rebuild`.
fn rebuild(
    data: &Path,
    args: &IncidentsArgs,
    sensor: Option<picket_sensor::SensorConfig>,
) -> Result<bool, Error> {
    let Some(cfg) = sensor else {
        return Err(Error::Usage(
            "the sensor is off ([sensor] enabled = false): nothing to rebuild".into(),
        ));
    };
    let store = open_store(data)?;
    let store_err = |source| Error::Store {
        dir: data.to_path_buf(),
        source,
    };
    if !args.force {
        let mut by_hand = 0u64;
        for item in store.incidents() {
            let (_, v) = item.map_err(store_err)?;
            if crate::sense::decode_stored(&v)
                .is_ok_and(|(_, c)| c.state() != picket_sensor::State::New)
            {
                by_hand += 1;
            }
        }
        if by_hand > 0 {
            eprintln!(
                "picket: {by_hand} candidates have a state set by hand (reported, blocked, ...); a rebuild recomputes them from the events and loses those states. Add --force to rebuild anyway."
            );
            return Ok(false);
        }
    }
    let started = std::time::Instant::now();
    let r = crate::sense::offline::rebuild(&store, cfg).map_err(store_err)?;
    store.flush().map_err(store_err)?;
    eprintln!(
        "rebuilt {} candidates from {} stored events in {:.1} s",
        r.candidates,
        r.events,
        started.elapsed().as_secs_f64()
    );
    Ok(true)
}

/// `picket incidents --by target`.
fn targets(data: &Path, args: &IncidentsArgs) -> Result<bool, Error> {
    if args.origin.offline {
        return Err(Error::Usage(
            "the view by target lives in the running server's memory: leave out --offline".into(),
        ));
    }
    let mut req = Map::new();
    req.insert("op".into(), "targets".into());
    req.insert("min_sources".into(), args.min_sources.into());
    let (items, end) = match fetch(data, &args.origin, &req)? {
        Reply::Lines(items, end) => (items, end),
        Reply::Error(code, message) => {
            report_error(&code, &message);
            return Ok(false);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.origin.json || !std::io::stdout().is_terminal() {
        return finish(print_json(&mut out, &items, &end));
    }
    let r = (|| {
        writeln!(
            out,
            "{:<40} {:>5} {:>8}  LAST SEEN",
            "TARGET", "PORT", "SOURCES"
        )?;
        for t in &items {
            let port = t["port"]
                .as_u64()
                .map_or("*".to_string(), |p| p.to_string());
            writeln!(
                out,
                "{:<40} {:>5} {:>8}  {}",
                text(&t["target"]),
                port,
                t["sources"],
                short_time(&t["last_seen"])
            )?;
        }
        writeln!(
            out,
            "({} targets hit by {}+ sources)",
            items.len(),
            args.min_sources
        )
    })();
    finish(r)
}
