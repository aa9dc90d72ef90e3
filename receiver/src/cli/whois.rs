//! `picket whois IP [--no-lookup] [--json]`: the abuse contact of an address, with the
//! network it belongs to and the referral chain followed (what `incident.pl -x` printed).
//! Asks the running server (query op `contact`, which caches through the writer), or with
//! `--offline` reads and fills the cache in the store in `--data` itself while serve is
//! stopped. Everything shown came from whois servers: it is escaped for the terminal.

use std::io::{BufRead, BufReader, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::Value;

use super::client::text;
use crate::error::Error;

/// Examples for `picket whois --help`.
pub const EXAMPLES: &str = "\
Examples:
  picket whois 193.0.6.139                 ask the running server (cached for [whois] cache_ttl)
  picket whois 193.0.6.139 --no-lookup     only what is cached, never ask whois
  picket whois 2001:db8::1 --json          the op's JSON line
  picket --data /var/lib/picket whois 193.0.6.139 --offline   (serve stopped: use the store)
Exit status: 0 with an abuse address, 1 without one (nothing cached, lookup failed, none
registered).";

/// Options of `picket whois`.
#[derive(Debug, Args)]
pub struct WhoisArgs {
    /// The address.
    #[arg(value_name = "IP")]
    pub ip: IpAddr,
    /// Answer from the cache only (even an entry older than cache_ttl); never ask whois.
    #[arg(long)]
    pub no_lookup: bool,
    /// Print the JSON line the query op sends.
    #[arg(long)]
    pub json: bool,
    /// Query socket of the running server [default: DATA/picket.sock].
    #[arg(long, value_name = "PATH", conflicts_with = "offline")]
    pub socket: Option<PathBuf>,
    /// Use the store in --data directly instead of the server (only while serve is stopped).
    #[arg(long)]
    pub offline: bool,
}

/// Runs `picket whois`; `Ok(false)` when no abuse address can be shown.
pub fn run(data: &Path, file: &crate::config::FileConfig, args: &WhoisArgs) -> Result<bool, Error> {
    let settings = file.whois_settings()?;
    let reply = if args.offline {
        offline(data, &settings, args)?
    } else {
        ask(data, args)?
    };
    let out = std::io::stdout();
    let mut out = out.lock();
    let r = if args.json {
        writeln!(out, "{reply}")
    } else {
        show(&mut out, &reply)
    };
    match r.and_then(|()| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(Error::Stdout(e)),
    }
    if let Some(e) = reply.get("error") {
        if !args.json {
            eprintln!("picket: {} ({})", text(&e["message"]), text(&e["code"]));
        }
        return Ok(false);
    }
    Ok(reply
        .pointer("/contact/abuse")
        .is_some_and(|a| !a.is_null()))
}

/// Asks the running server: the reply's first line (the contact, or the error).
fn ask(data: &Path, args: &WhoisArgs) -> Result<Value, Error> {
    let path = args
        .socket
        .clone()
        .unwrap_or_else(|| data.join("picket.sock"));
    let mut conn = super::client::connect(&path).map_err(|e| {
        Error::Usage(format!(
            "{e}; with serve stopped: picket whois {} --offline",
            args.ip
        ))
    })?;
    let req =
        serde_json::json!({"op": "contact", "ip": args.ip.to_string(), "lookup": !args.no_lookup});
    let mut line = serde_json::to_vec(&req).unwrap_or_default();
    line.push(b'\n');
    let io = |op, e| Error::File {
        op,
        path: path.clone(),
        source: e,
    };
    conn.write_all(&line).map_err(|e| io("write to", e))?;
    let mut first = String::new();
    BufReader::new(conn)
        .read_line(&mut first)
        .map_err(|e| io("read from", e))?;
    serde_json::from_str(&first).map_err(|e| {
        Error::Usage(format!(
            "the server at {} sent no contact line ({e})",
            path.display()
        ))
    })
}

/// Without the server: the cache in the store (filled after a lookup), or a lookup alone
/// when there is no store yet.
fn offline(
    data: &Path,
    settings: &crate::contact::WhoisSettings,
    args: &WhoisArgs,
) -> Result<Value, Error> {
    let store = if data.join("conf").exists() {
        Some(super::incidents::open_store(data)?)
    } else {
        None
    };
    let answer = crate::contact::find(
        store.as_ref(),
        args.ip,
        settings,
        !args.no_lookup,
        crate::clock::now_ns(),
    )
    .map_err(|source| Error::Store {
        dir: data.to_path_buf(),
        source,
    })?;
    Ok(answer.to_json(args.ip))
}

/// The reply for a person: the address and how it was found, the network, the chain.
fn show(out: &mut impl Write, reply: &Value) -> std::io::Result<()> {
    let c = &reply["contact"];
    let chain = if c.is_null() {
        reply.pointer("/error/chain").unwrap_or(&Value::Null)
    } else {
        &c["chain"]
    };
    if !c.is_null() {
        let how = c["found_by"]
            .as_str()
            .and_then(|h| serde_json::from_value::<picket_whois::How>(h.into()).ok())
            .map_or("", picket_whois::How::describe);
        match c["abuse"].as_str() {
            Some(_) if c["fallback"] == true => writeln!(
                out,
                "abuse:    {} ({how}: check before sending)",
                text(&c["abuse"])
            )?,
            Some(_) => writeln!(out, "abuse:    {} ({how})", text(&c["abuse"]))?,
            None => writeln!(out, "abuse:    none registered")?,
        }
        if !c["security"].is_null() {
            writeln!(out, "also:     {}", text(&c["security"]))?;
        }
        for (label, key) in [
            ("network:", "netname"),
            ("range:", "range"),
            ("country:", "country"),
            ("org:", "org"),
        ] {
            if !c[key].is_null() {
                writeln!(out, "{label:<9} {}", text(&c[key]))?;
            }
        }
        let when = if c["cached"] == true {
            let fresh = if c["fresh"] == true {
                ""
            } else {
                ", older than cache_ttl"
            };
            format!("cached {}{fresh}", text(&c["stored_at"]))
        } else {
            format!("looked up {}", text(&c["stored_at"]))
        };
        writeln!(out, "answer:   {when}")?;
    }
    if let Some(hops) = chain.as_array() {
        writeln!(out, "chain:")?;
        for (i, h) in hops.iter().enumerate() {
            writeln!(
                out,
                "  {}. {}  ({})",
                i + 1,
                text(&h["server"]),
                text(&h["reason"])
            )?;
        }
    }
    Ok(())
}
