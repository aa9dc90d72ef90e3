//! Who an event is about: the attacking source as the book keys it (an address, or its /N
//! prefix by config), CIDR blocks for own networks, and the rules that turn an event away
//! before it can make a candidate (no source, loopback, own network, a host about itself).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use picket_parsers::Event;

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

/// The key of one candidate: a source address, or the prefix it was grouped into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceKey(Cidr);

impl SourceKey {
    /// The key of `ip` grouped to `prefix` bits (32 / 128 = the address itself).
    pub fn new(ip: IpAddr, prefix: u8) -> SourceKey {
        SourceKey(Cidr::new(ip, prefix))
    }

    /// The key as an address block.
    pub fn cidr(&self) -> Cidr {
        self.0
    }

    /// The (first) address.
    pub fn addr(&self) -> IpAddr {
        self.0.addr
    }

    /// Prefix length in bits.
    pub fn prefix(&self) -> u8 {
        self.0.prefix
    }

    /// True when the key is one whole address, not a prefix.
    pub fn is_single_address(&self) -> bool {
        self.0.prefix == width(self.0.addr)
    }
}

impl fmt::Display for SourceKey {
    /// `198.51.100.7` for an address, `198.51.100.0/24` for a prefix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_single_address() {
            write!(f, "{}", self.0.addr)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// Why an event makes no candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ignored {
    /// The line names no source address (a name alone is not enough yet).
    NoSource,
    /// The source is loopback or unspecified (`127.0.0.1`, `::1`, `0.0.0.0`).
    Loopback,
    /// The source lies in one of the own networks.
    OwnNetwork,
    /// The reporting host logged about itself: the source is its own address.
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
    let text = std::str::from_utf8(host).ok()?;
    let ip: IpAddr = text.parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

/// The candidate key of an event, or why it has none.
pub(crate) fn key_of(
    event: &Event<'_>,
    own_networks: &[Cidr],
    group_v4: u8,
    group_v6: u8,
) -> Result<SourceKey, Ignored> {
    let ip = event.details.source.ip.ok_or(Ignored::NoSource)?;
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
    if reporter_addr(event) == Some(ip) {
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
}
