//! Keys of the store's trees: event keys (receive time + sequence), source-index keys
//! (16-byte address + event key) and address ranges for CIDR scans.

use std::fmt;
use std::net::IpAddr;

/// The key of one event: receive time in Unix nanoseconds and a sequence number, both
/// big-endian so that sled's byte order is time order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    /// Receive time (made strictly increasing by the writer), Unix nanoseconds.
    pub time_ns: u64,
    /// Tie-breaker for events with the same time.
    pub seq: u32,
}

/// Length of an encoded [`EventKey`].
pub const EVENT_KEY_LEN: usize = 12;

impl EventKey {
    /// The smallest key at or after `time_ns`.
    pub fn at(time_ns: u64) -> EventKey {
        EventKey { time_ns, seq: 0 }
    }

    /// Big-endian bytes.
    pub fn to_bytes(self) -> [u8; EVENT_KEY_LEN] {
        let mut k = [0u8; EVENT_KEY_LEN];
        let (time, seq) = k.split_at_mut(8);
        time.copy_from_slice(&self.time_ns.to_be_bytes());
        seq.copy_from_slice(&self.seq.to_be_bytes());
        k
    }

    /// Reads a key; `None` if `b` is not 12 bytes.
    pub fn from_bytes(b: &[u8]) -> Option<EventKey> {
        let time = b.get(..8)?.try_into().ok()?;
        let seq = b.get(8..12)?.try_into().ok()?;
        (b.len() == EVENT_KEY_LEN).then(|| EventKey {
            time_ns: u64::from_be_bytes(time),
            seq: u32::from_be_bytes(seq),
        })
    }

    /// The key right after this one.
    pub fn next(self) -> EventKey {
        match self.seq.checked_add(1) {
            Some(seq) => EventKey { seq, ..self },
            None => EventKey {
                time_ns: self.time_ns.saturating_add(1),
                seq: 0,
            },
        }
    }
}

impl fmt::Display for EventKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}{:08x}", self.time_ns, self.seq)
    }
}

impl std::str::FromStr for EventKey {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        if s.len() != 24 || !s.is_ascii() {
            return Err(());
        }
        let (time, seq) = (s.get(..16).ok_or(())?, s.get(16..).ok_or(())?);
        let time_ns = u64::from_str_radix(time, 16).map_err(|_| ())?;
        let seq = u32::from_str_radix(seq, 16).map_err(|_| ())?;
        Ok(EventKey { time_ns, seq })
    }
}

/// An address as 16 bytes, IPv4 mapped into IPv6 (`::ffff:a.b.c.d`), so that one index
/// orders both families and an IPv4 CIDR is one contiguous range.
pub fn addr16(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}

/// An address block (`198.51.100.0/24`, `2001:db8::/32`, or one address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    /// The block's address (host bits may be set; they are ignored).
    pub addr: IpAddr,
    /// Prefix length (0..=32 for IPv4, 0..=128 for IPv6).
    pub prefix: u8,
}

impl Cidr {
    /// The first and last 16-byte addresses of the block.
    pub fn range16(&self) -> ([u8; 16], [u8; 16]) {
        let bits = u32::from(match self.addr {
            IpAddr::V4(_) => self.prefix.min(32) + 96,
            IpAddr::V6(_) => self.prefix.min(128),
        });
        let base = u128::from_be_bytes(addr16(self.addr));
        let host_mask = if bits >= 128 { 0 } else { u128::MAX >> bits };
        (
            (base & !host_mask).to_be_bytes(),
            (base | host_mask).to_be_bytes(),
        )
    }

    /// True when the block is a single address.
    pub fn is_single(&self) -> bool {
        let (a, b) = self.range16();
        a == b
    }

    /// True when `ip` lies in the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (lo, hi) = self.range16();
        let a = addr16(ip);
        lo <= a && a <= hi
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not an address or CIDR block");
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_time_then_seq() {
        let a = EventKey { time_ns: 1, seq: 9 }.to_bytes();
        let b = EventKey { time_ns: 2, seq: 0 }.to_bytes();
        assert!(a < b);
        let k = EventKey {
            time_ns: 77,
            seq: 3,
        };
        assert_eq!(EventKey::from_bytes(&k.to_bytes()), Some(k));
        assert_eq!(k.to_string().parse::<EventKey>(), Ok(k));
        assert_eq!(EventKey::from_bytes(b"short"), None);
    }

    #[test]
    fn cidr_ranges() {
        let c: Cidr = "198.51.100.77/24".parse().unwrap();
        assert!(c.contains("198.51.100.1".parse().unwrap()));
        assert!(!c.contains("198.51.101.1".parse().unwrap()));
        assert!(!c.contains("2001:db8::1".parse().unwrap()));
        let one: Cidr = "2001:db8::1".parse().unwrap();
        assert!(one.is_single());
        let all: Cidr = "::/0".parse().unwrap();
        assert!(all.contains("198.51.100.1".parse().unwrap()));
        assert!("1.2.3.4/33".parse::<Cidr>().is_err());
        assert!("nonsense".parse::<Cidr>().is_err());
    }
}
