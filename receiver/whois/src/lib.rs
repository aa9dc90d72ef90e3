//! Who to tell: the abuse contact of an IP address, found over RFC 3912 whois the way an abuse
//! desk finds it by hand (start at IANA, follow the registries' referrals, read the last
//! registry's reply).
//!
//! # Usage
//!
//! ```no_run
//! use picket_whois::{WhoisConfig, lookup};
//!
//! let cfg = WhoisConfig::default(); // root whois.iana.org:43, 10 s per server, 6 hops
//! let ip = "193.0.6.139".parse().unwrap();
//! match lookup(ip, &cfg) {
//!     Ok(c) => {
//!         // `c.abuse`: the address to write to (None: nothing usable was registered);
//!         // `c.fallback`: true when it is a guess (RFC 2142 `abuse@domain`, or a network
//!         // contact rather than an abuse mailbox): say so, or ask a person first.
//!         println!("{:?} ({:?}) via {:?}", c.abuse, c.found_by, c.chain);
//!     }
//!     Err(e) => eprintln!("{e}"), // a server that did not answer, a loop, too many hops
//! }
//! ```
//!
//! `lookup` blocks (one TCP connection per hop, each bounded by `timeout`): call it off any
//! async runtime's worker threads (`spawn_blocking`). [`Contact::to_json`] /
//! [`Contact::from_json`] are the stable form for caching. [`parse_reply`] is the pure reader
//! of one reply, for tests and the fuzzer.
//!
//! Inside picket, go through the cache rather than call `lookup` directly: the query op
//! `contact` while serve runs (docs/protocol.md; it caches through the writer), or
//! `contact::find` in the receiver crate for a process that holds the store itself.

mod client;
mod parse;

pub use client::{Server, WhoisConfig, WhoisError, lookup};
pub use parse::{Found, How, Referral, Reply, is_placeholder, mail_address, parse_reply};

use serde::{Deserialize, Serialize};

/// One server asked, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    /// The server: `host`, `host:port` or `[v6]:port`.
    pub server: String,
    /// Why it was asked: `root`, or the line of the previous reply that referred to it
    /// (`refer: whois.arin.net`, `ReferralServer: whois://whois.ripe.net`).
    pub reason: String,
}

/// What a lookup found: the address to send abuse reports to, and the network it is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The address looked up.
    pub ip: String,
    /// Where abuse reports go; None when the registry names no usable address.
    pub abuse: Option<String>,
    /// How `abuse` was found.
    pub found_by: Option<How>,
    /// True when `abuse` is not a registered abuse mailbox (RFC 2142 guess, network contact).
    pub fallback: bool,
    /// The network's name.
    pub netname: Option<String>,
    /// The network's range as the registry writes it.
    pub range: Option<String>,
    /// The network's country code.
    pub country: Option<String>,
    /// The organisation holding the network.
    pub org: Option<String>,
    /// The servers asked, root first; the last one answered.
    pub chain: Vec<Hop>,
}

impl Contact {
    /// The contact a final reply gives (the registry that holds the network).
    pub fn from_reply(ip: std::net::IpAddr, reply: &Reply<'_>, chain: Vec<Hop>) -> Contact {
        let own = |s: Option<&str>| s.map(str::to_string);
        let (abuse, found_by, fallback) = match (reply.abuse, reply.domain) {
            (Some(f), _) => (
                Some(f.address.to_string()),
                Some(f.how),
                f.how == How::NetworkContact,
            ),
            (None, Some(d)) => (Some(format!("abuse@{d}")), Some(How::Rfc2142), true),
            (None, None) => (None, None, false),
        };
        Contact {
            ip: ip.to_string(),
            abuse,
            found_by,
            fallback,
            netname: own(reply.netname),
            range: own(reply.range),
            country: own(reply.country),
            org: own(reply.org),
            chain,
        }
    }

    /// The RFC 2142 alternative: `security@` the same domain, when `abuse` is that guess.
    pub fn security(&self) -> Option<String> {
        let a = self.abuse.as_ref()?;
        (self.found_by == Some(How::Rfc2142))
            .then(|| a.strip_prefix("abuse@").map(|d| format!("security@{d}")))
            .flatten()
    }

    /// The stable serialized form (JSON), for caches.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads [`Contact::to_json`]'s form; None when the bytes are not one.
    pub fn from_json(bytes: &[u8]) -> Option<Contact> {
        serde_json::from_slice(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cached form is a contract: entries written by an older build must still read.
    const STORED: &str = r#"{"ip":"193.51.7.9","abuse":"abuse@example-isp.fr","found_by":"abuse_c","fallback":false,"netname":"EXAMPLE-NET","range":"193.51.0.0 - 193.51.255.255","country":"FR","org":"Example ISP SAS","chain":[{"server":"whois.iana.org","reason":"root"},{"server":"whois.ripe.net","reason":"refer: whois.ripe.net"}]}"#;

    #[test]
    fn the_stored_form_is_stable() {
        let c = Contact {
            ip: "193.51.7.9".into(),
            abuse: Some("abuse@example-isp.fr".into()),
            found_by: Some(How::AbuseC),
            fallback: false,
            netname: Some("EXAMPLE-NET".into()),
            range: Some("193.51.0.0 - 193.51.255.255".into()),
            country: Some("FR".into()),
            org: Some("Example ISP SAS".into()),
            chain: vec![
                Hop {
                    server: "whois.iana.org".into(),
                    reason: "root".into(),
                },
                Hop {
                    server: "whois.ripe.net".into(),
                    reason: "refer: whois.ripe.net".into(),
                },
            ],
        };
        assert_eq!(String::from_utf8(c.to_json()).unwrap(), STORED);
        assert_eq!(Contact::from_json(STORED.as_bytes()), Some(c));
        assert_eq!(Contact::from_json(b"{}"), None);
    }

    #[test]
    fn the_rfc2142_guess_is_marked_and_offers_security() {
        let reply = parse_reply("inetnum: 192.0.2.0 - 192.0.2.255\nnotify: noc@example.net\n");
        let c = Contact::from_reply("192.0.2.1".parse().unwrap(), &reply, Vec::new());
        assert_eq!(c.abuse.as_deref(), Some("abuse@example.net"));
        assert!(c.fallback);
        assert_eq!(c.found_by, Some(How::Rfc2142));
        assert_eq!(c.security().as_deref(), Some("security@example.net"));
    }
}
