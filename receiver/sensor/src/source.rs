//! Who an event is about: the attacking source as the book keys it (an address, or its /N
//! prefix by config, or the host name a line gives in its place), CIDR blocks for own networks, and the rules that turn an event away
//! before it can make a candidate (no source, loopback, own network, a host about itself).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use picket_parsers::Event;

use crate::distinct::hash_bytes;

/// An address block (`10.0.0.0/8`, `2001:db8::/32`); the address is stored masked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

/// Why a CIDR string was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CidrError(pub String);

impl fmt::Display for CidrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an address block: {}", self.0)
    }
}

impl std::error::Error for CidrError {}

impl Cidr {
    /// The block of `prefix` bits around `addr` (prefix clamped to the family's width).
    pub fn new(addr: IpAddr, prefix: u8) -> Cidr {
        let prefix = prefix.min(width(addr));
        Cidr {
            addr: mask(addr, prefix),
            prefix,
        }
    }

    /// The first address of the block.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// Prefix length in bits.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// A cheap key with the order of the derived `Ord` (family, address, prefix), for sorts.
    #[inline]
    pub(crate) fn sort_key(&self) -> (bool, u128, u8) {
        let bits = match self.addr {
            IpAddr::V4(v4) => u128::from(u32::from(v4)),
            IpAddr::V6(v6) => u128::from(v6),
        };
        (self.addr.is_ipv6(), bits, self.prefix)
    }

    /// The block back from its [`Cidr::sort_key`].
    pub(crate) fn from_sort_key((v6, bits, prefix): (bool, u128, u8)) -> Cidr {
        let addr = if v6 {
            IpAddr::V6(Ipv6Addr::from(bits))
        } else {
            IpAddr::V4(Ipv4Addr::from(bits as u32))
        };
        Cidr { addr, prefix }
    }

    /// True when `ip` lies inside the block (an IPv4 block never holds an IPv6 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.addr.is_ipv4() && mask(ip, self.prefix) == self.addr
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    /// `ADDR` or `ADDR/PREFIX`.
    fn from_str(s: &str) -> Result<Cidr, CidrError> {
        let bad = || CidrError(s.to_owned());
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().map_err(|_| bad())?,
            None => width(addr),
        };
        if prefix > width(addr) {
            return Err(bad());
        }
        Ok(Cidr::new(addr, prefix))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The longest name a key holds: a DNS name in text form (RFC 1035: 255 octets on the wire).
pub const NAME_MAX_LEN: usize = 253;

/// A host name as the book keys it: lower-case, no trailing dot, at most [`NAME_MAX_LEN`]
/// bytes, held inline so that [`SourceKey`] stays `Copy`.
#[derive(Clone, Copy)]
struct HostName {
    len: u8,
    bytes: [u8; NAME_MAX_LEN],
}

impl HostName {
    /// The key form of `raw`, or `None` when it is no plausible DNS name: empty, longer than
    /// 253 bytes, an empty or over-long (63) label, a byte outside letters, digits, `-` and `_`
    /// between the dots, a label that starts or ends with `-`, an all-digit last label (an
    /// address, or no name), or a placeholder: `localhost` (and `*.localhost`,
    /// `localhost.localdomain`), `unknown`.
    fn new(raw: &[u8]) -> Option<HostName> {
        let raw = raw.strip_suffix(b".").unwrap_or(raw);
        if raw.is_empty() || raw.len() > NAME_MAX_LEN {
            return None;
        }
        let mut bytes = [0u8; NAME_MAX_LEN];
        for (to, from) in bytes.iter_mut().zip(raw) {
            *to = from.to_ascii_lowercase();
        }
        let name = bytes.get(..raw.len())?;
        let mut last: &[u8] = &[];
        for label in name.split(|b| *b == b'.') {
            let ok = !label.is_empty()
                && label.len() <= 63
                && label.iter().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'_'
                })
                && label.first() != Some(&b'-')
                && label.last() != Some(&b'-');
            if !ok {
                return None;
            }
            last = label;
        }
        if last.iter().all(u8::is_ascii_digit)
            || last == b"localhost"
            || name == b"localhost.localdomain"
            || name == b"unknown"
        {
            return None;
        }
        Some(HostName {
            len: u8::try_from(raw.len()).ok()?,
            bytes,
        })
    }

    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The name's stand-in address: `100::/64` (RFC 6666, discard-only) and 64 bits of a
    /// fixed hash of the name. Never routed, never an attacker's own address.
    fn standin(&self) -> IpAddr {
        let h = hash_bytes(self.as_bytes());
        IpAddr::V6(Ipv6Addr::from((0x0100u128 << 112) | u128::from(h)))
    }
}

impl PartialEq for HostName {
    fn eq(&self, other: &HostName) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for HostName {}

impl std::hash::Hash for HostName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialOrd for HostName {
    fn partial_cmp(&self, other: &HostName) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for HostName {
    fn cmp(&self, other: &HostName) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

// The name is inline on purpose (see `SourceKey`): a boxed one would not be `Copy`.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyRepr {
    Net(Cidr),
    Name(HostName),
}

/// The key of one candidate: a source address, the prefix it was grouped into, or — for
/// sources a line names only by host name (tcpd's `refused connect from
/// 7dyn94.ztm.casema.net`, PAM's `rhost=`, sshd with `UseDNS`) — that name, until the
/// resolver maps it to an address and [`IncidentBook::resolved`](crate::IncidentBook::resolved)
/// merges the name's candidate into the address's.
///
/// Why a name key holds the name itself (inline, up to 253 bytes) rather than only a hash
/// folded into a reserved address range: the key's text is the store key and what people
/// see, so it must give the name back with no table beside it (a shared interner would be
/// global state, and grow with every name a flood of lines invents); two names must never
/// share a candidate (a hash would collide, however rarely); and the key stays `Copy`, so the
/// book's maps and sets and the receiver keep using it by value. The cost is size: a key is
/// 256 bytes instead of 20, a few MB at `max_active`. Code that needs an address of every key
/// (the by-target view's source counts, CIDR filters) gets a stand-in from
/// [`SourceKey::addr`]: `100::/64` (RFC 6666, discard-only) and a fixed hash of the name.
///
/// Order: addresses and prefixes (by address, then prefix) before names (by bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceKey(KeyRepr);

/// Why a string is not a source key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyError(pub String);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not a source (an address, ADDR/PREFIX or a host name): {}",
            self.0
        )
    }
}

impl std::error::Error for KeyError {}

impl SourceKey {
    /// The key of `ip` grouped to `prefix` bits (32 / 128 = the address itself).
    pub fn new(ip: IpAddr, prefix: u8) -> SourceKey {
        SourceKey(KeyRepr::Net(Cidr::new(ip, prefix)))
    }

    /// The key of a source known by host name, as the book makes it from
    /// `source.domain`: lower-cased, a trailing dot removed; `None` when the name is not a
    /// plausible DNS name (empty, over 253 bytes, bad characters, a numeric last label,
    /// `localhost`, `unknown`).
    pub fn from_name(name: &[u8]) -> Option<SourceKey> {
        HostName::new(name).map(|n| SourceKey(KeyRepr::Name(n)))
    }

    /// The name of a name key (lower-case, no trailing dot); `None` for an address or prefix.
    pub fn name(&self) -> Option<&[u8]> {
        match &self.0 {
            KeyRepr::Name(n) => Some(n.as_bytes()),
            KeyRepr::Net(_) => None,
        }
    }

    /// The address block of an address or prefix key; `None` for a name key.
    pub(crate) fn net(&self) -> Option<Cidr> {
        match &self.0 {
            KeyRepr::Net(c) => Some(*c),
            KeyRepr::Name(_) => None,
        }
    }

    /// The key of an address block, as [`SourceKey::net`] gave it.
    pub(crate) fn of_net(cidr: Cidr) -> SourceKey {
        SourceKey(KeyRepr::Net(cidr))
    }

    /// True for a source known only by host name (not yet resolved to an address).
    pub fn is_name(&self) -> bool {
        matches!(self.0, KeyRepr::Name(_))
    }

    /// The key as an address block (a name key: its stand-in address, `/128`).
    pub fn cidr(&self) -> Cidr {
        match &self.0 {
            KeyRepr::Net(c) => *c,
            KeyRepr::Name(n) => Cidr::new(n.standin(), 128),
        }
    }

    /// The (first) address; for a name key its stand-in in `100::/64` (see the type's doc).
    pub fn addr(&self) -> IpAddr {
        self.cidr().addr
    }

    /// Prefix length in bits (128 for a name key).
    pub fn prefix(&self) -> u8 {
        self.cidr().prefix
    }

    /// True when the key is one whole address, not a prefix (false for a name key).
    pub fn is_single_address(&self) -> bool {
        match &self.0 {
            KeyRepr::Net(c) => c.prefix == width(c.addr),
            KeyRepr::Name(_) => false,
        }
    }

    /// Reads a key back from its text (`to_string()`, the store key, or what a user typed):
    /// `ADDR`, `ADDR/PREFIX` (masked: `198.51.100.7/24` is `198.51.100.0/24`), or a host name
    /// (normalised as [`SourceKey::from_name`] does).
    pub fn parse(text: &str) -> Result<SourceKey, KeyError> {
        let t = text.trim();
        let looks_numeric = t.contains(':') || t.contains('/') || t.parse::<IpAddr>().is_ok();
        if looks_numeric {
            let c: Cidr = t.parse().map_err(|_| KeyError(text.to_owned()))?;
            return Ok(SourceKey(KeyRepr::Net(c)));
        }
        SourceKey::from_name(t.as_bytes()).ok_or_else(|| KeyError(text.to_owned()))
    }
}

impl FromStr for SourceKey {
    type Err = KeyError;

    /// See [`SourceKey::parse`].
    fn from_str(s: &str) -> Result<SourceKey, KeyError> {
        SourceKey::parse(s)
    }
}

impl fmt::Display for SourceKey {
    /// `198.51.100.7` for an address, `198.51.100.0/24` for a prefix, the name for a name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            KeyRepr::Net(c) if self.is_single_address() => write!(f, "{}", c.addr),
            KeyRepr::Net(c) => write!(f, "{c}"),
            // Only letters, digits, `-`, `_` and `.` get in: safe to show as it is.
            KeyRepr::Name(n) => f.write_str(&String::from_utf8_lossy(n.as_bytes())),
        }
    }
}

/// Why an event makes no candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ignored {
    /// The line names no source address, and no plausible host name.
    NoSource,
    /// The source is loopback or unspecified (`127.0.0.1`, `::1`, `0.0.0.0`).
    Loopback,
    /// The source lies in one of the own networks.
    OwnNetwork,
    /// The reporting host logged about itself: the source is its own address or name.
    SelfReport,
}

/// The width of an address family in bits.
pub(crate) fn width(ip: IpAddr) -> u8 {
    if ip.is_ipv4() { 32 } else { 128 }
}

/// `ip` with all but its first `prefix` bits cleared.
pub(crate) fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let keep = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix.min(32)))
            };
            IpAddr::V4(Ipv4Addr::from(bits & keep))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let keep = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix.min(128)))
            };
            IpAddr::V6(Ipv6Addr::from(bits & keep))
        }
    }
}

/// An address as 128 bits (IPv4 in the IPv4-mapped range), for hashing.
pub(crate) fn addr_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The reporting host's address, when its host field is one.
fn reporter_addr(event: &Event<'_>) -> Option<IpAddr> {
    let host = event.header.hostname?;
    // An address has a dot or a colon; most host fields (`gw`, `fw`) are no address at all.
    if !host.iter().any(|b| *b == b'.' || *b == b':') {
        return None;
    }
    let text = std::str::from_utf8(host).ok()?;
    let ip: IpAddr = text.parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

/// True when `name` is the reporting host's own name. Exactly: a first label equal to a
/// short host name (`gw` and `gw.attacker.example`) is not enough, or an attacker could hide
/// behind a PTR record named after the host.
fn is_reporter_name(event: &Event<'_>, name: &[u8]) -> bool {
    let Some(host) = event.header.hostname else {
        return false;
    };
    let host = host.strip_suffix(b".").unwrap_or(host);
    !host.is_empty() && host.eq_ignore_ascii_case(name)
}

/// The host name an event gives for its source, as a name key (`None`: none, or not a
/// plausible DNS name).
pub(crate) fn name_of(event: &Event<'_>) -> Option<SourceKey> {
    event.details.source.domain.and_then(SourceKey::from_name)
}

/// The candidate key of an event, or why it has none. `resolved` maps a name key to the
/// address it resolved to, when it did.
pub(crate) fn key_of(
    event: &Event<'_>,
    own_networks: &[Cidr],
    group_v4: u8,
    group_v6: u8,
    resolved: impl Fn(&SourceKey) -> Option<IpAddr>,
) -> Result<SourceKey, Ignored> {
    let ip = match event.details.source.ip {
        Some(ip) => ip,
        None => {
            let domain = event.details.source.domain.ok_or(Ignored::NoSource)?;
            match std::str::from_utf8(domain)
                .ok()
                .and_then(|t| t.parse().ok())
            {
                // An address in the name's place.
                Some(ip) => ip,
                None => {
                    let key = SourceKey::from_name(domain).ok_or(Ignored::NoSource)?;
                    if key.name().is_some_and(|n| is_reporter_name(event, n)) {
                        return Err(Ignored::SelfReport);
                    }
                    match resolved(&key) {
                        Some(ip) => ip,
                        None => return Ok(key),
                    }
                }
            }
        }
    };
    key_of_addr(ip, own_networks, group_v4, group_v6, reporter_addr(event))
}

/// The candidate key of a source address, or why it has none.
#[inline]
pub(crate) fn key_of_addr(
    ip: IpAddr,
    own_networks: &[Cidr],
    group_v4: u8,
    group_v6: u8,
    reporter: Option<IpAddr>,
) -> Result<SourceKey, Ignored> {
    if ip.is_loopback() || ip.is_unspecified() {
        return Err(Ignored::Loopback);
    }
    if let IpAddr::V6(v6) = ip
        && let Some(v4) = v6.to_ipv4_mapped()
        && (v4.is_loopback() || v4.is_unspecified())
    {
        return Err(Ignored::Loopback);
    }
    if own_networks.iter().any(|n| n.contains(ip)) {
        return Err(Ignored::OwnNetwork);
    }
    if reporter == Some(ip) {
        return Err(Ignored::SelfReport);
    }
    let prefix = if ip.is_ipv4() { group_v4 } else { group_v6 };
    Ok(SourceKey::new(ip, prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parse_and_contains() {
        let c: Cidr = "10.1.2.3/8".parse().unwrap();
        assert_eq!(c.to_string(), "10.0.0.0/8");
        assert!(c.contains("10.200.0.1".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(!c.contains("::a00:1".parse().unwrap()));
        let c6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(c6.contains("2001:db8:1::7".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nonsense".parse::<Cidr>().is_err());
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn keys_group_by_prefix() {
        let k = SourceKey::new("198.51.100.77".parse().unwrap(), 24);
        assert_eq!(k.to_string(), "198.51.100.0/24");
        let k = SourceKey::new("198.51.100.77".parse().unwrap(), 32);
        assert_eq!(k.to_string(), "198.51.100.77");
        let k = SourceKey::new("2001:db8:1:2:3::9".parse().unwrap(), 64);
        assert_eq!(k.to_string(), "2001:db8:1:2::/64");
    }

    #[test]
    fn name_keys() {
        let k = SourceKey::from_name(b"7DYN94.ztm.Casema.NET.").unwrap();
        assert!(k.is_name());
        assert_eq!(k.to_string(), "7dyn94.ztm.casema.net");
        assert_eq!(k.name(), Some(&b"7dyn94.ztm.casema.net"[..]));
        assert_eq!(SourceKey::from_name(b"7dyn94.ztm.casema.net"), Some(k));
        assert!(!k.is_single_address());
        assert_eq!(k.prefix(), 128);
        assert!("100::/64".parse::<Cidr>().unwrap().contains(k.addr()));
        assert_eq!("7dyn94.ztm.casema.net".parse::<SourceKey>(), Ok(k));
        assert_eq!(" 7Dyn94.ztm.casema.net. ".parse::<SourceKey>(), Ok(k));
        let other = SourceKey::from_name(b"7dyn95.ztm.casema.net").unwrap();
        assert_ne!(k, other);
        assert_ne!(k.addr(), other.addr());
        // Addresses sort before names.
        assert!(SourceKey::new("255.255.255.255".parse().unwrap(), 32) < k);
        let long = format!("{}.example", "a".repeat(60));
        assert!(SourceKey::from_name(long.as_bytes()).is_some());
        let max = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61),
        ]
        .join(".");
        assert_eq!(max.len(), 253);
        assert_eq!(
            SourceKey::from_name(max.as_bytes()).unwrap().to_string(),
            max
        );
        assert!(SourceKey::from_name(format!("{max}x").as_bytes()).is_none());
    }

    #[test]
    fn implausible_names_make_no_key() {
        for bad in [
            &b""[..],
            b".",
            b"unknown",
            b"UNKNOWN",
            b"localhost",
            b"localhost.",
            b"LocalHost.localdomain",
            b"foo.localhost",
            b"a..b",
            b".a.b",
            b"-a.example",
            b"a-.example",
            b"bad name.example",
            b"x;rm.example",
            b"host\xff.example",
            b"198.51.100.7",
            b"10.0.0",
            b"[::1]",
            b"a/b",
        ] {
            assert!(SourceKey::from_name(bad).is_none(), "{bad:?}");
        }
        let label64 = format!("{}.example", "a".repeat(64));
        assert!(SourceKey::from_name(label64.as_bytes()).is_none());
        assert!(SourceKey::from_name(b"_dmarc.example.org").is_some());
        assert!(SourceKey::from_name(b"gw").is_some());
    }

    #[test]
    fn a_key_is_at_most_256_bytes() {
        // The name is inline (see `SourceKey`); this is the price, and its bound.
        assert!(std::mem::size_of::<SourceKey>() <= 256);
    }

    #[test]
    fn keys_parse_back_from_their_text() {
        for text in [
            "198.51.100.7",
            "198.51.100.0/24",
            "2001:db8:1:2::/64",
            "2001:db8::7",
            "host.example.org",
        ] {
            let k: SourceKey = text.parse().unwrap();
            assert_eq!(k.to_string(), text);
        }
        assert_eq!(
            "198.51.100.77/24".parse::<SourceKey>().unwrap().to_string(),
            "198.51.100.0/24"
        );
        for bad in [
            "",
            "198.51.100.7/33",
            "nonsense/8",
            "unknown",
            "1.2.3",
            "a b",
        ] {
            assert!(bad.parse::<SourceKey>().is_err(), "{bad:?}");
        }
    }
}
