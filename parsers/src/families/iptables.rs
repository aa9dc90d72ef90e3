//! Linux netfilter `LOG` target lines: `[UPTIME] PREFIX IN=… OUT=… SRC=… DST=… PROTO=… SPT=… DPT=…`.
//!
//! The LOG target states no verdict: the action comes from the rule's prefix (DROP, REJECT,
//! DENY, DENIED, BLOCK → acl-denied; ACCEPT, ALLOW → acl-permitted). An ICMP error quotes the packet
//! it answers in brackets (`[SRC=… DST=…]`); those fields are not the flow's and are not read.
//!
//! This family is also a shape fallback: it runs on every line no other family claims, so
//! rejecting a line without `IN=` must cost little, and a netfilter line (twenty-odd
//! `KEY=VALUE` tokens) is read in one word-at-a-time pass rather than token by token.
//!
//! nom (issue 9, item 7): this stays a hand reader, measured. The packet fields as a nom
//! composition (`fold_many0` over `preceded(take_while(' '), take_till1(' '))` tokens, each
//! split at its `=`, the first value of each of the five keys kept, the fields cut at the first
//! `[`, the values then read by `lex::to_ip`/`to_port`) gave byte-identical output and cost
//! 5,479 instructions a line against the hand reader's 3,286 (callgrind,
//! `parse_loop full iptables 50000`; the mixed corpus 2,187 against 2,051): token by token it
//! visits every byte and every `=` of twenty-odd tokens, where the reader below looks at eight
//! bytes a step and reads only the five values it needs. Addresses are read with `lex`'s readers.

use std::net::IpAddr;

use super::Family;
use crate::event::{Action, Dataset, Details, Endpoint, Rule, Transport};
use crate::header::Header;
use crate::lex::{find_anchored, hex_ipv6, ipv4, skip_spaces, to_ip, to_port, trim_end};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Iptables,
    tags: &[b"kernel"],
    owns_tag: false,
    any_program: true,
    parse,
};

/// Strips a kernel uptime stamp (`[ 8123.456789]`) and the spaces after it.
fn strip_uptime(m: &[u8]) -> &[u8] {
    let Some(inner) = m.strip_prefix(b"[") else {
        return m;
    };
    // The stamp is digits, dots and spaces up to the first `]`; `]` is none of those, so the
    // first byte that is not one must be that `]`.
    let n = inner
        .iter()
        .position(|b| !matches!(b, b'0'..=b'9' | b'.' | b' '))
        .unwrap_or(inner.len());
    match inner.get(n..).and_then(|r| r.strip_prefix(b"]")) {
        Some(rest) => skip_spaces(rest),
        None => m,
    }
}

/// Where the packet fields start: the first `IN=` at the message start or after a space,
/// `]`, `:` or `)` (prefixes end in any of these, or in nothing).
fn packet_start(m: &[u8]) -> Option<usize> {
    let is_start =
        |pos: usize| pos == 0 || matches!(m.get(pos - 1), Some(b' ' | b']' | b':' | b')'));
    // Most lines this family sees have no `=` at all, and on a netfilter line the first `=`
    // is most often `IN=`'s: one byte search settles both.
    let first = crate::lex::find_byte(b'=', m)?;
    if let Some(pos) = first.checked_sub(2)
        && m.get(pos..first) == Some(b"IN")
        && is_start(pos)
    {
        return Some(pos);
    }
    // Otherwise every `IN=` lies past that first `=`.
    let mut at = first + 1;
    loop {
        // Scanned for the `I`, which lines with `=` but no packet (postfix, sudo, dovecot) rarely
        // have, where `find` would stop at each of their `=`; memmem's searcher (built once)
        // cost such a line about 170 instructions, most of them its set-up.
        let pos = at + find_anchored(m.get(at..)?, b"IN=", 0)?;
        if is_start(pos) {
            return Some(pos);
        }
        at = pos + 3;
    }
}

/// Whether `m` opens with one of the packet keys that follow `IN=` (`TTL=50 ID=0 DF PROTO=…`):
/// the rest of a netfilter line whose start was cut off.
fn is_fragment(m: &[u8]) -> bool {
    const KEYS: [&[u8]; 9] = [
        b"OUT=", b"MAC=", b"SRC=", b"DST=", b"LEN=", b"TOS=", b"PREC=", b"TTL=", b"ID=",
    ];
    matches!(
        m.first(),
        Some(b'O' | b'M' | b'S' | b'D' | b'L' | b'T' | b'P' | b'I')
    ) && KEYS.iter().any(|k| m.starts_with(k))
}

/// A fragment's fields read token by token (rare lines: no fast path), the first value of
/// each key, up to a quoted packet's `[`; `None` without a `PROTO=`.
#[cold]
fn fragment_details(m: &[u8]) -> Option<Details<'_>> {
    let fields = m.get(..crate::lex::find_byte(b'[', m).unwrap_or(m.len()))?;
    let (mut src, mut dst, mut proto, mut spt, mut dpt) = (None, None, None, None, None);
    for tok in fields.split(|b| *b == b' ') {
        let Some(eq) = crate::lex::find_byte(b'=', tok) else {
            continue;
        };
        let (key, value) = (tok.get(..eq)?, tok.get(eq + 1..)?);
        let slot = match key {
            b"SRC" => &mut src,
            b"DST" => &mut dst,
            b"PROTO" => &mut proto,
            b"SPT" => &mut spt,
            b"DPT" => &mut dpt,
            _ => continue,
        };
        slot.get_or_insert(value);
    }
    let mut d = Details {
        transport: Some(Transport::from_token(proto?)?),
        ..Details::default()
    };
    d.source.ip = src.and_then(to_ip);
    d.destination.ip = dst.and_then(to_ip);
    d.source.port = spt.and_then(to_port);
    d.destination.port = dpt.and_then(to_port);
    Some(d)
}

/// Whether `word` starts `s`, ignoring the case of `s`. `word` is lower-case letters, and
/// for those `b | 0x20` is the lower-case form exactly when `b` is the letter in either case.
fn starts_with_lower(s: &[u8], word: &[u8]) -> bool {
    s.len() >= word.len() && s.iter().zip(word).all(|(b, w)| b | 0x20 == *w)
}

/// The verdict a log prefix names, if any: a deny word anywhere wins over an allow word.
fn verdict(prefix: &[u8]) -> Option<Action> {
    let mut allow = false;
    let mut rest = prefix;
    // One pass; only positions whose letter starts one of the words are compared.
    while let Some((&b, tail)) = rest.split_first() {
        let denied = match b | 0x20 {
            // `Denied_…` (and `Dropped`) name the verdict in the past tense.
            b'd' => {
                starts_with_lower(rest, b"drop")
                    || starts_with_lower(rest, b"deny")
                    || starts_with_lower(rest, b"denied")
            }
            b'r' => starts_with_lower(rest, b"reject"),
            b'b' => starts_with_lower(rest, b"block"),
            b'a' => {
                allow |= starts_with_lower(rest, b"accept") || starts_with_lower(rest, b"allow");
                false
            }
            _ => false,
        };
        if denied {
            return Some(Action::AclDenied);
        }
        rest = tail;
    }
    if allow {
        Some(Action::AclPermitted)
    } else {
        edgeos_verdict(prefix)
    }
}

/// EdgeOS/VyOS name their rules `[RULESET-RULE-X]`, X being D (drop), R (reject) or
/// A (accept).
fn edgeos_verdict(prefix: &[u8]) -> Option<Action> {
    let p = trim_end(prefix);
    let p = p.strip_suffix(b":").unwrap_or(p);
    let inner = p.strip_suffix(b"]")?;
    let inner = inner.get(crate::lex::rfind_byte(b'[', inner)? + 1..)?;
    if inner.ends_with(b"-D") || inner.ends_with(b"-R") {
        Some(Action::AclDenied)
    } else if inner.ends_with(b"-A") {
        Some(Action::AclPermitted)
    } else {
        None
    }
}

// --- Packet fields -------------------------------------------------------------------------
//
// Read as a token-by-token split would (tokens split at single spaces, a token's key is what
// precedes its first `=`, the first token of each key counts, nothing after the first `[`),
// but without visiting every token: an eight-byte SWAR step finds the `=` signs, only the
// five keys the flow needs are told apart, and a value is read where it stands.

const ONES: u64 = 0x0101_0101_0101_0101;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// The high bit of every byte of `word` that is `=`, and no other bit. Adding 0x7f to a byte's
/// low seven bits cannot carry into the next byte, so unlike the shorter `(x - ONES) & !x`
/// trick no byte is flagged by a borrow from its neighbour.
#[inline(always)]
fn equals_signs(word: u64) -> u64 {
    let x = word ^ (ONES * u64::from(b'='));
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// The keys the flow is read from.
#[derive(Clone, Copy)]
enum Key {
    Src,
    Dst,
    Proto,
    Spt,
    Dpt,
}

/// The key of the token that starts at `fields[t]`, if one of the five, and where its value
/// starts.
#[inline(always)]
fn key_at(fields: &[u8], t: usize) -> Option<(Key, usize)> {
    let key = match fields.get(t..t + 4)? {
        b"SRC=" => Key::Src,
        b"DST=" => Key::Dst,
        b"SPT=" => Key::Spt,
        b"DPT=" => Key::Dpt,
        b"PROT" if fields.get(t + 4..t + 6) == Some(b"O=") => return Some((Key::Proto, t + 6)),
        _ => return None,
    };
    Some((key, t + 4))
}

/// The first token at or after `fields[from]` (`from` starting a token or inside a value)
/// whose key is one of the five, and where its value starts.
fn next_key(fields: &[u8], from: usize) -> Option<(Key, usize)> {
    let mut chunks = fields.get(from..)?.chunks_exact(8);
    let mut base = from;
    for chunk in &mut chunks {
        let word = <[u8; 8]>::try_from(chunk).map_or(0, u64::from_le_bytes);
        if let Some(found) = key_in_word(fields, base, word) {
            return Some(found);
        }
        base += 8;
    }
    // The tail, padded with NULs.
    let mut last = [0u8; 8];
    for (d, s) in last.iter_mut().zip(chunks.remainder()) {
        *d = *s;
    }
    key_in_word(fields, base, u64::from_le_bytes(last))
}

// The four bytes before a key's `=`, as compared in one go.
const SPACE_SRC: u32 = u32::from_le_bytes(*b" SRC");
const SPACE_DST: u32 = u32::from_le_bytes(*b" DST");
const SPACE_SPT: u32 = u32::from_le_bytes(*b" SPT");
const SPACE_DPT: u32 = u32::from_le_bytes(*b" DPT");
const ROTO: u32 = u32::from_le_bytes(*b"ROTO");

/// The first `=` in the word of `fields` at `base` that ends one of the five keys.
#[inline(always)]
fn key_in_word(fields: &[u8], base: usize, word: u64) -> Option<(Key, usize)> {
    let mut eqs = equals_signs(word);
    while eqs != 0 {
        let at = base + (eqs.trailing_zeros() / 8) as usize;
        eqs &= eqs - 1;
        // A key starts a token, so a space precedes it, and this `=` is then the token's
        // first. `at` is at least 2 (`fields` starts with `IN=`): `wrapping_sub` only keeps
        // `get` from seeing a reversed range.
        let Some(before) = fields.get(at.wrapping_sub(4)..at) else {
            continue;
        };
        let key = match <[u8; 4]>::try_from(before).map_or(0, u32::from_le_bytes) {
            SPACE_SRC => Key::Src,
            SPACE_DST => Key::Dst,
            SPACE_SPT => Key::Spt,
            SPACE_DPT => Key::Dpt,
            ROTO if fields.get(at.wrapping_sub(6)..at - 4) == Some(b" P") => Key::Proto,
            _ => continue,
        };
        return Some((key, at + 1));
    }
    None
}

/// Whether a value read up to `s[i]` ends there: at a space, a `[` or the end.
fn ends_value(s: &[u8], i: usize) -> bool {
    matches!(s.get(i), None | Some(b' ' | b'['))
}

/// Where the value that starts at `s[i]` ends.
fn value_end(s: &[u8], i: usize) -> usize {
    let mut j = i;
    while !ends_value(s, j) {
        j += 1;
    }
    j
}

/// The decimal digit at `s[i]`, if there is one.
#[inline(always)]
fn digit(s: &[u8], i: usize) -> Option<u16> {
    let d = s.get(i)?.wrapping_sub(b'0');
    (d < 10).then_some(u16::from(d))
}

/// Reads the address value at `s[i..]` as `lex::to_ip` reads the whole value; returns it and
/// where the value ends. The kernel's own spellings (a dotted quad, hex groups) are read before
/// the value's end is known, with `lex`'s readers; anything else by `to_ip`.
fn address(s: &[u8], i: usize) -> (Option<IpAddr>, usize) {
    let v = s.get(i..).unwrap_or_default();
    if let Ok((rest @ ([] | [b' ' | b'[', ..]), a)) = ipv4(v) {
        return (Some(IpAddr::V4(a)), s.len() - rest.len());
    }
    if let Some((a, n)) = hex_ipv6(v)
        && ends_value(s, i + n)
    {
        return (Some(IpAddr::V6(a).to_canonical()), i + n);
    }
    let end = value_end(s, i);
    (s.get(i..end).and_then(to_ip), end)
}

/// Reads the port value at `s[i..]` as `lex::to_port` reads the whole value (all digits, at
/// most ten of them, at most 65535); returns it and where the value ends.
fn port(s: &[u8], i: usize) -> (Option<u16>, usize) {
    let mut n = 0u64;
    let mut j = i;
    while let Some(d) = digit(s, j) {
        n = n * 10 + u64::from(d);
        j += 1;
        // Stopping at eleven digits also keeps `n` from overflowing.
        if j - i > 10 {
            return (None, value_end(s, j));
        }
    }
    if j == i || !ends_value(s, j) {
        return (None, value_end(s, j));
    }
    (u16::try_from(n).ok(), j)
}

/// A key's value and where it starts (to drop it if it lies past a `[`).
type Read<T> = Option<(usize, T)>;

/// What the packet fields say of the flow. `None`: no token had the key; an inner `None`:
/// its value did not read.
#[derive(Default)]
struct Flow<'a> {
    src: Read<Option<IpAddr>>,
    dst: Read<Option<IpAddr>>,
    proto: Read<&'a [u8]>,
    spt: Read<Option<u16>>,
    dpt: Read<Option<u16>>,
}

impl<'a> Flow<'a> {
    /// Reads the five keys from `fields` (from `IN=` on).
    fn read(fields: &'a [u8]) -> Flow<'a> {
        let mut f = Flow::default();
        let mut seen = 0;
        // Where to look for the next key; and the key of the token there, when known.
        let mut from = 0;
        let mut known = None;
        // How far keys were read: only a `[` before that matters.
        let mut reach = fields.len();
        while let Some((key, v)) = known.take().or_else(|| next_key(fields, from)) {
            let end = match key {
                Key::Src if f.src.is_none() => {
                    let (a, end) = address(fields, v);
                    f.src = Some((v, a));
                    end
                }
                Key::Dst if f.dst.is_none() => {
                    let (a, end) = address(fields, v);
                    f.dst = Some((v, a));
                    end
                }
                Key::Spt if f.spt.is_none() => {
                    let (p, end) = port(fields, v);
                    f.spt = Some((v, p));
                    end
                }
                Key::Dpt if f.dpt.is_none() => {
                    let (p, end) = port(fields, v);
                    f.dpt = Some((v, p));
                    end
                }
                Key::Proto if f.proto.is_none() => {
                    let end = value_end(fields, v);
                    f.proto = Some((v, fields.get(v..end).unwrap_or_default()));
                    end
                }
                // A later token of a key already read.
                _ => {
                    from = v;
                    continue;
                }
            };
            seen += 1;
            if seen == 5 {
                reach = v;
                break;
            }
            from = end;
            // The kernel writes SRC= DST= and PROTO= SPT= DPT= side by side: when a key's
            // token follows, it is read without a scan.
            if fields.get(end) == Some(&b' ') {
                from = end + 1;
                known = key_at(fields, from);
            }
        }
        // Only the flow's own fields: an ICMP error quotes the packet it answers after a `[`.
        // Values stop at a `[`; the keys past one are dropped.
        if let Some(q) = crate::lex::find_byte(b'[', fields.get(..reach).unwrap_or_default()) {
            f.drop_past(q);
        }
        f
    }

    /// Forgets the keys whose value starts past `q`.
    fn drop_past(&mut self, q: usize) {
        fn after<T>(r: &mut Read<T>, q: usize) {
            if r.as_ref().is_some_and(|(v, _)| *v > q) {
                *r = None;
            }
        }
        after(&mut self.src, q);
        after(&mut self.dst, q);
        after(&mut self.proto, q);
        after(&mut self.spt, q);
        after(&mut self.dpt, q);
    }
}

/// The protocol value; the kernel's own spellings first, the rest through `from_token`.
fn transport(v: &[u8]) -> Option<Transport<'_>> {
    match v {
        b"TCP" => Some(Transport::Tcp),
        b"UDP" => Some(Transport::Udp),
        b"ICMP" => Some(Transport::Icmp),
        _ => Transport::from_token(v),
    }
}

/// Parses a netfilter LOG message.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = h.message;
    let m = m.strip_prefix(b"kernel: ").unwrap_or(m);
    let m = strip_uptime(m);
    // `IN=` starts the packet fields; the prefix is what comes before it. A line that starts
    // mid-packet (a continuation, a cut paste) has no prefix and is read from its start.
    let (start, fragment) = match packet_start(m) {
        Some(s) => (s, false),
        None if is_fragment(m) => (0, true),
        None => return None,
    };
    let prefix = trim_end(m.get(..start)?);
    if fragment {
        return fragment_details(m);
    }
    let flow = Flow::read(m.get(start..)?);
    // A redacted address (`SRC=x.x.x.x`) is no address, but the rest of the packet stands.
    let (source, destination) = (flow.src?.1, flow.dst?.1);
    Some(Details {
        action: verdict(prefix),
        source: Endpoint {
            ip: source,
            port: flow.spt.and_then(|(_, p)| p),
            domain: None,
        },
        destination: Endpoint {
            ip: destination,
            port: flow.dpt.and_then(|(_, p)| p),
            domain: None,
        },
        transport: flow.proto.and_then(|(_, t)| transport(t)),
        rule: Rule {
            name: (!prefix.is_empty()).then_some(prefix),
            ..Rule::default()
        },
        ..Details::default()
    })
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use proptest::prelude::*;

    use crate::header::Header;
    use crate::lex::{to_ip, to_port};
    use crate::testing::{Expect, check, run};

    /// The straightforward reading this module replaced (token by token, through `lex`):
    /// the fast reading must agree with it on every message.
    mod reference {
        use crate::event::{Action, Details, Transport};
        use crate::header::Header;
        use crate::lex::{find, skip_spaces, to_ip, to_port, trim_end};

        fn strip_uptime(m: &[u8]) -> &[u8] {
            let Some(inner) = m.strip_prefix(b"[") else {
                return m;
            };
            match crate::lex::find_byte(b']', inner) {
                Some(end)
                    if inner
                        .get(..end)
                        .unwrap_or_default()
                        .iter()
                        .all(|b| b.is_ascii_digit() || *b == b'.' || *b == b' ') =>
                {
                    skip_spaces(inner.get(end + 1..).unwrap_or_default())
                }
                _ => m,
            }
        }

        fn contains_word(haystack: &[u8], word: &[u8]) -> bool {
            haystack
                .windows(word.len())
                .any(|w| w.eq_ignore_ascii_case(word))
        }

        fn verdict(prefix: &[u8]) -> Option<Action> {
            const DENY: [&[u8]; 5] = [b"drop", b"reject", b"deny", b"denied", b"block"];
            const ALLOW: [&[u8]; 2] = [b"accept", b"allow"];
            if DENY.iter().any(|w| contains_word(prefix, w)) {
                Some(Action::AclDenied)
            } else if ALLOW.iter().any(|w| contains_word(prefix, w)) {
                Some(Action::AclPermitted)
            } else {
                super::super::edgeos_verdict(prefix)
            }
        }

        pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
            let m = h.message;
            let m = m.strip_prefix(b"kernel: ").unwrap_or(m);
            let m = strip_uptime(m);
            let keys: [&[u8]; 9] = [
                b"OUT=", b"MAC=", b"SRC=", b"DST=", b"LEN=", b"TOS=", b"PREC=", b"TTL=", b"ID=",
            ];
            let in_start = || {
                let mut at = 0;
                loop {
                    let n = find(m.get(at..)?, b"IN=")?;
                    let pos = at + n;
                    if pos == 0
                        || m.get(pos - 1)
                            .is_some_and(|b| matches!(b, b' ' | b']' | b':' | b')'))
                    {
                        return Some(pos);
                    }
                    at = pos + 3;
                }
            };
            let (start, fragment) = match in_start() {
                Some(s) => (s, false),
                None if keys.iter().any(|k| m.starts_with(k)) => (0, true),
                None => return None,
            };
            let prefix = trim_end(m.get(..start)?);
            let fields = m.get(start..)?;
            let fields = match crate::lex::find_byte(b'[', fields) {
                Some(q) => fields.get(..q)?,
                None => fields,
            };
            let (mut src, mut dst, mut proto, mut spt, mut dpt) = (None, None, None, None, None);
            for tok in fields.split(|b| *b == b' ') {
                let Some(eq) = crate::lex::find_byte(b'=', tok) else {
                    continue;
                };
                let (key, value) = (tok.get(..eq)?, tok.get(eq + 1..)?);
                let slot = match key {
                    b"SRC" => &mut src,
                    b"DST" => &mut dst,
                    b"PROTO" => &mut proto,
                    b"SPT" => &mut spt,
                    b"DPT" => &mut dpt,
                    _ => continue,
                };
                slot.get_or_insert(value);
            }
            let mut d = Details::default();
            if fragment {
                d.transport = Some(Transport::from_token(proto?)?);
                d.source.ip = src.and_then(to_ip);
                d.destination.ip = dst.and_then(to_ip);
            } else {
                d.source.ip = to_ip(src?);
                d.destination.ip = to_ip(dst?);
            }
            d.transport = proto.and_then(Transport::from_token);
            d.source.port = spt.and_then(to_port);
            d.destination.port = dpt.and_then(to_port);
            if !prefix.is_empty() {
                d.rule.name = Some(prefix);
            }
            d.action = verdict(prefix);
            Some(d)
        }
    }

    /// Dotted quads, most valid, some with too many digits, too large octets or too few or
    /// too many parts.
    fn v4_text() -> impl Strategy<Value = String> {
        prop::collection::vec((0u16..300, 0usize..5), 2..6).prop_map(|octets| {
            octets
                .iter()
                .map(|(n, w)| format!("{n:0w$}"))
                .collect::<Vec<_>>()
                .join(".")
        })
    }

    /// IPv6 spellings: hex groups of one to five digits in either case, at most (mostly) one
    /// `::`, now and then a stray colon or an embedded dotted quad.
    fn v6_text() -> impl Strategy<Value = String> {
        (
            prop::collection::vec((any::<u16>(), 1usize..6, any::<bool>()), 0..10),
            prop::option::of(0usize..10),
            prop::sample::select(vec!["", "", "", ":", "::", ":1.2.3.4", "1.2.3.4", "%eth0"]),
            prop::sample::select(vec!["", "", "", ":", "::"]),
        )
            .prop_map(|(groups, gap, tail, head)| {
                let mut t = String::from(head);
                for (k, (g, w, upper)) in groups.iter().enumerate() {
                    if gap == Some(k) {
                        t.push_str("::");
                    } else if k > 0 {
                        t.push(':');
                    }
                    let hex = format!("{g:0w$x}");
                    let hex = hex.get(hex.len().saturating_sub(*w)..).unwrap_or_default();
                    t.push_str(&if *upper {
                        hex.to_uppercase()
                    } else {
                        hex.to_string()
                    });
                }
                if gap.is_some_and(|g| g >= groups.len()) {
                    t.push_str("::");
                }
                t.push_str(tail);
                t
            })
    }

    /// Port values: zero-padded numbers around the limits, now and then with junk.
    fn port_text() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec![
                0u64,
                1,
                80,
                65_535,
                65_536,
                4_294_967_295,
                4_294_967_296,
            ]),
            0u64..100_000,
            0usize..14,
            prop::sample::select(vec!["", "", "", "x", "-", "0x"]),
        )
            .prop_map(|(edge, n, w, junk)| {
                let n = if n % 3 == 0 { edge } else { n };
                format!("{junk}{n:0w$}")
            })
    }

    /// A value of any of the kinds above, or a fixed awkward one.
    fn value_text() -> impl Strategy<Value = String> {
        prop_oneof![
            v4_text(),
            v6_text(),
            port_text(),
            prop::sample::select(vec![
                "", "TCP", "tcp", "UDP", "ICMP", "6", "17", "ICMPv6", "x", "=x", "[", "a[b", "]",
            ])
            .prop_map(String::from),
        ]
    }

    /// Pieces of netfilter-ish messages, the awkward ones included.
    fn piece() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "IN=", "OUT=", "MAC=", "SRC=", "DST=", "PROTO=", "SPT=", "DPT=", "LEN=", "PROT=",
            "PROTOX=", "XPROTO=", "ROTO=", "XSRC=", "SRC", "SRC==", "=", "xIN=", "LOGIN=",
        ]);
        prop_oneof![
            3 => (key, value_text()).prop_map(|(k, v)| format!("{k}{v}")),
            1 => value_text(),
            1 => prop::sample::select(vec![
                "kernel: ", "[ 8123.456789] ", "[1.0]\t", "[1.0]", "[x] ", "[UFW BLOCK] ",
                "DROP ", "Accept:", "dropped: ", "[wan-lan-D]", "[R-1-A]:", "(src wan)", "[",
                "]", "\t", "DF", "\u{ff}", "\0",
            ])
            .prop_map(String::from),
        ]
    }

    /// A netfilter message in the kernel's layout, its values drawn from the kinds above, a
    /// token or two dropped, doubled or put in, and the spacing varied.
    fn netfilter_text() -> impl Strategy<Value = String> {
        let addr = || prop_oneof![4 => v4_text(), 2 => v6_text(), 1 => value_text()];
        let proto = prop::sample::select(vec![
            "TCP",
            "UDP",
            "ICMP",
            "tcp",
            "Udp",
            "6",
            "17",
            "47",
            "ICMPv6",
            "ipv6-icmp",
            "",
            "x",
        ]);
        let prefix = prop::sample::select(vec![
            "",
            "kernel: ",
            "[ 8123.456789] ",
            "[1.0] DROP ",
            "[1.0]\tACCEPT ",
            "[UFW BLOCK] ",
            "IPTABLES-REJECT: ",
            "Shorewall:net2fw:DROP:",
            "[wan-lan-default-D]",
            "[X-1-A] ",
            "DROP(src wan)",
            "[x] audit ",
            "LOG ",
        ]);
        (
            prefix,
            (addr(), addr(), proto, port_text(), port_text()),
            prop::collection::vec(0u8..10, 12),
            prop::collection::vec((0usize..14, piece()), 0..3),
            prop::sample::select(vec![" ", " ", " ", "  "]),
        )
            .prop_map(|(prefix, (src, dst, proto, spt, dpt), keep, extra, sep)| {
                let mut tokens: Vec<String> = [
                    "IN=eth0".to_string(),
                    "OUT=".into(),
                    "MAC=52:54:00:12:34:56:08:00".into(),
                    format!("SRC={src}"),
                    format!("DST={dst}"),
                    "LEN=60 TOS=0x00 TTL=63 ID=0".into(),
                    "DF".into(),
                    format!("PROTO={proto}"),
                    format!("SPT={spt}"),
                    format!("DPT={dpt}"),
                    "WINDOW=5840 RES=0x00 SYN URGP=0".into(),
                    "[SRC=192.0.2.1 DST=192.0.2.2 PROTO=UDP SPT=53 DPT=9 ]".into(),
                ]
                .into_iter()
                .zip(keep)
                // Mostly kept once; now and then dropped or doubled.
                .flat_map(|(t, k)| match k {
                    0 => vec![],
                    1 => vec![t.clone(), t],
                    _ => vec![t],
                })
                .collect();
                for (at, p) in extra {
                    tokens.insert(at.min(tokens.len()), p);
                }
                format!("{prefix}{}", tokens.join(sep))
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5_000, ..ProptestConfig::default() })]

        #[test]
        fn agrees_with_the_token_by_token_reading(m in prop_oneof![
            3 => netfilter_text(),
            1 => prop::collection::vec((piece(), prop::sample::select(vec!["", " ", " ", "  "])), 0..24)
                .prop_map(|parts| parts.iter().map(|(p, sep)| format!("{p}{sep}")).collect::<String>()),
        ]) {
            let h = Header::bare(m.as_bytes());
            prop_assert_eq!(super::parse(&h), reference::parse(&h), "{:?}", m);
        }

        #[test]
        fn addresses_read_as_lex_reads_them(
            v in prop_oneof![v4_text(), v6_text(), "[0-9a-fA-F:.x]{0,45}"],
            end in prop::sample::select(vec!["", " ", "[", " SRC=1"]),
        ) {
            let s = format!("{v}{end}");
            let n = v.find(['[', ' ']).unwrap_or(v.len());
            prop_assert_eq!(super::address(s.as_bytes(), 0), (to_ip(&v.as_bytes()[..n]), n));
        }

        #[test]
        fn ipv6_spellings_read_as_lex_reads_them(a in any::<Ipv6Addr>(), upper in any::<bool>(), full in any::<bool>()) {
            let text = if full {
                a.segments().iter().map(|g| format!("{g:04x}")).collect::<Vec<_>>().join(":")
            } else {
                a.to_string()
            };
            let text = if upper { text.to_uppercase() } else { text };
            prop_assert_eq!(super::address(text.as_bytes(), 0), (to_ip(text.as_bytes()), text.len()));
        }

        #[test]
        fn ports_read_as_lex_reads_them(v in port_text(), end in prop::sample::select(vec!["", " ", "[", " DPT=1"])) {
            let s = format!("{v}{end}");
            prop_assert_eq!(super::port(s.as_bytes(), 0), (to_port(v.as_bytes()), v.len()));
        }
    }

    fn nf(
        action: Option<&'static str>,
        t: &'static str,
        sport: Option<u16>,
        dport: Option<u16>,
    ) -> Expect {
        Expect {
            dataset: Some("iptables"),
            action,
            src: Some("198.51.100.7"),
            dst: Some("192.0.2.10"),
            sport,
            dport,
            transport: Some(t),
            host: Some("fw"),
            program: Some("kernel"),
            ..Expect::default()
        }
    }

    #[test]
    fn variants() {
        let l = |m: &str| format!("Nov  8 15:26:31 fw kernel: {m}");
        let tcp = "SRC=198.51.100.7 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=0 DF PROTO=TCP SPT=3527 DPT=23 WINDOW=5840 RES=0x00 SYN URGP=0";
        let denied = Some("acl-denied");
        let rows = [
            (
                l(&format!(
                    "[8123.456] DROP IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 {tcp}"
                )),
                nf(denied, "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!(
                    "[ 8123.456789] [UFW BLOCK] IN=eth0 OUT= MAC=00:11 {tcp}"
                )),
                nf(denied, "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("IPTABLES-REJECT: IN=eth0 OUT= {tcp}")),
                nf(denied, "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("Shorewall:net2fw:DROP:IN=eth0 OUT= {tcp}")),
                nf(denied, "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("DENY IN=eth0 OUT= {tcp}")),
                nf(denied, "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("ACCEPT IN=eth0 OUT= {tcp}")),
                nf(Some("acl-permitted"), "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("[UFW ALLOW] IN=eth0 OUT= {tcp}")),
                nf(Some("acl-permitted"), "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("[UFW AUDIT] IN=eth0 OUT= {tcp}")),
                nf(None, "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("IN=eth0 OUT= {tcp}")),
                nf(None, "tcp", Some(3527), Some(23)),
            ),
            (
                l(
                    "DROP IN=eth0 OUT= SRC=198.51.100.7 DST=192.0.2.10 LEN=84 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1",
                ),
                nf(denied, "icmp", None, None),
            ),
            (
                l(
                    "DROP IN=eth0 OUT= SRC=198.51.100.7 DST=192.0.2.10 LEN=96 PROTO=ICMP TYPE=3 CODE=3 [SRC=192.0.2.10 DST=198.51.100.7 LEN=68 PROTO=UDP SPT=53 DPT=40000 LEN=48 ]",
                ),
                nf(denied, "icmp", None, None),
            ),
            (
                l(
                    "dropped: IN=eth0 OUT= SRC=198.51.100.7 DST=192.0.2.10 LEN=40 PROTO=UDP SPT=5353 DPT=161 LEN=20",
                ),
                nf(denied, "udp", Some(5353), Some(161)),
            ),
            (
                l("BLOCK IN=eth0 OUT= SRC=198.51.100.7 DST=192.0.2.10 LEN=40 PROTO=47"),
                nf(denied, "gre", None, None),
            ),
            (
                l(&format!("DROP  IN=eth0  OUT=  {}", tcp.replace(' ', "  "))),
                nf(denied, "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("FINAL_REJECT: IN=ppp0 OUT= MAC= {tcp}")),
                nf(denied, "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("[1.0] INPUT:DROP:IN=eth0 OUT= {tcp}")),
                nf(denied, "tcp", Some(3527), Some(23)),
            ),
        ];
        let table: Vec<(&str, Expect)> = rows.iter().map(|(l, e)| (l.as_str(), *e)).collect();
        run(&table, 15);
        let v6 = "Nov  8 15:26:31 fw kernel: [1.0] DROP IN=eth0 OUT= MAC=aa SRC=2001:0db8:0000:0000:0000:0000:0000:0007 DST=2001:db8::10 LEN=80 TC=0 HOPLIMIT=57 FLOWLBL=0 PROTO=TCP SPT=4000 DPT=22 WINDOW=1 RES=0x00 SYN URGP=0";
        check(
            v6,
            &Expect {
                src: Some("2001:db8::7"),
                dst: Some("2001:db8::10"),
                ..nf(denied, "tcp", Some(4000), Some(22))
            },
        );
        let v6icmp = "Nov  8 15:26:31 fw kernel: DROP IN=eth0 OUT= SRC=2001:db8::7 DST=2001:db8::10 LEN=80 PROTO=ICMPv6 TYPE=128 CODE=0";
        check(
            v6icmp,
            &Expect {
                src: Some("2001:db8::7"),
                dst: Some("2001:db8::10"),
                ..nf(denied, "ipv6-icmp", None, None)
            },
        );
    }

    #[test]
    fn kernel_chatter_is_not_netfilter() {
        let k = Expect {
            host: Some("fw"),
            program: Some("kernel"),
            ..Expect::default()
        };
        check(
            "Nov  8 15:26:31 fw kernel: [ 1.0] e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex",
            &k,
        );
        check(
            "Nov  8 15:26:31 fw kernel: [ 1.0] audit: type=1400 audit(1.2:3): apparmor=\"DENIED\" operation=\"open\"",
            &k,
        );
        check("Nov  8 15:26:31 fw kernel: DROP IN=eth0 OUT= SRC=", &k);
    }

    /// Real lines (Elastic, Wazuh and fail2ban test logs, public write-ups) that earlier versions misread.
    #[test]
    fn real_lines() {
        let table = [
            (
                "<161>Oct 10 07:25:12 Hostname kernel: [wan-lan-default-D]IN=eth0 OUT= MAC=90:10:20:76:8d:20:90:10:65:29:b6:2a:08:00 SRC=67.43.156.15 DST=10.4.0.5 LEN=52 TOS=0x00 PREC=0x00 TTL=63 ID=0 DF PROTO=TCP SPT=38842 DPT=443 WINDOW=2853 RES=0x00 ACK URGP=0",
                Expect {
                    dataset: Some("iptables"),
                    action: Some("acl-denied"),
                    src: Some("67.43.156.15"),
                    sport: Some(38842),
                    dst: Some("10.4.0.5"),
                    dport: Some(443),
                    transport: Some("tcp"),
                    host: Some("Hostname"),
                    program: Some("kernel"),
                    ..Expect::default()
                },
            ),
            (
                "Jan  5 20:17:01 MainFirewall kernel: [WAN_OUT-2000-A]IN=eth0 OUT=eth2 MAC=90:10:20:76:8d:20:90:10:24:67:f4:89:08:00 SRC=192.168.134.158 DST=192.168.2.25 LEN=265 TOS=0x00 PREC=0x00 TTL=63 ID=51768 DF PROTO=TCP SPT=43189 DPT=443 WINDOW=159 RES=0x00 ACK PSH URGP=0 ",
                Expect {
                    dataset: Some("iptables"),
                    action: Some("acl-permitted"),
                    src: Some("192.168.134.158"),
                    sport: Some(43189),
                    dst: Some("192.168.2.25"),
                    dport: Some(443),
                    transport: Some("tcp"),
                    host: Some("MainFirewall"),
                    program: Some("kernel"),
                    ..Expect::default()
                },
            ),
            (
                "Jan  8 03:37:09 DENY: IN=eth0 OUT= MAC=90:10:28:5f:62:24:90:10:18:5a:89:2a:08:00 SRC=192.168.2.71 DST=192.168.2.83 LEN=88 TOS=0x00 PREC=0x00 TTL=118 ID=21684 PROTO=ICMP TYPE=3 CODE=3 [SRC=192.168.2.83 DST=192.168.173.191 LEN=60 TOS=0x00 PREC=0x00 TTL=54 ID=0 DF PROTO=UDP SPT=21458 DPT=62936 LEN=40 ]",
                Expect {
                    dataset: Some("iptables"),
                    action: Some("acl-denied"),
                    src: Some("192.168.2.71"),
                    dst: Some("192.168.2.83"),
                    transport: Some("icmp"),
                    ..Expect::default()
                },
            ),
            (
                "Nov 18 13:39:49 OpenWRT kernel: [10051.313745] DROP(src wan)IN=eth0 OUT= MAC=c2:56:27:73:33:cf:c4:f0:81:b0:93:24:08:00 SRC=205.205.205.205 DST=192.168.8.100 LEN=44 TOS=0x00 PREC=0x00 TTL=31 ID=8549 PROTO=TCP SPT=40952 DPT=23 WINDOW=64144 RES=0x00 SYN URGP=0 MARK=0xff00",
                Expect {
                    dataset: Some("iptables"),
                    action: Some("acl-denied"),
                    src: Some("205.205.205.205"),
                    sport: Some(40952),
                    dst: Some("192.168.8.100"),
                    dport: Some(23),
                    transport: Some("tcp"),
                    host: Some("OpenWRT"),
                    program: Some("kernel"),
                    ..Expect::default()
                },
            ),
            (
                "Jun 28 04:35:30 Abc-A1 [SOMETHING-1234-A] IN=abc.123 OUT=abc.123 MAC=0a:ea:10:00:f0:06:10:e1:21:31:61:20:01:00:41:00:00:01 SRC=10.251.1.1 DST=10.251.1.1 LEN=32 TOS=00 PREC=0x00 TTL=63 ID=12345 PROTO=UDP SPT=9000 DPT=9000 LEN=12 MARK=0",
                Expect {
                    dataset: Some("iptables"),
                    action: Some("acl-permitted"),
                    src: Some("10.251.1.1"),
                    sport: Some(9000),
                    dst: Some("10.251.1.1"),
                    dport: Some(9000),
                    transport: Some("udp"),
                    host: Some("Abc-A1"),
                    ..Expect::default()
                },
            ),
            (
                // freedomofpress/securedrop issue 845: a prefix naming the verdict as `Denied_…`.
                "Jan 23 16:01:51 mon-staging kernel: [39702.413350] Denied_INVALID IN= OUT=eth0 SRC=10.0.2.15 DST=74.125.20.108 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=55750 DF PROTO=TCP SPT=49706 DPT=587 WINDOW=32160 RES=0x00 ACK URGP=0 ",
                Expect {
                    dataset: Some("iptables"),
                    action: Some("acl-denied"),
                    src: Some("10.0.2.15"),
                    sport: Some(49706),
                    dst: Some("74.125.20.108"),
                    dport: Some(587),
                    transport: Some("tcp"),
                    host: Some("mon-staging"),
                    program: Some("kernel"),
                    ..Expect::default()
                },
            ),
        ];
        run(&table, 6);
    }
}
