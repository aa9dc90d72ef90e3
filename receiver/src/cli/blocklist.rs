//! `picket blocklist`: the blocked sources as input a firewall loads as it is: an `nft -f`
//! file and an `ipset restore` script that replace the whole set atomically (one IPv4 and one
//! IPv6 set, room for 1,048,576 entries, each with the seconds left of its block as its
//! timeout), `hosts.deny` lines for TCP wrappers, a plain list, or JSON lines.
//!
//! By default the sources are the candidates in state `blocked` whose block has not ended
//! yet; with `--min-score` and/or `--class`, the candidates that pass those filters instead
//! (then without a timeout). Sources come from the server (op `incidents`) or, with
//! `--offline`, the store. Each source is parsed as an address or prefix before it is
//! written, so nothing else can reach the firewall's input.

use std::io::Write;
use std::net::IpAddr;
use std::path::Path;

use clap::{Args, ValueEnum};
use serde_json::{Map, Value, json};

use super::client::text;
use super::incidents::{Origin, Reply, class_names, fetch, report_error};
use crate::error::Error;

/// Room in each set: far more than 65,536 entries.
const SET_SIZE: u32 = 1_048_576;
/// The longest timeout ipset takes, in seconds.
const IPSET_MAX_TIMEOUT: u64 = 2_147_483;
/// Elements per nft `add element` statement (the file stays one transaction).
const NFT_CHUNK: usize = 1000;

/// Examples for `picket blocklist --help`.
pub const EXAMPLES: &str = "\
Formats:
  nft         a file for `nft -f`: table inet NAME with sets NAME4 and NAME6 (interval,
              timeout, size 1048576), flushed and refilled in one transaction; it loads on a
              fresh ruleset too. An address inside a listed prefix is folded into the prefix.
  ipset       input for `ipset restore`: sets NAME4 and NAME6 (hash:net, maxelem 1048576),
              filled as NAME4-new and swapped in atomically.
  hosts-deny  `ALL: ADDR` lines for /etc/hosts.deny (TCP wrappers); no expiry there:
              regenerate the file to lift ended blocks.
  plain       one address or prefix per line, sorted.
  json        one JSON object per line: {source, until, class, score}.

Examples:
  picket blocklist --format nft > /etc/picket.nft && nft -f /etc/picket.nft
  picket blocklist --format ipset | ipset restore
  picket blocklist --format plain --class ids-exploit
  picket blocklist --format json --min-score 80 --offline
The sets only hold addresses; drop them with a rule of your own, for instance:
  nft add chain inet picket input '{ type filter hook input priority -10; }'
  nft add rule inet picket input ip saddr @picket4 drop
  nft add rule inet picket input ip6 saddr @picket6 drop
  iptables -I INPUT -m set --match-set picket4 src -j DROP";

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `nft -f` input.
    Nft,
    /// `ipset restore` input.
    Ipset,
    /// `hosts.deny` lines.
    HostsDeny,
    /// One address or prefix per line.
    Plain,
    /// JSON lines.
    Json,
}

/// Options of `picket blocklist`.
#[derive(Debug, Args)]
pub struct BlocklistArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Plain)]
    pub format: Format,
    /// Instead of the blocked candidates: those scoring at least N (no timeout).
    #[arg(long, value_name = "N")]
    pub min_score: Option<u32>,
    /// Instead of the blocked candidates: those of this class (no timeout).
    #[arg(long, value_name = "CLASS", value_parser = class_names())]
    pub class: Option<String>,
    /// Name of the nft table and the sets: NAME4 and NAME6 (ipset also uses NAME4-new).
    #[arg(long, value_name = "NAME", default_value = "picket", value_parser = set_name)]
    pub name: String,
    /// Where the candidates come from.
    #[command(flatten)]
    pub origin: Origin,
}

/// A name nft and ipset both take, with room for the `4-new` suffix (ipset allows 31 bytes).
fn set_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 24
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(s.to_string())
    } else {
        Err("a name is 1 to 24 letters, digits or _, starting with a letter".into())
    }
}

/// One source to block.
#[derive(Debug, Clone)]
struct Entry {
    /// The (masked) address.
    addr: IpAddr,
    /// Prefix length.
    prefix: u8,
    /// Seconds left of the block; None: no timeout.
    timeout: Option<u64>,
    /// The block's end as the server sent it.
    until: Value,
    class: Value,
    score: Value,
}

impl Entry {
    fn width(&self) -> u8 {
        if self.addr.is_ipv4() { 32 } else { 128 }
    }

    fn is_single(&self) -> bool {
        self.prefix == self.width()
    }

    /// `203.0.113.50` or `198.51.100.0/24`.
    fn plain(&self) -> String {
        if self.is_single() {
            self.addr.to_string()
        } else {
            format!("{}/{}", self.addr, self.prefix)
        }
    }

    fn contains(&self, other: &Entry) -> bool {
        self.prefix <= other.prefix
            && picket_sensor::Cidr::new(self.addr, self.prefix).contains(other.addr)
    }
}

/// The blocklist's entries from the candidate lines, sorted (IPv4 first, by address).
fn entries(items: &[Value], timed: bool, now_ns: u64) -> Vec<Entry> {
    let mut out = Vec::new();
    for v in items {
        let source = text(&v["source"]);
        let Ok(cidr) = source.parse::<picket_sensor::Cidr>() else {
            eprintln!("picket: skipping {source:?}: not an address or prefix");
            continue;
        };
        let timeout = if timed {
            let Some(until) = v["block_until"]
                .as_str()
                .and_then(|u| crate::values::parse_time(u, now_ns).ok())
            else {
                continue; // not blocked (any more)
            };
            if until <= now_ns {
                continue; // the block ended; the server closes it at its next expiry run
            }
            Some((until - now_ns).div_ceil(1_000_000_000).max(1))
        } else {
            None
        };
        out.push(Entry {
            addr: cidr.addr(),
            prefix: cidr.prefix(),
            timeout,
            until: if timed {
                v["block_until"].clone()
            } else {
                Value::Null
            },
            class: v["class"].clone(),
            score: v["score"].clone(),
        });
    }
    out.sort_by_key(|e| (e.addr, e.prefix));
    out.dedup_by_key(|e| (e.addr, e.prefix));
    out
}

/// Folds every entry that lies inside a wider one into it (keeping the longer timeout): nft
/// interval sets refuse overlapping elements.
fn fold_overlaps(list: &[Entry]) -> Vec<Entry> {
    let mut by_width: Vec<&Entry> = list.iter().collect();
    by_width.sort_by_key(|e| (e.prefix, e.addr));
    let mut kept: Vec<Entry> = Vec::with_capacity(list.len());
    // Indexes into `kept` of the prefixes (entries wider than one address).
    let mut wide: Vec<usize> = Vec::new();
    for e in by_width {
        let holder = wide
            .iter()
            .copied()
            .find(|&i| kept.get(i).is_some_and(|k| k.contains(e)));
        match holder.and_then(|i| kept.get_mut(i)) {
            Some(k) => {
                k.timeout = match (k.timeout, e.timeout) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            None => {
                if !e.is_single() {
                    wide.push(kept.len());
                }
                kept.push(e.clone());
            }
        }
    }
    kept.sort_by_key(|e| (e.addr, e.prefix));
    kept
}

fn header(out: &mut impl Write, what: &str, n: usize, now_ns: u64) -> std::io::Result<()> {
    writeln!(
        out,
        "# picket blocklist ({what}): {n} sources, written {}",
        crate::clock::rfc3339(now_ns)
    )
}

fn write_nft(out: &mut impl Write, list: &[Entry], name: &str, now_ns: u64) -> std::io::Result<()> {
    let list = fold_overlaps(list);
    writeln!(out, "#!/usr/sbin/nft -f")?;
    header(out, "nft -f", list.len(), now_ns)?;
    writeln!(
        out,
        "# Replaces the contents of sets {name}4 and {name}6 in one transaction."
    )?;
    writeln!(out, "table inet {name} {{")?;
    for (fam, ty) in [("4", "ipv4_addr"), ("6", "ipv6_addr")] {
        writeln!(out, "\tset {name}{fam} {{")?;
        writeln!(out, "\t\ttype {ty}")?;
        writeln!(out, "\t\tflags interval, timeout")?;
        writeln!(out, "\t\tsize {SET_SIZE}")?;
        writeln!(out, "\t}}")?;
    }
    writeln!(out, "}}")?;
    writeln!(out, "flush set inet {name} {name}4")?;
    writeln!(out, "flush set inet {name} {name}6")?;
    for (fam, v4) in [("4", true), ("6", false)] {
        let fam_list: Vec<&Entry> = list.iter().filter(|e| e.addr.is_ipv4() == v4).collect();
        for chunk in fam_list.chunks(NFT_CHUNK) {
            writeln!(out, "add element inet {name} {name}{fam} {{")?;
            for (i, e) in chunk.iter().enumerate() {
                let sep = if i + 1 < chunk.len() { "," } else { "" };
                match e.timeout {
                    Some(t) => writeln!(out, "\t{} timeout {t}s{sep}", e.plain())?,
                    None => writeln!(out, "\t{}{sep}", e.plain())?,
                }
            }
            writeln!(out, "}}")?;
        }
    }
    Ok(())
}

fn write_ipset(
    out: &mut impl Write,
    list: &[Entry],
    name: &str,
    now_ns: u64,
) -> std::io::Result<()> {
    header(out, "ipset restore", list.len(), now_ns)?;
    writeln!(
        out,
        "# Fills {name}4-new and {name}6-new, then swaps them for {name}4 and {name}6 (atomic)."
    )?;
    for (fam, family, v4) in [("4", "inet", true), ("6", "inet6", false)] {
        let create = |set: &str| {
            format!(
                "create {set} hash:net family {family} hashsize 4096 maxelem {SET_SIZE} timeout 0 -exist"
            )
        };
        let set = format!("{name}{fam}");
        let new = format!("{name}{fam}-new");
        writeln!(out, "{}", create(&set))?;
        writeln!(out, "{}", create(&new))?;
        writeln!(out, "flush {new}")?;
        for e in list.iter().filter(|e| e.addr.is_ipv4() == v4) {
            if e.prefix == 0 {
                // hash:net cannot hold a /0.
                eprintln!(
                    "picket: skipping {} for ipset: hash:net takes no /0",
                    e.plain()
                );
                continue;
            }
            match e.timeout {
                Some(t) => writeln!(
                    out,
                    "add {new} {} timeout {}",
                    e.plain(),
                    t.min(IPSET_MAX_TIMEOUT)
                )?,
                None => writeln!(out, "add {new} {}", e.plain())?,
            }
        }
        writeln!(out, "swap {set} {new}")?;
        writeln!(out, "destroy {new}")?;
    }
    Ok(())
}

fn write_hosts_deny(out: &mut impl Write, list: &[Entry], now_ns: u64) -> std::io::Result<()> {
    header(out, "hosts.deny", list.len(), now_ns)?;
    writeln!(
        out,
        "# TCP wrappers lines for /etc/hosts.deny. They do not expire: regenerate to lift ended blocks."
    )?;
    for e in list {
        let pattern = match (e.addr, e.is_single()) {
            (IpAddr::V4(a), true) => a.to_string(),
            (IpAddr::V4(a), false) => format!("{a}/{}", e.prefix),
            (IpAddr::V6(a), true) => format!("[{a}]"),
            (IpAddr::V6(a), false) => format!("[{a}]/{}", e.prefix),
        };
        writeln!(out, "ALL: {pattern}")?;
    }
    Ok(())
}

/// Runs `picket blocklist`; `Ok(false)` when the server (or the store) answered an error.
pub fn run(data: &Path, args: &BlocklistArgs) -> Result<bool, Error> {
    let timed = args.min_score.is_none() && args.class.is_none();
    let mut req = Map::new();
    req.insert("op".into(), "incidents".into());
    if timed {
        req.insert("state".into(), "blocked".into());
    }
    if let Some(n) = args.min_score {
        req.insert("min_score".into(), n.into());
    }
    if let Some(c) = &args.class {
        req.insert("class".into(), c.clone().into());
    }
    let items = match fetch(data, &args.origin, &req)? {
        Reply::Lines(items, _) => items,
        Reply::Error(code, message) => {
            report_error(&code, &message);
            return Ok(false);
        }
    };
    let now = crate::clock::now_ns();
    let list = entries(&items, timed, now);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let r = match args.format {
        Format::Nft => write_nft(&mut out, &list, &args.name, now),
        Format::Ipset => write_ipset(&mut out, &list, &args.name, now),
        Format::HostsDeny => write_hosts_deny(&mut out, &list, now),
        Format::Plain => list.iter().try_for_each(|e| writeln!(out, "{}", e.plain())),
        Format::Json => list.iter().try_for_each(|e| {
            let v =
                json!({"source": e.plain(), "until": e.until, "class": e.class, "score": e.score});
            writeln!(out, "{v}")
        }),
    };
    match r.and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(true),
        Err(e) => Err(Error::Stdout(e)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn entry(s: &str, timeout: Option<u64>) -> Entry {
        let c: picket_sensor::Cidr = s.parse().unwrap();
        Entry {
            addr: c.addr(),
            prefix: c.prefix(),
            timeout,
            until: Value::Null,
            class: Value::Null,
            score: Value::Null,
        }
    }

    #[test]
    fn overlaps_fold_into_the_wider_prefix_with_the_longer_timeout() {
        let list = vec![
            entry("198.51.100.7", Some(500)),
            entry("198.51.100.0/24", Some(100)),
            entry("203.0.113.50", Some(10)),
            entry("2001:db8::1", None),
            entry("2001:db8::/64", Some(5)),
        ];
        let folded: Vec<(String, Option<u64>)> = fold_overlaps(&list)
            .iter()
            .map(|e| (e.plain(), e.timeout))
            .collect();
        assert_eq!(
            folded,
            vec![
                ("198.51.100.0/24".to_string(), Some(500)),
                ("203.0.113.50".to_string(), Some(10)),
                ("2001:db8::/64".to_string(), None),
            ]
        );
    }

    #[test]
    fn names() {
        assert!(set_name("picket").is_ok());
        assert!(set_name("a-b").is_err());
        assert!(set_name("4x").is_err());
        assert!(set_name(&"x".repeat(25)).is_err());
    }
}
