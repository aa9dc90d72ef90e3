//! The pieces the header and the family grammars are made of: nom parsers over `&[u8]`
//! ([`Res`]: tokens, blanks, [`past`] a needle), and whole-token decoders (`to_ip`, `to_port`,
//! `to_peer`…) that the grammars apply to tokens with `map_opt`.
//!
//! The primitives are written by hand where that measured faster, as nom's own are: IPv4 and
//! IPv6 (nom's `digit1`/`map_opt` chains cost several times the loops), [`past`] (nom's
//! `take_until` builds a substring searcher per call; `find` scans for the needle's rarest
//! byte), [`lit`] (nom's `tag` compares through a zipped iterator), numbers, [`token`] and
//! [`blanks`] (as fast as nom's `take_till` and `space0`, measured, and one definition with the
//! `split_word`/`skip_spaces` the header uses).
//!
//! All take `&[u8]` and allocate nothing. Addresses come back as `std::net` values; an
//! IPv4-mapped IPv6 address (`::ffff:198.51.100.7`) is folded to its IPv4 form so that one peer
//! has one key whatever the logger printed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use memchr::memmem;
use nom::IResult;

/// Bytes of input; every parser here works on these.
pub type Input<'a> = &'a [u8];

/// What the grammars return: nom's result over bytes, with `()` for an error. A family reads a
/// line or turns it away and nothing asks why, so no error value is built.
pub type Res<'a, O> = IResult<&'a [u8], O, ()>;

/// The failure every hand-written grammar step returns.
#[inline(always)]
pub fn fail<'a, O>() -> Res<'a, O> {
    Err(nom::Err::Error(()))
}

/// The token up to the first space (possibly empty; the space stays in the input). Never fails.
#[inline]
pub fn token(i: &[u8]) -> Res<'_, &[u8]> {
    let (tok, rest) = split_word(i);
    Ok((rest, tok))
}

/// Spaces and tabs, none or many. Never fails.
#[inline]
pub fn blanks(i: &[u8]) -> Res<'_, &[u8]> {
    let rest = skip_spaces(i);
    Ok((rest, i.get(..i.len() - rest.len()).unwrap_or_default()))
}

/// The literal `t`: nom's `tag`, by hand. nom compares byte by byte through a zipped
/// iterator (65 instructions on a TCP wrappers line, measured with callgrind), where
/// `strip_prefix` is one comparison.
///
/// The length is a type parameter: the literals of one length share a closure, which compares
/// that many bytes inline instead of calling `memcmp`.
#[inline(always)]
pub fn lit<const N: usize>(t: &'static [u8; N]) -> impl for<'a> Fn(&'a [u8]) -> Res<'a, &'a [u8]> {
    #[inline(always)]
    move |i: &[u8]| match (i.strip_prefix(t), i.get(..N)) {
        (Some(rest), Some(matched)) => Ok((rest, matched)),
        _ => fail(),
    }
}

/// Consumes everything up to and including the first `needle`; the output is what came before
/// it. Fails, consuming nothing, when there is no `needle`.
///
/// As with [`lit`], the needle's length is a type parameter, so the candidate comparison is
/// inline.
#[inline(always)]
pub fn past<const N: usize>(
    needle: &'static [u8; N],
) -> impl for<'a> Fn(&'a [u8]) -> Res<'a, &'a [u8]> {
    // One closure type serves every needle, so its body is not inlined at every use: the
    // needle's anchor is found here, where the needle is a literal and the search folds away
    // (found inside the closure, it cost ~10 instructions a search, callgrind).
    let k = anchor(needle);
    #[inline(always)]
    move |i: &[u8]| match find_anchored(i, needle, k) {
        Some(at) => match (i.get(at + needle.len()..), i.get(..at)) {
            (Some(rest), Some(before)) => Ok((rest, before)),
            _ => fail(),
        },
        None => fail(),
    }
}

/// Decodes a whole slice as a decimal `u32`, or `None`.
pub fn to_u32(s: &[u8]) -> Option<u32> {
    // By hand: header tokens and ports go through here on every line.
    if s.is_empty() || s.len() > 10 {
        return None;
    }
    s.iter().try_fold(0u32, |acc, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

/// Decodes a whole slice as a port, or `None`.
pub fn to_port(s: &[u8]) -> Option<u16> {
    to_u32(s).and_then(|n| u16::try_from(n).ok())
}

/// A dotted-quad IPv4 address: four runs of one to three digits, each at most 255, joined by
/// dots (a longer run is not an address; leading zeros are read, `01` is 1). Written by hand:
/// every family reads addresses, and nom's combinators cost several times this loop.
// Always inlined, as `dotted_quad`: as a call, it cost snort's lines 90 instructions more.
#[inline(always)]
pub fn ipv4(i: &[u8]) -> Res<'_, Ipv4Addr> {
    match dotted_quad(i, true) {
        Some((octets, len)) => Ok((i.get(len..).unwrap_or_default(), Ipv4Addr::from(octets))),
        None => fail(),
    }
}

/// Four dot-joined octets at the start of `i`: their values and the bytes read. Each is one
/// to three digits and at most 255; `leading_zeros` says whether `01` counts (how logs are
/// read) or not (the standard library's rule, which [`to_ipv6`] follows).
// Inlined: as a call it cost snort a line 130 instructions more (callgrind), the octets
// built in a `u32` (reading each octet through a closure, as iptables' own copy did, cost
// every family 40-140 more).
#[inline(always)]
fn dotted_quad(s: &[u8], leading_zeros: bool) -> Option<([u8; 4], usize)> {
    // Each octet's digits are read one by one, without a loop: addresses are on most lines.
    let digit = |k: usize| {
        let d = s.get(k)?.wrapping_sub(b'0');
        (d < 10).then_some(u32::from(d))
    };
    let mut addr = 0u32;
    let mut i = 0;
    for k in 0..4 {
        if k > 0 {
            if s.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let mut octet = digit(i)?;
        i += 1;
        if let Some(d) = digit(i) {
            if octet == 0 && !leading_zeros {
                return None;
            }
            octet = octet * 10 + d;
            i += 1;
            if let Some(d) = digit(i) {
                octet = octet * 10 + d;
                i += 1;
                if octet > 255 {
                    return None;
                }
            }
        }
        addr = addr << 8 | octet;
    }
    // A fourth digit makes no octet: within the address it fails where a dot must follow, and
    // after the last octet here.
    if digit(i).is_some() {
        return None;
    }
    Some((addr.to_be_bytes(), i))
}

/// Decodes a whole slice as an IPv6 address (any case, embedded IPv4 allowed), accepting
/// exactly what `str::parse::<Ipv6Addr>` accepts (property-tested against it) at a fraction
/// of its cost.
pub fn to_ipv6(s: &[u8]) -> Option<Ipv6Addr> {
    if let Some((a, n)) = hex_ipv6(s)
        && n == s.len()
    {
        return Some(a);
    }
    if s.len() < 2 || s.len() > 45 || !s.contains(&b':') {
        return None;
    }
    let mut p = V6Reader { s, pos: 0 };
    let mut head = [0u16; 8];
    let (head_size, head_ipv4) = p.groups(&mut head);
    let addr = if head_size == 8 {
        head
    } else {
        if head_ipv4 || s.get(p.pos..p.pos + 2) != Some(b"::") {
            return None;
        }
        p.pos += 2;
        let mut tail = [0u16; 7];
        let limit = 8 - (head_size + 1);
        let (tail_size, _) = p.groups(tail.get_mut(..limit)?);
        head.get_mut(8 - tail_size..)?
            .copy_from_slice(tail.get(..tail_size)?);
        head
    };
    (p.pos == s.len()).then(|| Ipv6Addr::from(addr))
}

/// The value of each byte as a hex digit; 0xFF for bytes that are none.
// Evaluated at compile time: an index out of range fails the build, never a line.
#[allow(clippy::indexing_slicing)]
const HEX: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut i = 0;
    while i < 16 {
        let value = i as u8;
        table[b"0123456789abcdef"[i] as usize] = value;
        table[b"0123456789ABCDEF"[i] as usize] = value;
        i += 1;
    }
    table
};

/// The value of a hex digit.
#[inline(always)]
fn hex_digit(b: u8) -> Option<u16> {
    let v = *HEX.get(usize::from(b))?;
    (v != 0xFF).then_some(u16::from(v))
}

/// The common case of [`to_ipv6`], as loggers print it: 1-4 digit hex groups, eight of them or
/// fewer around one `::`, no embedded IPv4, at the start of `s`; the address and the bytes it
/// takes. It stops at the first byte that is neither a hex digit nor a `:`; the caller decides
/// whether that ends the address (anything else: `None`, and [`to_ipv6`] reads the long way).
/// What it accepts as a whole token, `str::parse::<Ipv6Addr>` reads to the same address, for a
/// tenth of the cost. (Once the private reader of snort and of iptables.)
#[inline(always)]
pub(crate) fn hex_ipv6(s: &[u8]) -> Option<(Ipv6Addr, usize)> {
    let mut groups = [0u16; 8];
    let mut n = 0;
    // How many groups precede the `::`, if there is one.
    let mut gap = None;
    let mut i = 0;
    if s.starts_with(b"::") {
        gap = Some(0);
        i = 2;
    }
    loop {
        let start = i;
        let mut v = 0u16;
        while i - start < 4
            && let Some(d) = s.get(i).copied().and_then(hex_digit)
        {
            v = v << 4 | d;
            i += 1;
        }
        if i == start {
            // Only a `::` may end the address.
            if gap == Some(n) && !matches!(s.get(i), Some(b':')) {
                break;
            }
            return None;
        }
        *groups.get_mut(n)? = v;
        n += 1;
        match s.get(i) {
            Some(b':') => {
                i += 1;
                if s.get(i) == Some(&b':') {
                    if gap.is_some() {
                        return None;
                    }
                    gap = Some(n);
                    i += 1;
                }
            }
            // The end of the address, whatever follows.
            _ => break,
        }
    }
    let Some(gap) = gap else {
        return (n == 8).then(|| (Ipv6Addr::from(groups), i));
    };
    // `::` stands for at least one zero group.
    if n > 7 {
        return None;
    }
    let mut seg = [0u16; 8];
    let tail = n - gap;
    for (dst, src) in seg.iter_mut().zip(groups.iter().take(gap)) {
        *dst = *src;
    }
    for (dst, src) in seg.iter_mut().skip(8 - tail).zip(groups.iter().skip(gap)) {
        *dst = *src;
    }
    Some((Ipv6Addr::from(seg), i))
}

/// The state of [`to_ipv6`]: the standard library's grammar (groups of one to four hex digits,
/// one `::`, an IPv4 address in the last two groups), read over bytes.
struct V6Reader<'a> {
    s: &'a [u8],
    pos: usize,
}

impl V6Reader<'_> {
    /// Reads up to `groups.len()` groups; returns how many and whether the last was IPv4.
    fn groups(&mut self, groups: &mut [u16]) -> (usize, bool) {
        let limit = groups.len();
        for i in 0..limit {
            if i + 1 < limit
                && let Some(v4) = self.separated(i, Self::ipv4)
            {
                let [a, b, c, d] = v4;
                if let Some(pair) = groups.get_mut(i..i + 2) {
                    pair.copy_from_slice(&[u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])]);
                }
                return (i + 2, true);
            }
            match self.separated(i, Self::hex_group) {
                Some(g) => {
                    if let Some(slot) = groups.get_mut(i) {
                        *slot = g;
                    }
                }
                None => return (i, false),
            }
        }
        (limit, false)
    }

    /// Runs `read` after a `:` (unless it is the first group); on failure nothing is consumed.
    fn separated<T>(&mut self, index: usize, read: fn(&mut Self) -> Option<T>) -> Option<T> {
        let start = self.pos;
        if index > 0 {
            if self.s.get(self.pos) != Some(&b':') {
                return None;
            }
            self.pos += 1;
        }
        let r = read(self);
        if r.is_none() {
            self.pos = start;
        }
        r
    }

    /// One to four hex digits (a fifth digit fails the group).
    fn hex_group(&mut self) -> Option<u16> {
        let mut value = 0u16;
        let mut n = 0;
        while let Some(d) = self.s.get(self.pos).and_then(|b| (*b as char).to_digit(16)) {
            n += 1;
            if n > 4 {
                return None;
            }
            value = value * 16 + d as u16;
            self.pos += 1;
        }
        (n > 0).then_some(value)
    }

    /// A dotted quad whose octets have no leading zero (the standard library's rule).
    fn ipv4(&mut self) -> Option<[u8; 4]> {
        let (octets, len) = dotted_quad(self.s.get(self.pos..)?, false)?;
        self.pos += len;
        Some(octets)
    }
}

/// Decodes a whole slice as an IP address, folding IPv4-mapped IPv6 to IPv4.
pub fn to_ip(s: &[u8]) -> Option<IpAddr> {
    if let Ok((rest, v4)) = ipv4(s) {
        if rest.is_empty() {
            return Some(IpAddr::V4(v4));
        }
        return None;
    }
    to_ipv6(s).map(|v6| IpAddr::V6(v6).to_canonical())
}

/// True for bytes that may appear in a host name as logs print them.
pub fn is_host_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_'
}

/// Returns the slice with leading spaces and tabs removed.
// A slice pattern loop: no count and re-slice, so a token with no blank before it (most
// calls) costs a load and a compare (the `take_while` form cost a header line 75 instructions).
#[inline]
pub fn skip_spaces(mut i: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = i {
        i = rest;
    }
    i
}

/// Returns the slice with trailing spaces, tabs, CR, LF and NUL removed.
// A slice pattern loop, as `skip_spaces`: with the count-and-reslice form a mixed line cost 29
// instructions more (callgrind), most calls being on slices that end in no blank.
pub fn trim_end(mut i: &[u8]) -> &[u8] {
    while let [rest @ .., b' ' | b'\t' | b'\r' | b'\n' | 0] = i {
        i = rest;
    }
    i
}

/// A peer as a host-name-or-address token: the address if it reads as one, else the name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer<'a> {
    /// An IP address.
    Ip(IpAddr),
    /// A host name.
    Name(&'a [u8]),
}

/// Reads a whole token as an address, or as a host name if it is made of host-name bytes
/// and is not `unknown`.
pub fn to_peer(token: &[u8]) -> Option<Peer<'_>> {
    if let Some(a) = to_ip(token) {
        return Some(Peer::Ip(a));
    }
    let bracketed = token.strip_prefix(b"[").and_then(|t| t.strip_suffix(b"]"));
    if let Some(a) = bracketed.and_then(to_ip) {
        return Some(Peer::Ip(a));
    }
    if !token.is_empty()
        && !is_redacted(token)
        && token.iter().all(|b| is_host_char(*b))
        && token.iter().any(u8::is_ascii_alphabetic)
        && !token.eq_ignore_ascii_case(b"unknown")
    {
        return Some(Peer::Name(token));
    }
    None
}

/// True for an address blanked out before the line was shared (`x.x.x.x`, `xx.xxx.xx.xx`,
/// `74.94.*.*`, `###`, `XXX.XXX.XXX.XXX`): no peer is read from it.
pub fn is_redacted(token: &[u8]) -> bool {
    !token.is_empty()
        && token
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'x' | b'X' | b'.' | b'*' | b'#' | b':'))
        && token.iter().any(|b| matches!(b, b'x' | b'X' | b'*' | b'#'))
}

/// The port of `ADDR:PORT` or `[ADDR]:PORT` whose address was blanked out (`x.x.x.x:23`).
pub fn redacted_port(token: &[u8]) -> Option<u16> {
    let colon = rposition(token, b':')?;
    let addr = token.get(..colon)?;
    let addr = addr
        .strip_prefix(b"[")
        .and_then(|a| a.strip_suffix(b"]"))
        .unwrap_or(addr);
    if !is_redacted(addr) {
        return None;
    }
    to_port(token.get(colon + 1..)?)
}

/// Splits `ADDR:PORT`, `[ADDR]:PORT`, `ADDR.PORT`-free forms at the last colon when the part
/// before it is an address; with `want_port` false a bare address is returned as it is.
pub fn addr_colon_port(token: &[u8], want_port: bool) -> Option<(IpAddr, Option<u16>)> {
    if let Some(inner) = token.strip_prefix(b"[") {
        let close = position(inner, b']')?;
        let addr = to_ip(inner.get(..close)?)?;
        let after = inner.get(close + 1..)?;
        if after.is_empty() {
            return Some((addr, None));
        }
        return Some((addr, Some(to_port(after.strip_prefix(b":")?)?)));
    }
    let Some(last) = rposition(token, b':') else {
        return to_ip(token).map(|a| (a, None));
    };
    let one_colon = position(token, b':') == Some(last);
    if (one_colon || want_port)
        && let Some(p) = token.get(last + 1..).and_then(to_port)
        && let Some(a) = token.get(..last).and_then(to_ip)
    {
        return Some((a, Some(p)));
    }
    to_ip(token).map(|a| (a, None))
}

/// How common a byte is in log text (higher: more common). The searches below scan for the
/// needle's rarest byte, so that few candidate positions need a full comparison.
const fn commonness(b: u8) -> u8 {
    match b {
        b' ' => 255,
        b'a'..=b'z' => 200,
        b'0'..=b'9' => 150,
        b'A'..=b'Z' => 100,
        b'.' | b':' | b'=' | b'[' | b']' | b'-' | b'/' => 90,
        _ => 10,
    }
}

/// The index of the needle byte to scan for (the first of the rarest among the first eight).
///
/// Called from an always-inlined `find`: with a literal needle the compiler folds it away,
/// where computing it on every call cost more than many searches. Looking at eight bytes at
/// most keeps the loop short enough to be folded for long needles too.
#[inline(always)]
const fn anchor(needle: &[u8]) -> usize {
    let mut best = 0;
    let mut k = 1;
    while k < needle.len() && k < 8 {
        if commonness(byte_at(needle, k)) < commonness(byte_at(needle, best)) {
            best = k;
        }
        k += 1;
    }
    best
}

/// `s[k]`, or 0 past the end (a `const fn` cannot call `get`).
#[inline(always)]
const fn byte_at(s: &[u8], k: usize) -> u8 {
    match s.split_at_checked(k) {
        Some((_, [b, ..])) => *b,
        _ => 0,
    }
}

/// Finds `needle` in `haystack`.
///
/// Log lines are short and needles are literals: scanning with [`find_byte`] for the needle's
/// rarest byte beats building a `memmem::Finder` on every call (which cost more than the
/// search).
#[inline(always)]
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    find_anchored(haystack, needle, anchor(needle))
}

/// [`find`], scanning for `needle[k]`: for a caller that knows a rarer byte of the needle in
/// its haystacks than `find`'s guess.
#[inline(always)]
pub fn find_anchored(haystack: &[u8], needle: &[u8], k: usize) -> Option<usize> {
    if needle.len() > haystack.len() {
        return None;
    }
    let Some(&first) = needle.first() else {
        return Some(0);
    };
    if haystack.len() > 512 {
        return memmem::find(haystack, needle);
    }
    let byte = needle.get(k).copied().unwrap_or(first);
    let last_start = haystack.len() - needle.len();
    let mut from = k;
    while let Some(p) = haystack
        .get(from..last_start + k + 1)
        .and_then(|h| find_byte(byte, h))
    {
        let start = from + p - k;
        if haystack.get(start..start + needle.len()) == Some(needle) {
            return Some(start);
        }
        from += p + 1;
    }
    None
}

/// Finds the last `needle` in `haystack`.
#[inline(always)]
pub fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > haystack.len() {
        return None;
    }
    if needle.is_empty() {
        return Some(haystack.len());
    }
    if haystack.len() > 512 {
        return memmem::rfind(haystack, needle);
    }
    let k = anchor(needle);
    let byte = needle.get(k).copied().unwrap_or(0);
    let last_start = haystack.len() - needle.len();
    let mut end = last_start + k + 1;
    while let Some(p) = haystack.get(k..end).and_then(|h| rfind_byte(byte, h)) {
        let start = p;
        if haystack.get(start..start + needle.len()) == Some(needle) {
            return Some(start);
        }
        end = k + p;
    }
    None
}

/// The text after the first `needle`, if any.
#[inline(always)]
pub fn after<'a>(haystack: &'a [u8], needle: &[u8]) -> Option<&'a [u8]> {
    let at = find(haystack, needle)?;
    haystack.get(at + needle.len()..)
}

// Byte search in a message. Messages are a few dozen to a few hundred bytes, and most searches
// in them end within the first chunks: the `memchr` crate's entry (a dispatch through a
// function pointer, AVX2 set-up, separate paths for short tails) cost 55 to 80 instructions a
// call on the mixed corpus, more than its scan. Sixteen bytes a step with SSE2, which every
// x86-64 processor has, inlined where it is used, costs a few instructions a step and none to
// enter. Other targets use `memchr`.

/// The first index of `byte` in `hay` (`memchr::memchr`, for message-sized slices).
#[inline(always)]
pub fn find_byte(byte: u8, hay: &[u8]) -> Option<usize> {
    find_byte3(byte, byte, byte, hay)
}

/// The first index in `hay` of any of three bytes (`memchr::memchr3`, for message-sized
/// slices); two or all of them may be the same byte.
#[inline(always)]
pub fn find_byte3(a: u8, b: u8, c: u8, hay: &[u8]) -> Option<usize> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        // SAFETY: `sse2_find3` needs SSE2, which this build's target has (the `cfg` above):
        // every x86-64 processor has it.
        unsafe { sse2_find3(a, b, c, hay) }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        memchr::memchr3(a, b, c, hay)
    }
}

/// [`find_byte3`] sixteen bytes a step. Written with the safe intrinsics only (no pointer is
/// read: each step's bytes come from a bounds-checked slice as two words); the function is
/// `unsafe` to call only for its `target_feature`.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
#[inline]
fn sse2_find3(a: u8, b: u8, c: u8, hay: &[u8]) -> Option<usize> {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x, _mm_set1_epi8,
    };
    if hay.len() < 16 {
        return hay.iter().position(|x| *x == a || *x == b || *x == c);
    }
    let (va, vb, vc) = (
        _mm_set1_epi8(a as i8),
        _mm_set1_epi8(b as i8),
        _mm_set1_epi8(c as i8),
    );
    // The lanes of the sixteen bytes at the start of `s` that hold one of the three (bit k:
    // byte k). Two little-endian words are the lanes in order; the compiler makes one load.
    let hits = |s: &[u8]| -> u32 {
        let word = |k: usize| {
            s.get(k..k + 8)
                .and_then(|w| <[u8; 8]>::try_from(w).ok())
                .map_or(0, i64::from_le_bytes)
        };
        let x: __m128i = _mm_set_epi64x(word(8), word(0));
        let ab = _mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb));
        _mm_movemask_epi8(_mm_or_si128(ab, _mm_cmpeq_epi8(x, vc))) as u32
    };
    let mut chunks = hay.chunks_exact(16);
    let mut at = 0;
    for chunk in &mut chunks {
        let h = hits(chunk);
        if h != 0 {
            return Some(at + h.trailing_zeros() as usize);
        }
        at += 16;
    }
    if chunks.remainder().is_empty() {
        return None;
    }
    // The tail: the last sixteen bytes, without the lanes already looked at.
    let start = hay.len() - 16;
    let h = hits(hay.get(start..)?) >> (at - start);
    (h != 0).then(|| at + h.trailing_zeros() as usize)
}

/// Every index of one of three bytes in `hay`, in order (`memchr::memchr3_iter`, for
/// message-sized slices; two or all three may be the same byte).
#[inline(always)]
pub fn find_byte3_iter(a: u8, b: u8, c: u8, hay: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let p = at + find_byte3(a, b, c, hay.get(at..)?)?;
        at = p + 1;
        Some(p)
    })
}

/// The last index of `byte` in `hay` (`memchr::memrchr`, for message-sized slices).
#[inline(always)]
pub fn rfind_byte(byte: u8, hay: &[u8]) -> Option<usize> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        // SAFETY: as in `find_byte3`: this build's target has SSE2, which `sse2_rfind` needs.
        unsafe { sse2_rfind(byte, hay) }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        memchr::memrchr(byte, hay)
    }
}

/// [`rfind_byte`] sixteen bytes a step from the end, as [`sse2_find3`] reads them.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
#[inline]
fn sse2_rfind(byte: u8, hay: &[u8]) -> Option<usize> {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_movemask_epi8, _mm_set_epi64x, _mm_set1_epi8};
    if hay.len() < 16 {
        return hay.iter().rposition(|x| *x == byte);
    }
    let v = _mm_set1_epi8(byte as i8);
    let hits = |s: &[u8]| -> u32 {
        let word = |k: usize| {
            s.get(k..k + 8)
                .and_then(|w| <[u8; 8]>::try_from(w).ok())
                .map_or(0, i64::from_le_bytes)
        };
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_set_epi64x(word(8), word(0)), v)) as u32
    };
    let mut chunks = hay.rchunks_exact(16);
    let mut end = hay.len();
    for chunk in &mut chunks {
        end -= 16;
        let h = hits(chunk);
        if h != 0 {
            return Some(end + 31 - h.leading_zeros() as usize);
        }
    }
    // The head: the first sixteen bytes, without the lanes already looked at (`end` of them
    // are left, fewer than sixteen).
    let h = hits(hay.get(..16)?) & ((1u32 << end) - 1);
    (h != 0).then(|| 31 - h.leading_zeros() as usize)
}

// Word-at-a-time byte search. The tokens and fields scanned with these are a few dozen bytes
// long, and a vector search spends more on its set-up than these loops spend on the scan.
// Words are read little-endian on every target, so lane 0 is the first byte. (Snort's, where
// they were measured; the plain loops they replaced cost its lines 40 instructions more.)
/// `0x01` in every byte lane.
pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte lane.
pub(crate) const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The first index of `byte` in a slice: in a word, a tag, a field a word at a time, in
/// anything of sixteen bytes or more (`split_word` on the rest of a message) with
/// [`find_byte`], whose first step covers the usual word (a mixed line 36 instructions less).
#[inline]
pub fn position(hay: &[u8], byte: u8) -> Option<usize> {
    if hay.len() >= 16 {
        return find_byte(byte, hay);
    }
    let mut words = hay.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        let x = u64::from_le_bytes(w.try_into().unwrap_or_default()) ^ (ONES * u64::from(byte));
        // The classic zero-lane test: it may flag lanes above the first zero lane too, never
        // below it, so the lowest flag is exact.
        let hits = x.wrapping_sub(ONES) & !x & HIGHS;
        if hits != 0 {
            return Some(at + hits.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    let tail = words.remainder().iter().position(|&b| b == byte)?;
    Some(at + tail)
}

/// The last index of `byte` in a short slice.
#[inline]
pub fn rposition(hay: &[u8], byte: u8) -> Option<usize> {
    // The highest flag is wanted, so the exact test: a lane is zero when neither its low seven
    // bits nor its high bit is set, and the sum cannot carry into the next lane.
    let flags = |x: u64| {
        let x = x ^ (ONES * u64::from(byte));
        !(((x & !HIGHS) + !HIGHS) | x) & HIGHS
    };
    let highest = |f: u64| (63 - f.leading_zeros() as usize) / 8;
    let word = |s: &[u8]| {
        s.get(..8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map_or(0, u64::from_le_bytes)
    };
    let n = hay.len();
    // Most calls are on a program name of a few bytes (`Header::program`): those are read as
    // one word too, not byte by byte (which cost a mixed line 30 instructions).
    if n < 8 {
        let (Some(head), Some(tail)) = (hay.get(..4), hay.get(n.saturating_sub(4)..)) else {
            return hay.iter().rposition(|&b| b == byte);
        };
        // Lanes 0-3: bytes 0-3; lanes 4-7: the last four (overlapping the first when n < 8).
        let half = |s: &[u8]| <[u8; 4]>::try_from(s).map_or(0, u32::from_le_bytes);
        let f = flags(u64::from(half(head)) | u64::from(half(tail)) << 32);
        if f == 0 {
            return None;
        }
        let lane = highest(f);
        return Some(if lane >= 4 { n + lane - 8 } else { lane });
    }
    let mut words = hay.rchunks_exact(8);
    let mut end = n;
    for w in &mut words {
        end -= 8;
        let f = flags(word(w));
        if f != 0 {
            return Some(end + highest(f));
        }
    }
    // The `end` bytes left (fewer than eight) are the first word's lanes below `end`.
    let f = flags(word(hay)) & ((1u64 << (8 * end)) - 1);
    (f != 0).then(|| highest(f))
}

/// The first space-delimited token of `i` and what follows it.
pub fn split_word(i: &[u8]) -> (&[u8], &[u8]) {
    match position(i, b' ') {
        Some(n) => i.split_at(n),
        None => (i, i.get(i.len()..).unwrap_or_default()),
    }
}

/// Parses `key=value` where value runs to the next space; returns the value.
#[inline(always)]
pub fn value_of<'a>(i: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut from = 0;
    while let Some(at) = find(i.get(from..)?, key) {
        let start = from + at;
        let boundary = start == 0 || matches!(i.get(start - 1), Some(b' ' | b'\t' | b'('));
        if boundary {
            let rest = i.get(start + key.len()..)?;
            let (v, _) = split_word(rest);
            return Some(v);
        }
        from = start + key.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The SSE2 search finds what `memchr` finds, at every length around the 16-byte steps
        /// and the overlapping tail, with the bytes sought placed anywhere.
        #[test]
        fn byte_search_agrees_with_memchr(
            hay in proptest::collection::vec(
                proptest::sample::select(b"ab%=> \t\r\n\0\xff".to_vec()),
                0..80,
            ),
            from in 0usize..80,
        ) {
            use memchr::{memchr, memchr3, memchr3_iter, memrchr};
            let hay = hay.get(from.min(hay.len())..).unwrap_or_default();
            let sets = [(b'%', b'=', b'>'), (b'=', b'>', b'>'), (b'a', b'a', b'a'), (0, 0xff, b' ')];
            for (a, b, c) in sets {
                proptest::prop_assert_eq!(find_byte3(a, b, c, hay), memchr3(a, b, c, hay));
                proptest::prop_assert_eq!(find_byte(a, hay), memchr(a, hay));
                proptest::prop_assert_eq!(rfind_byte(c, hay), memrchr(c, hay));
                proptest::prop_assert!(find_byte3_iter(a, b, c, hay).eq(memchr3_iter(a, b, c, hay)));
                proptest::prop_assert_eq!(rposition(hay, a), memrchr(a, hay));
                proptest::prop_assert_eq!(position(hay, a), memchr(a, hay));
            }
            let blank = |b: &&u8| matches!(**b, b' ' | b'\t' | b'\r' | b'\n' | 0);
            let blanks = hay.iter().rev().take_while(blank).count();
            proptest::prop_assert_eq!(trim_end(hay), &hay[..hay.len() - blanks]);
        }
    }

    #[test]
    fn ipv4_edges() {
        let ok = |s: &str, rest: &str, addr: &str| {
            let (r, a) = ipv4(s.as_bytes()).unwrap_or_else(|e| panic!("{s}: {e:?}"));
            assert_eq!((r, a.to_string().as_str()), (rest.as_bytes(), addr), "{s}");
        };
        ok("1.2.3.4", "", "1.2.3.4");
        ok("255.255.255.255 x", " x", "255.255.255.255");
        ok("01.002.3.4:80", ":80", "1.2.3.4");
        ok("1.2.3.4.5", ".5", "1.2.3.4");
        for bad in [
            "256.1.1.1",
            "1.2.3",
            "1..2.3",
            "0001.2.3.4",
            "1.2.3.1000",
            ".1.2.3",
            "a.b.c.d",
            "",
        ] {
            assert!(ipv4(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses() {
        assert_eq!(
            to_ip(b"198.51.100.7"),
            Some("198.51.100.7".parse().unwrap())
        );
        assert_eq!(
            to_ip(b"::ffff:198.51.100.7"),
            Some("198.51.100.7".parse().unwrap())
        );
        assert_eq!(to_ip(b"2001:DB8::3"), Some("2001:db8::3".parse().unwrap()));
        assert_eq!(to_ip(b"256.1.1.1"), None);
        assert_eq!(to_ip(b"1.2.3"), None);
        assert_eq!(to_ip(b"1.2.3.4.5"), None);
    }

    #[test]
    fn address_and_port_tokens() {
        let v4 = "198.51.100.7".parse::<IpAddr>().unwrap();
        let v6 = "2001:db8::1".parse::<IpAddr>().unwrap();
        assert_eq!(
            addr_colon_port(b"198.51.100.7:3527", true),
            Some((v4, Some(3527)))
        );
        assert_eq!(addr_colon_port(b"198.51.100.7", true), Some((v4, None)));
        assert_eq!(
            addr_colon_port(b"[2001:db8::1]:80", true),
            Some((v6, Some(80)))
        );
        assert_eq!(addr_colon_port(b"[2001:db8::1]", true), Some((v6, None)));
        assert_eq!(addr_colon_port(b"2001:db8::1", false), Some((v6, None)));
        assert_eq!(addr_colon_port(b"1.2.3.4:99999", true), None);
    }

    #[test]
    fn numbers_do_not_overflow() {
        assert_eq!(to_u32(b"4294967295"), Some(u32::MAX));
        assert_eq!(to_u32(b"4294967296"), None);
        assert_eq!(to_u32(b"99999999999999999999"), None);
        assert_eq!(to_port(b"65536"), None);
    }

    #[test]
    fn find_agrees_with_memmem() {
        let hay: &[&[u8]] = &[
            b"",
            b"a",
            b"a -> b -> c",
            b"from x port 1 from y port 2",
            b"IN=eth0 SRC=1 DST=2",
            b"%%%",
            b"aaaa",
        ];
        let needles: &[&[u8]] = &[
            b"", b"a", b" -> ", b"from ", b" port ", b"SRC=", b"%%", b"aa", b"zzz", b"aaaaa",
        ];
        for h in hay {
            for n in needles {
                assert_eq!(find(h, n), memmem::find(h, n), "find {n:?} in {h:?}");
                assert_eq!(rfind(h, n), memmem::rfind(h, n), "rfind {n:?} in {h:?}");
            }
        }
    }

    #[test]
    fn keyed_values_need_a_boundary() {
        assert_eq!(
            value_of(b"IN=eth0 SRC=1.2.3.4 DST=5.6.7.8", b"SRC="),
            Some(&b"1.2.3.4"[..])
        );
        assert_eq!(
            value_of(b"XSRC=9 SRC=1.2.3.4", b"SRC="),
            Some(&b"1.2.3.4"[..])
        );
        assert_eq!(value_of(b"nothing here", b"SRC="), None);
    }
}
