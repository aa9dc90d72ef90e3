//! The stored form of one event: a compact, versioned binary record.
//!
//! Layout (format version 1), all integers little-endian or LEB128 varints:
//!
//! ```text
//! u8 version | u8 dataset | u8 action (0 = none) | u16 flags | u64 received ns
//! [flag-gated fixed fields: pri, syslog version, timestamp, addresses, ports, transport,
//!  priority, sequence, repeat]
//! u32 slice mask | for each present slice: varint offset, varint len (into raw)
//! raw bytes (the line exactly as received) to the end
//! ```
//!
//! Every text field of an event is a slice of the raw line, so a record stores it as
//! (offset, length) into the raw bytes it already holds, and decoding gives back an
//! [`Event`] that borrows from the record: no copy, no JSON, no re-parse.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use picket_parsers::Header;
use picket_parsers::{Action, Dataset, Details, Endpoint, Event, Rule, Timestamp, Transport};

use crate::error::DecodeError;

/// The record format this build writes. Older versions must stay readable.
pub const FORMAT_VERSION: u8 = 1;

mod flag {
    pub const PRI: u16 = 1;
    pub const VERSION: u16 = 1 << 1;
    pub const TIMESTAMP: u16 = 1 << 2;
    pub const SRC_IP: u16 = 1 << 3;
    pub const SRC_PORT: u16 = 1 << 4;
    pub const DST_IP: u16 = 1 << 5;
    pub const DST_PORT: u16 = 1 << 6;
    pub const TRANSPORT: u16 = 1 << 7;
    pub const PRIORITY: u16 = 1 << 8;
    pub const SEQUENCE: u16 = 1 << 9;
    pub const REPEAT: u16 = 1 << 10;
    /// The message was cut at the receiver's maximum (no field follows).
    pub const TRUNCATED: u16 = 1 << 11;
}

/// Transport codes; `OTHER` is followed by a slice entry.
const TRANSPORTS: [Transport<'static>; 9] = [
    Transport::Tcp,
    Transport::Udp,
    Transport::Icmp,
    Transport::Ipv6Icmp,
    Transport::Igmp,
    Transport::Gre,
    Transport::Esp,
    Transport::Ah,
    Transport::Sctp,
];
const TRANSPORT_OTHER: u8 = 255;

/// Number of slice fields, in mask-bit order (see `Event::slice_fields`).
const SLICES: usize = picket_parsers::SLICE_FIELDS;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(a) => {
            out.push(4);
            out.extend_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            out.push(6);
            out.extend_from_slice(&a.octets());
        }
    }
}

/// Offset of `inner` within `outer`, if it is a slice of it.
fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let o = outer.as_ptr() as usize;
    let i = inner.as_ptr() as usize;
    (i >= o && i + inner.len() <= o + outer.len()).then(|| i - o)
}

/// Appends the record of `ev` (received at `received_ns`) to `out`.
///
/// A slice field that does not lie inside `ev.original` (which parsers never produce) is
/// dropped rather than stored wrongly.
pub fn encode(out: &mut Vec<u8>, ev: &Event<'_>, received_ns: u64) {
    let h = &ev.header;
    let d = &ev.details;
    out.push(FORMAT_VERSION);
    out.push(ev.dataset as u8);
    out.push(d.action.map_or(0, |a| a as u8));
    let flags_at = out.len();
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&received_ns.to_le_bytes());
    let mut flags = 0u16;
    if let Some(p) = h.pri {
        flags |= flag::PRI;
        out.push(p);
    }
    if let Some(v) = h.version {
        flags |= flag::VERSION;
        out.push(v);
    }
    if let Some(t) = h.timestamp {
        // Stored as a zigzag delta from the receive second: a few bytes instead of twelve.
        flags |= flag::TIMESTAMP;
        let received_secs = (received_ns / 1_000_000_000) as i64;
        put_varint(out, zigzag(t.secs.wrapping_sub(received_secs)));
        put_varint(out, u64::from(t.nanos));
    }
    if let Some(ip) = d.source.ip {
        flags |= flag::SRC_IP;
        put_ip(out, ip);
    }
    if let Some(p) = d.source.port {
        flags |= flag::SRC_PORT;
        out.extend_from_slice(&p.to_le_bytes());
    }
    if let Some(ip) = d.destination.ip {
        flags |= flag::DST_IP;
        put_ip(out, ip);
    }
    if let Some(p) = d.destination.port {
        flags |= flag::DST_PORT;
        out.extend_from_slice(&p.to_le_bytes());
    }
    if let Some(t) = d.transport {
        flags |= flag::TRANSPORT;
        let code = TRANSPORTS
            .iter()
            .position(|k| *k == t)
            .map_or(TRANSPORT_OTHER, |n| n as u8);
        out.push(code);
    }
    if let Some(p) = d.priority {
        flags |= flag::PRIORITY;
        out.push(p);
    }
    if let Some(s) = h.sequence {
        flags |= flag::SEQUENCE;
        out.extend_from_slice(&s.to_le_bytes());
    }
    if let Some(r) = h.repeat {
        flags |= flag::REPEAT;
        out.extend_from_slice(&r.to_le_bytes());
    }
    if ev.truncated {
        flags |= flag::TRUNCATED;
    }
    if let Some(slot) = out.get_mut(flags_at..flags_at + 2) {
        slot.copy_from_slice(&flags.to_le_bytes());
    }
    let mask_at = out.len();
    out.extend_from_slice(&[0; 4]);
    let mut mask = 0u32;
    for (bit, field) in ev.slice_fields().into_iter().enumerate() {
        let Some(s) = field else { continue };
        let Some(off) = offset_in(ev.original, s) else {
            continue;
        };
        mask |= 1 << bit;
        put_varint(out, off as u64);
        put_varint(out, s.len() as u64);
    }
    if let Some(slot) = out.get_mut(mask_at..mask_at + 4) {
        slot.copy_from_slice(&mask.to_le_bytes());
    }
    out.extend_from_slice(ev.original);
}

/// A cursor over record bytes that fails instead of panicking.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let s = self
            .buf
            .get(self.pos..self.pos.saturating_add(n))
            .ok_or(DecodeError::Truncated)?;
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        self.take(1)?.first().copied().ok_or(DecodeError::Truncated)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError::BadVarint)
    }
    fn ip(&mut self) -> Result<IpAddr, DecodeError> {
        match self.u8()? {
            4 => Ok(IpAddr::V4(Ipv4Addr::from(self.array::<4>()?))),
            6 => Ok(IpAddr::V6(Ipv6Addr::from(self.array::<16>()?))),
            t => Err(DecodeError::BadTag("address family", t)),
        }
    }
}

/// The fields stored before the slice table, readable without decoding the rest: what
/// filters look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The event's dataset.
    pub dataset: Dataset,
    /// The event's action.
    pub action: Option<Action>,
    /// Receive time, Unix nanoseconds.
    pub received_ns: u64,
}

/// Reads the dataset, action and receive time of a record.
pub fn summary(record: &[u8]) -> Result<Summary, DecodeError> {
    let mut r = Reader {
        buf: record,
        pos: 0,
    };
    let version = r.u8()?;
    if version != FORMAT_VERSION {
        return Err(DecodeError::UnknownVersion(version));
    }
    let dataset = Dataset::from_code(r.u8()?).ok_or(DecodeError::BadTag("dataset", 0))?;
    let action = match r.u8()? {
        0 => None,
        a => Some(Action::from_code(a).ok_or(DecodeError::BadTag("action", a))?),
    };
    let _flags = r.array::<2>()?;
    let received_ns = u64::from_le_bytes(r.array::<8>()?);
    Ok(Summary {
        dataset,
        action,
        received_ns,
    })
}

/// Decodes a record into an event borrowing from it.
pub fn decode(record: &[u8]) -> Result<Event<'_>, DecodeError> {
    let sum = summary(record)?;
    let mut r = Reader {
        buf: record,
        pos: 13,
    };
    let flags = u16::from_le_bytes(
        record
            .get(3..5)
            .ok_or(DecodeError::Truncated)?
            .try_into()
            .map_err(|_| DecodeError::Truncated)?,
    );
    let has = |f: u16| flags & f != 0;
    let pri = if has(flag::PRI) { Some(r.u8()?) } else { None };
    let version = if has(flag::VERSION) {
        Some(r.u8()?)
    } else {
        None
    };
    let timestamp = if has(flag::TIMESTAMP) {
        let received_secs = (sum.received_ns / 1_000_000_000) as i64;
        Some(Timestamp {
            secs: received_secs.wrapping_add(unzigzag(r.varint()?)),
            nanos: u32::try_from(r.varint()?).map_err(|_| DecodeError::BadVarint)?,
        })
    } else {
        None
    };
    let mut source = Endpoint::default();
    let mut destination = Endpoint::default();
    if has(flag::SRC_IP) {
        source.ip = Some(r.ip()?);
    }
    if has(flag::SRC_PORT) {
        source.port = Some(u16::from_le_bytes(r.array()?));
    }
    if has(flag::DST_IP) {
        destination.ip = Some(r.ip()?);
    }
    if has(flag::DST_PORT) {
        destination.port = Some(u16::from_le_bytes(r.array()?));
    }
    let transport_code = if has(flag::TRANSPORT) {
        Some(r.u8()?)
    } else {
        None
    };
    let priority = if has(flag::PRIORITY) {
        Some(r.u8()?)
    } else {
        None
    };
    let sequence = if has(flag::SEQUENCE) {
        Some(u32::from_le_bytes(r.array()?))
    } else {
        None
    };
    let repeat = if has(flag::REPEAT) {
        Some(u32::from_le_bytes(r.array()?))
    } else {
        None
    };
    let mask = u32::from_le_bytes(r.array()?);
    let mut spans = [None::<(u64, u64)>; SLICES];
    for (bit, span) in spans.iter_mut().enumerate() {
        if mask & (1 << bit) != 0 {
            *span = Some((r.varint()?, r.varint()?));
        }
    }
    let raw = record.get(r.pos..).ok_or(DecodeError::Truncated)?;
    let slice = |k: usize| -> Result<Option<&[u8]>, DecodeError> {
        match spans.get(k).copied().flatten() {
            None => Ok(None),
            Some((off, len)) => {
                let off = usize::try_from(off).map_err(|_| DecodeError::BadSlice)?;
                let len = usize::try_from(len).map_err(|_| DecodeError::BadSlice)?;
                raw.get(off..off.saturating_add(len))
                    .map(Some)
                    .ok_or(DecodeError::BadSlice)
            }
        }
    };
    let transport = match transport_code {
        None => None,
        Some(TRANSPORT_OTHER) => slice(14)?.map(Transport::Other),
        Some(c) => Some(
            *TRANSPORTS
                .get(usize::from(c))
                .ok_or(DecodeError::BadTag("transport", c))?,
        ),
    };
    let mut header = Header::bare(slice(5)?.unwrap_or_default());
    header.pri = pri;
    header.version = version;
    header.timestamp = timestamp;
    header.hostname = slice(0)?;
    header.appname = slice(1)?;
    header.procid = slice(2)?;
    header.msgid = slice(3)?;
    header.structured_data = slice(4)?;
    header.sequence = sequence;
    header.repeat = repeat;
    source.domain = slice(6)?;
    destination.domain = slice(7)?;
    let details = Details {
        action: sum.action,
        source,
        destination,
        transport,
        rule: Rule {
            id: slice(8)?,
            name: slice(9)?,
            category: slice(10)?,
        },
        priority,
        user: slice(11)?,
        service: slice(12)?,
        code: slice(13)?,
    };
    Ok(Event {
        original: raw,
        header,
        dataset: sum.dataset,
        details,
        received: Some(Timestamp {
            secs: (sum.received_ns / 1_000_000_000) as i64,
            nanos: (sum.received_ns % 1_000_000_000) as u32,
        }),
        truncated: has(flag::TRUNCATED),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use picket_parsers::{ParseContext, parse_line};

    const LINES: [&[u8]; 6] = [
        b"<38>Nov  8 15:26:31 linux in.telnetd[812]: refused connect from 198.51.100.7",
        b"<86>1 2026-11-23T10:00:00+01:00 gw sshd 411 ID9 [a@1 x=\"y\"] Failed password for root from 2001:db8::7 port 50022 ssh2",
        b"snort[1]: [1:2:3] ET X [Classification: Y] [Priority: 1]: {PROTO:99} 198.51.100.7 -> 192.0.2.1",
        b"<189>123: *Mar  1 00:01:02.345 UTC: %SEC-6-IPACCESSLOGP: list 101 denied tcp 198.51.100.7(3527) -> 192.0.2.10(23), 1 packet",
        b"Nov  8 15:26:31 gw sshd[5]: message repeated 2 times: [ Failed password for root from 198.51.100.7 port 5 ssh2]",
        b"garbage \xff\xfe",
    ];

    #[test]
    fn round_trips_every_field() {
        let ctx = ParseContext::new(1_795_392_000);
        for line in LINES {
            let mut ev = parse_line(line, &ctx);
            ev.received = Some(Timestamp {
                secs: 1_795_392_001,
                nanos: 5,
            });
            let mut rec = Vec::new();
            encode(&mut rec, &ev, 1_795_392_001_000_000_005);
            let back = decode(&rec).unwrap();
            assert_eq!(back, ev, "{}", String::from_utf8_lossy(line));
            assert!(
                rec.len() <= line.len() + 56,
                "record overhead {} for {}",
                rec.len() - line.len(),
                line.len()
            );
        }
    }

    #[test]
    fn corrupt_records_are_errors_not_panics() {
        let ctx = ParseContext::new(1_795_392_000);
        let ev = parse_line(LINES[1], &ctx);
        let mut rec = Vec::new();
        encode(&mut rec, &ev, 1);
        for cut in 0..rec.len() {
            let _ = decode(&rec[..cut]);
        }
        for i in 0..rec.len() {
            for b in [0u8, 0x7f, 0xff] {
                let mut bad = rec.clone();
                bad[i] = b;
                let _ = decode(&bad);
            }
        }
        assert!(matches!(
            decode(&[9, 0, 0]),
            Err(DecodeError::UnknownVersion(9))
        ));
    }
}
