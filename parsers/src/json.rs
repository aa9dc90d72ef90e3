//! The JSON form of an [`Event`] (Elastic Common Schema names), written straight into a byte
//! buffer. This is for the edges (CLI output, query socket), never for the write path.
//!
//! Strings are escaped so that no control character reaches a terminal: C0, DEL and C1 controls
//! become `\u00XX`. Bytes that are not UTF-8 are shown as the four characters `\xNN`, which
//! reads well but is the same JSON as the literal text `\xNN`; so when the raw line is not
//! UTF-8 the event also carries its exact bytes as `event.original_base64` (standard alphabet,
//! padded), and a line that is valid UTF-8 never has that field.
//!
//! Written for speed (`picket parse` spends most of its time here): the buffer is reserved once
//! per event for the worst case, strings are scanned eight bytes at a time for anything to
//! escape, keys are pre-escaped constants with their comma, which objects are empty is known
//! before they are opened (nothing is written and taken back), and numbers, addresses and
//! stamps are formatted by hand into stack buffers, never through `fmt`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::event::{Action, Endpoint, Event};
use crate::time::{Timestamp, civil_from_days};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Bytes that go into a JSON string as they are: printable ASCII but `"` and `\`.
// Evaluated at compile time: an index out of range fails the build, never a line.
#[allow(clippy::indexing_slicing)]
const PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x20;
    while b < 0x7f {
        t[b] = b != b'"' as usize && b != b'\\' as usize;
        b += 1;
    }
    t
};

/// `n` in every byte of a word.
const fn splat(n: u8) -> u64 {
    u64::from_ne_bytes([n; 8])
}
const ONES: u64 = splat(0x01);
const HIGHS: u64 = splat(0x80);

/// A mask whose lowest set bit lies in the first byte of `x` (little-endian) that is not
/// [`PLAIN`]; zero when all eight are. Bits above the first one may be false alarms
/// (borrows and carries run upwards only), so only the lowest one is read.
#[inline(always)]
fn special(x: u64) -> u64 {
    let zero = |v: u64| v.wrapping_sub(ONES) & !v;
    // below 0x20 | equal to '"' | equal to '\\' | 0x7f and above (0x7f + 1 sets bit 7)
    (x.wrapping_sub(splat(0x20)) & !x
        | zero(x ^ splat(b'"'))
        | zero(x ^ splat(b'\\'))
        | x
        | x.wrapping_add(ONES))
        & HIGHS
}

/// How many bytes at the start of `s` are [`PLAIN`] (the word scan of `write_str`, alone).
#[cfg(test)]
fn plain_prefix(s: &[u8]) -> usize {
    let mut i = 0;
    let mut words = s.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        let m = special(u64::from_le_bytes(b));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    for &b in words.remainder() {
        if PLAIN.get(usize::from(b)) != Some(&true) {
            break;
        }
        i += 1;
    }
    i
}

/// Writes `s` as a JSON string (with quotes), escaping as described in the module docs.
pub fn write_str(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut rest = s;
    loop {
        let at = copy_plain(out, rest);
        let Some(tail) = rest.get(at..).filter(|t| !t.is_empty()) else {
            break;
        };
        let used = escape_at(out, tail, 0);
        rest = tail.get(used..).unwrap_or_default();
    }
    out.push(b'"');
}

/// Copies the plain bytes at the start of `s` to `out`; how many there were. Whole words are
/// copied as they are scanned (an 8-byte store, then the bytes after the first special one
/// cut off again), and the last few bytes of a string of eight or more as the word that ends
/// it, overlapping bytes already out (rewritten with themselves).
#[inline(always)]
fn copy_plain(out: &mut Vec<u8>, s: &[u8]) -> usize {
    let n = s.len();
    let mut i = 0;
    while let Some(w) = s.get(i..i + 8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        let m = special(u64::from_le_bytes(b));
        out.extend_from_slice(&b);
        if m != 0 {
            let k = (m.trailing_zeros() / 8) as usize;
            out.truncate(out.len() - 8 + k);
            return i + k;
        }
        i += 8;
    }
    let r = n - i;
    if r == 0 {
        return n;
    }
    if n < 8 {
        for (j, &c) in s.iter().enumerate() {
            if PLAIN.get(usize::from(c)) != Some(&true) {
                return j;
            }
            out.push(c);
        }
        return n;
    }
    // The word of the last eight bytes: its first 8 - r were copied just now, and are plain,
    // so no false alarm (those run upwards only) can come from them.
    let mut b = [0u8; 8];
    b.copy_from_slice(s.get(n - 8..).unwrap_or(&[b'a'; 8]));
    let m = special(u64::from_le_bytes(b)) >> (8 * (8 - r));
    out.truncate(out.len() - (8 - r));
    out.extend_from_slice(&b);
    if m != 0 {
        let k = (m.trailing_zeros() / 8) as usize;
        out.truncate(out.len() - r + k);
        return i + k;
    }
    n
}

/// Escapes the character starting at `s[i]` (not plain ASCII); returns how many bytes it used.
fn escape_at(out: &mut Vec<u8>, s: &[u8], i: usize) -> usize {
    let b = s.get(i).copied().unwrap_or(0);
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0..=0x7f => push_u_escape(out, b),
        _ => {
            let width = match b {
                0xC2..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF4 => 4,
                _ => 0,
            };
            let ch = s
                .get(i..i + width)
                .filter(|_| width > 0)
                .and_then(|c| std::str::from_utf8(c).ok());
            match ch {
                // C1 controls (U+0080..U+009F) act on terminals too.
                Some(_) if b == 0xC2 && s.get(i + 1).is_some_and(|n| *n <= 0x9F) => {
                    push_u_escape(out, s.get(i + 1).copied().unwrap_or(0));
                }
                Some(c) => out.extend_from_slice(c.as_bytes()),
                None => {
                    out.extend_from_slice(b"\\\\x");
                    out.extend_from_slice(&hex_pair(b));
                    return 1;
                }
            }
            return width;
        }
    }
    1
}

/// Appends `bytes` in standard base64 (RFC 4648, padded).
fn push_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |n: u32| ALPHABET.get((n & 63) as usize).copied().unwrap_or(b'=');
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { b'=' });
        out.push(if chunk.len() > 2 { sym(n) } else { b'=' });
    }
}

/// The two lower-case hex digits of `b`.
fn hex_pair(b: u8) -> [u8; 2] {
    let digit = |n: u8| HEX.get(usize::from(n & 15)).copied().unwrap_or(b'0');
    [digit(b >> 4), digit(b)]
}

fn push_u_escape(out: &mut Vec<u8>, c: u8) {
    out.extend_from_slice(b"\\u00");
    out.extend_from_slice(&hex_pair(c));
}

/// Appends a decimal number.
pub fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    loop {
        pos -= 1;
        if let Some(slot) = buf.get_mut(pos) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || pos == 0 {
            break;
        }
    }
    out.extend_from_slice(buf.get(pos..).unwrap_or_default());
}

/// Appends a number below 65536 (ports, pids, codes), the common case without the loop.
#[inline]
fn push_small(out: &mut Vec<u8>, n: u32) {
    if n < 10 {
        out.push(b'0' + n as u8);
    } else if n < 100 {
        out.extend_from_slice(&[b'0' + (n / 10) as u8, b'0' + (n % 10) as u8]);
    } else {
        push_u64(out, u64::from(n));
    }
}

/// A few bytes built on the stack and appended to the output in one go.
struct Stack<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Stack<N> {
    fn new() -> Self {
        Stack {
            buf: [0; N],
            len: 0,
        }
    }

    #[inline(always)]
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn octet(&mut self, o: u8) {
        if o >= 100 {
            self.push(b'0' + o / 100);
        }
        if o >= 10 {
            self.push(b'0' + o / 10 % 10);
        }
        self.push(b'0' + o % 10);
    }

    /// `seg` in lower-case hex without leading zeros, as `Display` for `Ipv6Addr` writes it.
    fn hex16(&mut self, seg: u16) {
        let mut started = false;
        for shift in [12u16, 8, 4, 0] {
            let d = (seg >> shift) & 15;
            if d != 0 || started || shift == 0 {
                started = true;
                self.push(HEX.get(usize::from(d)).copied().unwrap_or(b'0'));
            }
        }
    }

    fn groups(&mut self, chunk: &[u16]) {
        for (k, &s) in chunk.iter().enumerate() {
            if k > 0 {
                self.push(b':');
            }
            self.hex16(s);
        }
    }

    fn v4(&mut self, v4: Ipv4Addr) {
        for (k, o) in v4.octets().into_iter().enumerate() {
            if k > 0 {
                self.push(b'.');
            }
            self.octet(o);
        }
    }

    fn done(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.buf.get(..self.len).unwrap_or_default());
    }
}

fn push_v4(out: &mut Vec<u8>, v4: Ipv4Addr) {
    let mut b = Stack::<15>::new();
    b.v4(v4);
    b.done(out);
}

/// Appends `v6` exactly as its `Display` would (RFC 5952: the longest run of two or more zero
/// groups, the first of equal ones, becomes `::`; IPv4-mapped addresses end in dotted quad).
fn push_v6(out: &mut Vec<u8>, v6: Ipv6Addr) {
    let mut b = Stack::<46>::new();
    if let Some(v4) = v6.to_ipv4_mapped() {
        for &c in b"::ffff:" {
            b.push(c);
        }
        b.v4(v4);
        b.done(out);
        return;
    }
    let segs = v6.segments();
    let (mut best_start, mut best_len, mut cur_start, mut cur_len) = (0, 0, 0, 0);
    for (i, &s) in segs.iter().enumerate() {
        if s == 0 {
            if cur_len == 0 {
                cur_start = i;
            }
            cur_len += 1;
            if cur_len > best_len {
                (best_start, best_len) = (cur_start, cur_len);
            }
        } else {
            cur_len = 0;
        }
    }
    if best_len > 1 {
        b.groups(segs.get(..best_start).unwrap_or_default());
        b.push(b':');
        b.push(b':');
        b.groups(segs.get(best_start + best_len..).unwrap_or_default());
    } else {
        b.groups(&segs);
    }
    b.done(out);
}

fn push_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => push_v4(out, v4),
        IpAddr::V6(v6) => push_v6(out, v6),
    }
}

/// Writes `value` as `width` decimal digits into `buf` (zero-padded, high digits dropped), as
/// `Timestamp::write_rfc3339` does.
#[inline(always)]
fn digits(buf: &mut [u8], mut value: u32) {
    let mut pairs = buf.rchunks_exact_mut(2);
    for pair in &mut pairs {
        let two = (value % 100) as usize;
        value /= 100;
        let d = PAIRS.get(2 * two..2 * two + 2).unwrap_or(b"00");
        pair.copy_from_slice(d);
    }
    if let Some(first) = pairs.into_remainder().first_mut() {
        *first = b'0' + (value % 10) as u8;
    }
}

/// "00" to "99", two bytes each.
#[allow(clippy::indexing_slicing)]
const PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Appends `"` + the RFC 3339 form of `t` + `"`, the bytes `Timestamp::write_rfc3339` gives,
/// built in one stack buffer.
fn push_time(out: &mut Vec<u8>, t: Timestamp) {
    const DAY: i64 = 86_400;
    let days = t.secs.div_euclid(DAY);
    let sod = t.secs.rem_euclid(DAY) as u32;
    let (year, month, day) = civil_from_days(days);
    let year = year.clamp(0, 9999) as u32;
    let mut b = *b"\"0000-00-00T00:00:00.000000000Z\"";
    let (date, rest) = b.split_at_mut(11);
    digits(date.get_mut(1..5).unwrap_or_default(), year);
    digits(date.get_mut(6..8).unwrap_or_default(), month);
    digits(date.get_mut(9..11).unwrap_or_default(), day);
    digits(rest.get_mut(1..3).unwrap_or_default(), sod / 3600);
    digits(rest.get_mut(4..6).unwrap_or_default(), sod / 60 % 60);
    digits(rest.get_mut(7..9).unwrap_or_default(), sod % 60);
    let nanos = t.nanos % 1_000_000_000;
    let frac = if nanos == 0 {
        0
    } else if nanos.is_multiple_of(1_000_000) {
        digits(rest.get_mut(10..13).unwrap_or_default(), nanos / 1_000_000);
        4
    } else if nanos.is_multiple_of(1_000) {
        digits(rest.get_mut(10..16).unwrap_or_default(), nanos / 1_000);
        7
    } else {
        digits(rest.get_mut(10..19).unwrap_or_default(), nanos);
        10
    };
    // `"` + 19 characters of date and time, then the fraction, then `Z"`.
    out.extend_from_slice(b.get(..20 + frac).unwrap_or_default());
    out.extend_from_slice(b"Z\"");
}

/// The fields of one JSON object, written in order; `first` is whether no field is out yet.
/// Keys are constants that start with their comma (`,"name":`), cut off for the first field.
struct Fields<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl Fields<'_> {
    #[inline(always)]
    fn key(&mut self, k: &'static [u8]) {
        let k = if self.first {
            k.get(1..).unwrap_or_default()
        } else {
            k
        };
        self.first = false;
        self.out.extend_from_slice(k);
    }

    #[inline]
    fn str(&mut self, k: &'static [u8], v: Option<&[u8]>) {
        if let Some(v) = v {
            self.key(k);
            write_str(self.out, v);
        }
    }

    /// A string known to need no escaping (names picket itself gives).
    #[inline]
    fn name(&mut self, k: &'static [u8], v: Option<&str>) {
        if let Some(v) = v {
            self.key(k);
            write_str(self.out, v.as_bytes());
        }
    }

    #[inline]
    fn num(&mut self, k: &'static [u8], v: Option<u32>) {
        if let Some(v) = v {
            self.key(k);
            push_small(self.out, v);
        }
    }

    #[inline]
    fn ip(&mut self, k: &'static [u8], v: Option<IpAddr>) {
        if let Some(v) = v {
            self.key(k);
            self.out.push(b'"');
            push_ip(self.out, v);
            self.out.push(b'"');
        }
    }

    #[inline]
    fn time(&mut self, k: &'static [u8], v: Option<Timestamp>) {
        if let Some(v) = v {
            self.key(k);
            push_time(self.out, v);
        }
    }

    /// A nested object, written only when `present` (it has at least one field).
    #[inline]
    fn object(&mut self, k: &'static [u8], present: bool, f: impl FnOnce(&mut Fields<'_>)) {
        if !present {
            return;
        }
        self.key(k);
        self.out.push(b'{');
        let mut inner = Fields {
            out: self.out,
            first: true,
        };
        f(&mut inner);
        self.out.push(b'}');
    }
}

fn endpoint_present(ep: &Endpoint<'_>) -> bool {
    ep.ip.is_some() || ep.port.is_some() || ep.domain.is_some()
}

fn len(v: Option<&[u8]>) -> usize {
    v.map_or(0, <[u8]>::len)
}

/// Appends the event as one JSON object (no trailing newline).
pub fn write_event(out: &mut Vec<u8>, ev: &Event<'_>) {
    let h = &ev.header;
    let d = &ev.details;
    // Room for the worst case (every string byte escaped as `\u00XX`) plus the keys, numbers
    // and stamps, once: the writes below then never grow the buffer.
    let strings = ev.original.len()
        + h.message.len()
        + len(h.hostname)
        + 2 * len(h.appname)
        + len(h.procid)
        + len(h.msgid)
        + len(h.structured_data)
        + len(d.code)
        + len(d.source.domain)
        + len(d.destination.domain)
        + len(d.transport.map(|t| t.name()))
        + len(d.rule.id)
        + len(d.rule.name)
        + len(d.rule.category)
        + len(d.user)
        + len(d.service);
    let invalid = std::str::from_utf8(ev.original).is_err();
    let b64 = if invalid {
        ev.original.len() / 3 * 4 + 4
    } else {
        0
    };
    out.reserve(6 * strings + b64 + 1024);
    out.push(b'{');
    let mut o = Fields { out, first: true };
    o.time(b",\"@timestamp\":", h.timestamp.or(ev.received));
    o.object(b",\"event\":", true, |e| {
        e.time(b",\"received\":", ev.received);
        e.name(b",\"dataset\":", Some(ev.dataset.as_str()));
        e.name(b",\"action\":", d.action.map(|a| a.as_str()));
        let kind = if matches!(d.action, Some(Action::IdsAlert | Action::PortScan)) {
            "alert"
        } else {
            "event"
        };
        e.name(b",\"kind\":", Some(kind));
        e.name(b",\"outcome\":", d.action.and_then(Action::outcome));
        e.num(
            b",\"severity\":",
            d.priority.map(u32::from).or(h.severity().map(u32::from)),
        );
        e.str(b",\"code\":", d.code);
        if let Some(n) = h.repeat {
            e.key(b",\"repeat_count\":");
            push_u64(e.out, u64::from(n));
        }
        e.str(b",\"original\":", Some(ev.original));
        if invalid {
            // The escaped `original` cannot tell a raw 0xff from the text `\xff`.
            e.key(b",\"original_base64\":");
            e.out.push(b'"');
            push_base64(e.out, ev.original);
            e.out.push(b'"');
        }
    });
    o.str(b",\"message\":", Some(h.message));
    o.object(b",\"host\":", h.hostname.is_some(), |x| {
        x.str(b",\"hostname\":", h.hostname)
    });
    let pid = h.pid();
    o.object(
        b",\"process\":",
        h.appname.is_some() || pid.is_some(),
        |x| {
            x.str(b",\"name\":", h.appname);
            if let Some(pid) = pid {
                x.key(b",\"pid\":");
                push_u64(x.out, u64::from(pid));
            }
        },
    );
    for (key, ep) in [
        (b",\"source\":".as_slice(), &d.source),
        (b",\"destination\":".as_slice(), &d.destination),
    ] {
        o.object(key, endpoint_present(ep), |x| {
            x.ip(b",\"ip\":", ep.ip);
            x.num(b",\"port\":", ep.port.map(u32::from));
            x.str(b",\"domain\":", ep.domain);
        });
    }
    o.object(b",\"network\":", d.transport.is_some(), |x| {
        x.str(b",\"transport\":", d.transport.map(|t| t.name()))
    });
    let r = &d.rule;
    o.object(
        b",\"rule\":",
        r.id.is_some() || r.name.is_some() || r.category.is_some(),
        |x| {
            x.str(b",\"id\":", r.id);
            x.str(b",\"name\":", r.name);
            x.str(b",\"category\":", r.category);
        },
    );
    if ev.truncated {
        o.key(b",\"tags\":");
        o.out.extend_from_slice(b"[\"truncated\"]");
    }
    o.object(b",\"user\":", d.user.is_some(), |x| {
        x.str(b",\"name\":", d.user)
    });
    o.object(b",\"service\":", d.service.is_some(), |x| {
        x.str(b",\"name\":", d.service)
    });
    let (facility, severity) = (h.facility(), h.severity());
    let syslog = facility.is_some()
        || severity.is_some()
        || h.version.is_some()
        || h.appname.is_some()
        || h.procid.is_some()
        || h.msgid.is_some()
        || h.structured_data.is_some()
        || h.sequence.is_some();
    o.object(b",\"log\":", syslog, |x| {
        x.object(b",\"syslog\":", true, |s| {
            s.object(b",\"facility\":", facility.is_some(), |f| {
                f.num(b",\"code\":", facility.map(u32::from))
            });
            s.object(b",\"severity\":", severity.is_some(), |f| {
                f.num(b",\"code\":", severity.map(u32::from))
            });
            s.num(b",\"version\":", h.version.map(u32::from));
            s.str(b",\"appname\":", h.appname);
            s.str(b",\"procid\":", h.procid);
            s.str(b",\"msgid\":", h.msgid);
            s.str(b",\"structured_data\":", h.structured_data);
            if let Some(n) = h.sequence {
                s.key(b",\"sequence\":");
                push_u64(s.out, u64::from(n));
            }
        });
    });
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseContext;
    use crate::line::parse_line;

    fn json(line: &[u8]) -> String {
        let ev = parse_line(line, &ParseContext::new(1_005_300_000));
        let mut out = Vec::new();
        write_event(&mut out, &ev);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn design_example() {
        let j = json(
            b"<38>Nov  8 15:26:31 linux ftpd[3689]: refused connect from 7dyn94.ztm.casema.net",
        );
        assert_eq!(
            j,
            concat!(
                r#"{"@timestamp":"2001-11-08T15:26:31Z","event":{"dataset":"tcpd","action":"connection-refused","kind":"event","outcome":"failure","severity":6,"#,
                r#""original":"<38>Nov  8 15:26:31 linux ftpd[3689]: refused connect from 7dyn94.ztm.casema.net"},"#,
                r#""message":"refused connect from 7dyn94.ztm.casema.net","host":{"hostname":"linux"},"process":{"name":"ftpd","pid":3689},"#,
                r#""source":{"domain":"7dyn94.ztm.casema.net"},"log":{"syslog":{"facility":{"code":4},"severity":{"code":6},"appname":"ftpd","procid":"3689"}}}"#
            )
        );
    }

    /// Decodes padded standard base64, for checking `push_base64`.
    fn unbase64(s: &str) -> Vec<u8> {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut bits = 0u32;
        let mut n = 0;
        let mut out = Vec::new();
        for c in s.bytes().take_while(|c| *c != b'=') {
            bits = (bits << 6) | A.iter().position(|a| *a == c).unwrap() as u32;
            n += 6;
            if n >= 8 {
                n -= 8;
                out.push((bits >> n) as u8);
            }
        }
        out
    }

    #[test]
    fn a_raw_byte_and_the_text_backslash_x_differ_and_the_bytes_come_back() {
        // The text `\xe9 \xff` (backslashes and letters), valid UTF-8.
        let raw = br"<13>Nov  8 15:26:31 h app: caf\xe9 \xff".to_vec();
        let text = json(&raw);
        assert!(!text.contains("original_base64"), "{text}");
        let mut bin = b"<13>Nov  8 15:26:31 h app: caf\xe9 ".to_vec();
        bin.push(0xff);
        let j = json(&bin);
        let b64 = j.split("\"original_base64\":\"").nth(1).unwrap();
        let b64 = &b64[..b64.find('"').unwrap()];
        assert_eq!(unbase64(b64), bin);
        for len in 0..7usize {
            let bytes: Vec<u8> = (0..len).map(|i| 0xf0 + i as u8).collect();
            let mut out = Vec::new();
            push_base64(&mut out, &bytes);
            assert_eq!(out.len(), len.div_ceil(3) * 4);
            assert_eq!(unbase64(std::str::from_utf8(&out).unwrap()), bytes);
        }
    }

    /// The straightforward form of `write_str`, to check the fast one against.
    fn reference(s: &[u8]) -> String {
        let mut out = String::from("\"");
        for chunk in s.utf8_chunks() {
            for c in chunk.valid().chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32)) => {
                        out.push_str(&format!("\\u{:04x}", c as u32))
                    }
                    c => out.push(c),
                }
            }
            for b in chunk.invalid() {
                out.push_str(&format!("\\\\x{b:02x}"));
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn fast_escaping_matches_the_reference() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let alphabet: &[u8] =
            b"a\"\\\n\x1b\x7f\xc2\x9b\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\xa0\x80\xff\x80 ";
        for _ in 0..20_000 {
            let mut s = Vec::new();
            for _ in 0..(seed % 12) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            let mut out = Vec::new();
            write_str(&mut out, &s);
            assert_eq!(String::from_utf8(out).unwrap(), reference(&s), "{s:x?}");
        }
    }

    #[test]
    fn escapes_controls_and_keeps_bad_bytes() {
        let mut out = Vec::new();
        write_str(
            &mut out,
            b"a\"b\\c\n\x1b[31m\x7f\xc2\x9b\xe9z\xc3\xa9\xe2\x82\x80\x82",
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""a\"b\\c\n\u001b[31m\u007f\u009b\\xe9zé₀\\x82""#
        );
    }

    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn addresses_are_written_as_display_writes_them() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let check = |ip: IpAddr| {
            let mut out = Vec::new();
            push_ip(&mut out, ip);
            assert_eq!(String::from_utf8(out).unwrap(), ip.to_string());
        };
        for s in [
            "::",
            "::1",
            "1::",
            "::ffff:1.2.3.4",
            "::1.2.3.4",
            "1:0:0:1:0:0:0:1",
            "1:0:0:0:1:0:0:1",
            "0:1:0:1:0:1:0:1",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "2001:db8::8:800:200c:417a",
            "0.0.0.0",
            "255.255.255.255",
            "10.0.100.9",
        ] {
            check(s.parse().unwrap());
        }
        for _ in 0..50_000 {
            let r = xorshift(&mut seed);
            // Segments drawn so that zero runs of every length and place occur.
            let mut segs = [0u16; 8];
            for (i, g) in segs.iter_mut().enumerate() {
                if (r >> (i * 3)) & 3 != 0 {
                    *g = (xorshift(&mut seed) >> ((r >> 40) % 48)) as u16;
                }
            }
            if r & (1 << 60) != 0 {
                segs[..5].fill(0);
                segs[5] = 0xffff;
            }
            check(IpAddr::V6(Ipv6Addr::from(segs)));
            check(IpAddr::V4(Ipv4Addr::from(
                (r >> 16) as u32 >> ((r & 7) * 4),
            )));
        }
    }

    #[test]
    fn stamps_are_written_as_write_rfc3339_writes_them() {
        let mut seed = 0x0123_4567_89ab_cdefu64;
        for i in 0..100_000u64 {
            let r = xorshift(&mut seed);
            let secs = match i % 3 {
                0 => (r % 4_000_000_000) as i64 - 500_000_000,
                1 => (r as i64) >> (r % 40),
                _ => 1_795_392_000 + (r % 100_000) as i64,
            };
            let nanos = match (r >> 50) % 5 {
                0 => 0,
                1 => (r % 1000) as u32 * 1_000_000,
                2 => (r % 1_000_000) as u32 * 1000,
                3 => (r % 1_000_000_000) as u32,
                _ => (r >> 20) as u32,
            };
            let t = Timestamp { secs, nanos };
            let mut want = b"\"".to_vec();
            t.write_rfc3339(&mut want);
            want.push(b'"');
            let mut got = Vec::new();
            push_time(&mut got, t);
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want).unwrap()
            );
        }
    }

    #[test]
    fn the_word_scan_stops_where_the_byte_scan_does() {
        let mut seed = 0xdead_beef_u64;
        for _ in 0..200_000 {
            let r = xorshift(&mut seed);
            let len = (r % 40) as usize;
            let r = r >> 6;
            let mut s: Vec<u8> = (0..len)
                .map(|_| b'a' + (xorshift(&mut seed) % 26) as u8)
                .collect();
            if len > 0 && r & 1 == 0 {
                let at = (r >> 8) as usize % len;
                s[at] = (r >> 32) as u8;
            }
            let want = s
                .iter()
                .position(|b| !PLAIN[usize::from(*b)])
                .unwrap_or(s.len());
            assert_eq!(plain_prefix(&s), want, "{s:x?}");
            let mut out = b"xy".to_vec();
            assert_eq!(copy_plain(&mut out, &s), want, "{s:x?}");
            assert_eq!(&out[2..], &s[..want], "{s:x?}");
        }
    }
}
