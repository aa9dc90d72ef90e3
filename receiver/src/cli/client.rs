//! The query clients: `picket query events`, `picket tail`, `picket stats`. They speak the
//! query socket's protocol (docs/protocol.md) and print a table on a terminal, JSON lines when
//! piped or with `--json`. Text from the network is escaped before it reaches a terminal.

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::Value;

use crate::error::Error;

/// Where the server's socket is.
#[derive(Debug, Args)]
pub struct SocketArgs {
    /// Query socket of the running server [default: DATA/picket.sock].
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Print JSON lines even on a terminal.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Filters for events and the live tail.
#[derive(Debug, Args, Default)]
pub struct Filters {
    /// Source address or CIDR block.
    #[arg(long, value_name = "IP|CIDR")]
    pub src: Option<String>,
    /// Dataset: the log family the line came from.
    #[arg(long, value_name = "D", value_parser = dataset_names())]
    pub dataset: Option<String>,
    /// Action: what the line says happened.
    #[arg(long, value_name = "A", value_parser = action_names())]
    pub action: Option<String>,
    /// Reporting host, exactly.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Text that the raw line contains.
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,
}

/// The dataset names, for clap (every one: the help lists them).
fn dataset_names() -> clap::builder::PossibleValuesParser {
    picket_parsers::Dataset::ALL.map(|d| d.as_str()).into()
}

/// The action names, for clap.
fn action_names() -> clap::builder::PossibleValuesParser {
    picket_parsers::Action::ALL.map(|a| a.as_str()).into()
}

/// Examples for `picket query --help`.
pub const QUERY_EXAMPLES: &str = "\
Examples:
  picket query events --dataset sshd --since 2h          the last two hours' sshd lines
  picket query events --src 198.51.100.0/24 --newest --limit 20
  picket query events --action acl-denied --json | jq -r .source.ip
  picket query events --cursor 18ed5342015e80fa00000000  the next page";

/// Examples for `picket tail --help`.
pub const TAIL_EXAMPLES: &str = "\
Examples:
  picket tail                                   everything, until Ctrl-C
  picket tail --dataset sshd --action login-failed
  picket tail --src 203.0.113.0/24 --json | jq .message
  picket tail --limit 1                         wait for the next event, print it, exit";

/// Examples for `picket stats --help`.
pub const STATS_EXAMPLES: &str = "\
Examples:
  picket stats                                  a table on a terminal
  picket stats --json | jq .stats.dropped       piped or --json: the JSON line";

/// `picket query …`.
#[derive(Debug, Subcommand)]
pub enum QueryCommand {
    /// Stored events, oldest first (newest with --newest).
    #[command(after_help = QUERY_EXAMPLES)]
    Events {
        #[command(flatten)]
        filters: Filters,
        /// Received at or after: RFC 3339 or an age (`2h`, `7d`).
        #[arg(long, value_name = "T")]
        since: Option<String>,
        /// Received before: RFC 3339 or an age.
        #[arg(long, value_name = "T")]
        until: Option<String>,
        /// At most this many events.
        #[arg(long, value_name = "N", default_value_t = 100)]
        limit: usize,
        /// Newest first.
        #[arg(long)]
        newest: bool,
        /// Resume after this cursor (printed at the end of the previous page).
        #[arg(long, value_name = "C")]
        cursor: Option<String>,
    },
}

pub(super) fn socket_path(data: &Path, s: &SocketArgs) -> PathBuf {
    s.socket.clone().unwrap_or_else(|| data.join("picket.sock"))
}

pub(super) fn connect(path: &Path) -> Result<UnixStream, Error> {
    UnixStream::connect(path).map_err(|e| {
        Error::Usage(format!(
            "cannot connect to the query socket {}: {e} (is `picket serve` running with this --data or --socket?)",
            path.display()
        ))
    })
}

fn request(op: &str, f: &Filters) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("op".into(), op.into());
    for (k, v) in [
        ("source", &f.src),
        ("dataset", &f.dataset),
        ("action", &f.action),
        ("host", &f.host),
        ("text", &f.text),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), v.clone().into());
        }
    }
    m
}

/// Text from the network made safe for a terminal: control characters become `\xNN`.
pub(super) use crate::text::safe_str as safe;

fn field<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |v, k| &v[*k])
}

pub(super) fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => safe(s),
        other => other.to_string(),
    }
}

fn endpoint(v: &Value) -> String {
    let ip = text(&v["ip"]);
    let host = if ip.is_empty() {
        text(&v["domain"])
    } else {
        ip
    };
    match &v["port"] {
        Value::Null => host,
        p => format!("{host}:{p}"),
    }
}

/// `[cut] ` before the message of an event whose message picket cut (tag `truncated`).
fn cut_mark(v: &Value) -> String {
    let cut = v
        .get("tags")
        .and_then(Value::as_array)
        .is_some_and(|t| t.iter().any(|x| x == "truncated"));
    if cut { "[cut] ".into() } else { String::new() }
}

fn print_row(out: &mut impl Write, v: &Value) -> std::io::Result<()> {
    let time = text(field(v, &["event", "received"]));
    writeln!(
        out,
        "{:<24} {:<11} {:<19} {:<28} {:<22} {:<14} {}",
        time.get(..23).unwrap_or(&time),
        text(field(v, &["event", "dataset"])),
        text(field(v, &["event", "action"])),
        endpoint(&v["source"]),
        endpoint(&v["destination"]),
        text(field(v, &["host", "hostname"])),
        cut_mark(v) + &text(&v["message"]).chars().take(100).collect::<String>(),
    )
}

/// The counters as a two-column table, one row per counter (`dropped.queue_full  0`), in the
/// order the server sends them: whatever counters a server has, they are all shown.
fn stats_table(out: &mut impl Write, stats: &Value) -> std::io::Result<()> {
    fn flatten(prefix: &str, v: &Value, rows: &mut Vec<(String, String)>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let path = if prefix.is_empty() {
                        safe(k)
                    } else {
                        format!("{prefix}.{}", safe(k))
                    };
                    flatten(&path, v, rows);
                }
            }
            other => rows.push((prefix.to_string(), text(other))),
        }
    }
    let mut rows = Vec::new();
    flatten("", stats, &mut rows);
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        writeln!(out, "{k:<width$}  {v}")?;
    }
    Ok(())
}

/// Sends a request and prints the reply stream; returns false when the server sent an error.
/// `limit`: for `events`, the page size (a full page says how to ask for more); for `tail`,
/// how many events to print before it stops.
fn exchange(
    path: &Path,
    req: &serde_json::Map<String, Value>,
    json: bool,
    limit: Option<usize>,
) -> Result<bool, Error> {
    let is_tail = req.get("op").and_then(Value::as_str) == Some("tail");
    let mut rows = 0usize;
    let mut conn = connect(path)?;
    let mut line = serde_json::to_vec(req).unwrap_or_default();
    line.push(b'\n');
    conn.write_all(&line).map_err(Error::Stdout)?;
    let table = !json && std::io::stdout().is_terminal();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if table && req.get("op").and_then(Value::as_str) != Some("stats") {
        let _ = writeln!(
            out,
            "{:<24} {:<11} {:<19} {:<28} {:<22} {:<14} message",
            "received", "dataset", "action", "source", "destination", "host"
        );
    }
    for l in BufReader::new(conn).lines() {
        let l = l.map_err(Error::Stdin)?;
        let v: Value = serde_json::from_str(&l).unwrap_or(Value::Null);
        if let Some(e) = v.get("error") {
            eprintln!(
                "picket: server: {} ({})",
                text(&e["message"]),
                text(&e["code"])
            );
            return Ok(false);
        }
        let end = v.get("end").is_some();
        let is_stats = req.get("op").and_then(Value::as_str) == Some("stats");
        let written = if !table {
            writeln!(out, "{l}")
        } else if end && is_stats {
            Ok(())
        } else if end {
            // The server sends a cursor with every non-empty page; more exist only when the
            // page is full.
            let full =
                limit.is_some_and(|n| v.get("count").and_then(Value::as_u64) == Some(n as u64));
            match v.get("cursor").filter(|_| full) {
                Some(c) => writeln!(
                    out,
                    "({} events; more with --cursor {})",
                    v.get("count").unwrap_or(&Value::Null),
                    text(c)
                ),
                None => writeln!(out, "({} events)", v.get("count").unwrap_or(&Value::Null)),
            }
        } else if let Some(n) = v.get("lagged") {
            writeln!(out, "... {n} events missed (reader too slow)")
        } else if let Some(s) = v.get("stats") {
            stats_table(&mut out, s)
        } else {
            print_row(&mut out, &v)
        };
        match written.and_then(|()| out.flush()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(true),
            Err(e) => return Err(Error::Stdout(e)),
        }
        if end {
            break;
        }
        if is_tail && v.get("lagged").is_none() {
            rows += 1;
            if limit.is_some_and(|n| rows >= n) {
                break;
            }
        }
    }
    Ok(true)
}

/// `picket query events`.
pub fn query(data: &Path, sock: &SocketArgs, cmd: &QueryCommand) -> Result<bool, Error> {
    let QueryCommand::Events {
        filters,
        since,
        until,
        limit,
        newest,
        cursor,
    } = cmd;
    let mut req = request("events", filters);
    req.insert("limit".into(), (*limit).into());
    req.insert(
        "order".into(),
        (if *newest { "newest" } else { "oldest" }).into(),
    );
    for (k, v) in [("since", since), ("until", until), ("cursor", cursor)] {
        if let Some(v) = v {
            req.insert(k.into(), v.clone().into());
        }
    }
    exchange(&socket_path(data, sock), &req, sock.json, Some(*limit))
}

/// `picket tail`: until Ctrl-C, or until `limit` events were printed.
pub fn tail(
    data: &Path,
    sock: &SocketArgs,
    filters: &Filters,
    limit: Option<usize>,
) -> Result<bool, Error> {
    if limit == Some(0) {
        return Ok(true);
    }
    exchange(
        &socket_path(data, sock),
        &request("tail", filters),
        sock.json,
        limit,
    )
}

/// `picket stats`.
pub fn stats(data: &Path, sock: &SocketArgs) -> Result<bool, Error> {
    exchange(
        &socket_path(data, sock),
        &request("stats", &Filters::default()),
        sock.json,
        None,
    )
}
