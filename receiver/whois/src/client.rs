//! The blocking whois client: one TCP connection per server (RFC 3912: send the query and
//! CRLF, read until the server closes), bounded in time and size, following referrals from
//! the root until a registry answers for the network itself, refusing loops and capping hops.
//!
//! Query syntax per server, where it matters: ARIN gets `n + IP` (`n` asks for networks only,
//! so that an address never matches an ASN or a POC; `+` asks for the full record, with the
//! organisation and its abuse POC, instead of a summary list when several networks match);
//! JPNIC gets `IP/e` (English output instead of ISO-2022-JP Japanese). RIPE, APNIC, AFRINIC
//! and LACNIC get the bare address, without `-B`: their abuse mailbox (`abuse-mailbox:` and
//! the `% Abuse contact for` comment) is in the default, filtered output; `-B` only unhides
//! the `e-mail:`, `notify:` and `changed:` attributes of personal objects ("for a database
//! update", as RIPE's banner says), addresses that are not for abuse reports. Nor `-r`: it
//! would drop the `abuse-c` role objects.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::{Contact, Hop, parse_reply};

/// How a lookup runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhoisConfig {
    /// The first server asked: host, host:port, an IP literal or `whois://host:port`.
    pub root: String,
    /// Longest time one server may take: connect, query and the whole reply.
    pub timeout: Duration,
    /// Largest reply read from one server, bytes.
    pub max_reply: usize,
    /// Most servers asked in one lookup (the root included).
    pub max_hops: usize,
    /// Where to connect instead for a server name (`whois.arin.net` -> `127.0.0.1:4343`): a
    /// local mirror or a test's server. The query keeps the named server's syntax.
    pub connect_to: Vec<(String, String)>,
}

impl Default for WhoisConfig {
    fn default() -> Self {
        WhoisConfig {
            root: "whois.iana.org:43".into(),
            timeout: Duration::from_secs(10),
            max_reply: 256 * 1024,
            max_hops: 6,
            connect_to: Vec::new(),
        }
    }
}

/// Why a lookup failed. Every variant but `BadServer` carries the chain followed so far.
#[derive(Debug)]
pub enum WhoisError {
    /// A root or referral that is not a host, host:port, IP literal or whois:// URL.
    BadServer {
        /// As written.
        given: String,
        /// What is wrong with it.
        why: &'static str,
        /// Servers asked before.
        chain: Vec<Hop>,
    },
    /// A server could not be reached, or broke off.
    Io {
        /// The server.
        server: String,
        /// What failed.
        error: std::io::Error,
        /// Servers asked, this one last.
        chain: Vec<Hop>,
    },
    /// A server did not answer in time.
    Timeout {
        /// The server.
        server: String,
        /// The time it had.
        after: Duration,
        /// Servers asked, this one last.
        chain: Vec<Hop>,
    },
    /// A reply longer than `max_reply`.
    TooLarge {
        /// The server.
        server: String,
        /// The cap.
        limit: usize,
        /// Servers asked, this one last.
        chain: Vec<Hop>,
    },
    /// A referral back to a server already asked.
    Loop {
        /// The server referred to again.
        server: String,
        /// Servers asked.
        chain: Vec<Hop>,
    },
    /// More referrals than `max_hops` allows.
    TooManyHops {
        /// The cap.
        limit: usize,
        /// Servers asked.
        chain: Vec<Hop>,
    },
}

impl WhoisError {
    /// The servers asked before the lookup failed.
    pub fn chain(&self) -> &[Hop] {
        match self {
            WhoisError::BadServer { chain, .. }
            | WhoisError::Io { chain, .. }
            | WhoisError::Timeout { chain, .. }
            | WhoisError::TooLarge { chain, .. }
            | WhoisError::Loop { chain, .. }
            | WhoisError::TooManyHops { chain, .. } => chain,
        }
    }
}

impl std::fmt::Display for WhoisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WhoisError::BadServer { given, why, .. } => {
                write!(f, "whois server {given:?}: {why}")
            }
            WhoisError::Io { server, error, .. } => write!(f, "whois server {server}: {error}"),
            WhoisError::Timeout { server, after, .. } => {
                write!(f, "whois server {server}: no answer within {after:?}")
            }
            WhoisError::TooLarge { server, limit, .. } => {
                write!(f, "whois server {server}: reply longer than {limit} bytes")
            }
            WhoisError::Loop { server, .. } => {
                write!(f, "whois referral loop: {server} was already asked")
            }
            WhoisError::TooManyHops { limit, .. } => {
                write!(f, "whois: more than {limit} servers in the referral chain")
            }
        }
    }
}

impl std::error::Error for WhoisError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WhoisError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// A whois server: a host name or an address, and a port (43 unless given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Host name (lower case) or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl std::fmt::Display for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v6 = self.host.contains(':');
        match (self.port, v6) {
            (43, _) => f.write_str(&self.host),
            (p, true) => write!(f, "[{}]:{p}", self.host),
            (p, false) => write!(f, "{}:{p}", self.host),
        }
    }
}

impl Server {
    /// Reads `host`, `host:port`, `1.2.3.4`, `2001:db8::1`, `[2001:db8::1]:4343`,
    /// `whois://host[:port][/]`.
    pub fn parse(s: &str) -> Result<Server, &'static str> {
        let t = s.trim();
        let lower = t.to_ascii_lowercase();
        if lower.starts_with("rwhois:") {
            return Err("rwhois is another protocol");
        }
        let t = match lower.strip_prefix("whois://") {
            Some(_) => t.get("whois://".len()..).unwrap_or_default(),
            None if lower.contains("://") => return Err("not a whois:// URL"),
            None => t,
        };
        let t = t.split('/').next().unwrap_or_default();
        if t.is_empty() {
            return Err("empty");
        }
        if let Ok(ip) = t.parse::<IpAddr>() {
            return Ok(Server {
                host: ip.to_string(),
                port: 43,
            });
        }
        let (host, port) = if let Some(rest) = t.strip_prefix('[') {
            let (h, p) = rest.split_once(']').ok_or("unclosed [")?;
            h.parse::<std::net::Ipv6Addr>()
                .map_err(|_| "not an IPv6 address in [ ]")?;
            let port = match p.strip_prefix(':') {
                Some(p) => Some(p),
                None if p.is_empty() => None,
                None => return Err("junk after ]"),
            };
            (h, port)
        } else {
            match t.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (t, None),
            }
        };
        let port = match port {
            None => 43,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or("bad port")?,
        };
        let ok_name = host.len() <= 253
            && !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if host.parse::<IpAddr>().is_err() && !ok_name {
            return Err("not a host name or address");
        }
        Ok(Server {
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// The query line this server wants for `ip` (see the module doc).
    pub fn query(&self, ip: IpAddr) -> String {
        match self.host.as_str() {
            "whois.arin.net" => format!("n + {ip}\r\n"),
            "whois.nic.ad.jp" => format!("{ip}/e\r\n"),
            _ => format!("{ip}\r\n"),
        }
    }
}

/// Looks up the abuse contact of `ip`: asks the root, follows referrals (at most
/// `max_hops` servers, none twice), and reads the last reply. Blocks.
pub fn lookup(ip: IpAddr, cfg: &WhoisConfig) -> Result<Contact, WhoisError> {
    let mut chain = Vec::new();
    let mut server = Server::parse(&cfg.root).map_err(|why| WhoisError::BadServer {
        given: cfg.root.clone(),
        why,
        chain: Vec::new(),
    })?;
    chain.push(Hop {
        server: server.to_string(),
        reason: "root".into(),
    });
    let mut asked = vec![server.clone()];
    loop {
        let bytes = ask(&server, ip, cfg, &chain)?;
        let text = String::from_utf8_lossy(&bytes);
        let reply = parse_reply(&text);
        let Some(r) = reply.referral else {
            return Ok(Contact::from_reply(ip, &reply, chain));
        };
        let next = Server::parse(r.target).map_err(|why| WhoisError::BadServer {
            given: r.target.to_string(),
            why,
            chain: chain.clone(),
        })?;
        if asked.contains(&next) {
            return Err(WhoisError::Loop {
                server: next.to_string(),
                chain,
            });
        }
        if chain.len() >= cfg.max_hops {
            return Err(WhoisError::TooManyHops {
                limit: cfg.max_hops,
                chain,
            });
        }
        chain.push(Hop {
            server: next.to_string(),
            reason: format!("{}: {}", r.key, r.value),
        });
        asked.push(next.clone());
        server = next;
    }
}

/// One query to one server: the whole reply, within the timeout and the size cap.
fn ask(
    server: &Server,
    ip: IpAddr,
    cfg: &WhoisConfig,
    chain: &[Hop],
) -> Result<Vec<u8>, WhoisError> {
    let deadline = Instant::now() + cfg.timeout;
    let name = server.to_string();
    let io = |error: std::io::Error| {
        if matches!(
            error.kind(),
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
        ) {
            WhoisError::Timeout {
                server: name.clone(),
                after: cfg.timeout,
                chain: chain.to_vec(),
            }
        } else {
            WhoisError::Io {
                server: name.clone(),
                error,
                chain: chain.to_vec(),
            }
        }
    };
    let target = cfg
        .connect_to
        .iter()
        .find(|(n, _)| Server::parse(n).is_ok_and(|n| n == *server))
        .and_then(|(_, to)| Server::parse(to).ok())
        .unwrap_or_else(|| server.clone());
    // Name resolution is the system's (getaddrinfo), not bounded by the timeout.
    let addrs: Vec<SocketAddr> = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(io)?
        .collect();
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address for the name");
    let mut stream = None;
    for a in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            last = std::io::ErrorKind::TimedOut.into();
            break;
        }
        match TcpStream::connect_timeout(&a, left) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = e,
        }
    }
    let mut stream = stream.ok_or(last).map_err(io)?;
    let left = |deadline: Instant| {
        Some(deadline.saturating_duration_since(Instant::now()))
            .filter(|d| !d.is_zero())
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::TimedOut))
    };
    stream
        .set_write_timeout(Some(left(deadline).map_err(io)?))
        .map_err(io)?;
    stream.write_all(server.query(ip).as_bytes()).map_err(io)?;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        // A server that trickles a byte at a time still ends at the deadline.
        stream
            .set_read_timeout(Some(left(deadline).map_err(io)?))
            .map_err(io)?;
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(buf.get(..n).unwrap_or_default());
        if out.len() > cfg.max_reply {
            return Err(WhoisError::TooLarge {
                server: name,
                limit: cfg.max_reply,
                chain: chain.to_vec(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_as_roots_and_referrals_write_them() {
        let p = |s| Server::parse(s).map(|s| s.to_string());
        assert_eq!(p("whois.iana.org").unwrap(), "whois.iana.org");
        assert_eq!(p("whois.iana.org:43").unwrap(), "whois.iana.org");
        assert_eq!(p("WHOIS://whois.RIPE.net").unwrap(), "whois.ripe.net");
        assert_eq!(p("whois://127.0.0.1:4343/").unwrap(), "127.0.0.1:4343");
        assert_eq!(p("127.0.0.1").unwrap(), "127.0.0.1");
        assert_eq!(p("2001:db8::43").unwrap(), "2001:db8::43");
        assert_eq!(p("[::1]:4343").unwrap(), "[::1]:4343");
        assert_eq!(p("whois://[::1]:4343").unwrap(), "[::1]:4343");
        for bad in [
            "",
            "rwhois://rwhois.example.net:4321",
            "http://x",
            "host:0",
            "host:99999",
            "bad host",
            "[::1",
            "[nope]:43",
        ] {
            assert!(Server::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn arin_and_jpnic_get_their_own_syntax() {
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let q = |h| Server::parse(h).unwrap().query(ip);
        assert_eq!(q("whois.arin.net"), "n + 192.0.2.7\r\n");
        assert_eq!(q("whois.nic.ad.jp"), "192.0.2.7/e\r\n");
        assert_eq!(q("whois.ripe.net"), "192.0.2.7\r\n");
    }
}
