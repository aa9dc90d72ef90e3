//! picket-dns: the two halves of an RFC 1035 exchange that picket's resolver needs, and no
//! more: a query for the A or AAAA records of one name, and the addresses in the answer.
//! No I/O (the receiver sends and receives the datagrams), no allocation beyond the query
//! and the list of addresses, and no input that panics: answers come from the network, so
//! every read is checked and compression pointers are followed a bounded number of times.
//!
//! ```
//! use picket_dns::{query, answer, RecordType};
//! let q = query(0x1234, b"host.example.net", RecordType::A).unwrap();
//! assert_eq!(&q[..2], &[0x12, 0x34]);
//! // A reply is checked against the query's id and question.
//! assert!(answer(&q, 0x1234, b"host.example.net", RecordType::A).is_err());
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Which addresses to ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordType {
    /// IPv4 (type 1).
    A,
    /// IPv6 (type 28).
    Aaaa,
}

impl RecordType {
    fn code(self) -> u16 {
        match self {
            RecordType::A => 1,
            RecordType::Aaaa => 28,
        }
    }
}

/// Why a name cannot be asked for, or an answer cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DnsError {
    /// The name is empty, longer than 253 bytes, or has an empty or over-long label.
    BadName,
    /// The datagram ends before its fields do, or a name in it is malformed.
    Truncated,
    /// The reply is not for this query (id, flags or question differ).
    NotOurs,
    /// The server answered with an error code (3: the name does not exist).
    Rcode(u8),
    /// The server cut the reply (TC): ask again over TCP, which this resolver does not.
    Cut,
}

impl std::fmt::Display for DnsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DnsError::BadName => f.write_str("not a DNS name"),
            DnsError::Truncated => f.write_str("malformed DNS reply"),
            DnsError::NotOurs => f.write_str("a DNS reply to another query"),
            DnsError::Rcode(3) => f.write_str("no such name (NXDOMAIN)"),
            DnsError::Rcode(c) => write!(f, "DNS server error (rcode {c})"),
            DnsError::Cut => f.write_str("DNS reply truncated (TC)"),
        }
    }
}

impl std::error::Error for DnsError {}

/// Appends `name` as DNS labels (a trailing dot is allowed).
fn put_name(out: &mut Vec<u8>, name: &[u8]) -> Result<(), DnsError> {
    let name = name.strip_suffix(b".").unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return Err(DnsError::BadName);
    }
    for label in name.split(|b| *b == b'.') {
        let len = u8::try_from(label.len()).map_err(|_| DnsError::BadName)?;
        if len == 0 || len > 63 {
            return Err(DnsError::BadName);
        }
        out.push(len);
        out.extend_from_slice(label);
    }
    out.push(0);
    Ok(())
}

/// A query datagram for the `kind` records of `name`, recursion desired.
pub fn query(id: u16, name: &[u8], kind: RecordType) -> Result<Vec<u8>, DnsError> {
    let mut out = Vec::with_capacity(18 + name.len());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0x01, 0x00]); // RD
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // one question
    put_name(&mut out, name)?;
    out.extend_from_slice(&kind.code().to_be_bytes());
    out.extend_from_slice(&[0, 1]); // class IN
    Ok(out)
}

/// A checked reader over a datagram.
struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DnsError> {
        let end = self.at.checked_add(n).ok_or(DnsError::Truncated)?;
        let s = self.buf.get(self.at..end).ok_or(DnsError::Truncated)?;
        self.at = end;
        Ok(s)
    }
    fn u16(&mut self) -> Result<u16, DnsError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([
            *b.first().ok_or(DnsError::Truncated)?,
            *b.get(1).ok_or(DnsError::Truncated)?,
        ]))
    }
    fn u32(&mut self) -> Result<u32, DnsError> {
        Ok(u32::from(self.u16()?) << 16 | u32::from(self.u16()?))
    }

    /// Reads a (possibly compressed) name at the cursor, lower-cased, into `out`.
    fn name(&mut self, out: &mut Vec<u8>) -> Result<(), DnsError> {
        out.clear();
        let mut at = self.at;
        let mut jumped = false;
        // A name has at most 127 labels; more pointers than that is a loop.
        for _ in 0..128 {
            let len = *self.buf.get(at).ok_or(DnsError::Truncated)?;
            match len {
                0 => {
                    if !jumped {
                        self.at = at + 1;
                    }
                    return Ok(());
                }
                l if l & 0xC0 == 0xC0 => {
                    let lo = *self.buf.get(at + 1).ok_or(DnsError::Truncated)?;
                    if !jumped {
                        self.at = at + 2;
                    }
                    jumped = true;
                    at = usize::from(l & 0x3F) << 8 | usize::from(lo);
                }
                l if l & 0xC0 == 0 => {
                    let label = self
                        .buf
                        .get(at + 1..at + 1 + usize::from(l))
                        .ok_or(DnsError::Truncated)?;
                    if !out.is_empty() {
                        out.push(b'.');
                    }
                    out.extend(label.iter().map(u8::to_ascii_lowercase));
                    if out.len() > 255 {
                        return Err(DnsError::Truncated);
                    }
                    at += 1 + usize::from(l);
                }
                _ => return Err(DnsError::Truncated),
            }
        }
        Err(DnsError::Truncated)
    }
}

/// The addresses in `reply` for the query (`id`, `name`, `kind`), with their TTLs in
/// seconds. An answer with no such record (NODATA) is an empty list; CNAMEs are followed
/// in the answer section as the server gave them.
pub fn answer(
    reply: &[u8],
    id: u16,
    name: &[u8],
    kind: RecordType,
) -> Result<Vec<(IpAddr, u32)>, DnsError> {
    let mut r = Reader { buf: reply, at: 0 };
    if r.u16()? != id {
        return Err(DnsError::NotOurs);
    }
    let flags = r.u16()?;
    if flags & 0x8000 == 0 {
        return Err(DnsError::NotOurs); // a query, not a response
    }
    if flags & 0x0200 != 0 {
        return Err(DnsError::Cut);
    }
    let rcode = (flags & 0x000F) as u8;
    let (qd, an) = (r.u16()?, r.u16()?);
    r.take(4)?; // NS and AR counts: not read
    if qd != 1 {
        return Err(DnsError::NotOurs);
    }
    let mut owner = Vec::new();
    r.name(&mut owner)?;
    let want: Vec<u8> = name
        .strip_suffix(b".")
        .unwrap_or(name)
        .iter()
        .map(u8::to_ascii_lowercase)
        .collect();
    if owner != want || r.u16()? != kind.code() || r.u16()? != 1 {
        return Err(DnsError::NotOurs);
    }
    if rcode != 0 {
        return Err(DnsError::Rcode(rcode));
    }
    // The names the answer may be about: the question's, then each CNAME target.
    let mut aliases = vec![want];
    let mut out = Vec::new();
    for _ in 0..an {
        r.name(&mut owner)?;
        let (rtype, class, ttl, len) = (r.u16()?, r.u16()?, r.u32()?, r.u16()?);
        let start = r.at;
        let data = r.take(usize::from(len))?;
        if class != 1 || !aliases.contains(&owner) {
            continue;
        }
        match (rtype, data.len()) {
            (1, 4) if kind == RecordType::A => {
                let a: [u8; 4] = data.try_into().map_err(|_| DnsError::Truncated)?;
                out.push((IpAddr::V4(Ipv4Addr::from(a)), ttl));
            }
            (28, 16) if kind == RecordType::Aaaa => {
                let a: [u8; 16] = data.try_into().map_err(|_| DnsError::Truncated)?;
                out.push((IpAddr::V6(Ipv6Addr::from(a)), ttl));
            }
            (5, _) => {
                let mut target = Vec::new();
                let mut at = Reader {
                    buf: reply,
                    at: start,
                };
                at.name(&mut target)?;
                if aliases.len() < 16 {
                    aliases.push(target);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply as a server writes it: the question copied, answers with a compression
    /// pointer to the question's name (offset 12).
    fn reply(q: &[u8], rcode: u8, answers: &[(u16, &[u8])]) -> Vec<u8> {
        let mut out = q.to_vec();
        out[2] = 0x81;
        out[3] = 0x80 | rcode;
        out[7] = answers.len() as u8;
        for (t, data) in answers {
            out.extend_from_slice(&[0xC0, 12]);
            out.extend_from_slice(&t.to_be_bytes());
            out.extend_from_slice(&[0, 1, 0, 0, 0x0E, 0x10]);
            out.extend_from_slice(&(data.len() as u16).to_be_bytes());
            out.extend_from_slice(data);
        }
        out
    }

    #[test]
    fn a_query_and_its_answer() {
        let q = query(7, b"7dyn94.ztm.casema.net.", RecordType::A).unwrap();
        assert_eq!(q[12], 6);
        assert_eq!(&q[13..19], b"7dyn94");
        let r = reply(&q, 0, &[(1, &[192, 0, 2, 7]), (1, &[192, 0, 2, 8])]);
        assert_eq!(
            answer(&r, 7, b"7DYN94.ztm.casema.net", RecordType::A).unwrap(),
            vec![
                ("192.0.2.7".parse().unwrap(), 3600),
                ("192.0.2.8".parse().unwrap(), 3600)
            ]
        );
        assert_eq!(
            answer(&r, 8, b"7dyn94.ztm.casema.net", RecordType::A),
            Err(DnsError::NotOurs)
        );
        let nx = reply(&q, 3, &[]);
        assert_eq!(
            answer(&nx, 7, b"7dyn94.ztm.casema.net", RecordType::A),
            Err(DnsError::Rcode(3))
        );
        let q6 = query(9, b"h.example", RecordType::Aaaa).unwrap();
        let mut a6 = [0u8; 16];
        a6[0] = 0x20;
        a6[1] = 0x01;
        a6[2] = 0x0d;
        a6[3] = 0xb8;
        a6[15] = 1;
        let r6 = reply(&q6, 0, &[(28, &a6)]);
        assert_eq!(
            answer(&r6, 9, b"h.example", RecordType::Aaaa).unwrap(),
            vec![("2001:db8::1".parse().unwrap(), 3600)]
        );
    }

    #[test]
    fn bad_names_are_refused() {
        for n in [&b""[..], b".", b"a..b", &[b'a'; 64], &[b'a'; 260]] {
            assert_eq!(query(1, n, RecordType::A), Err(DnsError::BadName), "{n:?}");
        }
    }

    #[test]
    fn a_pointer_loop_and_every_truncation_are_errors_not_panics() {
        let q = query(7, b"x.example", RecordType::A).unwrap();
        let r = reply(&q, 0, &[(1, &[192, 0, 2, 7])]);
        for cut in 0..r.len() {
            assert!(answer(&r[..cut], 7, b"x.example", RecordType::A).is_err());
        }
        let mut looped = r.clone();
        let at = q.len();
        looped[at] = 0xC0;
        looped[at + 1] = at as u8;
        assert!(answer(&looped, 7, b"x.example", RecordType::A).is_err());
    }
}
